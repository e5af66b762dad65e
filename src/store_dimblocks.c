/* store_dimblocks — the dimension blocks: the street and snap-point columns
 * the analyses read, as BLOBs in dim_block (schema 4), so that a slice reads
 * ~30 MB of BLOBs instead of decoding 2 M rows of street and location.
 *
 * A block copies the rows of one table with ids first_id..last_id; the
 * blocks of a table, in id order, cover 1..max(id) without a gap, or they
 * are not used. Writers keep them true: an import appends a block of the
 * rows it added (store_dimblocks_extend, in the file's transaction), a
 * gazetteer load drops the street blocks and builds them again. microbeat's
 * own connections run without triggers (store.c); any other program that
 * writes street or location fires the schema's triggers, which delete that
 * table's blocks, so the slice reads the rows until a microbeat writer
 * builds them again. 'microbeat check' compares every block with its rows.
 *
 * Encoding (little-endian whatever the host): a 12-byte header "MBD1",
 * kind (u32), n = last_id - first_id + 1 (u32), then per id
 *   location (24 bytes): LSOA id u32 (ABSENT: no row with that id; 0 NULL),
 *     street id u32 (0 NULL), lon and lat as IEEE-754 bits u64 (NULL: NaN);
 *   street (21 bytes): LSOA id u32 (ABSENT, 0 NULL), gazetteer u8, lon and
 *     lat u64 as above;
 * and for streets then n NUL-terminated names and n NUL-terminated area
 * codes (NULL and absent rows: ""). The BLOB ends there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define DB_MAGIC "MBD1"
#define DB_HEAD 12
#define ABSENT UINT32_MAX
/* ids a block read back from the rows holds at most (~1.5 MB of snap points,
 * ~3 MB of streets): what the rows give is encoded a block at a time */
#define CHUNK 65536

static const char *const TABLE[DIMB_KINDS] = { [DIMB_LOCATION] = "location",
					       [DIMB_STREET] = "street" };
static const size_t RECSZ[DIMB_KINDS] = { [DIMB_LOCATION] = 24, [DIMB_STREET] = 21 };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void putd(uint8_t *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, 8);
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static double getd(const uint8_t *p)
{
	uint64_t v = 0;
	double d;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	memcpy(&d, &v, 8);
	return isnan(d) ? NAN : d;
}

/* A growing byte buffer. */
struct bbuf {
	uint8_t *p;
	size_t n, cap;
};

static int bbuf_put(struct bbuf *b, const void *v, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;

		while (cap < b->n + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);

		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
	return 0;
}

/* The rows of each table with ids ?1..?2 as the slice reads them (NULL ids
 * 0, NULL coordinates NaN, a NULL area code ""), in id order. */
static const char *const ROWS_SQL[DIMB_KINDS] = {
	[DIMB_LOCATION] = "SELECT id, coalesce(lsoa_id, 0), coalesce(street_id, 0), lon, lat"
			  " FROM location WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
	[DIMB_STREET] = "SELECT id, coalesce(lsoa_id, 0), gazetteer, lon, lat, name_norm,"
			" coalesce(area_code, '') FROM street WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
};

/* Hand the rows of kind with ids first..last to row(ctx, row), read from the
 * table. 0, -MB_EDB, or row's non-zero return as it is. */
static int rows_between(struct store *s, enum dimb_kind kind, int64_t first, int64_t last,
			int (*row)(void *, const struct dimb_row *), void *ctx,
			struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, &st, ROWS_SQL[kind], err)))
		return r;
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dimb_row d = {
			.id = sqlite3_column_int64(st, 0),
			.lsoa = (uint32_t)sqlite3_column_int64(st, 1),
			.lon = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN
									 : sqlite3_column_double(st, 3),
			.lat = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN
									 : sqlite3_column_double(st, 4),
		};

		if (kind == DIMB_LOCATION) {
			d.street = (uint32_t)sqlite3_column_int64(st, 2);
		} else {
			d.gazetteer = sqlite3_column_int(st, 2);
			d.name = (const char *)sqlite3_column_text(st, 5);
			d.area = (const char *)sqlite3_column_text(st, 6);
		}
		if ((r = row(ctx, &d)))
			break;
	}
	/* a read cut short would leave a block, or the caller's dimensions, partial */
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the streets and snap points");
	sqlite3_finalize(st);
	return r;
}

