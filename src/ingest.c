/* ingest — police.uk CSV / folder / zip import: parser threads (two files at once, four waiting ahead), one writer. */
#include <archive.h>
#include <archive_entry.h>
#include <csv.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_internal.h"
#include "microbeat/agencymap.h"
#include "microbeat/dict.h"
#include "microbeat/geo.h"
#include "microbeat/ingest.h"
#include "microbeat/progress.h"

#define CHUNK (1u << 20)           /* bytes read at a time */
#define FIELD_MAX 65536u           /* longest accepted field */
#define MAX_FIELDS 64              /* fields kept per row (more: rejected anyway) */
#define BATCH_EVENTS 8192          /* records per batch before handing over */
#define BATCH_ARENA (1u << 20)     /* arena bytes per batch before handing over */
#define QUEUE_SLOTS 4              /* batches in flight */

/* British National Grid points accepted (metres): Great Britain and its
 * islands, St Kilda (easting ~9,500) to Lowestoft Ness (~655,000), Bishop Rock
 * (northing ~6,400) to Out Stack, Shetland (~1,220,300), with a margin. */
#define BNG_E_MIN 5000.0
#define BNG_E_MAX 660000.0
#define BNG_N_MIN 5000.0
#define BNG_N_MAX 1230000.0

/* Headers recognised, in police.uk order. */
static const char *const HDR_STREET[] = {
	"Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
	"LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"
};
static const char *const HDR_OUTCOMES[] = {
	"Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
	"LSOA code", "LSOA name", "Outcome type"
};
static const char *const HDR_STOP[] = {
	"Type", "Date", "Part of a policing operation", "Policing operation", "Latitude",
	"Longitude", "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity",
	"Legislation", "Object of search", "Outcome", "Outcome linked to object of search",
	"Removal of more than just outer clothing"
};

/* ---- batches and the queue ---------------------------------------------- */

/* Grow vector v (of element size sz) to hold one more; 0 or -1 on OOM. */
static int vec_reserve(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 256;
	void *p = realloc(*v, ncap * sz);

	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

#define VEC_PUSH(vec, out)                                                                  \
	(vec_reserve((void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)) ? -1            \
	 : ((out) = &(vec).v[(vec).n++], memset((out), 0, sizeof(*(out))), 0))

/* Copy len bytes + NUL into the batch arena; NULL on OOM. The arena is one
 * block that grows by realloc, so pointers are fixed up on growth. */
static char *arena_put(struct batch *b, const char *p, size_t len);

static void batch_reset(struct batch *b)
{
	b->dims.n = b->events.n = b->rejects.n = b->outcomes.n = b->stops.n = b->extras.n = 0;
	b->arena_used = 0;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->dims.v);
	free(b->events.v);
	free(b->rejects.v);
	free(b->outcomes.v);
	free(b->stops.v);
	free(b->extras.v);
	free(b->arena);
	free(b);
}

/* Arena offsets are stored in place of pointers while a batch fills (the
 * arena may move), and turned into pointers by batch_seal() before handing over. */
#define OFF(x) ((const char *)(uintptr_t)(x))
#define UNOFF(p) ((size_t)(uintptr_t)(p))

static char *arena_put(struct batch *b, const char *p, size_t len)
{
	if (b->arena_cap - b->arena_used < len + 1) {
		size_t ncap = b->arena_cap ? b->arena_cap : 65536;

		while (ncap - b->arena_used < len + 1)
			ncap *= 2;
		char *na = realloc(b->arena, ncap);

		if (!na)
			return NULL;
		b->arena = na;
		b->arena_cap = ncap;
	}
	char *dst = b->arena + b->arena_used;

	if (len)
		memcpy(dst, p, len);
	dst[len] = '\0';
	b->arena_used += len + 1;
	return dst;
}

/* Store text in the arena; return its offset + 1 disguised as a pointer
 * (0 stays NULL), or set *oom. */
static const char *astr(struct batch *b, const char *p, size_t len, int *oom)
{
	char *d = arena_put(b, p, len);

	if (!d) {
		*oom = 1;
		return NULL;
	}
	return OFF((size_t)(d - b->arena) + 1);
}

static const char *fix(const struct batch *b, const char *off)
{
	return off ? b->arena + UNOFF(off) - 1 : NULL;
}

/* Turn the arena offsets of every record into pointers. */
static void batch_seal(struct batch *b)
{
	for (size_t i = 0; i < b->dims.n; i++) {
		b->dims.v[i].s1 = fix(b, b->dims.v[i].s1);
		b->dims.v[i].s2 = fix(b, b->dims.v[i].s2);
	}
	for (size_t i = 0; i < b->events.n; i++) {
		b->events.v[i].text_id = fix(b, b->events.v[i].text_id);
		b->events.v[i].loc_name = fix(b, b->events.v[i].loc_name);
	}
	for (size_t i = 0; i < b->rejects.n; i++) {
		b->rejects.v[i].reason = fix(b, b->rejects.v[i].reason);
		b->rejects.v[i].raw = fix(b, b->rejects.v[i].raw);
	}
	for (size_t i = 0; i < b->stops.n; i++)
		for (int f = 0; f < STOP_NFIELDS; f++)
			b->stops.v[i].f[f] = fix(b, b->stops.v[i].f[f]);
	for (size_t i = 0; i < b->extras.n; i++) {
		struct rec_extra *x = &b->extras.v[i];

		x->ho_code = fix(b, x->ho_code);
		x->subgroup = fix(b, x->subgroup);
		x->strand = fix(b, x->strand);
		x->street = fix(b, x->street);
		x->parish = fix(b, x->parish);
	}
}

/* Bounded queue of batches between the parser and the writer. */
struct queue {
	pthread_mutex_t mu;              /* guards everything below */
	pthread_cond_t cv;               /* signalled on every change */
	struct batch *full[QUEUE_SLOTS]; /* FIFO of filled batches */
	int head, count;                 /* FIFO position and length */
	struct batch *spare[QUEUE_SLOTS]; /* empty batches */
	int nspare;                      /* how many */
	int done;                        /* parser finished */
	int abort;                       /* writer failed: parser stops */
};

static int queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (int i = 0; i < QUEUE_SLOTS; i++) {
		q->spare[i] = calloc(1, sizeof(struct batch));
		if (!q->spare[i])
			return -1;
		q->nspare++;
	}
	return 0;
}

static void queue_release(struct queue *q)
{
	for (int i = 0; i < q->nspare; i++)
		batch_free(q->spare[i]);
	for (int i = 0; i < q->count; i++)
		batch_free(q->full[(q->head + i) % QUEUE_SLOTS]);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* Parser: take an empty batch (waits); NULL when the writer aborted. */
static struct batch *queue_take_spare(struct queue *q)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->nspare && !q->abort)
		pthread_cond_wait(&q->cv, &q->mu);
	if (!q->abort)
		b = q->spare[--q->nspare];
	pthread_mutex_unlock(&q->mu);
	if (b)
		batch_reset(b);
	return b;
}

