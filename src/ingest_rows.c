/* ingest_rows — one row at a time: header recognition, the UTF-8 check,
 * strict numbers, hex Crime IDs, coordinates and dates, then the validators
 * of street, outcomes, stop-and-search, force-extract and agency rows, which
 * intern the row's names in the file's own dictionaries and fill the batch. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest_internal.h"
#include "microbeat/agencymap.h"
#include "microbeat/dict.h"
#include "microbeat/geo.h"

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

/* Is p[0..n) valid UTF-8 (no overlongs, no surrogates)? */
int utf8_ok(const unsigned char *p, size_t n)
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
	if (GROW(f->mc, f->nmc + 1, f->capmc)) {
		f->oom = 1;
		return;
	}
	f->mc[f->nmc++] = (struct month_count){ source, month, 1 };
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
		uint32_t first;
		char at[48];

		if (seen_add(&f->seen, dict_hash(id, 32), f->row_line, &first)) {
			f->oom = 1;
			return;
		}
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
	uint32_t first;

	if (seen_add(&f->seen, dict_hash(key, sizeof(key)), f->row_line, &first)) {
		f->oom = 1;
		return;
	}
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
	uint32_t fp_line;

	if (seen_add(&f->seen, dict_hash((const char *)id, 32), f->row_line, &fp_line)) {
		f->oom = 1;
		return;
	}
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

		if (seen_add(&f->seen, dict_hash(id, len), f->row_line, &fp_line)) {
			f->oom = 1;
			return;
		}
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

/* The columns a police.uk file of each kind has (enum file_kind). */
static const int KIND_FIELDS[] = { 0, 12, 10, 15 };

void ingest_row(struct pfile *f)
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