/* The fixed record of d at p (NULL d: an id with no row). */
static void put_record(uint8_t *p, enum dimb_kind kind, const struct dimb_row *d)
{
	memset(p, 0, RECSZ[kind]);
	if (!d) {
		put32(p, ABSENT);
		return;
	}
	put32(p, d->lsoa);
	if (kind == DIMB_LOCATION) {
		put32(p + 4, d->street);
		putd(p + 8, d->lon);
		putd(p + 16, d->lat);
	} else {
		p[4] = (uint8_t)d->gazetteer;
		putd(p + 5, d->lon);
		putd(p + 13, d->lat);
	}
}

/* A block being encoded from rows (enc_row). */
struct enc {
	enum dimb_kind kind;
	uint8_t *b;                /* header and records */
	int64_t first, next;       /* its first id; the next id to encode */
	struct bbuf names, areas;  /* the streets' strings, in id order */
};

/* Records of ids next..upto-1, which have no row ("" "" for a street). */
static int enc_absent_to(struct enc *e, int64_t upto)
{
	for (; e->next < upto; e->next++) {
		put_record(e->b + DB_HEAD + (size_t)(e->next - e->first) * RECSZ[e->kind], e->kind,
			   NULL);
		if (e->kind == DIMB_STREET &&
		    (bbuf_put(&e->names, "", 1) || bbuf_put(&e->areas, "", 1)))
			return 1;
	}
	return 0;
}

static int enc_row(void *ctx, const struct dimb_row *d)
{
	struct enc *e = ctx;
	const char *nm = d->name ? d->name : "", *ac = d->area ? d->area : "";

	if (enc_absent_to(e, d->id))
		return 1;
	put_record(e->b + DB_HEAD + (size_t)(d->id - e->first) * RECSZ[e->kind], e->kind, d);
	if (e->kind == DIMB_STREET && (bbuf_put(&e->names, nm, strlen(nm) + 1) ||
				       bbuf_put(&e->areas, ac, strlen(ac) + 1)))
		return 1;
	e->next = d->id + 1;
	return 0;
}

/* Encode the rows of kind with ids first..last into *out (*len bytes). */
static int encode(struct store *s, enum dimb_kind kind, int64_t first, int64_t last, uint8_t **out,
		  size_t *len, struct mb_error *err)
{
	size_t n = (size_t)(last - first + 1), rs = RECSZ[kind];
	struct enc e = { .kind = kind, .b = malloc(DB_HEAD + n * rs), .first = first,
			 .next = first };
	int r;

	*out = NULL;
	if (!e.b)
		return mb_err(err, MB_ENOMEM, "out of memory building dimension blocks");
	memcpy(e.b, DB_MAGIC, 4);
	put32(e.b + 4, (uint32_t)kind);
	put32(e.b + 8, (uint32_t)n);
	r = rows_between(s, kind, first, last, enc_row, &e, err);
	if (!r && enc_absent_to(&e, last + 1))
		r = 1;
	*len = DB_HEAD + n * rs;
	if (!r && kind == DIMB_STREET) {
		uint8_t *nb = realloc(e.b, *len + e.names.n + e.areas.n);

		if (!nb) {
			r = 1;
		} else {
			e.b = nb;
			memcpy(e.b + *len, e.names.p, e.names.n);
			memcpy(e.b + *len + e.names.n, e.areas.p, e.areas.n);
			*len += e.names.n + e.areas.n;
		}
	}
	free(e.names.p);
	free(e.areas.p);
	if (r) {
		free(e.b);
		return r == 1 ? mb_err(err, MB_ENOMEM, "out of memory building dimension blocks") : r;
	}
	*out = e.b;
	return 0;
}