/* Parser: hand a filled batch to the writer. */
static void queue_push(struct queue *q, struct batch *b)
{
	batch_seal(b);
	pthread_mutex_lock(&q->mu);
	q->full[(q->head + q->count) % QUEUE_SLOTS] = b;
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

double ingest_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writer: next filled batch, or NULL when the parser is done. */
static struct batch *queue_pop(struct queue *q)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->count && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->count) {
		b = q->full[q->head];
		q->head = (q->head + 1) % QUEUE_SLOTS;
		q->count--;
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

/* Writer: give a written batch back. */
static void queue_return(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	q->spare[q->nspare++] = b;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void queue_set(struct queue *q, int *flag)
{
	pthread_mutex_lock(&q->mu);
	*flag = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* ---- input sources -------------------------------------------------------- */

/* Read up to cap bytes; *got = 0 at end. Return 0 or -MB_EIO. */
static int input_read(struct input *in, char *buf, size_t cap, size_t *got, struct mb_error *err)
{
	*got = 0;
	if (in->fp) {
		size_t n = fread(buf, 1, cap, in->fp);

		if (n == 0 && ferror(in->fp))
			return mb_err(err, MB_EIO, "%s: read error: %s", in->name, strerror(errno));
		*got = n;
		return 0;
	}
	la_ssize_t n = archive_read_data(in->ar, buf, cap);

	if (n < 0)
		return mb_err(err, MB_EIO, "%s: truncated or corrupt archive: %s", in->name,
			      archive_error_string(in->ar) ? archive_error_string(in->ar)
							   : "read error");
	*got = (size_t)n;
	return 0;
}

/* ---- the parser (second thread) ------------------------------------------ */

/* A small direct-mapped cache in front of a dictionary (a memo): a file has a
 * few forces, types and outcomes and some hundreds of LSOAs, which its rows
 * repeat in any order. A hit costs one compare of bytes already in cache
 * instead of hashing the key and probing the dictionary. Keys longer than
 * MEMO_KEY are not cached. Entries hold ids interned or found while this file
 * parses; when they are undone (rollback), the file's parse goes with them. */
#define MEMO_KEY 56 /* a slot is a cache line */
struct memo_slot {
	uint32_t id;         /* its id, 0 = empty */
	uint32_t len;        /* key length */
	char key[MEMO_KEY];  /* key bytes */
};
#define MEMO_NAME_BITS 6  /* 64 slots for a force, type or outcome name */
#define MEMO_LSOA_BITS 12 /* 4,096 slots for LSOAs (code, name): a force has ~1,000 */

/* The slot of key p (n bytes) in a memo of 2^bits slots: a cheap mix of its
 * length and first and last 8 bytes (a clash only costs a miss). */
static size_t memo_index(const char *p, size_t n, unsigned bits)
{
	uint64_t a = 0, z = 0;

	memcpy(&a, p, n < 8 ? n : 8);
	if (n > 8)
		memcpy(&z, p + n - 8, 8);
	uint64_t h = (a ^ (z * 0x9E3779B97F4A7C15ULL) ^ n) * 0xbf58476d1ce4e5b9ULL;

	return (size_t)(h >> (64 - bits));
}

/* Set of the row ids (Crime IDs) seen in this file, to recognise duplicates.
 * 4,096 shards, picked by the top 12 bits of the id's 64-bit hash, each an
 * open-addressed table of 64-bit slots holding the next 40 bits of the hash
 * (the fingerprint) and the line of the first occurrence (24 bits). 8 bytes a
 * row at most 7/8 full and growing by half: ~80-120 MB for 8.8 M rows in one
 * file; growth copies one shard, not the whole set. Two different ids are taken
 * for one when their hashes agree in 52 bits: with n rows in a file that
 * happens with probability about n^2 / 2^53 (1e-8 at 10,000 rows, 1e-6 at
 * 100,000, 9e-3 at 8.8 million).
 * A file's first SEEN_FLAT_MAX x 7/8 ids go in one flat table of the whole
 * 64-bit hashes and their lines (16 bytes a slot, at most 1 MB), doubling as it
 * fills: the ~12,000 ids of a monthly force file then cost one probe of one
 * table, where the shards take two cache misses (shard, then slot). A file that
 * outgrows it moves into the shards, which are what the bounds above describe. */
#define SEEN_FLAT_MIN 4096u
#define SEEN_FLAT_MAX 65536u
#define SEEN_SHARDS 4096u
#define SEEN_LINE_BITS 24
#define SEEN_LINE_MASK ((1u << SEEN_LINE_BITS) - 1)
#define SEEN_EARLIER SEEN_LINE_MASK /* first line past 2^24 - 1: not kept */

struct seen_shard {
	uint64_t *slot;    /* fingerprint << 24 | line, 0 = empty */
	uint32_t cap, n;   /* slots, used */
};

/* Tables of up to SEEN_SMALL slots come from blocks of SEEN_BLOCK bytes,
 * zeroed once and cut in order (a small file fills thousands of shards with a
 * few ids each: one calloc a shard was a measurable cost); larger ones are
 * allocated alone and freed as they grow. A block's outgrown tables are
 * reclaimed with the file, at most ~2 x 4,096 x SEEN_SMALL x 8 bytes. */
#define SEEN_SMALL 256u
#define SEEN_BLOCK (1u << 20)
struct seen_block {
	struct seen_block *next; /* older block */
	size_t used;             /* bytes cut */
	uint64_t slot[];         /* SEEN_BLOCK bytes of zeroed slots */
};

struct seen_flat {
	uint64_t h;    /* the id's hash, 0 = empty (a hash of 0 is kept as 1) */
	uint32_t line; /* of its first occurrence, as a shard slot keeps it */
};

struct seen {
	struct seen_flat *flat;   /* the flat phase's table, NULL before and after */
	uint32_t fcap, fn;        /* its slots (a power of 2), used */
	struct seen_shard *sh;    /* SEEN_SHARDS shards once the flat table is outgrown */
	struct seen_block *block; /* small tables, newest block first */
};

/* A zeroed table of cap slots; NULL on out of memory. */
static uint64_t *seen_table(struct seen *set, uint32_t cap)
{
	size_t bytes = (size_t)cap * sizeof(uint64_t);

	if (cap > SEEN_SMALL)
		return calloc(cap, sizeof(uint64_t));
	if (!set->block || SEEN_BLOCK - set->block->used < bytes) {
		struct seen_block *b = calloc(1, sizeof(*b) + SEEN_BLOCK);

		if (!b)
			return NULL;
		b->next = set->block;
		set->block = b;
	}
	uint64_t *t = set->block->slot + set->block->used / sizeof(uint64_t);

	set->block->used += bytes;
	return t;
}

struct pfile {
	/* wiring */
	struct ingest_run *run;     /* the run (dims, options) */
	struct input *in;           /* what we read */
	struct input own_in;        /* the input of a file parsed ahead */
	size_t index;               /* its index in the run's files, or SIZE_MAX */
	pthread_t th;               /* the parser thread */
	int started;                /* th runs (or ran and is not joined) */
	struct queue q;             /* batches to the writer */
	struct batch *b;            /* batch being filled */
	struct csv_parser csv;      /* libcsv state */
	EVP_MD_CTX *sha;            /* SHA-256 of the bytes */
	/* a plain file is hashed on a thread of its own (pread on the same open
	 * file, so the same bytes): the parser, the import's bottleneck, does not */
	pthread_t hth;              /* the hashing thread */
	int hashing;                /* hth runs (joined by the parser at its end) */
	int hash_fd;                /* the file */
	off_t hash_from;            /* offset the parser starts reading at */
	int64_t hashed;             /* bytes hashed (-1: read error) */
	int hash_errno;             /* why, when hashed is -1 */
	atomic_int hash_stop;       /* the parse was abandoned: stop hashing */
	/* row being parsed */
	char *rowbuf;               /* field bytes of the current row */
	size_t rowlen, rowcap;      /* used / capacity */
	size_t foff[MAX_FIELDS];    /* field offsets in rowbuf */
	size_t flen[MAX_FIELDS];    /* field lengths */
	int nf;                     /* fields seen in this row (may exceed MAX_FIELDS) */
	int overflow;               /* row bytes over the cap: contents dropped */
	int row_ascii;              /* the kept fields are all ASCII (row_scan) */
	uint32_t line;              /* current line (1-based) */
	uint32_t row_line;          /* line where the current row started */
	int after_cr_row;           /* the last line end was a CR (an LF next is its CRLF's) */
	int skip_to_nl;             /* after a failed row: drop bytes up to the next line end */
	int nul_seen;               /* the input holds a NUL byte: fields are checked for one */
	int nul_field;              /* 1 + the first field of the row holding a NUL, 0 = none */
	size_t nul_off;             /* the NUL's offset in that field */
	int last_row_broken;        /* the last row read was cut short: too few columns,
				     * broken quoting or UTF-8 (rejected) */
	int cut;                    /* the input ends mid-row (no line end after a broken row) */
	unsigned char last_byte;    /* the input's last byte */
	uint32_t rej_line, rej_col; /* where the last rejected row was (for a cut file's message) */
	int header_done;            /* header row consumed */
	int kind;                   /* enum file_kind */
	/* partition tracking */
	int32_t month;              /* the month of the rows, if single */
	int multi_month;            /* rows span several months */
	uint32_t source;            /* the source of the rows, if single */
	int multi_source;           /* rows from several sources */
	struct month_count *mc;     /* rows per (source, month) */
	size_t nmc, capmc;          /* used / capacity */
	/* results */
	struct import_stats st;     /* counters */
	struct seen seen;           /* Crime IDs seen */
	/* the file's own dictionaries of sources, categories, outcomes, LSOAs and
	 * LSOA names (enum dim_kind up to DIM_LSOA_NAME): ids 1, 2, ... in the
	 * order first seen, written by the parser; the writer maps them to the
	 * store's ids (dims_translate), so parses of several files need not wait
	 * for each other nor for the writer */
	struct dict *ld[DIM_LOCAL];  /* key -> the file's id */
	uint32_t *map[DIM_LOCAL];    /* the file's id -> the store's (writer) */
	size_t nmap[DIM_LOCAL];      /* entries of map (id 0 included) */
	/* memos in front of the dictionaries */
	struct memo_slot m_source[1u << MEMO_NAME_BITS], m_falls[1u << MEMO_NAME_BITS];
	struct memo_slot m_cat[1u << MEMO_NAME_BITS], m_out[1u << MEMO_NAME_BITS];
	struct memo_slot m_lsoa[1u << MEMO_LSOA_BITS];
	int fatal;                  /* parse stopped: perr says why */
	struct mb_error perr;       /* the parser's error */
	int oom;                    /* out of memory while filling */
	uint8_t digest[32];         /* SHA-256 at the end */
	/* scratch for dictionary keys: a whole field fits (libcsv stops a field
	 * at FIELD_MAX + 1024 bytes; a key adds a few) */
	char keybuf[FIELD_MAX + 2048];
};

/* Cap libcsv's field buffer: a longer field (or an unterminated quote that
 * swallows the rest of the file) fails the parse instead of eating memory. */
static void *capped_realloc(void *p, size_t n)
{
	if (n > FIELD_MAX + 1024)
		return NULL;
	return realloc(p, n);
}

static void csv_reset(struct pfile *f)
{
	csv_free(&f->csv);
	csv_init(&f->csv, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI | CSV_APPEND_NULL);
	csv_set_realloc_func(&f->csv, capped_realloc);
	csv_set_blk_size(&f->csv, 256);
}

/* Physical line ends in p[0..n): LF, CR LF (one) and a lone CR (old Mac
 * files end their lines so). */
static uint32_t count_line_ends(const unsigned char *p, size_t n)
{
	uint32_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\r' || (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'));
	return k;
}

/* libcsv field callback: copy the field into the row buffer. */
static void on_field(void *data, size_t len, void *ctx)
{
	struct pfile *f = ctx;
	const char *p = data;

	if (f->nf == 0 && !f->overflow)
		f->row_line = f->line;
	/* libcsv passes the bytes on, NULs included: a NUL would cut every C
	 * string made of the field (issue 21 item 3), so the row is rejected */
	if (f->nul_seen && !f->nul_field && len) {
		const char *z = memchr(p, 0, len);

		if (z) {
			f->nul_field = f->nf + 1;
			f->nul_off = (size_t)(z - p);
		}
	}
	if (f->nf >= MAX_FIELDS || f->overflow) {
		/* a field not kept: count its line breaks here (row_scan counts the
		 * kept ones) */
		f->line += count_line_ends((const unsigned char *)p, len);
		f->nf++;
		return;
	}
	if (f->rowcap - f->rowlen < len + 1) {
		size_t ncap = f->rowcap ? f->rowcap : 4096;

		while (ncap - f->rowlen < len + 1)
			ncap *= 2;
		if (ncap > 16u * FIELD_MAX) {
			f->overflow = 1;
			f->nf++;
			return;
		}
		char *nb = realloc(f->rowbuf, ncap);

		if (!nb) {
			f->oom = 1;
			f->nf++;
			return;
		}
		f->rowbuf = nb;
		f->rowcap = ncap;
	}
	f->foff[f->nf] = f->rowlen;
	f->flen[f->nf] = len;
	if (len)
		memcpy(f->rowbuf + f->rowlen, p, len);
	f->rowbuf[f->rowlen + len] = '\0';
	f->rowlen += len + 1;
	f->nf++;
}

static const char *fld(const struct pfile *f, int i)
{
	return f->rowbuf + f->foff[i];
}

/* One pass over the fields kept for the row (NUL-separated in rowbuf): add
 * the line breaks inside them (quoted fields may hold some) to f->line, and
 * return whether every byte is ASCII (then no field needs the UTF-8 check).
 * Eight bytes a step: one scan a row instead of a memchr and a UTF-8 check a
 * field. */
static int row_scan(struct pfile *f)
{
	const unsigned char *p = (const unsigned char *)f->rowbuf;
	size_t n = f->rowlen, i = 0;
	uint64_t high = 0;
	const uint64_t ones = 0x0101010101010101ULL, nl = 0x0A0A0A0A0A0A0A0AULL,
		       cr = 0x0D0D0D0D0D0D0D0DULL, top = 0x8080808080808080ULL;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, x, y;

		memcpy(&w, p + i, 8);
		high |= w;
		x = w ^ nl;
		y = w ^ cr;
		/* some byte is '\n' or '\r': count the line ends (a CR LF split
		 * across two words counts once: p[k - 1] is the earlier word's) */
		if (((x - ones) & ~x & top) || ((y - ones) & ~y & top))
			for (size_t k = i; k < i + 8; k++)
				f->line += p[k] == '\r' || (p[k] == '\n' && (k == 0 || p[k - 1] != '\r'));
	}
	for (; i < n; i++) {
		high |= p[i];
		f->line += p[i] == '\r' || (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'));
	}
	return !(high & top);
}

/* Does a field need quotes when written back as CSV? */
static int needs_quote(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

/* Byte column (1-based) where field i starts in the row as re-quoted. */
static uint32_t field_col(const struct pfile *f, int i)
{
	size_t col = 1;
	int n = f->nf < MAX_FIELDS ? f->nf : MAX_FIELDS;

	for (int j = 0; j < i && j < n; j++) {
		size_t len = f->flen[j];

		if (needs_quote(fld(f, j), len)) {
			len += 2;
			for (size_t k = 0; k < f->flen[j]; k++)
				len += fld(f, j)[k] == '"';
		}
		col += len + 1;
	}
	return (uint32_t)col;
}

/* Reconstruct the row as CSV text into the batch arena (offset-pointer). */
static const char *row_raw(struct pfile *f, size_t *raw_len)
{
	size_t cap = 16;
	int n = f->nf < MAX_FIELDS ? f->nf : MAX_FIELDS;

	for (int j = 0; j < n; j++)
		cap += 2 * f->flen[j] + 3;
	char *tmp = malloc(cap);

	if (!tmp) {
		f->oom = 1;
		return NULL;
	}
	size_t o = 0;

	for (int j = 0; j < n; j++) {
		const char *p = fld(f, j);
		size_t len = f->flen[j];

		if (j)
			tmp[o++] = ',';
		if (needs_quote(p, len)) {
			tmp[o++] = '"';
			for (size_t k = 0; k < len; k++) {
				if (p[k] == '"')
					tmp[o++] = '"';
				tmp[o++] = p[k];
			}
			tmp[o++] = '"';
		} else {
			memcpy(tmp + o, p, len);
			o += len;
		}
	}
	const char *r = astr(f->b, tmp, o, &f->oom);

	free(tmp);
	*raw_len = o;
	return r;
}

/* Keep the current row as rejected (or duplicate) with a formatted reason. */
static void reject(struct pfile *f, uint32_t line, uint32_t col, int duplicate, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void reject(struct pfile *f, uint32_t line, uint32_t col, int duplicate, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	struct rec_reject *j;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (VEC_PUSH(f->b->rejects, j)) {
		f->oom = 1;
		return;
	}
	j->line = line;
	j->col = col;
	j->duplicate = duplicate;
	if (!duplicate) {
		f->rej_line = line;
		f->rej_col = col;
	}
	j->reason = astr(f->b, reason, strlen(reason), &f->oom);
	j->raw = row_raw(f, &j->raw_len);
	if (duplicate)
		f->st.rows_duplicate++;
	else
		f->st.rows_rejected++;
}

/* Is p[0..n) valid UTF-8 (no overlongs, no surrogates)? */
static int utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	/* fast path: 8 ASCII bytes at a time (almost every field) */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (w & 0x8080808080808080ULL)
			break;
	}

	while (i < n) {
		unsigned c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		unsigned min;

		if ((c & 0xE0) == 0xC0) {
			k = 1;
			min = 0x80;
			c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2;
			min = 0x800;
			c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3;
			min = 0x10000;
			c &= 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + j] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Parse a decimal number: an optional sign, digits, an optional point and
 * digits (at least one digit in all); 0 or -1. Nothing else: no white space,
 * exponent, hexadecimal ("0x34"), "inf" or "nan", which strtod would take
 * (issue 21 item 6). Up to 15 digits take a fast exact path: an integer of at
 * most 15 digits divided by a power of ten is correctly rounded, as strtod's
 * result is; longer ones, checked the same way, go to strtod. */
static int parse_double(const char *p, size_t n, double *v)
{
	static const double POW10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
					1e11, 1e12, 1e13, 1e14, 1e15 };
	char *end;
	size_t i = 0, digits = 0, frac = 0;
	int64_t m = 0, dot = 0;

	if (n == 0 || n > 40)
		return -1;
	if (p[0] == '-' || p[0] == '+')
		i = 1;
	for (; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			/* past 15 digits strtod decides: stop accumulating (no overflow) */
			if (digits < 16)
				m = m * 10 + (p[i] - '0');
			digits++;
			frac += dot != 0;
		} else if (p[i] == '.' && !dot) {
			dot = 1;
		} else {
			break;
		}
	}
	if (i != n || !digits)
		return -1;
	if (digits <= 15) {
		*v = (double)m / POW10[frac];
		if (p[0] == '-')
			*v = -*v;
		return 0;
	}
	errno = 0;
	*v = strtod(p, &end);
	if (end != p + n || errno || !isfinite(*v))
		return -1;
	return 0;
}

/* Decode 64 hex characters into 32 bytes; 0, or -1 (out is then undefined).
 * Eight characters a step in a 64-bit word, without a branch (Crime IDs are
 * random hex, where a digit-or-letter branch is mispredicted about every other
 * character): a byte is valid when below 0x80 and in '0'..'9' or, with bit 5
 * set, in 'a'..'f'; its value is its low 4 bits, plus 9 for a letter (bit 6).
 * No lookup table: parsers run on several threads, and a table filled on first
 * use would be a data race. */
#define HEX_ONES UINT64_C(0x0101010101010101)
#define HEX_HIGH (HEX_ONES * 0x80)
/* per byte (each below 0x80): high bit set where the byte is >= n */
#define HEX_GE(x, n) (((x) + HEX_ONES * (0x80 - (n))) & HEX_HIGH)
static int hex32(const char *p, size_t n, uint8_t out[32])
{
	uint64_t bad = 0;

	if (n != 64)
		return -1;
	for (int i = 0; i < 8; i++) {
		uint64_t x, l, v, t;
		unsigned char c[8];

		memcpy(c, p + 8 * i, 8);
		/* the word of the 8 characters, first in the low byte (any endianness) */
		x = (uint64_t)c[0] | (uint64_t)c[1] << 8 | (uint64_t)c[2] << 16 |
		    (uint64_t)c[3] << 24 | (uint64_t)c[4] << 32 | (uint64_t)c[5] << 40 |
		    (uint64_t)c[6] << 48 | (uint64_t)c[7] << 56;
		bad |= x & HEX_HIGH;
		x &= ~HEX_HIGH; /* (a byte with its high bit set is bad already) */
		l = x | HEX_ONES * 0x20;
		bad |= ~((HEX_GE(x, '0') & ~HEX_GE(x, '9' + 1)) | (HEX_GE(l, 'a') & ~HEX_GE(l, 'f' + 1))) &
		       HEX_HIGH;
		v = (x & HEX_ONES * 0x0f) + (x >> 6 & HEX_ONES) * 9;
		/* byte 2k <- (char 2k) << 4 | char 2k + 1, then the 4 even bytes packed */
		t = (v << 4 | v >> 8) & UINT64_C(0x00ff00ff00ff00ff);
		t = (t | t >> 8) & UINT64_C(0x0000ffff0000ffff);
		t = t | t >> 16;
		out[4 * i] = (uint8_t)t;
		out[4 * i + 1] = (uint8_t)(t >> 8);
		out[4 * i + 2] = (uint8_t)(t >> 16);
		out[4 * i + 3] = (uint8_t)(t >> 24);
	}
	return bad ? -1 : 0;
}

/* Look up or create the file's dimension row of kind for key (one probe);
 * return the file's id for it (0 on OOM). A new id is the file's next of kind,
 * and its row (texts s1/s2, ref) goes into the batch for the writer to map
 * (dims_translate). Street and location rows are the writer's
 * (resolve_locations), not made here. */
static uint32_t intern(struct pfile *f, enum dim_kind kind, const char *key, size_t klen,
		       const char *s1, size_t l1, const char *s2, size_t l2, uint32_t ref)
{
	int added;
	/* the file's ids are dense from 1: the next is one past the count */
	uint32_t id = dict_get_or_put(f->ld[kind], key, klen,
				      (uint32_t)dict_count(f->ld[kind]) + 1, &added);
	struct rec_dim *r;

	if (!id) {
		f->oom = 1;
		return 0;
	}
	if (!added)
		return id;
	if (VEC_PUSH(f->b->dims, r)) {
		f->oom = 1;
		return id;
	}
	r->kind = kind;
	r->id = id;
	r->ref = ref;
	r->s1 = astr(f->b, s1, l1, &f->oom);
	r->s2 = s2 ? astr(f->b, s2, l2, &f->oom) : NULL;
	return id;
}

/* Intern a simple name (source, category, outcome) through its memo m. */
static uint32_t intern_name(struct pfile *f, enum dim_kind kind, struct memo_slot *m,
			    const char *p, size_t n)
{
	struct memo_slot *c = &m[memo_index(p, n, MEMO_NAME_BITS)];

	if (c->id && c->len == n && memcmp(c->key, p, n) == 0)
		return c->id;
	uint32_t id = intern(f, kind, p, n, p, n, NULL, 0, 0);

	if (n <= MEMO_KEY) {
		memcpy(c->key, p, n);
		c->len = (uint32_t)n;
		c->id = id;
	}
	return id;
}

/* Intern an LSOA (code, name): the code is the key; other names become
 * aliases. A NULL name is an LSOA named by code only (agency rows): a code the
 * store knows keeps its names, a new one gets an empty name. The memo is
 * indexed by the code and holds code, NUL, name. */
static uint32_t intern_lsoa(struct pfile *f, const char *code, size_t cl, const char *name,
			    size_t nl)
{
	struct memo_slot *c = &f->m_lsoa[memo_index(code, cl, MEMO_LSOA_BITS)];

	if (c->id && c->len == cl + nl + 1 && memcmp(c->key, code, cl) == 0 && !c->key[cl] &&
	    (!nl || memcmp(c->key + cl + 1, name, nl) == 0))
		return c->id;
	uint32_t id = intern(f, DIM_LSOA, code, cl, code, cl, name, nl, 0);

	if (id && name && nl + 4 < sizeof(f->keybuf)) {
		memcpy(f->keybuf, &id, 4);
		memcpy(f->keybuf + 4, name, nl);
		intern(f, DIM_LSOA_NAME, f->keybuf, nl + 4, name, nl, NULL, 0, id);
	}
	if (cl + nl + 1 <= MEMO_KEY) {
		memcpy(c->key, code, cl);
		c->key[cl] = 0;
		if (nl)
			memcpy(c->key + cl + 1, name, nl);
		c->len = (uint32_t)(cl + nl + 1);
		c->id = id;
	}
	return id;
}

size_t ingest_normalise_name(const char *in, size_t len, char *out, size_t cap)
{
	static const char prefix[] = "on or near ";
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	if (len >= sizeof(prefix) - 1 && strncasecmp(in, prefix, sizeof(prefix) - 1) == 0)
		i = sizeof(prefix) - 1;
	int space = 0;

	for (; i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < cap)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)(c < 0x80 ? toupper(c) : c);
	}
	out[o] = '\0';
	return o;
}

