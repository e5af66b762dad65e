/* ingest_parse — one file's parse on a thread of its own: reading (plain file
 * or zip entry), libcsv and its callbacks, physical lines and recovery from
 * malformed rows, the SHA-256 of the bytes (on a hashing thread for a plain
 * file), and the chain of parses started ahead of the writer. */
#include <archive.h>
#include <csv.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_internal.h"
#include "microbeat/dict.h"
#include "microbeat/progress.h"

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
		/* a row is kept up to 16 fields' worth (1 MiB; the buffer's
		 * capacity is a power of 2, so it never passes that) */
		if (f->rowlen + len + 1 > 16u * FIELD_MAX) {
			f->overflow = 1;
			f->nf++;
			return;
		}
		if (GROW(f->rowbuf, f->rowlen + len + 1, f->rowcap)) {
			f->oom = 1;
			f->nf++;
			return;
		}
	}
	f->foff[f->nf] = f->rowlen;
	f->flen[f->nf] = len;
	if (len)
		memcpy(f->rowbuf + f->rowlen, p, len);
	f->rowbuf[f->rowlen + len] = '\0';
	f->rowlen += len + 1;
	f->nf++;
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
		ingest_row(f);
	row_clear(f);
	/* a row ended by LF ends its own line: the LF of a CR LF comes after the CR
	 * has ended the row, as an empty record (a CR before this row's bytes, a
	 * blank CR-only line, is not this LF's pair) */
	f->after_cr_row = 0;
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

static void chain_parsed(struct ingest_run *run, int ok);

void hash_join(struct pfile *f)
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

/* The parser thread's body: read, hash, parse; hand batches over. */
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

void pfile_release(struct pfile *f)
{
	csv_free(&f->csv);
	if (f->sha)
		EVP_MD_CTX_free(f->sha);
	free(f->rowbuf);
	seen_release(&f->seen);
	free(f->mc);
	for (int k = 0; k < DIM_LOCAL; k++) {
		dict_free(f->ld[k]);
		free(f->map[k]);
	}
	queue_release(&f->q);
}

struct pfile *pfile_new(struct ingest_run *run, struct input *in)
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

void pfile_drop(struct pfile *f)
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

int parse_start(struct ingest_run *run, struct pfile *f, struct mb_error *err)
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

struct pfile *chain_take(struct ingest_run *run, FILE **fp)
{
	pthread_mutex_lock(&run->chain_mu);
	struct pfile *f = run->chain[0];

	*fp = run->chain_fp[0];
	run->chain_n--;
	memmove(run->chain, run->chain + 1, (size_t)run->chain_n * sizeof(run->chain[0]));
	memmove(run->chain_fp, run->chain_fp + 1, (size_t)run->chain_n * sizeof(run->chain_fp[0]));
	memmove(run->chain_index, run->chain_index + 1,
		(size_t)run->chain_n * sizeof(run->chain_index[0]));
	/* room again: a chain that stopped full goes on */
	chain_extend_locked(run);
	pthread_mutex_unlock(&run->chain_mu);
	return f;
}