/* The streets and snap points the current transaction wrote through
 * store_dims_write, in the order written (store_internal.h: struct store's
 * dacc): the import's new rows, so that its block needs no read back. */
struct dim_cols {
	uint32_t *id, *lsoa, *street;
	double *lon, *lat;
	size_t n, cap;
};

struct dim_acc {
	struct dim_cols k[DIMB_KINDS];
	struct bbuf names; /* the streets' names, NUL-terminated, in order */
	int broken;        /* out of memory while gathering: read the rows back */
};

void store_dimblocks_forget(struct store *s)
{
	struct dim_acc *a = s->dacc;

	if (!a)
		return;
	for (int k = 0; k < DIMB_KINDS; k++) {
		free(a->k[k].id);
		free(a->k[k].lsoa);
		free(a->k[k].street);
		free(a->k[k].lon);
		free(a->k[k].lat);
	}
	free(a->names.p);
	free(a);
	s->dacc = NULL;
}

/* What SQLite gives back for a REAL written: NULL as NaN, and -0.0 as 0.0
 * (an integral REAL is stored as an integer). */
static double as_stored(int has, double v)
{
	return !has || isnan(v) ? NAN : v + 0.0;
}

void store_dimblocks_gather(struct store *s, int street, const struct rec_dim *d, size_t n)
{
	enum dimb_kind kind = street ? DIMB_STREET : DIMB_LOCATION;
	struct dim_acc *a = s->dacc;

	if (!a && !(a = s->dacc = calloc(1, sizeof(*a))))
		return; /* nothing gathered: the rows are read back */
	if (a->broken)
		return;
	struct dim_cols *c = &a->k[kind];

	if (c->n + n > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;

		while (cap < c->n + n)
			cap *= 2;
		int ok = 1;

		REGROW(c->id, cap, ok);
		REGROW(c->lsoa, cap, ok);
		REGROW(c->street, cap, ok);
		REGROW(c->lon, cap, ok);
		REGROW(c->lat, cap, ok);
		if (!ok) {
			a->broken = 1;
			return;
		}
		c->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = c->n + i;

		c->id[j] = d[i].id;
		c->lsoa[j] = d[i].ref;
		c->street[j] = street ? 0 : d[i].ref2;
		c->lon[j] = as_stored(!street && d[i].has_coord, d[i].lon);
		c->lat[j] = as_stored(!street && d[i].has_coord, d[i].lat);
		if (street && bbuf_put(&a->names, d[i].s1, strlen(d[i].s1) + 1)) {
			a->broken = 1;
			return;
		}
	}
	c->n += n;
}

/* The block of kind for ids first..last from what was gathered, when that is
 * exactly those ids in order (else NULL: the rows are read back). An
 * import's new streets have no gazetteer mark, point or area code. */
static uint8_t *encode_gathered(const struct dim_acc *a, enum dimb_kind kind, int64_t first,
				int64_t last, size_t *len)
{
	size_t n = (size_t)(last - first + 1), rs = RECSZ[kind], nl = 0;

	if (!a || a->broken || a->k[kind].n != n)
		return NULL;
	const struct dim_cols *c = &a->k[kind];

	for (size_t i = 0; i < n; i++)
		if (c->id[i] != (uint64_t)first + i)
			return NULL;
	if (kind == DIMB_STREET)
		nl = a->names.n;
	*len = DB_HEAD + n * rs + nl + (kind == DIMB_STREET ? n : 0);
	uint8_t *b = malloc(*len);

	if (!b)
		return NULL;
	memcpy(b, DB_MAGIC, 4);
	put32(b + 4, (uint32_t)kind);
	put32(b + 8, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		struct dimb_row d = { .lsoa = c->lsoa[i], .street = c->street[i], .lon = c->lon[i],
				      .lat = c->lat[i] };

		put_record(b + DB_HEAD + i * rs, kind, &d);
	}
	if (kind == DIMB_STREET) {
		memcpy(b + DB_HEAD + n * rs, a->names.p, nl);
		memset(b + DB_HEAD + n * rs + nl, 0, n); /* n empty area codes */
	}
	return b;
}