/* Count a loaded row towards (source, month) coverage and partition tracking. */
static void track(struct pfile *f, uint32_t source, int32_t month)
{
	if (!f->nmc) { /* the first row tracked */
		f->month = month;
		f->source = source;
	}
	if (month != f->month)
		f->multi_month = 1;
	if (source != f->source)
		f->multi_source = 1;
	for (size_t i = f->nmc; i-- > 0;) {
		if (f->mc[i].source == source && f->mc[i].month == month) {
			f->mc[i].rows++;
			return;
		}
	}
	if (f->nmc == f->capmc) {
		size_t ncap = f->capmc ? f->capmc * 2 : 16;
		struct month_count *nm = realloc(f->mc, ncap * sizeof(*nm));

		if (!nm) {
			f->oom = 1;
			return;
		}
		f->mc = nm;
		f->capmc = ncap;
	}
	f->mc[f->nmc++] = (struct month_count){ source, month, 1 };
}

/* Home slot of a slot value in a table of cap slots: the fingerprint's top
 * 32 bits scaled to the table (the value alone places it when growing). */
static uint32_t seen_home(uint64_t v, uint32_t cap)
{
	return (uint32_t)(((v >> 32) * (uint64_t)cap) >> 32);
}

/* seen_add once the set is sharded. */
static uint32_t seen_shard_add(struct pfile *f, uint64_t h, uint32_t line)
{
	struct seen *set = &f->seen;
	struct seen_shard *s = &set->sh[h >> 52];
	uint64_t fp = (h >> 12) & ((UINT64_C(1) << 40) - 1);

	if (!fp)
		fp = 1;
	if ((uint64_t)(s->n + 1) * 8 > (uint64_t)s->cap * 7) {
		uint32_t ncap = s->cap ? s->cap + s->cap / 2 : 8;
		uint64_t *ns = seen_table(set, ncap);

		if (!ns) {
			f->oom = 1;
			return 0;
		}
		for (uint32_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			uint32_t j = seen_home(s->slot[i], ncap);

			while (ns[j])
				j = j + 1 == ncap ? 0 : j + 1;
			ns[j] = s->slot[i];
		}
		if (s->cap > SEEN_SMALL)
			free(s->slot);
		s->slot = ns;
		s->cap = ncap;
	}
	uint64_t v = fp << SEEN_LINE_BITS | (line < SEEN_LINE_MASK ? line : SEEN_EARLIER);
	uint32_t j = seen_home(v, s->cap);

	while (s->slot[j]) {
		if (s->slot[j] >> SEEN_LINE_BITS == fp)
			return (uint32_t)(s->slot[j] & SEEN_LINE_MASK);
		j = j + 1 == s->cap ? 0 : j + 1;
	}
	s->slot[j] = v;
	s->n++;
	return 0;
}

/* Grow the flat table, or move it into the shards once it would pass
 * SEEN_FLAT_MAX slots; 0, or -1 on out of memory (f->oom set). */
static int seen_flat_grow(struct pfile *f)
{
	struct seen *set = &f->seen;
	uint32_t ncap = set->fcap ? set->fcap * 2 : SEEN_FLAT_MIN;
	struct seen_flat *old = set->flat;
	uint32_t ocap = set->fcap;

	if (ncap > SEEN_FLAT_MAX) {
		if (!(set->sh = calloc(SEEN_SHARDS, sizeof(*set->sh)))) {
			f->oom = 1;
			return -1;
		}
		set->flat = NULL;
		set->fcap = set->fn = 0;
		for (uint32_t i = 0; i < ocap && !f->oom; i++)
			if (old[i].h)
				seen_shard_add(f, old[i].h, old[i].line);
		free(old);
		return f->oom ? -1 : 0;
	}
	struct seen_flat *t = calloc(ncap, sizeof(*t));

	if (!t) {
		f->oom = 1;
		return -1;
	}
	for (uint32_t i = 0; i < ocap; i++) {
		if (!old[i].h)
			continue;
		uint32_t j = (uint32_t)old[i].h & (ncap - 1);

		while (t[j].h)
			j = (j + 1) & (ncap - 1);
		t[j] = old[i];
	}
	free(old);
	set->flat = t;
	set->fcap = ncap;
	return 0;
}

/* Record an id by its 64-bit hash h (all of the id's bytes, well mixed); return
 * 0 when new, else the line of the earlier occurrence (SEEN_EARLIER when that
 * line is past 2^24 - 1). */
static uint32_t seen_add(struct pfile *f, uint64_t h, uint32_t line)
{
	struct seen *set = &f->seen;

	if (!h)
		h = 1; /* 0 marks an empty slot; 1 has the same shard and fingerprint */
	if (!set->sh && (uint64_t)(set->fn + 1) * 8 > (uint64_t)set->fcap * 7 &&
	    seen_flat_grow(f))
		return 0;
	if (set->sh)
		return seen_shard_add(f, h, line);
	uint32_t mask = set->fcap - 1, j = (uint32_t)h & mask;

	while (set->flat[j].h) {
		if (set->flat[j].h == h)
			return set->flat[j].line;
		j = (j + 1) & mask;
	}
	set->flat[j].h = h;
	set->flat[j].line = line < SEEN_LINE_MASK ? line : SEEN_EARLIER;
	set->fn++;
	return 0;
}

/* "first at line N" for a duplicate's reason. */
static const char *first_at(char *buf, size_t cap, uint32_t first)
{
	if (first == SEEN_EARLIER)
		snprintf(buf, cap, "first earlier in the file");
	else
		snprintf(buf, cap, "first at line %u", first);
	return buf;
}

/* Validate the coordinate pair of fields ilon/ilat. Return 1 located, 0 blank
 * pair, -1 rejected (reason recorded). */
static int coords(struct pfile *f, int ilon, int ilat, double *lon, double *lat)
{
	size_t nlon = f->flen[ilon], nlat = f->flen[ilat];

	if (!nlon && !nlat)
		return 0;
	if (!nlon || !nlat) {
		int blank = nlon ? ilat : ilon;

		reject(f, f->row_line, field_col(f, blank), 0,
		       "%s is blank but %s is not (both or neither)",
		       blank == ilon ? "longitude" : "latitude", blank == ilon ? "latitude" : "longitude");
		return -1;
	}
	if (parse_double(fld(f, ilon), nlon, lon)) {
		reject(f, f->row_line, field_col(f, ilon), 0, "longitude '%.40s' is not a number",
		       fld(f, ilon));
		return -1;
	}
	if (parse_double(fld(f, ilat), nlat, lat)) {
		reject(f, f->row_line, field_col(f, ilat), 0, "latitude '%.40s' is not a number",
		       fld(f, ilat));
		return -1;
	}
	/* the United Kingdom and its waters */
	if (*lon < INGEST_LON_MIN || *lon > INGEST_LON_MAX) {
		reject(f, f->row_line, field_col(f, ilon), 0,
		       "longitude %.6f is outside the UK (%.0f..%.0f)", *lon, INGEST_LON_MIN,
		       INGEST_LON_MAX);
		return -1;
	}
	if (*lat < INGEST_LAT_MIN || *lat > INGEST_LAT_MAX) {
		reject(f, f->row_line, field_col(f, ilat), 0,
		       "latitude %.6f is outside the UK (%.0f..%.1f)", *lat, INGEST_LAT_MIN,
		       INGEST_LAT_MAX);
		return -1;
	}
	return 1;
}

