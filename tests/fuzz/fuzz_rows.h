/*
 * fuzz_rows.h — the in-memory row harnesses' driver and checks (fuzz_police_rows.c,
 * fuzz_agency_rows.c): one input parsed by the import's own parser (parse_main: BOM,
 * libcsv, recovery, header recognition, the row validators) from an fmemopen() stream,
 * on the fuzzer's thread, into batches that nothing writes: no store, no SQLite.
 *
 * Include after src/ingest_parse.c (the harnesses compile the parser's src/ingest_*.c
 * into themselves to reach their static functions; scripts/fuzz.sh then leaves those
 * objects out of their link).
 *
 * The checks (a failed one is a __builtin_trap(), which libFuzzer reports as a crash):
 *   - counts: rows read = loaded + rejected + duplicate; the batches hold exactly
 *     loaded records (events, outcomes or stops, of the file's kind only), rejected
 *     rejects and duplicate duplicates; a refused file (fatal) has read no row, and its
 *     message is "fuzz.csv:LINE:COL: ..."; bytes counted = the input's size;
 *   - the batch arena holds nothing but the records' strings (their lengths add up to
 *     the bytes used), so every string's length is known, NULs inside included;
 *   - every text of a loaded row (dictionary names, LSOA codes and names, locations,
 *     stop-and-search fields, agency ids) is valid UTF-8 by an independent decoder;
 *     dictionary ids are dense from 1 in the order created and every id an event or
 *     outcome names exists; LSOA codes are a capital letter and 8 digits; names that
 *     must not be blank are not;
 *   - months in 2000-01 .. 2099-12; a located row's coordinates finite and inside the
 *     UK box (INGEST_LON_MIN..., ingest_internal.h); an unlocated event flagged so;
 *   - no two loaded street events share a Crime ID, no two outcome rows a (Crime ID,
 *     outcome) pair, no two agency events an id (the duplicate set's promise);
 *   - lines: every record's line is at least 1 and at most the lines read;
 *   - no loaded text holds a NUL byte (issue 21 item 3);
 *   - a loaded stop-and-search row's date is a calendar date and its coordinate texts
 *     are plain decimals; an agency row's British National Grid point lies inside the
 *     UK box too (item 6);
 *   - events are on line 2 or later, in file order (CR-only files, item 11).
 * These last three were known bugs, checked only in known mode until fixed; their
 * reproducers are now seeds corpus/fuzz_{police,agency}_rows/regress-issue21-*.
 * A fourth, found by the parser campaign (a row ended by a lone CR, then a blank CR-only
 * line, then a row ended by LF: the LF was taken for a CR LF's second half, so every
 * later line was one too low) is fixed in ingest_parse.c on_row_end(); its reproducers
 * are seeds corpus/fuzz_{police,agency}_rows/regress-cr-blank-lf-*.
 */
#ifndef MB_FUZZ_ROWS_H
#define MB_FUZZ_ROWS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Inputs larger than this are skipped: the parse runs on the fuzzer's thread, which
 * drains the queue only at the end, so at most QUEUE_SLOTS - 1 batches may fill. A
 * batch is handed over at BATCH_EVENTS records (a record takes at least 2 input
 * bytes: 16,385 records at most here) or BATCH_ARENA bytes of text (under 20 bytes
 * of text a byte of input: ~640 KB at most). fuzz.sh's -max_len is 16,384. */
#define ROWS_MAX_INPUT 32768

#define ROWS_CHECK(c)                                                                      \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "fuzz_rows: check failed: %s (%s:%d)\n", #c, __FILE__, \
				__LINE__);                                                 \
			__builtin_trap();                                                  \
		}                                                                          \
	} while (0)

/* Valid UTF-8 (shortest form, no surrogates, at most U+10FFFF), written apart from
 * ingest_rows.c's utf8_ok() to check it. */