/* max(id) of table (0 when it is empty). */
static int max_id(struct store *s, enum dimb_kind kind, int64_t *max, struct mb_error *err)
{
	size_t n = 1;
	int r = store_max_id(s, kind == DIMB_STREET ? "SELECT max(id) FROM street"
						    : "SELECT max(id) FROM location", &n, err);

	*max = (int64_t)n - 1;
	return r;
}

/* How far the blocks of kind cover the ids without a gap from 1 (*covered,
 * 0 when they do not: none, a gap, an overlap) and how many there are. */
static int coverage(struct store *s, enum dimb_kind kind, int64_t *covered, int64_t *nblocks,
		    struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, ok = 1;

	*covered = 0;
	*nblocks = 0;
	if ((r = store_prepare(s, &st, "SELECT first_id, last_id FROM dim_block WHERE kind = ?1"
				       " ORDER BY first_id", err)))
		return r;
	sqlite3_bind_int(st, 1, (int)kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t f = sqlite3_column_int64(st, 0), l = sqlite3_column_int64(st, 1);

		if (f != *covered + 1 || l < f)
			ok = 0;
		*covered = l;
		(*nblocks)++;
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the dimension blocks");
	sqlite3_finalize(st);
	if (!ok)
		*covered = 0;
	return r;
}

static int drop(struct store *s, enum dimb_kind kind, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st, "DELETE FROM dim_block WHERE kind = ?1", err)))
		return r;
	sqlite3_bind_int(st, 1, (int)kind);
	r = sqlite3_step(st) == SQLITE_DONE ? 0
					    : store_db_err(s, err, "dropping the dimension blocks");
	sqlite3_finalize(st);
	return r;
}

int store_dimblocks_drop(struct store *s, enum dimb_kind kind, struct mb_error *err)
{
	return drop(s, kind, err);
}

int store_dimblocks_extend(struct store *s, struct mb_error *err)
{
	for (int k = 0; k < DIMB_KINDS; k++) {
		int64_t covered, nb, max;
		uint8_t *blob = NULL;
		size_t len;
		sqlite3_stmt *ins = NULL;
		int r;

		if ((r = max_id(s, (enum dimb_kind)k, &max, err)) ||
		    (r = coverage(s, (enum dimb_kind)k, &covered, &nb, err)))
			return r;
		/* blocks that do not reach from 1 without a gap, or past the rows:
		 * built again */
		if ((nb && !covered) || covered > max) {
			if ((r = drop(s, (enum dimb_kind)k, err)))
				return r;
			covered = 0;
		}
		if (max <= covered)
			continue;
		if ((r = store_prepare(s, &ins, "INSERT INTO dim_block(kind, first_id, last_id, data)"
					      " VALUES(?1, ?2, ?3, ?4)", err)))
			return r;
		/* the rows this transaction wrote, as gathered (one block), else
		 * read back a block of at most CHUNK ids at a time */
		for (int64_t first = covered + 1, last; !r && first <= max; first = last + 1) {
			last = max;
			if (!(blob = encode_gathered(s->dacc, (enum dimb_kind)k, first, max, &len))) {
				last = max - first >= CHUNK ? first + CHUNK - 1 : max;
				if ((r = encode(s, (enum dimb_kind)k, first, last, &blob, &len, err)))
					break;
			}
			sqlite3_bind_int(ins, 1, k);
			sqlite3_bind_int64(ins, 2, first);
			sqlite3_bind_int64(ins, 3, last);
			sqlite3_bind_blob64(ins, 4, blob, len, SQLITE_STATIC);
			r = store_step_reset(s, ins, err);
			free(blob);
			blob = NULL;
		}
		sqlite3_finalize(ins);
		if (r)
			return r;
	}
	return 0;
}