/* Is this an LSOA/Data Zone style code (letter + 8 digits)? */
static int lsoa_code_ok(const char *p, size_t n)
{
	if (n != 9 || !isupper((unsigned char)p[0]))
		return 0;
	for (size_t i = 1; i < 9; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Record the snap point of event e for the writer to intern (resolve_locations). */
static void locate(struct pfile *f, struct rec_event *e, uint32_t lsoa, int has, double lon,
		   double lat, const char *name, size_t nl)
{
	e->location = 0;
	e->loc_pending = 1;
	e->loc_has = (uint8_t)has;
	e->loc_lsoa = lsoa;
	e->lon = lon;
	e->lat = lat;
	e->loc_len = (uint32_t)nl;
	e->loc_name = astr(f->b, name, nl, &f->oom);
}

/* Validate and load one street-level crime row (12 fields). */
static void row_street(struct pfile *f)
{
	struct rec_event *e;
	uint8_t id[32];
	int has_id = f->flen[0] > 0;
	int32_t month;
	double lon = 0, lat = 0;

	if (has_id && hex32(fld(f, 0), f->flen[0], id)) {
		reject(f, f->row_line, 1, 0, "Crime ID '%.70s' is not 64 hexadecimal characters",
		       fld(f, 0));
		return;
	}
	if (month_parse(fld(f, 1), f->flen[1], &month)) {
		reject(f, f->row_line, field_col(f, 1), 0,
		       "month '%.20s' is not YYYY-MM between 2000-01 and 2099-12", fld(f, 1));
		return;
	}
	if (!f->flen[2]) {
		reject(f, f->row_line, field_col(f, 2), 0, "'Reported by' is blank");
		return;
	}
	if (!f->flen[9]) {
		reject(f, f->row_line, field_col(f, 9), 0, "'Crime type' is blank");
		return;
	}
	int has = coords(f, 4, 5, &lon, &lat);

	if (has < 0)
		return;
	if (f->flen[7] && !lsoa_code_ok(fld(f, 7), f->flen[7])) {
		reject(f, f->row_line, field_col(f, 7), 0, "LSOA code '%.20s' is not a letter and 8 digits",
		       fld(f, 7));
		return;
	}
	if (has_id) {
		uint32_t first = seen_add(f, dict_hash(id, 32), f->row_line);
		char at[48];

		if (first) {
			reject(f, f->row_line, 1, 1, "duplicate Crime ID (%s)",
			       first_at(at, sizeof(at), first));
			return;
		}
	}
	if (VEC_PUSH(f->b->events, e)) {
		f->oom = 1;
		return;
	}
	e->line = f->row_line;
	e->month = month;
	e->source = intern_name(f, DIM_SOURCE, f->m_source, fld(f, 2), f->flen[2]);
	e->falls = f->flen[3] ? intern_name(f, DIM_SOURCE, f->m_falls, fld(f, 3),
					    f->flen[3])
			      : 0;
	e->category = intern_name(f, DIM_CATEGORY, f->m_cat, fld(f, 9), f->flen[9]);
	e->outcome = f->flen[10] ? intern_name(f, DIM_OUTCOME, f->m_out, fld(f, 10),
					       f->flen[10])
				 : 0;
	uint32_t lsoa = f->flen[7] ? intern_lsoa(f, fld(f, 7), f->flen[7], fld(f, 8), f->flen[8]) : 0;

	locate(f, e, lsoa, has, lon, lat, fld(f, 6), f->flen[6]);
	e->flags = has ? 0 : EVENT_F_UNLOCATED;
	if (has_id) {
		e->id_kind = 1;
		memcpy(e->crime_id, id, 32);
	}
	f->st.rows_loaded++;
	track(f, e->source, month);
}

/* Validate and load one outcomes row (10 fields). */
static void row_outcome(struct pfile *f)
{
	struct rec_outcome *o;
	uint8_t id[32];
	int32_t month;
	double lon, lat;

	if (hex32(fld(f, 0), f->flen[0], id)) {
		reject(f, f->row_line, 1, 0, "Crime ID '%.70s' is not 64 hexadecimal characters",
		       fld(f, 0));
		return;
	}
	if (month_parse(fld(f, 1), f->flen[1], &month)) {
		reject(f, f->row_line, field_col(f, 1), 0,
		       "month '%.20s' is not YYYY-MM between 2000-01 and 2099-12", fld(f, 1));
		return;
	}
	if (!f->flen[9]) {
		reject(f, f->row_line, field_col(f, 9), 0, "'Outcome type' is blank");
		return;
	}
	if (coords(f, 4, 5, &lon, &lat) < 0)
		return;
	uint32_t out = intern_name(f, DIM_OUTCOME, f->m_out, fld(f, 9), f->flen[9]);
	/* the same crime with the same outcome twice in one file is a duplicate */
	uint8_t key[36];
	char at[48];

	memcpy(key, id, 32);
	memcpy(key + 32, &out, 4);
	uint32_t first = seen_add(f, dict_hash(key, sizeof(key)), f->row_line);

	if (first) {
		reject(f, f->row_line, 1, 1, "duplicate Crime ID and outcome (%s)",
		       first_at(at, sizeof(at), first));
		return;
	}
	if (VEC_PUSH(f->b->outcomes, o)) {
		f->oom = 1;
		return;
	}
	o->line = f->row_line;
	o->month = month;
	o->outcome = out;
	memcpy(o->crime_id, id, 32);
	f->st.rows_loaded++;
	uint32_t src = f->flen[2] ? intern_name(f, DIM_SOURCE, f->m_source, fld(f, 2),
						f->flen[2])
				  : 0;

	track(f, src, month);
}

/* Two digits at p as a number no larger than max; -1 when not. */
static int two_digits(const char *p, int max)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	int v = (p[0] - '0') * 10 + (p[1] - '0');

	return v <= max ? v : -1;
}

/* Is p[0..n) a stop-and-search date: YYYY-MM-DD of a real day (2024-02-30 is
 * not), optionally followed by THH:MM[:SS] and then nothing, Z or +HH:MM /
 * -HH:MM? police.uk writes "2024-07-01T10:43:00+00:00". 0 with *month set, or -1. */
static int stop_date_ok(const char *p, size_t n, int32_t *month)
{
	static const int DAYS[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (n < 10 || month_parse(p, 7, month) || p[7] != '-')
		return -1;
	int y = 2000 + *month / 12, m = *month % 12, d = two_digits(p + 8, 31);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (d < 1 || d > DAYS[m] + (m == 1 && leap))
		return -1;
	if (n == 10)
		return 0;
	size_t i = 16;

	if (n < 16 || p[10] != 'T' || two_digits(p + 11, 23) < 0 || p[13] != ':' ||
	    two_digits(p + 14, 59) < 0)
		return -1;
	if (n >= 19 && p[16] == ':') {
		if (two_digits(p + 17, 60) < 0)
			return -1;
		i = 19;
	}
	if (i == n || (i + 1 == n && p[i] == 'Z'))
		return 0;
	if (i + 6 == n && (p[i] == '+' || p[i] == '-') && two_digits(p + i + 1, 23) >= 0 &&
	    p[i + 3] == ':' && two_digits(p + i + 4, 59) >= 0)
		return 0;
	return -1;
}

/* Validate and load one stop-and-search row (15 fields). */
static void row_stop(struct pfile *f)
{
	struct rec_stop *p;
	int32_t month;
	double lon = 0, lat = 0;
	const char *date = fld(f, 1);

	if (stop_date_ok(date, f->flen[1], &month)) {
		reject(f, f->row_line, field_col(f, 1), 0,
		       "date '%.40s' is not an ISO date and time (YYYY-MM-DD, then"
		       " THH:MM[:SS] and a zone Z or +HH:MM)", date);
		return;
	}
	int has = coords(f, 5, 4, &lon, &lat);

	if (has < 0)
		return;
	if (VEC_PUSH(f->b->stops, p)) {
		f->oom = 1;
		return;
	}
	p->line = f->row_line;
	p->month = month;
	p->has_coord = has;
	p->lon = lon;
	p->lat = lat;
	for (int i = 0; i < STOP_NFIELDS; i++)
		p->f[i] = astr(f->b, fld(f, i), f->flen[i], &f->oom);
	f->st.rows_loaded++;
	track(f, 0, month);
}

/* Bind the agency column map to this header: KIND_AGENCY, or 0 with perr set. */
static int agency_header(struct pfile *f)
{
	const char *names[MAX_FIELDS];
	int n = f->nf < MAX_FIELDS ? f->nf : MAX_FIELDS;
	struct mb_error e = { 0 };

	for (int i = 0; i < n; i++)
		names[i] = fld(f, i);
	if (agencymap_bind(f->run->agency->map, names, (size_t)n, &e) == 0)
		return KIND_AGENCY;
	mb_err(&f->perr, MB_EDATA, "%s:%u:1: %s; file skipped", f->in->name, f->row_line, e.msg);
	f->fatal = 1;
	return 0;
}

/* The text of mapped column c of the row (NULL when the map has no such column). */
static const char *mcol(const struct pfile *f, enum agencymap_field c, size_t *len, int *idx)
{
	long i = f->run->agency->map->col[c].index;

	*len = 0;
	if (i < 0 || i >= f->nf || i >= MAX_FIELDS)
		return NULL;
	*idx = (int)i;
	*len = f->flen[i];
	return fld(f, (int)i);
}

/* Trim spaces and tabs from both ends of [*p, *p + *len). */
static void span_trim(const char **p, size_t *len)
{
	while (*len && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

/* The trimmed text of mapped column c into the arena (NULL when blank or not
 * mapped); *col = its column for messages. Longer than max bytes: rejected. */
static int extract_text(struct pfile *f, enum agencymap_field c, size_t max, const char *what,
			const char **out)
{
	size_t len = 0;
	int idx = 0;
	const char *p = mcol(f, c, &len, &idx);

	*out = NULL;
	if (!p)
		return 0;
	span_trim(&p, &len);
	if (!len)
		return 0;
	if (len > max) {
		reject(f, f->row_line, field_col(f, idx), 0, "%s '%.40s...' is longer than %zu bytes",
		       what, p, max);
		return -1;
	}
	*out = astr(f->b, p, len, &f->oom);
	return 0;
}

/* A flag column of an extract row: 1, 0, -1 unknown (blank or not mapped);
 * -2 after rejecting the row. */
static int extract_flag(struct pfile *f, enum agencymap_field c, enum agencymap_flag which,
			const char *what)
{
	const struct agencymap *m = f->run->agency->map;
	size_t len = 0;
	int idx = 0, v;
	const char *p = mcol(f, c, &len, &idx);

	if (!p)
		return -1;
	v = agencymap_flag_n(m, which, p, len);
	if (v == -2) {
		const struct agencymap_flagvals *fv = &m->flag[which];

		reject(f, f->row_line, field_col(f, idx), 0,
		       "%s flag '%.20s' is not a yes value (%s%s%s) nor a no value (%s%s%s)", what, p,
		       fv->v[0][0], fv->n[0] > 1 ? ", " : "", fv->n[0] > 1 ? fv->v[0][1] : "",
		       fv->v[1][0], fv->n[1] > 1 ? ", " : "", fv->n[1] > 1 ? fv->v[1][1] : "");
	}
	return v;
}

/* Validate and load one row of a force extract: its fields attach to the
 * police.uk crime of the same Crime ID and month (no event is made: nothing
 * is counted twice; docs/methods.md, "Force extracts"). */
static void row_extract(struct pfile *f)
{
	struct agency *a = f->run->agency;
	const struct agencymap *m = a->map;
	struct agencymap_when_out w;
	struct rec_extra *x;
	uint8_t id[32];
	size_t len = 0;
	int idx = 0, minute, da, hate;
	const char *p, *reason = NULL, *ho = NULL, *sub = NULL, *strand = NULL, *street = NULL,
		       *parish = NULL;

	p = mcol(f, AGENCYMAP_ID, &len, &idx);
	if (!p || hex32(p, len, id)) {
		reject(f, f->row_line, field_col(f, idx), 0,
		       "Crime ID '%.70s' is not 64 hexadecimal characters", p ? p : "");
		return;
	}
	p = mcol(f, m->when == AGENCYMAP_WHEN_DATE ? AGENCYMAP_DATE : AGENCYMAP_MONTH, &len, &idx);
	if (!p || agencymap_parse_when_n(m, p, len, &w, &reason) || w.month < 0 || w.month >= 1200) {
		reject(f, f->row_line, field_col(f, idx), 0, "%s '%.40s': %s",
		       m->when == AGENCYMAP_WHEN_DATE ? "date" : "month", p ? p : "",
		       reason ? reason : "before 2000-01 or after 2099-12");
		return;
	}
	minute = w.minute;
	p = mcol(f, AGENCYMAP_TIME, &len, &idx);
	if (p && agencymap_parse_time_n(m, p, len, &minute, &reason)) {
		reject(f, f->row_line, field_col(f, idx), 0, "time '%.20s': %s", p, reason);
		return;
	}
	if ((da = extract_flag(f, AGENCYMAP_DA, AGENCYMAP_FLAG_DA, "domestic-abuse")) == -2 ||
	    (hate = extract_flag(f, AGENCYMAP_HATE, AGENCYMAP_FLAG_HATE, "hate-crime")) == -2)
		return;
	p = mcol(f, AGENCYMAP_HO_CODE, &len, &idx);
	if (p) {
		span_trim(&p, &len);
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)p[i]) && !strchr("/.-", p[i])) {
				reject(f, f->row_line, field_col(f, idx), 0,
				       "Home Office offence code '%.20s' is not digits, letters, '/', '.'"
				       " or '-'", p);
				return;
			}
	}
	if (extract_text(f, AGENCYMAP_HO_CODE, 16, "Home Office offence code", &ho) ||
	    extract_text(f, AGENCYMAP_SUBGROUP, 120, "offence subgroup", &sub) ||
	    extract_text(f, AGENCYMAP_HATE_STRAND, 120, "hate strand", &strand) ||
	    extract_text(f, AGENCYMAP_STREET, 200, "street", &street) ||
	    extract_text(f, AGENCYMAP_PARISH, 200, "parish", &parish))
		return;
	if (strand && hate == 0) {
		mcol(f, AGENCYMAP_HATE_STRAND, &len, &idx);
		reject(f, f->row_line, field_col(f, idx), 0,
		       "hate strand given but the hate-crime flag says no");
		return;
	}
	if (strand)
		hate = 1; /* a strand says it is a hate crime */
	else if (hate == 1) /* flagged without a strand (or no strand column) */
		strand = astr(f->b, "Not stated", 10, &f->oom);
	/* one crime once in a file */
	uint32_t fp_line = seen_add(f, dict_hash((const char *)id, 32), f->row_line);

	if (fp_line) {
		char at[48];

		mcol(f, AGENCYMAP_ID, &len, &idx);
		reject(f, f->row_line, field_col(f, idx), 1, "duplicate Crime ID (%s)",
		       first_at(at, sizeof(at), fp_line));
		return;
	}
	if (VEC_PUSH(f->b->extras, x)) {
		f->oom = 1;
		return;
	}
	x->line = f->row_line;
	x->month = w.month;
	memcpy(x->crime_id, id, 32);
	x->day = w.day;
	x->minute = (int16_t)minute;
	x->da = (int8_t)da;
	x->hate = (int8_t)hate;
	x->ho_code = ho;
	x->subgroup = sub;
	x->strand = strand;
	x->street = street;
	x->parish = parish;
	f->st.rows_loaded++;
	track(f, intern_name(f, DIM_SOURCE, f->m_source, a->source, strlen(a->source)), w.month);
}

/* Validate and load one row of an agency's CSV through its column map. */
static void row_agency(struct pfile *f)
{
	struct agency *a = f->run->agency;
	struct rec_event *e;
	size_t len = 0, len2 = 0;
	int idx = 0, idx2 = 0, month;
	const char *p, *reason = NULL;
	double lon = 0, lat = 0;
	int has = 0;
	uint32_t lsoa = 0, unit = 0;

	if (a->map->extract) {
		row_extract(f);
		return;
	}
	struct agencymap_when_out w = { 0, -1, -1 };

	p = mcol(f, a->map->when == AGENCYMAP_WHEN_DATE ? AGENCYMAP_DATE : AGENCYMAP_MONTH, &len, &idx);
	if (!p || agencymap_parse_when_n(a->map, p, len, &w, &reason) ||
	    (month = w.month) < 0 || month >= 1200) {
		reject(f, f->row_line, field_col(f, idx), 0, "%s '%.40s': %s",
		       a->map->when == AGENCYMAP_WHEN_DATE ? "date" : "month", p ? p : "",
		       reason ? reason : "before 2000-01 or after 2099-12");
		return;
	}
	p = mcol(f, AGENCYMAP_CATEGORY, &len, &idx);
	if (!p || !len) {
		reject(f, f->row_line, field_col(f, idx), 0, "category is blank");
		return;
	}
	switch (a->map->location) {
	case AGENCYMAP_LOC_LONLAT:
		mcol(f, AGENCYMAP_LONGITUDE, &len, &idx);
		mcol(f, AGENCYMAP_LATITUDE, &len2, &idx2);
		if ((has = coords(f, idx, idx2, &lon, &lat)) < 0)
			return;
		break;
	case AGENCYMAP_LOC_BNG: {
		double east, north;
		const char *pe = mcol(f, AGENCYMAP_EASTING, &len, &idx);
		const char *pn = mcol(f, AGENCYMAP_NORTHING, &len2, &idx2);

		if (!len && !len2)
			break; /* no location given: loaded as unlocated */
		if (parse_double(pe, len, &east) || parse_double(pn, len2, &north) ||
		    geo_bng_to_wgs84(a->bng, east, north, &lon, &lat)) {
			reject(f, f->row_line, field_col(f, idx), 0,
			       "easting/northing '%.20s' '%.20s' is not a British National Grid point",
			       pe ? pe : "", pn ? pn : "");
			return;
		}
		/* the grid covers much sea: 0,0 is south-west of the Scillies */
		if (east < BNG_E_MIN || east > BNG_E_MAX || north < BNG_N_MIN || north > BNG_N_MAX) {
			reject(f, f->row_line, field_col(f, east < BNG_E_MIN || east > BNG_E_MAX ? idx : idx2),
			       0, "easting/northing %.0f %.0f is outside Great Britain (easting %.0f..%.0f,"
			       " northing %.0f..%.0f m)", east, north, BNG_E_MIN, BNG_E_MAX, BNG_N_MIN,
			       BNG_N_MAX);
			return;
		}
		has = 1;
		break;
	}
	case AGENCYMAP_LOC_LSOA:
		p = mcol(f, AGENCYMAP_LSOA, &len, &idx);
		if (len && !lsoa_code_ok(p, len)) {
			reject(f, f->row_line, field_col(f, idx), 0,
			       "LSOA code '%.20s' is not a letter and 8 digits", p);
			return;
		}
		if (len) /* by code: the name is the police files' */
			lsoa = intern_lsoa(f, p, len, NULL, 0);
		break;
	case AGENCYMAP_LOC_UNIT:
		p = mcol(f, AGENCYMAP_UNIT, &len, &idx);
		unit = len ? dict_get(a->units, p, len) : 0;
		if (len && !unit) {
			reject(f, f->row_line, field_col(f, idx), 0, "unit '%.40s' is not in layer '%s'",
			       p, a->map->unit_layer);
			return;
		}
		break;
	}
	uint32_t fp_line;
	const char *id = mcol(f, AGENCYMAP_ID, &len, &idx);

	if (id && len) {
		char at[48];

		fp_line = seen_add(f, dict_hash(id, len), f->row_line);
		if (fp_line) {
			reject(f, f->row_line, field_col(f, idx), 1, "duplicate id '%.40s' (%s)", id,
			       first_at(at, sizeof(at), fp_line));
			return;
		}
	}
	if (VEC_PUSH(f->b->events, e)) {
		f->oom = 1;
		return;
	}
	e->line = f->row_line;
	e->month = month;
	e->source = intern_name(f, DIM_SOURCE, f->m_source, a->source, strlen(a->source));
	p = mcol(f, AGENCYMAP_CATEGORY, &len2, &idx); /* len is the id's, for text_id */
	e->category = intern_name(f, DIM_CATEGORY, f->m_cat, p, len2);
	if (has || lsoa)
		locate(f, e, lsoa, has, lon, lat, "", 0);
	e->flags = has ? 0 : EVENT_F_UNLOCATED;
	e->unit = unit;
	e->layer = unit ? a->layer_id : 0;
	/* a date with its day: kept for analyses of days and times (event_when) */
	e->has_when = w.day >= 0;
	e->day = w.day;
	e->minute = (int16_t)w.minute;
	if (id && len) {
		e->id_kind = 2;
		e->text_id = astr(f->b, id, len, &f->oom);
	}
	f->st.rows_loaded++;
	track(f, e->source, month);
}

/* Case-insensitive, trimmed comparison of the row with a header. */
static int header_is(const struct pfile *f, const char *const *h, int n)
{
	if (f->nf != n)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *p = fld(f, i);
		size_t len = f->flen[i];

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len != strlen(h[i]) || strncasecmp(p, h[i], len) != 0)
			return 0;
	}
	return 1;
}

