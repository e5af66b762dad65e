/*
 * store_blocks — the event table's column blocks (docs/internals.md, "Column
 * blocks"): per import and month, the columns the analyses read (event id,
 * category, snap point, source, flags) as one BLOB of small integers, written
 * in the import's transaction and replaced with its rows. The event table
 * stays the record (sqlite3, DB Browser and QGIS read it); the blocks are a
 * copy the slice loader reads in a few tens of milliseconds instead of
 * stepping through millions of rows. `microbeat check` rebuilds them in
 * memory and compares.
 *
 * A block's BLOB: an 8-byte header (version 1, then the byte width of each
 * column: ids, category, snap point, source, flags: 0, 1, 2 or 4, and 8 for
 * ids spread over more than 4G; 0 for ids means
 * consecutive from first_id, 0 for the others means all zero), then each
 * column as little-endian unsigned integers of its width, n values each;
 * ids are stored as their distance from first_id.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/record.h"
#include "microbeat/util.h"
#include "store_internal.h"

#define BLOCK_VERSION 1
#define BLOCK_HEAD 8
#define BLOCK_COLS 5 /* id, category, snap point, source, flags */

/* One import's events of one month, decoded, growing as rows are read. */
struct bcols {
	int32_t month;     /* the block's month */
	size_t n, cap;     /* rows, capacity */
	int64_t *id;       /* event ids, ascending */
	uint32_t *col[BLOCK_COLS - 1]; /* category, snap point (0 = none), source, flags */
};

/* The months of one import being built (few: one for a police.uk file). */
struct bset {
	struct bcols *b;   /* one per month, in order of first appearance */
	size_t n, cap;     /* entries */
};

static void bset_free(struct bset *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		free(bs->b[i].id);
		for (int c = 0; c < BLOCK_COLS - 1; c++)
			free(bs->b[i].col[c]);
	}
	free(bs->b);
	memset(bs, 0, sizeof(*bs));
}

/* Append one event to the block of its month. 0 or -1 (out of memory). */
static int bset_add(struct bset *bs, int64_t id, int32_t month, const uint32_t v[BLOCK_COLS - 1])
{
	struct bcols *b = NULL;

	for (size_t i = bs->n; i-- > 0;)
		if (bs->b[i].month == month) {
			b = &bs->b[i];
			break;
		}
	if (!b) {
		if (GROW(bs->b, bs->n + 1, bs->cap))
			return -1;
		b = &bs->b[bs->n++];
		memset(b, 0, sizeof(*b));
		b->month = month;
	}
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 1024;
		int ok = 1;

		REGROW(b->id, ncap, ok);
		for (int c = 0; c < BLOCK_COLS - 1; c++)
			REGROW(b->col[c], ncap, ok);
		if (!ok)
			return -1;
		b->cap = ncap;
	}
	b->id[b->n] = id;
	for (int c = 0; c < BLOCK_COLS - 1; c++)
		b->col[c][b->n] = v[c];
	b->n++;
	return 0;
}

/* Bytes needed for v: 0, 1, 2, 4 or 8. */
static int width_of(uint64_t v)
{
	return v == 0 ? 0 : v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;
}