int store_dimblocks_build_all(struct store *s, struct mb_error *err)
{
	int r = store_exec(s, "DELETE FROM dim_block", err);

	return r ? r : store_dimblocks_extend(s, err);
}

/* Decode one block of kind for ids first..last (len bytes) and hand each row
 * present to row. 0, -1 when the BLOB is not such a block, or row's code. */
static int decode(enum dimb_kind kind, const uint8_t *b, size_t len, int64_t first, int64_t last,
		  int (*row)(void *, const struct dimb_row *), void *ctx)
{
	size_t n = (size_t)(last - first + 1), rs = RECSZ[kind];
	const char *names = NULL, *areas = NULL, *end = (const char *)b + len;

	if (len < DB_HEAD || memcmp(b, DB_MAGIC, 4) != 0 || get32(b + 4) != (uint32_t)kind ||
	    get32(b + 8) != n || (len - DB_HEAD) / rs < n)
		return -1;
	if (kind == DIMB_STREET) {
		/* n names then n area codes, each NUL-terminated, to the end */
		const char *p = (const char *)b + DB_HEAD + n * rs;

		names = p;
		for (size_t i = 0; i < 2 * n; i++) {
			const char *z = memchr(p, 0, (size_t)(end - p));

			if (!z)
				return -1;
			if (i == n - 1)
				areas = z + 1;
			p = z + 1;
		}
		if (p != end)
			return -1;
	} else if (len != DB_HEAD + n * rs) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = b + DB_HEAD + i * rs;
		uint32_t lsoa = get32(p);
		struct dimb_row d = { .id = first + (int64_t)i, .lsoa = lsoa };
		int r;

		if (kind == DIMB_STREET) {
			d.name = names;
			d.area = areas;
			names += strlen(names) + 1;
			areas += strlen(areas) + 1;
		}
		if (lsoa == ABSENT)
			continue;
		if (kind == DIMB_LOCATION) {
			d.street = get32(p + 4);
			d.lon = getd(p + 8);
			d.lat = getd(p + 16);
		} else {
			d.gazetteer = p[4];
			d.lon = getd(p + 5);
			d.lat = getd(p + 13);
		}
		if ((r = row(ctx, &d)))
			return r;
	}
	return 0;
}

/* Are the three triggers that delete kind's blocks in the schema as
 * microbeat made them (*held)? Without them another program's write to the
 * table would leave its blocks stale, so they are not read. */