static const int KIND_FIELDS[] = { 0, 12, 10, 15 };

/* A whole row has been read: header, blank line or data. */
static void on_row(struct pfile *f)
{
	if (!f->header_done) {
		f->header_done = 1;
		if (header_is(f, HDR_STREET, 12))
			f->kind = KIND_STREET;
		else if (header_is(f, HDR_OUTCOMES, 10))
			f->kind = KIND_OUTCOMES;
		else if (header_is(f, HDR_STOP, 15))
			f->kind = KIND_STOP;
		else if (f->run->agency)
			f->kind = agency_header(f);
		if (!f->kind) {
			char got[160];
			size_t n = 0;

			for (int i = 0; i < f->nf && i < MAX_FIELDS && n < 100; i++) {
				const char *p = fld(f, i);
				int ok = utf8_ok((const unsigned char *)p, f->flen[i]);

				n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.30s", i ? "," : "",
						      ok ? p : "<binary>");
				if (n >= sizeof(got))
					n = sizeof(got) - 1;
			}
			if (!f->fatal)
				mb_err(&f->perr, MB_EDATA,
				       "%s:%u:1: unknown header (%d columns: '%.100s'): not a police.uk"
				       " street, outcomes or stop-and-search file%s; file skipped",
				       f->in->name, f->row_line, f->nf, got,
				       f->run->agency ? ", nor the mapped columns" : "");
			f->fatal = 1;
		}
		return;
	}
	f->st.rows_read++;
	if (f->overflow) {
		reject(f, f->row_line, 1, 0, "row longer than %u bytes", 16u * FIELD_MAX);
		return;
	}
	int want = KIND_FIELDS[f->kind <= KIND_STOP ? f->kind : 0];

	if (f->kind == KIND_AGENCY)
		want = (int)f->run->agency->map->header_fields;
	if (f->nf != want) {
		uint32_t col = f->nf > want ? field_col(f, want) : field_col(f, f->nf - 1) +
			       (uint32_t)f->flen[f->nf - 1];

		reject(f, f->row_line, col, 0, "%d columns, expected %d", f->nf, want);
		f->last_row_broken = f->nf < want;
		return;
	}
	if (f->nul_field) {
		int i = f->nul_field - 1;

		reject(f, f->row_line,
		       field_col(f, i) + (uint32_t)needs_quote(fld(f, i), f->flen[i]) +
			       (uint32_t)f->nul_off,
		       0, "NUL byte in column %d (a binary file, or a damaged one?)", i + 1);
		return;
	}
	for (int i = 0; !f->row_ascii && i < f->nf; i++) {
		if (!utf8_ok((const unsigned char *)fld(f, i), f->flen[i])) {
			reject(f, f->row_line, field_col(f, i), 0, "invalid UTF-8 in column %d", i + 1);
			f->last_row_broken = 1; /* (a cut inside a character) */
			return;
		}
	}
	switch (f->kind) {
	case KIND_STREET: row_street(f); break;
	case KIND_OUTCOMES: row_outcome(f); break;
	case KIND_STOP: row_stop(f); break;
	case KIND_AGENCY: row_agency(f); break;
	default: break;
	}
}

/* A line end c (LF or CR; anything else is none) outside any field: LF, CR LF
 * and a lone CR each end one physical line. The next row starts on the new line. */
static void line_end(struct pfile *f, int c)
{
	if (c == '\r')
		f->line++;
	else if (c == '\n' && !f->after_cr_row)
		f->line++;
	f->after_cr_row = c == '\r';
	f->row_line = f->line;
}

/* The row's state is forgotten: the next row starts empty. */
static void row_clear(struct pfile *f)
{
	f->nf = 0;
	f->rowlen = 0;
	f->overflow = 0;
	f->nul_field = 0;
}

/* libcsv row callback: c is the terminating character (-1 at end of input). */
static void on_row_end(int c, void *ctx)
{
	struct pfile *f = ctx;

	if (f->nf == 0 && !f->overflow) {
		/* an empty record: a line end outside any row (the LF of a CR LF
		 * is not a line of its own) */
		if (f->header_done && (c == '\r' || (c == '\n' && !f->after_cr_row)))
			f->st.blank_lines++;
		line_end(f, c);
		return;
	}
	f->row_ascii = row_scan(f);
	f->last_row_broken = 0;
	if (!f->fatal)
		on_row(f);
	row_clear(f);
	line_end(f, c);
}

/* Hand the batch over when it is full. */
static void maybe_flush(struct pfile *f)
{
	/* a batch short of a row that ran out of memory is never handed over */
	if (f->oom ||
	    (f->b->events.n + f->b->rejects.n + f->b->outcomes.n + f->b->stops.n + f->b->extras.n <
		     BATCH_EVENTS &&
	     f->b->arena_used < BATCH_ARENA))
		return;
	progress_rows(f->run->progress, f->b->events.n + f->b->rejects.n + f->b->outcomes.n +
					  f->b->stops.n);
	queue_push(&f->q, f->b);
	f->b = queue_take_spare(&f->q);
}

/* Add what libcsv holds of the field it was reading when it stopped (a parse
 * error, or the end of input inside quotes) to the row. */
static void partial_field(struct pfile *f)
{
	if (f->csv.entry_buf && f->csv.entry_pos)
		on_field(f->csv.entry_buf, f->csv.entry_pos, f);
}

/* The parse failed at offset pos of buf: reject the pending row and resume
 * at the next line. Return the offset to resume at. */