static FUZZ_UNUSED int ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], c1 = i + 1 < n ? s[i + 1] : 0;
		size_t k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
		    (c == 0xF4 && c1 > 0x8F))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* A capital letter and 8 digits (an LSOA / Data Zone code). */
static FUZZ_UNUSED int ref_lsoa_code(const char *p, size_t n)
{
	if (n != 9 || p[0] < 'A' || p[0] > 'Z')
		return 0;
	for (size_t i = 1; i < 9; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Inside the UK box the import promises for a located row. */
static int in_uk(double lon, double lat)
{
	return isfinite(lon) && isfinite(lat) && lon >= INGEST_LON_MIN && lon <= INGEST_LON_MAX &&
	       lat >= INGEST_LAT_MIN && lat <= INGEST_LAT_MAX;
}

/* Days of month m (1-12) of year y. */
static int days_in(int y, int m)
{
	static const int D[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : D[m - 1];
}

/* Is p[0..n) a plain decimal: sign, digits, point, digits (an exponent allowed)? */
static int plain_decimal(const char *p, size_t n)
{
	size_t digits = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			digits++;
		else if (!strchr("+-.eE", p[i]) || !p[i])
			return 0;
	}
	return digits > 0;
}

/* The strings of a batch's arena, sorted by address, for their lengths. */
struct rows_strs {
	const char **v; /* string starts */
	size_t n, cap;  /* how many, capacity */
};

static int ptr_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return x < y ? -1 : x > y;
}

static void strs_add(struct rows_strs *s, const char *p)
{
	if (!p)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = p;
}

/* Sort the strings of batch b and check that they tile its arena exactly: each
 * starts where the one before ended (after its terminating NUL). */
static void strs_seal(struct rows_strs *s, const struct batch *b)
{
	const char *at = b->arena;

	if (!at) { /* no string yet: no arena */
		ROWS_CHECK(s->n == 0 && b->arena_used == 0);
		return;
	}
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), ptr_cmp);
	for (size_t i = 0; i < s->n; i++) {
		ROWS_CHECK(s->v[i] == at);
		at = i + 1 < s->n ? s->v[i + 1] : b->arena + b->arena_used;
		ROWS_CHECK(at > s->v[i] && at[-1] == '\0');
	}
	ROWS_CHECK(at == b->arena + b->arena_used);
}

/* Length of string p of the batch (as stored: NULs inside count). */
static size_t strs_len(const struct rows_strs *s, const struct batch *b, const char *p)
{
	const char **e = s->n ? bsearch(&p, s->v, s->n, sizeof(*s->v), ptr_cmp) : NULL;

	ROWS_CHECK(e != NULL);
	const char *end = (size_t)(e - s->v) + 1 < s->n ? e[1] : b->arena + b->arena_used;

	return (size_t)(end - p) - 1;
}

/* A text of a loaded row: valid UTF-8, with no NUL inside (issue 21 item 3). */
static void text_ok(const struct rows_strs *s, const struct batch *b, const char *p, int nonblank)
{
	size_t n = strs_len(s, b, p);

	ROWS_CHECK(ref_utf8((const unsigned char *)p, n));
	ROWS_CHECK(!nonblank || n > 0);
	ROWS_CHECK(memchr(p, 0, n) == NULL);
}

struct rows_key {
	const void *p; /* key bytes */
	size_t n;      /* length */
};

static int key_cmp(const void *a, const void *b)
{
	const struct rows_key *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* No two keys equal. */
static void keys_distinct(struct rows_key *k, size_t n)
{
	if (n < 2)
		return;
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 1; i < n; i++)
		ROWS_CHECK(key_cmp(&k[i - 1], &k[i]) != 0);
}

/* The dictionary rows of all batches, by kind and id (ids are dense from 1). */
struct rows_dims {
	const struct rec_dim *v[DIM_LOCAL][ROWS_MAX_INPUT]; /* [kind][id - 1] */
	uint32_t n[DIM_LOCAL];                              /* ids per kind */
};