static int triggers_held(struct store *s, enum dimb_kind kind, int *held, struct mb_error *err)
{
	static const char *const SQL[DIMB_KINDS][3] = {
		[DIMB_LOCATION] = { DIMB_TRIGGER("location_dim_i", "INSERT", "location", "0"),
				    DIMB_TRIGGER("location_dim_u", "UPDATE", "location", "0"),
				    DIMB_TRIGGER("location_dim_d", "DELETE", "location", "0") },
		[DIMB_STREET] = { DIMB_TRIGGER("street_dim_i", "INSERT", "street", "1"),
				  DIMB_TRIGGER("street_dim_u", "UPDATE", "street", "1"),
				  DIMB_TRIGGER("street_dim_d", "DELETE", "street", "1") },
	};
	sqlite3_stmt *st = NULL;
	int r, rc;

	*held = 0;
	if ((r = store_prepare(s, &st, "SELECT count(DISTINCT sql) FROM main.sqlite_schema"
				       " WHERE type = 'trigger' AND sql IN (?1, ?2, ?3)", err)))
		return r;
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(st, i + 1, SQL[kind][i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*held = sqlite3_column_int(st, 0) == 3;
	else
		r = store_db_err(s, err, "reading the store's schema");
	sqlite3_finalize(st);
	return r;
}

int store_dimblocks_read(struct store *s, enum dimb_kind kind, int64_t max_id,
			 int (*row)(void *, const struct dimb_row *), void *ctx, int *used,
			 struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t covered, nb;
	int r, rc, held = 0;

	*used = 0;
	if ((r = triggers_held(s, kind, &held, err)) || !held ||
	    (r = coverage(s, kind, &covered, &nb, err)))
		return r;
	/* blocks that cover every row, or none at all: the rows are read */
	if (!nb || covered != max_id)
		return 0;
	if ((r = store_prepare(s, &st, "SELECT first_id, last_id, data FROM dim_block"
				       " WHERE kind = ?1 ORDER BY first_id", err)))
		return r;
	sqlite3_bind_int(st, 1, (int)kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t f = sqlite3_column_int64(st, 0), l = sqlite3_column_int64(st, 1);
		const uint8_t *b = sqlite3_column_blob(st, 2);
		int d = decode(kind, b, (size_t)sqlite3_column_bytes(st, 2), f, l, row, ctx);

		if (d == -1) {
			r = mb_err(err, MB_EDB, "store '%s': the %s block of ids %lld..%lld is damaged"
				   " ('microbeat check --repair' rebuilds it)", s->path,
				   TABLE[kind], (long long)f, (long long)l);
			break;
		}
		if (d) {
			r = d;
			break;
		}
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the dimension blocks");
	sqlite3_finalize(st);
	if (!r)
		*used = 1;
	return r;
}

int store_dim_rows(struct store *s, enum dimb_kind kind,
		   int (*row)(void *, const struct dimb_row *), void *ctx, struct mb_error *err)
{
	int64_t max;
	int r, blocks = 0, used = 0;

	if ((r = store_has_table(s, "dim_block", &blocks, err)) ||
	    (blocks && ((r = max_id(s, kind, &max, err)) ||
			(r = store_dimblocks_read(s, kind, max, row, ctx, &used, err)))) || used)
		return r;
	return rows_between(s, kind, 1, INT64_MAX, row, ctx, err);
}

int store_dimblocks_check(struct store *s, int64_t *checked, int64_t *bad, FILE *msg,
			  struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t max[DIMB_KINDS];
	int r, rc;

	*checked = 0;
	*bad = 0;
	/* a store of schema 3 or older read as it is: no blocks to compare */
	if ((r = store_has_table(s, "dim_block", &rc, err)) || !rc) {
		*checked = r ? 0 : -1;
		return r;
	}
	for (int k = 0; k < DIMB_KINDS; k++)
		if ((r = max_id(s, (enum dimb_kind)k, &max[k], err)))
			return r;
	if ((r = store_prepare(s, &st, "SELECT kind, first_id, last_id, data FROM dim_block"
				       " ORDER BY kind, first_id", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 0);
		int64_t f = sqlite3_column_int64(st, 1), l = sqlite3_column_int64(st, 2);
		const void *b = sqlite3_column_blob(st, 3);
		size_t blen = (size_t)sqlite3_column_bytes(st, 3), len;
		uint8_t *want = NULL;

		(*checked)++;
		if (kind < 0 || kind >= DIMB_KINDS || f < 1 || l < f || l > max[kind]) {
			fprintf(msg, "microbeat: check: dimension block of kind %d, ids %lld..%lld:"
				" not a block of rows the store holds\n", kind, (long long)f,
				(long long)l);
			(*bad)++;
			continue;
		}
		if ((r = encode(s, (enum dimb_kind)kind, f, l, &want, &len, err)))
			break;
		if (len != blen || memcmp(want, b, len) != 0) {
			fprintf(msg, "microbeat: check: the %s block of ids %lld..%lld differs from"
				" the %s rows\n", TABLE[kind], (long long)f, (long long)l,
				TABLE[kind]);
			(*bad)++;
		}
		free(want);
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the dimension blocks");
	sqlite3_finalize(st);
	return r;
}