static size_t recover(struct pfile *f, const char *buf, size_t len, size_t pos)
{
	int e = csv_error(&f->csv);

	if (!f->header_done) {
		if (!f->fatal)
			mb_err(&f->perr, MB_EDATA,
			       "%s:%u:%u: unreadable header (malformed quoting or a field over %u bytes):"
			       " not a CSV file?; file skipped",
			       f->in->name, f->nf ? f->row_line : f->line, field_col(f, f->nf), FIELD_MAX);
		f->fatal = 1;
		return len;
	}
	f->st.rows_read++;
	uint32_t col = field_col(f, f->nf);
	int column = f->nf + 1;

	/* the failed field's bytes so far belong to the row's raw text */
	partial_field(f);
	if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		reject(f, f->row_line, col, 0,
		       "field longer than %u bytes (or an unterminated quote)", FIELD_MAX);
	else
		reject(f, f->row_line, col, 0,
		       "malformed quoting in column %d (a quote inside a field must be doubled)",
		       column);
	f->last_row_broken = 1;
	/* skip the rest of this physical line: to its LF, CR or CR LF */
	size_t next = pos;

	while (next < len && buf[next] != '\n' && buf[next] != '\r')
		next++;
	row_scan(f); /* line breaks inside the fields read so far */
	row_clear(f);
	csv_reset(f);
	if (next < len)
		line_end(f, (unsigned char)buf[next++]);
	else
		f->skip_to_nl = 1;
	return next;
}

/* Feed one chunk to libcsv, recovering from malformed rows. */
static void feed(struct pfile *f, const char *buf, size_t len)
{
	size_t pos = 0;

	if (!f->nul_seen && memchr(buf, 0, len))
		f->nul_seen = 1; /* from now on each field is looked at (on_field) */
	if (f->skip_to_nl) {
		while (pos < len && buf[pos] != '\n' && buf[pos] != '\r')
			pos++;
		if (pos == len)
			return;
		line_end(f, (unsigned char)buf[pos++]);
		f->skip_to_nl = 0;
	}
	while (pos < len && !f->fatal && !f->oom) {
		size_t n = csv_parse(&f->csv, buf + pos, len - pos, on_field, on_row_end, f);

		pos += n;
		if (pos < len)
			pos = recover(f, buf, len, pos);
		maybe_flush(f);
		if (!f->b) {
			f->fatal = 1;
			return;
		}
	}
}

/* The parser thread's body: read, hash, parse; hand batches over. */
static void chain_parsed(struct ingest_run *run, int ok);

/* Writer, once the parser is joined: join the hashing thread and check that
 * it hashed the bytes parsed (else the file is skipped, as fatal). */
static void hash_join(struct pfile *f)
{
	if (!f->hashing)
		return;
	if (f->fatal || f->oom)
		atomic_store(&f->hash_stop, 1);
	pthread_join(f->hth, NULL);
	f->hashing = 0;
	if (f->fatal || f->oom)
		return;
	if (f->hashed < 0) {
		mb_err(&f->perr, MB_EIO, "%s: read error while hashing it: %s; file skipped",
		       f->in->name, strerror(f->hash_errno));
		f->fatal = 1;
	} else if (f->hashed != f->st.bytes) {
		/* the digest must be of the bytes parsed */
		mb_err(&f->perr, MB_EIO, "%s: the file changed while it was read (%lld bytes"
		       " parsed, %lld hashed); file skipped", f->in->name,
		       (long long)f->st.bytes, (long long)f->hashed);
		f->fatal = 1;
	}
}

static void *parse_main(void *arg)
{
	struct pfile *f = arg;
	char *buf = malloc(CHUNK);
	int first = 1;

	prctl(PR_SET_NAME, "mb-parse"); /* named for perf and top */

	f->b = queue_take_spare(&f->q);
	if (!buf || !f->b) {
		f->oom = !buf;
		goto done;
	}
	for (;;) {
		size_t got;

		if (input_read(f->in, buf, CHUNK, &got, &f->perr)) {
			f->fatal = 1;
			break;
		}
		if (!got)
			break;
		if (!f->hashing)
			EVP_DigestUpdate(f->sha, buf, got);
		f->st.bytes += (int64_t)got;
		f->last_byte = (unsigned char)buf[got - 1];
		progress_add(f->run->progress, got);
		size_t off = 0;

		if (first && got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
			off = 3; /* UTF-8 byte-order mark */
		first = 0;
		feed(f, buf + off, got - off);
		if (f->fatal || f->oom)
			break;
	}
	if (!f->fatal && !f->oom) {
		if (csv_fini(&f->csv, on_field, on_row_end, f) != 0) {
			/* an unterminated quote at end of file */
			if (f->header_done) {
				uint32_t col = field_col(f, f->nf);
				int column = f->nf + 1;

				f->st.rows_read++;
				partial_field(f);
				row_scan(f);
				reject(f, f->row_line, col, 0,
				       "unterminated quoted field at end of file (column %d)", column);
				f->cut = 1;
			} else {
				mb_err(&f->perr, MB_EDATA,
				       "%s:1:1: unterminated quote in the header; file skipped", f->in->name);
				f->fatal = 1;
			}
		}
		if (!f->header_done && !f->fatal) {
			mb_err(&f->perr, MB_EDATA, "%s:1:1: empty file (no header); file skipped",
			       f->in->name);
			f->fatal = 1;
		}
		/* a download cut short ends without a line end, inside a row left
		 * short of columns or with broken quoting or UTF-8; a file merely
		 * lacking its last line end ends with a whole row (even one rejected
		 * for a bad value) */
		if (f->last_row_broken && f->last_byte != '\n' && f->last_byte != '\r')
			f->cut = 1;
	}
	unsigned int dl = 0;

	if (!f->hashing)
		EVP_DigestFinal_ex(f->sha, f->digest, &dl);
done:
	/* the writer joins the hashing thread (hash_join): waiting for it here
	 * would hold up the next file's parse */
	if (f->hashing && (f->fatal || f->oom || !buf))
		atomic_store(&f->hash_stop, 1);
	if (f->b) {
		if (f->fatal || f->oom) {
			queue_return(&f->q, f->b);
		} else {
			queue_push(&f->q, f->b);
		}
		f->b = NULL;
	}
	free(buf);
	struct timespec cpu;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
		atomic_fetch_add(&f->run->t.parse_ns,
				 (long long)cpu.tv_sec * 1000000000LL + cpu.tv_nsec);
	if (f->index != SIZE_MAX)
		chain_parsed(f->run, !f->fatal && !f->oom);
	queue_set(&f->q, &f->q.done);
	return NULL;
}

/* ---- the writer (this thread) -------------------------------------------- */

static const char *const KIND_NAME[] = { "unknown", "street", "outcomes", "stop-and-search",
					 "agency" };

/* Print rejected rows of a batch (up to the per-file limit). */
static void show_rejects(struct ingest_run *run, const char *name, int kind,
			 const struct batch *b, int *shown)
{
	for (size_t i = 0; i < b->rejects.n; i++) {
		/* police.uk outcomes files repeat whole lines routinely: those
		 * duplicates are counted in the file's summary line, not listed */
		if (b->rejects.v[i].duplicate && kind == KIND_OUTCOMES)
			continue;
		if (*shown >= run->o->max_shown)
			return;
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s:%u:%u: %s\n", MB_SHOWN(name), b->rejects.v[i].line,
			b->rejects.v[i].col ? b->rejects.v[i].col : 1, MB_SHOWN(b->rejects.v[i].reason));
		(*shown)++;
	}
}

/* A mapping failure of file f's ids (a bug, not bad data: the file is rolled
 * back and the run stops as on a store error), naming the file and, when one
 * row is at fault, its line. */
static int internal_error(struct mb_error *err, const struct pfile *f, uint32_t line,
			  const char *what)
{
	if (line)
		return mb_err(err, MB_EDB, "%s:%u: internal error: %s", f->in->name, line, what);
	return mb_err(err, MB_EDB, "%s: internal error: %s", f->in->name, what);
}

/* The store's id of the file's id of kind k (0 stays 0); *bad set when unknown. */
static uint32_t map_id(const struct pfile *f, int k, uint32_t id, int *bad)
{
	if (!id)
		return 0;
	if (id >= f->nmap[k] || !f->map[k][id]) {
		*bad = 1;
		return 0;
	}
	return f->map[k][id];
}

/* The share (0..1, or 2: no limit) of a partition's rows a release may remove. */
static double max_removed_share(const struct ingest_opts *o)
{
	if (o->replace)
		return 2;
	if (o->max_removed == 0)
		return INGEST_MAX_REMOVED / 100;
	return o->max_removed < 0 ? 0 : o->max_removed / 100;
}

/* Record coverage and claim the partitions of a loaded file. Street rows whose
 * Crime ID another import already holds for their month and force become
 * duplicates first (*held of them). -MB_EDATA with err set when a release
 * would remove too much (store_partition_claim). */
static int finish_file(struct ingest_run *run, struct pfile *f, int64_t import_id,
		       struct partition_diff *diff, int64_t *held, struct mb_error *err)
{
	int r, bad = 0;
	char key[64];
	double maxr = max_removed_share(run->o);

	*held = 0;
	/* the sources were mapped to the store's ids with the batches */
	for (size_t i = 0; i < f->nmc; i++)
		f->mc[i].source = map_id(f, DIM_SOURCE, f->mc[i].source, &bad);
	f->source = map_id(f, DIM_SOURCE, f->source, &bad);
	if (bad)
		return internal_error(err, f, 0, "a source without its row");
	if (f->kind == KIND_STREET && f->st.rows_loaded) {
		/* a partition's own earlier release is replaced, not a holder of duplicates */
		int64_t except = 0;

		snprintf(key, sizeof(key), "source:%u", f->source);
		if (!f->multi_month && !f->multi_source &&
		    (r = store_partition_holder(run->s, PART_STREET, key, f->month, &except, err)))
			return r;
		for (size_t i = 0; i < f->nmc; i++) {
			int64_t moved = 0;

			if ((r = store_duplicates_held(run->s, import_id, f->mc[i].source, f->mc[i].month,
						       except, &moved, err)))
				return r;
			f->mc[i].rows -= moved;
			f->st.rows_loaded -= moved;
			f->st.rows_duplicate += moved;
			*held += moved;
		}
	}
	int extract = f->kind == KIND_AGENCY && run->agency->map->extract;

	/* coverage counts events (crimes, incidents), not outcome or search rows,
	 * nor an extract's rows (fields of police.uk crimes) */
	for (size_t i = 0; i < f->nmc && (f->kind == KIND_STREET || f->kind == KIND_AGENCY) &&
			   !extract;
	     i++)
		if (f->mc[i].source && f->mc[i].rows &&
		    (r = store_import_month_add(run->s, import_id, f->mc[i].source, f->mc[i].month,
						f->mc[i].rows, err)))
			return r;
	if (f->st.rows_loaded == 0)
		return 0;
	if (f->kind == KIND_AGENCY) {
		/* an agency file is its source's whole record of each month it
		 * covers (docs/methods.md, "Partition") */
		for (size_t i = 0; i < f->nmc; i++) {
			snprintf(key, sizeof(key), "source:%u", f->mc[i].source);
			if ((r = store_partition_claim(run->s, extract ? PART_EXTRACT : PART_AGENCY, key,
						       f->mc[i].month,
						       f->mc[i].source, import_id, maxr, diff, err)))
				return r;
		}
		return 0;
	}
	if (f->multi_month)
		return 0;
	if (f->kind == KIND_STREET || f->kind == KIND_OUTCOMES) {
		if (f->multi_source)
			return 0;
		snprintf(key, sizeof(key), "source:%u", f->source);
	} else if (f->kind == KIND_STOP) {
		/* no force column: the police.uk file name says whose it is */
		if (ingest_name_partition(f->in->name, f->month, key, sizeof(key)))
			return 0;
	} else {
		return 0;
	}
	return store_partition_claim(run->s,
				     f->kind == KIND_STREET	? PART_STREET
				     : f->kind == KIND_OUTCOMES ? PART_OUTCOMES
								: PART_STOP,
				     key, f->month, f->source, import_id, maxr, diff, err);
}

static void pfile_release(struct pfile *f)
{
	csv_free(&f->csv);
	if (f->sha)
		EVP_MD_CTX_free(f->sha);
	free(f->rowbuf);
	if (f->seen.sh)
		for (uint32_t i = 0; i < SEEN_SHARDS; i++)
			if (f->seen.sh[i].cap > SEEN_SMALL)
				free(f->seen.sh[i].slot);
	free(f->seen.sh);
	free(f->seen.flat);
	while (f->seen.block) {
		struct seen_block *b = f->seen.block;

		f->seen.block = b->next;
		free(b);
	}
	free(f->mc);
	for (int k = 0; k < DIM_LOCAL; k++) {
		dict_free(f->ld[k]);
		free(f->map[k]);
	}
	queue_release(&f->q);
}

/* A parse of in, not started yet; NULL when out of memory. */
static struct pfile *pfile_new(struct ingest_run *run, struct input *in)
{
	struct pfile *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->run = run;
	f->in = in;
	f->index = SIZE_MAX;
	f->line = 1;
	f->sha = EVP_MD_CTX_new();
	csv_init(&f->csv, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI | CSV_APPEND_NULL);
	csv_set_realloc_func(&f->csv, capped_realloc);
	csv_set_blk_size(&f->csv, 256);
	int ok = 1;

	for (int k = 0; k < DIM_LOCAL; k++)
		ok = ok && (f->ld[k] = dict_new()) != NULL;
	if (!ok || !f->sha || queue_init(&f->q) ||
	    !EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL)) {
		pfile_release(f);
		free(f);
		return NULL;
	}
	return f;
}