/* Parse data[0..size) as file "fuzz.csv" with run (agency or not) and check the
 * result. The expected kind is KIND_AGENCY with an agency map, else a police one.
 * Return the kind recognised (KIND_NONE for a refused file), or -1 when the input
 * was skipped or memory ran out. */
static FUZZ_UNUSED int rows_run(struct ingest_run *run, const uint8_t *data, size_t size)
{
	static struct rows_dims dims;
	struct input in = { 0 };
	struct pfile *f;
	struct batch *bs[QUEUE_SLOTS + 1];
	int nb = 0, kind = -1;

	if (size == 0 || size > ROWS_MAX_INPUT)
		return -1; /* fmemopen() refuses a zero-length buffer */
	in.fp = fmemopen((void *)data, size, "r");
	in.name = "fuzz.csv";
	if (!in.fp || !(f = pfile_new(run, &in)))
		abort();
	parse_main(f);
	for (struct batch *b; (b = queue_pop(&f->q));) {
		ROWS_CHECK(nb < QUEUE_SLOTS);
		bs[nb++] = b;
	}
	if (f->oom)
		goto cleanup;

	const struct import_stats *st = &f->st;
	int64_t ev = 0, out = 0, stop = 0, rej = 0, dup = 0;

	ROWS_CHECK(st->bytes == (int64_t)size);
	ROWS_CHECK(st->rows_read == st->rows_loaded + st->rows_rejected + st->rows_duplicate);
	if (f->fatal) {
		/* files are refused at their header only, and nothing reaches the writer
		 * (the parse of a refused header's chunk may count one malformed row after
		 * it: counts of a skipped file, which no one reads) */
		const char *m = f->perr.msg;
		size_t k = strlen("fuzz.csv:");

		ROWS_CHECK(nb == 0 && strncmp(m, "fuzz.csv:", k) == 0);
		for (int part = 0; part < 2; part++) {
			size_t d = strspn(m + k, "0123456789");

			ROWS_CHECK(d > 0 && m[k + d] == ':');
			k += d + 1;
		}
		ROWS_CHECK(m[k] == ' ' && m[k + 1]);
		kind = KIND_NONE;
		goto cleanup;
	} else {
		ROWS_CHECK(f->header_done);
		/* a police.uk header wins over an agency map */
		ROWS_CHECK((f->kind >= KIND_STREET && f->kind <= KIND_STOP) ||
			   (run->agency && f->kind == KIND_AGENCY));
	}

	memset(dims.n, 0, sizeof(dims.n));
	struct rows_strs strs[QUEUE_SLOTS + 1] = { 0 };
	struct rows_key *ids = NULL;
	size_t nids = 0, capids = 0;

	/* pass 1: arena strings, dictionary rows, counts */
	for (int i = 0; i < nb; i++) {
		const struct batch *b = bs[i];
		struct rows_strs *s = &strs[i];

		for (size_t j = 0; j < b->dims.n; j++) {
			const struct rec_dim *d = &b->dims.v[j];

			ROWS_CHECK(d->kind < DIM_LOCAL && d->id == dims.n[d->kind] + 1 &&
				   d->id <= ROWS_MAX_INPUT);
			dims.v[d->kind][dims.n[d->kind]++] = d;
			strs_add(s, d->s1);
			strs_add(s, d->s2);
		}
		for (size_t j = 0; j < b->events.n; j++) {
			strs_add(s, b->events.v[j].text_id);
			strs_add(s, b->events.v[j].loc_name);
		}
		for (size_t j = 0; j < b->rejects.n; j++) {
			strs_add(s, b->rejects.v[j].reason);
			strs_add(s, b->rejects.v[j].raw);
		}
		for (size_t j = 0; j < b->stops.n; j++)
			for (int k = 0; k < STOP_NFIELDS; k++)
				strs_add(s, b->stops.v[j].f[k]);
		strs_seal(s, b);
		ev += (int64_t)b->events.n;
		out += (int64_t)b->outcomes.n;
		stop += (int64_t)b->stops.n;
		for (size_t j = 0; j < b->rejects.n; j++) {
			const struct rec_reject *r = &b->rejects.v[j];

			dup += r->duplicate != 0;
			rej += r->duplicate == 0;
			ROWS_CHECK(r->reason && *r->reason && r->raw);
			ROWS_CHECK(r->raw_len == strs_len(s, b, r->raw));
			ROWS_CHECK(r->line >= 1 && r->line <= f->line);
		}
	}
	ROWS_CHECK(ev + out + stop == st->rows_loaded);
	ROWS_CHECK(rej == st->rows_rejected && dup == st->rows_duplicate);
	ROWS_CHECK(ev == 0 || f->kind == KIND_STREET || f->kind == KIND_AGENCY);
	ROWS_CHECK(out == 0 || f->kind == KIND_OUTCOMES);
	ROWS_CHECK(stop == 0 || f->kind == KIND_STOP);

	/* the dictionary rows' texts */
	for (int i = 0; i < nb; i++)
		for (size_t j = 0; j < bs[i]->dims.n; j++) {
			const struct rec_dim *d = &bs[i]->dims.v[j];

			text_ok(&strs[i], bs[i], d->s1, d->kind != DIM_LSOA_NAME);
			if (d->kind == DIM_LSOA)
				ROWS_CHECK(ref_lsoa_code(d->s1, strs_len(&strs[i], bs[i], d->s1)));
			if (d->s2)
				text_ok(&strs[i], bs[i], d->s2, 0);
			if (d->kind == DIM_LSOA_NAME)
				ROWS_CHECK(d->ref >= 1 && d->ref <= dims.n[DIM_LSOA]);
			else
				ROWS_CHECK(d->ref == 0);
		}

	/* pass 2: the records */
	uint32_t last = 0;
	uint8_t (*okeys)[36] = malloc((size_t)(out ? out : 1) * 36);
	size_t nok = 0;

	if (!okeys)
		abort();

	for (int i = 0; i < nb; i++) {
		const struct batch *b = bs[i];

		for (size_t j = 0; j < b->events.n; j++) {
			const struct rec_event *e = &b->events.v[j];

			ROWS_CHECK(e->month >= FUZZ_MONTH_FIRST && e->month <= FUZZ_MONTH_LAST);
			ROWS_CHECK(e->line >= 1 && e->line <= f->line);
			ROWS_CHECK(e->line >= 2 && e->line > last);
			last = e->line;
			ROWS_CHECK(e->source >= 1 && e->source <= dims.n[DIM_SOURCE]);
			ROWS_CHECK(e->falls <= dims.n[DIM_SOURCE]);
			ROWS_CHECK(e->category >= 1 && e->category <= dims.n[DIM_CATEGORY]);
			ROWS_CHECK(e->outcome <= dims.n[DIM_OUTCOME]);
			ROWS_CHECK(e->loc_lsoa <= dims.n[DIM_LSOA]);
			ROWS_CHECK(e->location == 0);
			if (e->loc_has)
				ROWS_CHECK(e->loc_pending && !(e->flags & EVENT_F_UNLOCATED));
			else
				ROWS_CHECK(e->flags & EVENT_F_UNLOCATED);
			if (e->loc_has)
				ROWS_CHECK(in_uk(e->lon, e->lat));
			if (e->loc_pending) {
				ROWS_CHECK(e->loc_name);
				ROWS_CHECK(e->loc_len == strs_len(&strs[i], b, e->loc_name));
				text_ok(&strs[i], b, e->loc_name, 0);
			}
			if (e->id_kind == 1 || e->id_kind == 2) {
				if (nids == capids) {
					capids = capids ? 2 * capids : 256;
					if (!(ids = realloc(ids, capids * sizeof(*ids))))
						abort();
				}
				if (e->id_kind == 1) {
					ROWS_CHECK(f->kind == KIND_STREET && !e->text_id);
					ids[nids++] = (struct rows_key){ e->crime_id, 32 };
				} else {
					size_t n = strs_len(&strs[i], b, e->text_id);

					ROWS_CHECK(f->kind == KIND_AGENCY && n > 0);
					text_ok(&strs[i], b, e->text_id, 1);
					ids[nids++] = (struct rows_key){ e->text_id, n };
				}
			} else {
				ROWS_CHECK(e->id_kind == 0 && !e->text_id);
			}
			if (f->kind == KIND_AGENCY) {
				struct agency *a = run->agency;

				ROWS_CHECK(e->falls == 0 && e->outcome == 0);
				ROWS_CHECK(strcmp(dims.v[DIM_SOURCE][e->source - 1]->s1, a->source) == 0);
				ROWS_CHECK(e->unit == 0 || (a->map->location == AGENCYMAP_LOC_UNIT &&
							    e->layer == a->layer_id &&
							    e->unit <= dict_count(a->units)));
				ROWS_CHECK(!e->loc_lsoa || a->map->location == AGENCYMAP_LOC_LSOA);
				ROWS_CHECK(!e->loc_has || a->map->location == AGENCYMAP_LOC_LONLAT ||
					   a->map->location == AGENCYMAP_LOC_BNG);
			}
		}
		for (size_t j = 0; j < b->outcomes.n; j++) {
			const struct rec_outcome *o = &b->outcomes.v[j];

			ROWS_CHECK(o->month >= FUZZ_MONTH_FIRST && o->month <= FUZZ_MONTH_LAST);
			ROWS_CHECK(o->line >= 1 && o->line <= f->line);
			ROWS_CHECK(o->outcome >= 1 && o->outcome <= dims.n[DIM_OUTCOME]);
			memcpy(okeys[nok], o->crime_id, 32);
			memcpy(okeys[nok] + 32, &o->outcome, 4);
			nok++;
		}
		for (size_t j = 0; j < b->stops.n; j++) {
			const struct rec_stop *p = &b->stops.v[j];

			ROWS_CHECK(p->month >= FUZZ_MONTH_FIRST && p->month <= FUZZ_MONTH_LAST);
			ROWS_CHECK(p->line >= 1 && p->line <= f->line);
			for (int k = 0; k < STOP_NFIELDS; k++)
				text_ok(&strs[i], b, p->f[k], 0);
			if (p->has_coord)
				ROWS_CHECK(in_uk(p->lon, p->lat));
			const char *d = p->f[1]; /* YYYY-MM-DD..., checked by row_stop */
			int y = atoi(d), m = atoi(d + 5), day = (d[8] - '0') * 10 + d[9] - '0';

			ROWS_CHECK(m >= 1 && m <= 12 && day >= 1 && day <= days_in(y, m));
			if (p->has_coord)
				ROWS_CHECK(plain_decimal(p->f[4], strs_len(&strs[i], b, p->f[4])) &&
					   plain_decimal(p->f[5], strs_len(&strs[i], b, p->f[5])));
		}
	}
	if (nok) { /* outcome rows: keys (Crime ID, outcome) */
		if (!(ids = realloc(ids, nok * sizeof(*ids))))
			abort();
		for (size_t k = 0; k < nok; k++)
			ids[k] = (struct rows_key){ okeys[k], 36 };
		nids = nok;
	}
	keys_distinct(ids, nids);
	free(okeys);
	free(ids);
	for (int i = 0; i < nb; i++)
		free(strs[i].v);
	kind = f->kind;
cleanup:
	for (int i = 0; i < nb; i++)
		queue_return(&f->q, bs[i]);
	pfile_release(f);
#ifdef MB_FUZZ_POOL_H
	fuzz_free(f); /* pfile_new() had it from the pool */
#else
	free(f);
#endif
	fclose(in.fp);
	return kind;
}

#endif