static void put_le(uint8_t *p, uint64_t v, int w)
{
	for (int i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int w)
{
	uint64_t v = 0;

	for (int i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Encode b into a malloc'd BLOB (*out, *len). 0 or -1 (out of memory). */
static int block_encode(const struct bcols *b, uint8_t **out, size_t *len)
{
	int w[BLOCK_COLS] = { 0 };
	int consecutive = 1;
	uint64_t max[BLOCK_COLS] = { 0 };

	for (size_t i = 0; i < b->n; i++) {
		uint64_t d = (uint64_t)(b->id[i] - b->id[0]);

		consecutive &= d == i;
		if (d > max[0])
			max[0] = d;
		for (int c = 0; c < BLOCK_COLS - 1; c++)
			if (b->col[c][i] > max[c + 1])
				max[c + 1] = b->col[c][i];
	}
	for (int c = 0; c < BLOCK_COLS; c++)
		w[c] = width_of(max[c]);
	if (!consecutive && !w[0])
		w[0] = 1;
	if (consecutive)
		w[0] = 0;
	size_t row = 0;

	for (int c = 0; c < BLOCK_COLS; c++)
		row += (size_t)w[c];
	*len = BLOCK_HEAD + row * b->n;
	if (!(*out = calloc(1, *len ? *len : 1)))
		return -1;
	uint8_t *p = *out;

	p[0] = BLOCK_VERSION;
	for (int c = 0; c < BLOCK_COLS; c++)
		p[1 + c] = (uint8_t)w[c];
	p += BLOCK_HEAD;
	for (size_t i = 0; i < b->n && w[0]; i++, p += w[0])
		put_le(p, (uint64_t)(b->id[i] - b->id[0]), w[0]);
	for (int c = 0; c < BLOCK_COLS - 1; c++)
		for (size_t i = 0; i < b->n && w[c + 1]; i++, p += w[c + 1])
			put_le(p, b->col[c][i], w[c + 1]);
	return 0;
}

/* Read every event of import_id (its id range) into bs, by month. */
static int read_import(struct store *s, int64_t import_id, struct bset *bs, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT e.id, e.month, e.category_id, coalesce(e.location_id, 0),"
			       " e.source_id, e.flags FROM import i JOIN event e ON e.id BETWEEN"
			       " i.first_event AND i.last_event AND e.import_id = i.id"
			       " WHERE i.id = ?1 ORDER BY e.id",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t v[BLOCK_COLS - 1];

		for (int c = 0; c < BLOCK_COLS - 1; c++)
			v[c] = (uint32_t)sqlite3_column_int64(st, 2 + c);
		if (bset_add(bs, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), v)) {
			r = mb_err(err, MB_ENOMEM, "out of memory building column blocks");
			break;
		}
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading events for the column blocks");
	sqlite3_finalize(st);
	return r;
}

/* The current import's events gathered as written (struct store's blk). */
struct blk_acc {
	int64_t import_id; /* whose */
	struct bset bs;    /* its events by month, in id order */
};

void store_blocks_forget(struct store *s)
{
	if (s->blk) {
		bset_free(&s->blk->bs);
		free(s->blk);
		s->blk = NULL;
	}
}

void store_blocks_gather(struct store *s, int64_t import_id, int64_t first,
			 const struct rec_event *ev, size_t n)
{
	if (s->blk && s->blk->import_id != import_id)
		store_blocks_forget(s);
	if (!s->blk) {
		/* an import's first batch only: a later one finding none was dropped */
		if (first != s->first_event || !(s->blk = calloc(1, sizeof(*s->blk))))
			return;
		s->blk->import_id = import_id;
	}
	for (size_t i = 0; i < n; i++) {
		const uint32_t v[BLOCK_COLS - 1] = { ev[i].category, ev[i].location, ev[i].source,
						     ev[i].flags };

		if (bset_add(&s->blk->bs, first + (int64_t)i, ev[i].month, v)) {
			store_blocks_forget(s);
			return;
		}
	}
}

int store_blocks_build(struct store *s, int64_t import_id, struct mb_error *err)
{
	struct bset bs = { 0 };
	sqlite3_stmt *del = NULL, *ins = NULL;
	uint8_t *blob = NULL;
	size_t len;
	int r = 0;

	/* what the writer gathered, else the rows read back */
	if (s->blk && s->blk->import_id == import_id) {
		bs = s->blk->bs;
		free(s->blk);
		s->blk = NULL;
	} else if ((r = read_import(s, import_id, &bs, err))) {
		goto cleanup;
	}
	if ((r = store_prepare(s, &del, "DELETE FROM event_block WHERE import_id = ?1", err)) ||
	    (r = store_prepare(s, &ins,
			       "INSERT INTO event_block(import_id, month, first_id, last_id, n, data)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
			       err)))
		goto cleanup;
	sqlite3_bind_int64(del, 1, import_id);
	if (sqlite3_step(del) != SQLITE_DONE) {
		r = store_db_err(s, err, "replacing the column blocks");
		goto cleanup;
	}
	for (size_t i = 0; i < bs.n; i++) {
		const struct bcols *b = &bs.b[i];

		if (block_encode(b, &blob, &len)) {
			r = mb_err(err, MB_ENOMEM, "out of memory building column blocks");
			goto cleanup;
		}
		sqlite3_bind_int64(ins, 1, import_id);
		sqlite3_bind_int(ins, 2, b->month);
		sqlite3_bind_int64(ins, 3, b->id[0]);
		sqlite3_bind_int64(ins, 4, b->id[b->n - 1]);
		sqlite3_bind_int64(ins, 5, (sqlite3_int64)b->n);
		sqlite3_bind_blob64(ins, 6, blob, len, SQLITE_STATIC);
		if ((r = store_step_reset(s, ins, err)))
			goto cleanup;
		free(blob);
		blob = NULL;
	}
cleanup:
	free(blob);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	bset_free(&bs);
	return r;
}

int store_blocks_build_all(struct store *s, int64_t *imports, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*imports = 0;
	if ((r = store_exec(s, "DELETE FROM event_block", err)) ||
	    (r = store_prepare(s, &st,
			       "SELECT id FROM import WHERE first_event IS NOT NULL ORDER BY id", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = store_blocks_build(s, sqlite3_column_int64(st, 0), err)))
			break;
		(*imports)++;
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "listing the imports");
	sqlite3_finalize(st);
	return r;
}

/* ---- reading ---------------------------------------------------------------- */

/* Rows handed to a scan's fn at a time from a block alone: 28 bytes a row
 * decoded, 0.9 MB, in the cache while fn reads them. */
#define SCAN_CHUNK 32768

/* The column widths of blob (len bytes, n rows) into w. 0, or -1 when the
 * BLOB is not a block of n rows. */
static int block_widths(const uint8_t *blob, size_t len, size_t n, int w[BLOCK_COLS])
{
	size_t row = 0;

	if (len < BLOCK_HEAD || blob[0] != BLOCK_VERSION)
		return -1;
	for (int c = 0; c < BLOCK_COLS; c++) {
		w[c] = blob[1 + c];
		if (w[c] != 0 && w[c] != 1 && w[c] != 2 && w[c] != 4 && (w[c] != 8 || c))
			return -1;
		row += (size_t)w[c];
	}
	return len == BLOCK_HEAD + row * n ? 0 : -1;
}

/* Decode rows lo..hi of blob (n rows of widths w, block_widths; ids from
 * first) into the arrays of out at offset at, with month. */
static void block_decode_rows(const uint8_t *blob, size_t n, const int w[BLOCK_COLS],
			      int64_t first, int32_t month, size_t lo, size_t hi,
			      struct store_evrows *out, size_t at)
{
	const uint8_t *col = blob + BLOCK_HEAD, *p = col + lo * (size_t)w[0];
	uint32_t *dst[BLOCK_COLS - 1] = { out->category + at, out->location + at, out->source + at,
					  out->flags + at };

	for (size_t i = lo; i < hi; i++, p += w[0])
		out->id[at + i - lo] = first + (int64_t)(w[0] ? get_le(p, w[0]) : i);
	for (int c = 0; c < BLOCK_COLS - 1; c++) {
		col += n * (size_t)w[c];
		p = col + lo * (size_t)w[c + 1];
		for (size_t i = 0; i < hi - lo; i++, p += w[c + 1])
			dst[c][i] = (uint32_t)get_le(p, w[c + 1]);
	}
	for (size_t i = 0; i < hi - lo; i++)
		out->month[at + i] = month;
}

/* Make the arrays of rows hold n. 0 or -1. */
static int rows_reserve(struct store_evrows *rows, size_t n, size_t *cap)
{
	if (n <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 4096;
	int ok = 1;

	while (ncap < n)
		ncap *= 2;
	REGROW(rows->id, ncap, ok);
	REGROW(rows->month, ncap, ok);
	REGROW(rows->category, ncap, ok);
	REGROW(rows->location, ncap, ok);
	REGROW(rows->source, ncap, ok);
	REGROW(rows->flags, ncap, ok);
	if (!ok)
		return -1;
	*cap = ncap;
	return 0;
}

/* One block of the scan, as listed. */
struct bref {
	int64_t first, last; /* id range */
	size_t n;            /* rows */
	int32_t month;       /* month */
	int64_t rowid;       /* event_block row, to read its BLOB */
};

static int bref_cmp(const void *a, const void *b)
{
	const struct bref *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first ? 1 : 0;
}

/* The next rows, up to max, of a group of k overlapping blocks decoded one
 * after another into in (run lengths len[j]; pos[j]: run j's next row, from
 * its start on), in ascending id order, into out from its start. Returns the
 * rows put. */
static size_t merge_group(const struct store_evrows *in, const size_t *len, size_t k,
			  size_t *pos, struct store_evrows *out, size_t max)
{
	size_t i = 0;

	for (; i < max; i++) {
		size_t best = k, at = 0;

		for (size_t j = 0, start = 0; j < k; start += len[j], j++) {
			if (pos[j] >= start + len[j])
				continue;
			if (best == k || in->id[pos[j]] < in->id[at]) {
				best = j;
				at = pos[j];
			}
		}
		if (best == k)
			break;
		out->id[i] = in->id[at];
		out->month[i] = in->month[at];
		out->category[i] = in->category[at];
		out->location[i] = in->location[at];
		out->source[i] = in->source[at];
		out->flags[i] = in->flags[at];
		pos[best]++;
	}
	out->n = i;
	return i;
}

static void rows_free(struct store_evrows *rows)
{
	free(rows->id);
	free(rows->month);
	free(rows->category);
	free(rows->location);
	free(rows->source);
	free(rows->flags);
	memset(rows, 0, sizeof(*rows));
}

/* List the blocks of months from..to, in ascending order of first id. */
static int list_blocks(struct store *s, int32_t from, int32_t to, struct bref **out, size_t *n,
		       struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT rowid, first_id, last_id, n, month FROM event_block"
			       " WHERE month BETWEEN ?1 AND ?2",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(*out, *n + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		struct bref *b = &(*out)[(*n)++];

		int64_t rows = sqlite3_column_int64(st, 3);

		b->rowid = sqlite3_column_int64(st, 0);
		b->first = sqlite3_column_int64(st, 1);
		b->last = sqlite3_column_int64(st, 2);
		b->n = (size_t)rows;
		b->month = sqlite3_column_int(st, 4);
		/* a count no block can hold (the ids span last - first + 1) */
		if (rows < 1 || b->last < b->first || rows - 1 > b->last - b->first) {
			r = mb_err(err, MB_EDB, "the store's column block of month %d (first event"
				   " %lld) is damaged: run 'microbeat check --repair'", b->month,
				   (long long)b->first);
			break;
		}
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "listing the column blocks");
	sqlite3_finalize(st);
	if (!r && *n)
		qsort(*out, *n, sizeof(**out), bref_cmp);
	return r;
}

/* The reading side of a scan: the blocks of the months and where it is in
 * them. bnext hands over the rows in order, a run at a time. */
struct bsrc {
	struct store *s;
	struct bref *bl;        /* the blocks, by first id */
	size_t nb;              /* how many */
	size_t g;               /* the next group's first block */
	size_t lo;              /* a block alone: its next row */
	int w[BLOCK_COLS];      /* a block alone: its column widths */
	sqlite3_blob *blob;     /* open on the last block read */
	uint8_t *buf;           /* a block's bytes */
	size_t bufcap;
	struct store_evrows in; /* a group's blocks decoded one after another */
	size_t incap, *len, *pos;
	size_t ge;              /* a group being merged: its end (0: none) */
	size_t gleft;           /* ... its rows not yet handed over */
};

/* Read block j's bytes into src->buf and its widths into w. 0 or an error. */
static int bread(struct bsrc *src, size_t j, int w[BLOCK_COLS], struct mb_error *err)
{
	const struct bref *b = &src->bl[j];
	int bytes;

	if (src->blob ? sqlite3_blob_reopen(src->blob, b->rowid)
		      : sqlite3_blob_open(src->s->db, "main", "event_block", "data", b->rowid, 0,
					  &src->blob))
		return store_db_err(src->s, err, "reading a column block");
	bytes = sqlite3_blob_bytes(src->blob);
	if ((size_t)bytes > src->bufcap) {
		uint8_t *nb = realloc(src->buf, (size_t)bytes);

		if (!nb)
			return mb_err(err, MB_ENOMEM, "out of memory reading column blocks");
		src->buf = nb;
		src->bufcap = (size_t)bytes;
	}
	if (sqlite3_blob_read(src->blob, src->buf, bytes, 0) != SQLITE_OK)
		return store_db_err(src->s, err, "reading a column block");
	if (block_widths(src->buf, (size_t)bytes, b->n, w))
		return mb_err(err, MB_EDB, "the store's column block of month %d (first event %lld)"
			      " is damaged: run 'microbeat check --repair'", b->month,
			      (long long)b->first);
	return 0;
}

/* The next run of rows into out (capacity *cap, grown as needed), at most
 * SCAN_CHUNK rows, decoded or merged into arrays still in the cache when
 * they are filed: a block alone decoded a run at a time; a group of blocks
 * whose id ranges overlap (one import's interleaved months) decoded whole
 * into src->in, then merged into id order a run at a time. out->n = 0 at the
 * end. 0 or an error. */
static int bnext(struct bsrc *src, struct store_evrows *out, size_t *cap, struct mb_error *err)
{
	size_t g = src->g, e = g + 1, total;
	int64_t last;
	int r;

	out->n = 0;
	if (src->ge) { /* the group under way */
		if (rows_reserve(out, src->gleft < SCAN_CHUNK ? src->gleft : SCAN_CHUNK, cap))
			return mb_err(err, MB_ENOMEM, "out of memory reading column blocks");
		src->gleft -= merge_group(&src->in, src->len, src->ge - g, src->pos, out, SCAN_CHUNK);
		if (!src->gleft) {
			src->g = src->ge;
			src->ge = 0;
		}
		return 0;
	}
	if (g >= src->nb)
		return 0;
	total = src->bl[g].n;
	last = src->bl[g].last;
	while (e < src->nb && src->bl[e].first <= last) {
		if (src->bl[e].last > last)
			last = src->bl[e].last;
		total += src->bl[e].n;
		e++;
	}
	if (e - g == 1) {
		size_t hi = total - src->lo > SCAN_CHUNK ? src->lo + SCAN_CHUNK : total;

		if (src->lo == 0 && (r = bread(src, g, src->w, err)))
			return r;
		if (rows_reserve(out, hi - src->lo, cap))
			return mb_err(err, MB_ENOMEM, "out of memory reading column blocks");
		block_decode_rows(src->buf, total, src->w, src->bl[g].first, src->bl[g].month,
				  src->lo, hi, out, 0);
		out->n = hi - src->lo;
		src->lo = hi;
		if (hi == total) {
			src->g = e;
			src->lo = 0;
		}
		return 0;
	}
	if (rows_reserve(&src->in, total, &src->incap))
		return mb_err(err, MB_ENOMEM, "out of memory reading column blocks");
	for (size_t j = g, at = 0; j < e; j++) {
		int w[BLOCK_COLS];

		if ((r = bread(src, j, w, err)))
			return r;
		block_decode_rows(src->buf, src->bl[j].n, w, src->bl[j].first, src->bl[j].month, 0,
				  src->bl[j].n, &src->in, at);
		src->len[j - g] = src->bl[j].n;
		src->pos[j - g] = at;
		at += src->bl[j].n;
	}
	src->in.n = total;
	src->ge = e;
	src->gleft = total;
	return bnext(src, out, cap, err);
}

/* Reading ahead: a thread of its own reads and decodes the next run while
 * the caller's fn files the last, two runs in turn. */
struct bpipe {
	struct bsrc *src;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_evrows run[2];
	size_t cap[2];
	int full[2];            /* 1 = read, not yet filed */
	int end;                /* the reader is done (or failed: rc) */
	int stop;               /* fn failed: read no more */
	int rc;                 /* the reader's error */
	struct mb_error err;
};

static void *bpipe_main(void *arg)
{
	struct bpipe *p = arg;
	int rc = 0;

	for (int k = 0;; k ^= 1) {
		pthread_mutex_lock(&p->mu);
		while (p->full[k] && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		int stop = p->stop;

		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		rc = bnext(p->src, &p->run[k], &p->cap[k], &p->err);
		if (rc || !p->run[k].n)
			break;
		pthread_mutex_lock(&p->mu);
		p->full[k] = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->rc = rc;
	p->end = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The scan with reading ahead; *started 0 (nothing read) when no thread
 * can be had. */
static int scan_ahead(struct bsrc *src, int (*fn)(void *ctx, const struct store_evrows *rows),
		      void *ctx, int *started, struct mb_error *err)
{
	struct bpipe p = { .src = src };
	pthread_t th;
	int r = 0;

	*started = 0;
	if (pthread_mutex_init(&p.mu, NULL))
		return 0;
	if (pthread_cond_init(&p.cv, NULL)) {
		pthread_mutex_destroy(&p.mu);
		return 0;
	}
	if (pthread_create(&th, NULL, bpipe_main, &p)) {
		pthread_cond_destroy(&p.cv);
		pthread_mutex_destroy(&p.mu);
		return 0;
	}
	*started = 1;
	for (int k = 0;; k ^= 1) {
		pthread_mutex_lock(&p.mu);
		while (!p.full[k] && !p.end)
			pthread_cond_wait(&p.cv, &p.mu);
		int full = p.full[k];

		pthread_mutex_unlock(&p.mu);
		if (!full)
			break; /* the reader ended: every run read was filed */
		r = fn(ctx, &p.run[k]);
		pthread_mutex_lock(&p.mu);
		p.full[k] = 0;
		p.stop = r != 0;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
		if (r)
			break;
	}
	pthread_join(th, NULL);
	if (!r && p.rc) {
		*err = p.err;
		r = p.rc;
	}
	for (int k = 0; k < 2; k++)
		rows_free(&p.run[k]);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return r;
}

int store_blocks_scan(struct store *s, int32_t from, int32_t to, int ahead,
		      int (*fn)(void *ctx, const struct store_evrows *rows), void *ctx,
		      struct mb_error *err)
{
	struct bsrc src = { .s = s };
	struct store_evrows run = { 0 };
	size_t cap = 0;
	int r, started = 0;

	if ((r = list_blocks(s, from, to, &src.bl, &src.nb, err)))
		goto cleanup;
	if (!(src.len = calloc(src.nb + 1, sizeof(*src.len))) ||
	    !(src.pos = calloc(src.nb + 1, sizeof(*src.pos)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* ahead when there is more than a run to read */
	if (ahead && (src.nb > 1 || (src.nb == 1 && src.bl[0].n > SCAN_CHUNK)) &&
	    ((r = scan_ahead(&src, fn, ctx, &started, err)) || started))
		goto cleanup;
	while (!(r = bnext(&src, &run, &cap, err)) && run.n && !(r = fn(ctx, &run)))
		;
cleanup:
	if (src.blob)
		sqlite3_blob_close(src.blob);
	free(src.buf);
	free(src.bl);
	free(src.len);
	free(src.pos);
	rows_free(&src.in);
	rows_free(&run);
	return r;
}

/* ---- checking --------------------------------------------------------------- */

/* A stored block of one import, as read for the check. */
struct sblock {
	int32_t month;       /* month */
	int64_t first, last; /* id range */
	int64_t n;           /* rows */
	uint8_t *data;       /* a copy of the BLOB */
	size_t len;          /* its bytes */
};

/* Read the stored blocks of import id in month order into *out (*n). */
static int stored_blocks(struct store *s, sqlite3_stmt *blk, int64_t id, struct sblock **out,
			 size_t *n, struct mb_error *err)
{
	size_t cap = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(blk, 1, id);
	while ((rc = sqlite3_step(blk)) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(blk, 4);
		struct sblock *b;

		if (GROW(*out, *n + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		b = &(*out)[(*n)++];
		memset(b, 0, sizeof(*b));
		b->month = sqlite3_column_int(blk, 0);
		b->first = sqlite3_column_int64(blk, 1);
		b->last = sqlite3_column_int64(blk, 2);
		b->n = sqlite3_column_int64(blk, 3);
		if (!(b->data = malloc(len ? len : 1))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		if (len)
			memcpy(b->data, sqlite3_column_blob(blk, 4), len);
		b->len = len;
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the column blocks");
	sqlite3_reset(blk);
	return r;
}

static void sblocks_free(struct sblock *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].data);
	free(b);
}

static int bcols_month_cmp(const void *a, const void *b)
{
	const struct bcols *x = a, *y = b;

	return (x->month > y->month) - (x->month < y->month);
}

/* Compare the blocks import id should have (bs, month order) with the stored
 * ones (sb); count and name each difference. */
static int compare_import(int64_t id, const struct bset *bs, const struct sblock *sb, size_t nsb,
			  int64_t *checked, int64_t *bad, FILE *msg)
{
	size_t i = 0, j = 0;

	while (i < bs->n || j < nsb) {
		const char *why = NULL;
		int32_t month;

		if (j == nsb || (i < bs->n && bs->b[i].month < sb[j].month)) {
			month = bs->b[i++].month;
			why = "the month's events have no column block";
		} else if (i == bs->n || sb[j].month < bs->b[i].month) {
			month = sb[j++].month;
			why = "a column block holds events the event table does not";
		} else {
			const struct bcols *b = &bs->b[i++];
			const struct sblock *x = &sb[j++];
			uint8_t *want = NULL;
			size_t len = 0;

			month = b->month;
			if (block_encode(b, &want, &len))
				return -1;
			if (x->first != b->id[0] || x->last != b->id[b->n - 1] ||
			    x->n != (int64_t)b->n || x->len != len || memcmp(x->data, want, len))
				why = "the column block differs from the event rows";
			free(want);
		}
		(*checked)++;
		if (why) {
			(*bad)++;
			fprintf(msg, "microbeat: check: import #%lld, %04d-%02d: %s\n", (long long)id,
				2000 + month / 12, month % 12 + 1, why);
		}
	}
	return 0;
}

int store_blocks_check(struct store *s, int64_t *checked, int64_t *bad, FILE *msg,
		       struct mb_error *err)
{
	sqlite3_stmt *imp = NULL, *blk = NULL;
	struct bset bs = { 0 };
	struct sblock *sb = NULL;
	size_t nsb = 0;
	int64_t orphans = 0;
	int r, rc;

	*checked = *bad = 0;
	/* a store of schema 2 read as it is: no blocks to compare */
	if ((r = store_has_table(s, "event_block", &rc, err)) || !rc) {
		*checked = r ? 0 : -1;
		return r;
	}
	if ((r = store_prepare(s, &imp, "SELECT id FROM import ORDER BY id", err)) ||
	    (r = store_prepare(s, &blk,
			       "SELECT month, first_id, last_id, n, data FROM event_block"
			       " WHERE import_id = ?1 ORDER BY month",
			       err)))
		goto cleanup;
	while ((rc = sqlite3_step(imp)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(imp, 0);

		bset_free(&bs);
		sblocks_free(sb, nsb);
		sb = NULL;
		nsb = 0;
		if ((r = read_import(s, id, &bs, err)) ||
		    (r = stored_blocks(s, blk, id, &sb, &nsb, err)))
			goto cleanup;
		if (bs.n > 1)
			qsort(bs.b, bs.n, sizeof(*bs.b), bcols_month_cmp);
		if (compare_import(id, &bs, sb, nsb, checked, bad, msg)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "listing the imports");
		goto cleanup;
	}
	/* blocks of imports that no longer exist */
	sqlite3_finalize(imp);
	imp = NULL;
	if ((r = store_prepare(s, &imp,
			       "SELECT count(*) FROM event_block WHERE import_id NOT IN"
			       " (SELECT id FROM import)",
			       err)))
		goto cleanup;
	if (sqlite3_step(imp) == SQLITE_ROW)
		orphans = sqlite3_column_int64(imp, 0);
	if (orphans) {
		*bad += orphans;
		fprintf(msg, "microbeat: check: %lld column blocks belong to no import\n",
			(long long)orphans);
	}
cleanup:
	sblocks_free(sb, nsb);
	sqlite3_finalize(imp);
	sqlite3_finalize(blk);
	bset_free(&bs);
	return r;
}

/* ---- the rest of the check -------------------------------------------------- */

int store_quick_check(struct store *s, FILE *msg, int64_t *bad, struct mb_error *err)
{
	static const char *const refs[][2] = {
		{ "SELECT count(*) FROM event WHERE category_id NOT IN (SELECT id FROM category)",
		  "events name a category the store does not hold" },
		{ "SELECT count(*) FROM event WHERE source_id NOT IN (SELECT id FROM source)",
		  "events name a source the store does not hold" },
		{ "SELECT count(*) FROM event WHERE location_id IS NOT NULL AND location_id NOT IN"
		  " (SELECT id FROM location)", "events name a snap point the store does not hold" },
		{ "SELECT count(*) FROM event WHERE import_id NOT IN (SELECT id FROM import)",
		  "events belong to no import" },
	};
	sqlite3_stmt *st = NULL;
	int r, rc;

	*bad = 0;
	if ((r = store_prepare(s, &st, "PRAGMA quick_check", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && strcmp(t, "ok")) {
			(*bad)++;
			fprintf(msg, "microbeat: check: SQLite: %s\n", t);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "checking the store");
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
		int64_t n = 0;

		if ((r = store_prepare(s, &st, refs[i][0], err)))
			return r;
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_ROW)
			return store_db_err(s, err, "checking the store");
		if (n) {
			(*bad)++;
			fprintf(msg, "microbeat: check: %lld %s\n", (long long)n, refs[i][1]);
		}
	}
	return 0;
}

int store_blocks_rows(struct store *s, int32_t from, int32_t to, size_t *n, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*n = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT coalesce(sum(n), 0) FROM event_block WHERE month BETWEEN ?1 AND ?2",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(st, 0);
	else
		r = store_db_err(s, err, "counting the column blocks' events");
	sqlite3_finalize(st);
	return r;
}