/* Hash the file from f->hash_from to its end into f->digest. */
static void *hash_main(void *arg)
{
	struct pfile *f = arg;
	char *buf = malloc(CHUNK);
	off_t at = f->hash_from;
	unsigned int dl = 0;

	prctl(PR_SET_NAME, "mb-hash");

	f->hashed = -1;
	f->hash_errno = ENOMEM;
	if (!buf)
		return NULL;
	for (;;) {
		if (atomic_load(&f->hash_stop)) {
			free(buf);
			return NULL;
		}
		ssize_t n = pread(f->hash_fd, buf, CHUNK, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->hash_errno = errno;
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(f->sha, buf, (size_t)n);
		at += n;
	}
	EVP_DigestFinal_ex(f->sha, f->digest, &dl);
	f->hashed = (int64_t)(at - f->hash_from);
	free(buf);
	return NULL;
}

static int pfile_start(struct pfile *f, struct mb_error *err)
{
	struct stat sb;

	/* a regular file not read yet through its stdio buffer: hash it beside */
	if (f->in->fp && fstat(fileno(f->in->fp), &sb) == 0 && S_ISREG(sb.st_mode)) {
		f->hash_fd = fileno(f->in->fp);
		f->hash_from = ftello(f->in->fp);
		atomic_store(&f->hash_stop, 0);
		if (f->hash_from >= 0 && pthread_create(&f->hth, NULL, hash_main, f) == 0)
			f->hashing = 1;
	}
	if (pthread_create(&f->th, NULL, parse_main, f) != 0) {
		if (f->hashing) {
			atomic_store(&f->hash_stop, 1);
			pthread_join(f->hth, NULL);
			f->hashing = 0;
		}
		return mb_err(err, MB_ENOMEM, "cannot start the parser thread");
	}
	f->started = 1;
	return 0;
}

/* Stop the parser (if running), join it and free everything. */
static void pfile_drop(struct pfile *f)
{
	if (!f)
		return;
	if (f->started) {
		atomic_store(&f->hash_stop, 1);
		queue_set(&f->q, &f->q.abort);
		for (struct batch *b; (b = queue_pop(&f->q));)
			queue_return(&f->q, b);
		pthread_join(f->th, NULL);
		f->started = 0;
	}
	if (f->hashing) {
		atomic_store(&f->hash_stop, 1);
		pthread_join(f->hth, NULL);
		f->hashing = 0;
	}
	pfile_release(f);
	free(f);
}

/* ---- the chain: parses started ahead --------------------------------------
 * Up to PARSE_MAX parses of the run's files run at once (the writer's file's
 * among them), and up to CHAIN_MAX files wait, parsed or parsing, ahead of the
 * writer's, in file order. A file may be parsed ahead when it is eligible (a
 * plain CSV file not seen before: a seen name and size goes the hashed fast
 * path of ingest_csv instead; police files only, an agency map keeps per-run
 * state). Parses start in file order: when the writer's own starts, when one
 * ends, and when the writer takes a file off the chain. A parse holds only ids
 * of its file's own (dims_translate), so nothing the writer does (a rollback,
 * an unchanged file, another process's commit) touches the parses ahead: the
 * chain is dropped only as the run ends. A failure to start only means no
 * parse-ahead. */
#define PARSE_MAX 2

/* Start the next files' parses while they may: call with chain_mu held. */
static void chain_extend_locked(struct ingest_run *run)
{
	while (!run->chain_stop && run->eligible && run->parsing < PARSE_MAX &&
	       run->chain_n < CHAIN_MAX) {
		size_t i = run->next_start;
		struct mb_error e = { 0 };

		if (i >= run->nfiles || !run->eligible[i])
			return;
		FILE *fp = fopen(run->files[i], "rb");

		if (!fp)
			return;
		struct pfile *f = pfile_new(run, NULL);

		if (!f) {
			fclose(fp);
			return;
		}
		f->own_in = (struct input){ .fp = fp, .name = run->files[i] };
		f->in = &f->own_in;
		f->index = i;
		run->parsing++;
		if (pfile_start(f, &e)) {
			run->parsing--;
			pfile_drop(f);
			fclose(fp);
			return;
		}
		run->chain[run->chain_n] = f;
		run->chain_fp[run->chain_n] = fp;
		run->chain_index[run->chain_n] = i;
		run->chain_n++;
		run->next_start = i + 1;
	}
}

/* Start the parse of f, the writer's file; the files after it may follow. */
static int parse_start(struct ingest_run *run, struct pfile *f, struct mb_error *err)
{
	if (f->index == SIZE_MAX)
		return pfile_start(f, err);
	pthread_mutex_lock(&run->chain_mu);
	run->parsing++;
	int r = pfile_start(f, err);

	if (r) {
		run->parsing--;
	} else {
		if (run->next_start <= f->index)
			run->next_start = f->index + 1;
		chain_extend_locked(run);
	}
	pthread_mutex_unlock(&run->chain_mu);
	return r;
}

/* A parse of one of the run's files ended (ok: others may start). */
static void chain_parsed(struct ingest_run *run, int ok)
{
	pthread_mutex_lock(&run->chain_mu);
	run->parsing--;
	if (ok)
		chain_extend_locked(run);
	pthread_mutex_unlock(&run->chain_mu);
}

size_t ingest_ahead_next(struct ingest_run *run)
{
	size_t i = SIZE_MAX;

	if (!run->files)
		return i;
	pthread_mutex_lock(&run->chain_mu);
	if (run->chain_n)
		i = run->chain_index[0];
	pthread_mutex_unlock(&run->chain_mu);
	return i;
}

void ingest_ahead_drop(struct ingest_run *run)
{
	if (!run->files)
		return;
	pthread_mutex_lock(&run->chain_mu);
	run->chain_stop = 1;
	pthread_mutex_unlock(&run->chain_mu);
	/* no parse starts now; the running ones stop at their next batch */
	for (int k = 0; k < run->chain_n; k++) {
		pfile_drop(run->chain[k]);
		fclose(run->chain_fp[k]);
	}
	pthread_mutex_lock(&run->chain_mu);
	run->chain_n = 0;
	pthread_mutex_unlock(&run->chain_mu);
}

static int ingest_file(struct ingest_run *run, struct pfile *f, const char *path,
		       struct mb_error *err);

/* The lsoa_name dictionary's key of (LSOA id, name) in run->wnorm, its length
 * in *len; NULL on out of memory. */
static const char *lsoa_name_key(struct ingest_run *run, uint32_t lsoa, const char *name,
				 size_t *len)
{
	size_t n = strlen(name);

	if (store_key_room(&run->wnorm, &run->wncap, n + 4))
		return NULL;
	memcpy(run->wnorm, &lsoa, 4);
	memcpy(run->wnorm + 4, name, n);
	*len = n + 4;
	return run->wnorm;
}

/* On the writer thread: map the file's ids of batch b (sources, categories,
 * outcomes, LSOAs) to the store's, finding each new row of the file in the
 * dictionaries or writing it (same transaction, before the events), then
 * rewrite the ids of the batch's records. The batch's dimension rows are
 * consumed. Global ids are so given in file order, as one parse at a time
 * would: the same files give the same store however the parses overlap. */
static int dims_translate(struct ingest_run *run, struct pfile *f, struct batch *b,
			  struct mb_error *err)
{
	struct dims *d = &run->dims;
	struct dict *dd[DIM_LOCAL] = { d->source, d->category, d->outcome, d->lsoa, d->lsoa_name };

	for (size_t i = 0; i < b->dims.n; i++) {
		struct rec_dim w = b->dims.v[i];
		int k = (int)w.kind, added, r;

		if (k >= DIM_LOCAL)
			return internal_error(err, f, 0, "a parser made a row of an unknown kind");
		/* the file's ids come dense, in order: id is the map's next entry */
		if (f->nmap[k] <= w.id) {
			size_t n = (size_t)w.id + 1, cap = n < 64 ? 64 : n * 2;
			uint32_t *nm = realloc(f->map[k], cap * sizeof(*nm));

			if (!nm)
				return mb_err(err, MB_ENOMEM, "out of memory");
			memset(nm + f->nmap[k], 0, (cap - f->nmap[k]) * sizeof(*nm));
			f->map[k] = nm;
			f->nmap[k] = cap;
		}
		const char *key = w.s1;
		size_t klen = strlen(w.s1);

		if (k == DIM_LSOA_NAME) {
			int bad = 0;

			if (!(w.ref = map_id(f, DIM_LSOA, w.ref, &bad)))
				return internal_error(err, f, 0, "an LSOA name came before its LSOA");
			if (!(key = lsoa_name_key(run, w.ref, w.s1, &klen)))
				return mb_err(err, MB_ENOMEM, "out of memory");
		}
		uint32_t id = dict_get_or_put(dd[k], key, klen, d->next[k], &added);

		if (!id)
			return mb_err(err, MB_ENOMEM, "out of memory");
		f->map[k][w.id] = id;
		if (!added)
			continue;
		d->next[k]++;
		w.id = id;
		if ((r = store_dim_write(run->s, &w, err)))
			return r;
		if (k == DIM_LSOA) {
			/* write_dim wrote its name (empty when named by code only)
			 * as an alias too: the dictionary knows it from now on */
			if (!(key = lsoa_name_key(run, id, w.s2 ? w.s2 : "", &klen)) ||
			    !dict_get_or_put(d->lsoa_name, key, klen, d->next[DIM_LSOA_NAME], &added))
				return mb_err(err, MB_ENOMEM, "out of memory");
			d->next[DIM_LSOA_NAME] += (uint32_t)added;
		}
	}
	b->dims.n = 0;
	/* every id a record carries came with a row in this batch or an earlier one */
	int bad = 0;
	uint32_t line = 0; /* of the first row at fault */

	for (size_t i = 0; i < b->events.n; i++) {
		struct rec_event *e = &b->events.v[i];

		e->source = map_id(f, DIM_SOURCE, e->source, &bad);
		e->falls = map_id(f, DIM_SOURCE, e->falls, &bad);
		e->category = map_id(f, DIM_CATEGORY, e->category, &bad);
		e->outcome = map_id(f, DIM_OUTCOME, e->outcome, &bad);
		e->loc_lsoa = map_id(f, DIM_LSOA, e->loc_lsoa, &bad);
		if (bad && !line)
			line = e->line;
	}
	for (size_t i = 0; i < b->outcomes.n; i++) {
		b->outcomes.v[i].outcome = map_id(f, DIM_OUTCOME, b->outcomes.v[i].outcome, &bad);
		if (bad && !line)
			line = b->outcomes.v[i].line;
	}
	if (bad)
		return internal_error(err, f, line, "a row's id has no dimension row");
	return 0;
}

/* On the writer thread: intern the snap points (and their streets) of batch
 * b's events, writing the new rows at once (same transaction, before the
 * events). The location and street dictionaries and their next ids belong to
 * this thread; the parser never touches them. */
/* One snap-point key of a batch: where it is in run->wkey, and its hash. */
struct loc_key {
	uint64_t h;   /* dict_hash() of the key */
	size_t off;   /* offset in run->wkey */
	uint32_t len; /* its length */
	uint32_t ev;  /* the event's index in the batch */
};

/* Intern the batch's snap points (and streets of new ones) in two passes: the
 * keys and their hashes first, then the lookups, each prefetching the slot of
 * the lookup LOC_AHEAD on and the key of the one LOC_AHEAD / 2 on. The
 * snap-point table is far larger than the caches: a lookup that waits for
 * memory twice (slot, then key) costs ~10x one found in cache. */
#define LOC_AHEAD 16

/* Room for one more row in *v (capacity *cap, n used); 0 or -1 on OOM. */
static int dim_room(struct rec_dim **v, size_t *cap, size_t n)
{
	return vec_reserve((void **)v, cap, n, sizeof(**v));
}

/* Write the batch's new streets and snap points gathered by resolve_locations. */
static int flush_new_dims(struct ingest_run *run, struct mb_error *err)
{
	int r = 0;

	/* the streets' names were kept as offsets (the buffer may have moved) */
	for (size_t i = 0; i < run->nst_n; i++)
		run->nst[i].s1 = run->nnames + (uintptr_t)run->nst[i].s1;
	if (run->nst_n)
		r = store_dims_write(run->s, DIM_STREET, run->nst, run->nst_n, err);
	if (!r && run->nloc_n)
		r = store_dims_write(run->s, DIM_LOCATION, run->nloc, run->nloc_n, err);
	return r;
}

static int resolve_locations(struct ingest_run *run, struct batch *b, struct mb_error *err)
{
	struct dims *d = &run->dims;
	size_t n = 0, need = 0;

	/* what an earlier batch gathered is written or, after a failure, dropped */
	run->nst_n = run->nloc_n = run->nnames_used = 0;
	for (size_t i = 0; i < b->events.n; i++)
		if (b->events.v[i].loc_pending)
			need += (size_t)b->events.v[i].loc_len + 20, n++;
	if (!n)
		return 0;
	if (n > run->lkcap) {
		struct loc_key *nk = realloc(run->lk, n * sizeof(*nk));

		if (!nk)
			return mb_err(err, MB_ENOMEM, "out of memory");
		run->lk = nk;
		run->lkcap = n;
	}
	if (store_key_room(&run->wkey, &run->wcap, need))
		return mb_err(err, MB_ENOMEM, "out of memory");
	n = 0;
	need = 0;
	for (size_t i = 0; i < b->events.n; i++) {
		const struct rec_event *e = &b->events.v[i];

		if (!e->loc_pending)
			continue;
		struct loc_key *k = &run->lk[n++];

		k->off = need;
		k->ev = (uint32_t)i;
		/* the key fits: the buffer was grown above */
		k->len = (uint32_t)store_location_key(run->wkey + need, run->wcap - need, e->loc_lsoa,
						      e->loc_has, e->lon, e->lat, e->loc_name,
						      e->loc_len);
		k->h = dict_hash(run->wkey + need, k->len);
		need += k->len;
	}
	for (size_t j = 0; j < n; j++) {
		if (j + LOC_AHEAD < n)
			dict_prefetch(d->location, run->lk[j + LOC_AHEAD].h);
		if (j + LOC_AHEAD / 2 < n)
			dict_prefetch_key(d->location, run->lk[j + LOC_AHEAD / 2].h);
		const struct loc_key *k = &run->lk[j];
		struct rec_event *e = &b->events.v[k->ev];

		e->loc_pending = 0;
		int added;
		uint32_t id = dict_get_or_put_h(d->location, run->wkey + k->off, k->len, k->h,
						d->next[DIM_LOCATION], &added);

		if (!id)
			return mb_err(err, MB_ENOMEM, "out of memory");
		e->location = id;
		if (!added)
			continue;
		d->next[DIM_LOCATION]++;
		uint32_t street = 0;

		if (e->loc_has && e->loc_len) {
			if (store_key_room(&run->wnorm, &run->wncap, (size_t)e->loc_len + 64))
				return mb_err(err, MB_ENOMEM, "out of memory");
			size_t nl = ingest_normalise_name(e->loc_name, e->loc_len, run->wnorm + 4,
							  run->wncap - 4);

			memcpy(run->wnorm, &e->loc_lsoa, 4);
			street = dict_get_or_put(d->street, run->wnorm, nl + 4, d->next[DIM_STREET], &added);
			if (!street)
				return mb_err(err, MB_ENOMEM, "out of memory");
			if (added) {
				size_t at = run->nnames_used;

				/* counted at once: a rollback after a failure below
				 * then forgets the entry (dims_undo) */
				d->next[DIM_STREET]++;
				if (dim_room(&run->nst, &run->nst_cap, run->nst_n) ||
				    store_key_room(&run->nnames, &run->nnames_cap, at + nl + 1))
					return mb_err(err, MB_ENOMEM, "out of memory");
				memcpy(run->nnames + at, run->wnorm + 4, nl);
				run->nnames[at + nl] = '\0';
				run->nnames_used = at + nl + 1;
				run->nst[run->nst_n++] = (struct rec_dim){ .kind = DIM_STREET,
									   .id = street,
									   .ref = e->loc_lsoa,
									   .s1 = OFF(at) };
			}
		}
		if (dim_room(&run->nloc, &run->nloc_cap, run->nloc_n))
			return mb_err(err, MB_ENOMEM, "out of memory");
		run->nloc[run->nloc_n++] = (struct rec_dim){ .kind = DIM_LOCATION, .id = id,
							     .ref = e->loc_lsoa, .ref2 = street,
							     .has_coord = e->loc_has, .lon = e->lon,
							     .lat = e->lat, .s1 = e->loc_name };
	}
	return flush_new_dims(run, err);
}

int ingest_one(struct ingest_run *run, struct input *in, const char *path,
	       struct mb_error *err)
{
	struct pfile *f = pfile_new(run, in);

	if (!f)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (run->files && run->ahead_ok && in->fp)
		f->index = run->cur;
	return ingest_file(run, f, path, err);
}

int ingest_ahead(struct ingest_run *run, struct mb_error *err)
{
	pthread_mutex_lock(&run->chain_mu);
	struct pfile *f = run->chain[0];
	FILE *fp = run->chain_fp[0];

	run->chain_n--;
	memmove(run->chain, run->chain + 1, (size_t)run->chain_n * sizeof(run->chain[0]));
	memmove(run->chain_fp, run->chain_fp + 1, (size_t)run->chain_n * sizeof(run->chain_fp[0]));
	memmove(run->chain_index, run->chain_index + 1,
		(size_t)run->chain_n * sizeof(run->chain_index[0]));
	/* room again: a chain that stopped full goes on */
	chain_extend_locked(run);
	pthread_mutex_unlock(&run->chain_mu);
	int r = ingest_file(run, f, f->own_in.name, err);

	fclose(fp);
	return r;
}

/* Import one input stream as one transaction; f is its parse (started ahead
 * or not yet started) and is freed here. Return 0, -MB_EDATA or -MB_EIO (file
 * skipped or rows rejected: reported) or another error (store failure). */
static int ingest_file(struct ingest_run *run, struct pfile *f, const char *path,
		       struct mb_error *err)
{
	struct input *in = f->in;
	int64_t import_id = 0, same = 0;
	int r = 0, shown = 0, in_tx = 0, input_failed = 0;
	struct partition_diff diff = { 0 };

	if ((r = store_begin(run->s, err)))
		goto cleanup;
	in_tx = 1;
	/* the write lock is ours: no one else commits until we do. Another
	 * process's commit since ours may have added rows: the dictionaries are
	 * read again (parses only hold ids of their file's own) */
	int64_t v;

	if ((r = store_data_version(run->s, &v, err)))
		goto cleanup;
	if ((v != run->data_version || run->dims_dirty) && (r = dims_reload(run, err)))
		goto cleanup;
	if ((r = store_import_create(run->s, path, "pending", run->source_name, &import_id, err)))
		goto cleanup;
	if (!f->started && (r = parse_start(run, f, err)))
		goto cleanup;
	for (;;) {
		double t0 = ingest_now();
		struct batch *b = queue_pop(&f->q);
		double t1 = ingest_now();

		run->t.wait += t1 - t0;
		if (!b)
			break;
		if (!r && !(r = dims_translate(run, f, b, err)) &&
		    !(r = resolve_locations(run, b, err))) {
			double t2 = ingest_now();

			r = store_batch_write(run->s, import_id, b, err);
			run->t.resolve += t2 - t1;
			run->t.write += ingest_now() - t2;
			show_rejects(run, in->name, f->kind, b, &shown);
		}
		progress_draw(run->progress, 0);
		queue_return(&f->q, b);
		if (r)
			queue_set(&f->q, &f->q.abort);
	}
	pthread_join(f->th, NULL);
	f->started = 0;
	hash_join(f);
	/* was this file imported before? */
	if (!r && !f->fatal && !f->oom)
		r = store_import_by_sha(run->s, f->digest, &same, err);
	if (r)
		goto cleanup;
	if (f->oom) {
		r = mb_err(err, MB_ENOMEM, "%s: out of memory", in->name);
		goto cleanup;
	}
	if (f->fatal) {
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s\n", MB_SHOWN(f->perr.msg));
		run->sum->files_skipped++;
		r = f->perr.code == MB_EIO ? -MB_EIO : -MB_EDATA;
		if (r == -MB_EIO)
			mb_err(err, MB_EIO, "%s", f->perr.msg);
		input_failed = 1;
		goto cleanup;
	}
	if (same) {
		store_rollback(run->s);
		in_tx = 0;
		dims_undo(run);
		run->sum->files_unchanged++;
		if (!run->o->quiet)
			fprintf(run->o->out, "%s: unchanged (same SHA-256 as import #%lld): nothing to do\n",
				MB_SHOWN(in->name), (long long)same);
		goto cleanup;
	}
	if (f->cut && !run->o->replace) {
		/* a cut download must not replace (or pass for) the whole file (issue 21 item 1) */
		progress_clear(run->progress);
		fprintf(run->o->msg,
			"microbeat: %s:%u:%u: the file ends mid-row (its last row is cut short and has"
			" no line end: a cut download?); not applied, the store is unchanged: import"
			" the complete file, or use --replace to load it as it is\n",
			in->name, f->rej_line, f->rej_col ? f->rej_col : 1);
		run->sum->files_skipped++;
		r = -MB_EDATA;
		input_failed = 1;
		goto cleanup;
	}
	int64_t held = 0;
	double tc = ingest_now();

	struct mb_error ferr = { 0 };

	if ((r = finish_file(run, f, import_id, &diff, &held, &ferr)) == -MB_EDATA) {
		/* refused: reported here, the run goes on */
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s: %s\n", in->name, ferr.msg);
		run->sum->files_skipped++;
		input_failed = 1;
		goto cleanup;
	}
	if (r)
		*err = ferr;
	int is_extract = f->kind == KIND_AGENCY && run->agency->map->extract;
	int64_t attached = 0;

	if (!r && is_extract && f->st.rows_loaded)
		r = store_extract_attached(run->s, import_id, &attached, err);
	if (r ||
	    (r = store_import_finish(run->s, import_id, &f->st, f->digest,
				     f->kind == KIND_AGENCY && run->agency->map->extract
					     ? "extract" : KIND_NAME[f->kind], err)) ||
	    (r = store_commit(run->s, err))) {
		goto cleanup;
	}
	in_tx = 0;
	run->t.commit += ingest_now() - tc;
	dims_commit(run);
	run->sum->files_loaded++;
	run->sum->total.rows_read += f->st.rows_read;
	run->sum->total.rows_loaded += f->st.rows_loaded;
	run->sum->total.rows_duplicate += f->st.rows_duplicate;
	run->sum->total.rows_rejected += f->st.rows_rejected;
	run->sum->total.blank_lines += f->st.blank_lines;
	run->sum->total.bytes += f->st.bytes;
	progress_clear(run->progress);
	int64_t listable = f->st.rows_rejected + (f->kind == KIND_OUTCOMES ? 0 : f->st.rows_duplicate);

	if (shown < listable)
		fprintf(run->o->msg,
			"microbeat: %s: %lld more rejected or duplicate rows not shown"
			" (microbeat rejects --import %lld)\n",
			MB_SHOWN(in->name), (long long)(listable - shown), (long long)import_id);
	if (!run->o->quiet) {
		fprintf(run->o->out,
			"%s: import #%lld, %s: %lld rows read = %lld loaded + %lld duplicate + %lld"
			" rejected",
			MB_SHOWN(in->name), (long long)import_id, KIND_NAME[f->kind], (long long)f->st.rows_read,
			(long long)f->st.rows_loaded, (long long)f->st.rows_duplicate,
			(long long)f->st.rows_rejected);
		if (f->st.blank_lines)
			fprintf(run->o->out, " (%lld blank lines skipped)", (long long)f->st.blank_lines);
		fputc('\n', run->o->out);
		if (held)
			fprintf(run->o->out,
				"%s: %lld rows counted as duplicate: their Crime IDs are already held for"
				" their month and force by other imports (microbeat rejects --import %lld)\n",
				in->name, (long long)held, (long long)import_id);
		if (is_extract && f->st.rows_loaded)
			fprintf(run->o->out,
				"%s: force extract: %lld rows attach to police.uk crimes held (same Crime"
				" ID and month), %lld match none held yet (kept: they attach when that"
				" crime is loaded)\n",
				MB_SHOWN(in->name), (long long)attached,
				(long long)(f->st.rows_loaded - attached));
		if (diff.replaced_import && is_extract) {
			fprintf(run->o->out,
				"%s: replaces %lld month(s) of this extract held by earlier imports (import"
				" #%lld first): %lld rows added, %lld removed, %lld changed, %lld unchanged"
				" by Crime ID\n",
				MB_SHOWN(in->name), (long long)diff.months, (long long)diff.replaced_import,
				(long long)diff.added, (long long)diff.removed, (long long)diff.changed,
				(long long)diff.unchanged);
		} else if (diff.replaced_import && f->kind == KIND_AGENCY) {
			fprintf(run->o->out,
				"%s: replaces %lld month(s) of this source held by earlier imports (import #%lld"
				" first): %lld events added, %lld removed, %lld changed, %lld unchanged by"
				" id; rows without id: %lld before, %lld now\n",
				in->name, (long long)diff.months, (long long)diff.replaced_import,
				(long long)diff.added, (long long)diff.removed, (long long)diff.changed,
				(long long)diff.unchanged, (long long)diff.noid_before,
				(long long)diff.noid_after);
		} else if (diff.replaced_import) {
			fprintf(run->o->out,
				"%s: replaces import #%lld for this partition: %lld crimes added, %lld"
				" removed, %lld changed, %lld unchanged",
				MB_SHOWN(in->name), (long long)diff.replaced_import, (long long)diff.added,
				(long long)diff.removed, (long long)diff.changed, (long long)diff.unchanged);
			if (f->kind == KIND_STREET)
				fprintf(run->o->out, "; rows without Crime ID: %lld before, %lld now",
					(long long)diff.noid_before, (long long)diff.noid_after);
			fputc('\n', run->o->out);
		}
	}
	/* duplicates are recognised, not lost: they do not fail the run */
	if (f->st.rows_rejected)
		run->any_rejects = 1;
	r = 0;
cleanup:
	if (in_tx) {
		/* parses ahead go on: they hold no id of the store's */
		pfile_drop(f);
		f = NULL;
		store_rollback(run->s);
		dims_undo(run);
	}
	pfile_drop(f);
	/* -MB_EIO and -MB_EDATA mean "this input was skipped, go on"; the store
	 * failing to write (disk full, I/O error) stops the run as a store error */
	if (r == -MB_EIO && !input_failed)
		r = -MB_EDB;
	return r;
}
