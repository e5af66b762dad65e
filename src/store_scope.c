/* store_scope — resolve --area / --layer into the LSOAs and units they select. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/util.h"
#include "store_scope.h"

#define NEAREST 5 /* candidates listed per kind when a name matches nothing */

/* Length of an LSOA name without its " 001A" suffix (the authority's name). */
static size_t authority_len(const char *name)
{
	size_t n = strlen(name);

	if (n > 5 && name[n - 5] == ' ' && name[n - 4] >= '0' && name[n - 4] <= '9' &&
	    name[n - 3] >= '0' && name[n - 3] <= '9' && name[n - 2] >= '0' && name[n - 2] <= '9' &&
	    name[n - 1] >= 'A' && name[n - 1] <= 'Z')
		return n - 5;
	return n;
}

/* Case-insensitive Levenshtein distance of a and b (both cut at 127 bytes). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[128], cur[128];

	if (la > 127)
		la = 127;
	if (lb > 127)
		lb = 127;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (strncasecmp(a + i - 1, b + j - 1, 1) != 0);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* Case-insensitive substring test. */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* A candidate name and how near it is. */
struct cand {
	char *name;   /* owned */
	size_t score; /* names containing the query first (0..), then edit distance (+1000) */
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Distinct names of a query (column 0): the NEAREST closest to want, as
 * "'a', 'b'" appended to out (cap bytes). strip: cut LSOA suffixes. */
static int nearest(struct store *s, const char *sql, int64_t bind, const char *want, int strip,
		   char *out, size_t cap, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct cand *v = NULL;
	size_t n = 0, vcap = 0;
	int r;

	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	if (bind)
		sqlite3_bind_int64(st, 1, bind);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t len;

		if (!name)
			continue;
		len = strip ? authority_len(name) : strlen(name);
		if (n && strlen(v[n - 1].name) == len && strncmp(v[n - 1].name, name, len) == 0)
			continue; /* sorted: repeats are neighbours */
		if (GROW(v, n + 1, vcap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!(v[n].name = strndup(name, len))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		v[n].score = contains(v[n].name, want) ? strlen(v[n].name)
						       : 1000 + edit_distance(v[n].name, want);
		n++;
	}
	/* the same name may come back unsorted after stripping: drop repeats */
	qsort(v, n, sizeof(*v), cmp_cand);
	for (size_t i = 0, shown = 0; i < n && shown < NEAREST; i++) {
		size_t o = strlen(out);
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			dup |= strcmp(v[j].name, v[i].name) == 0;
		if (dup)
			continue;
		snprintf(out + o, cap - o, "%s'%s'", shown ? ", " : "", v[i].name);
		shown++;
	}
	r = 0;
cleanup:
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return r;
}

/* MB_ENOTFOUND for name, listing the nearest authorities and units (of the
 * layer, or of every layer when none is given). */
static int not_found(struct store *s, const char *name, const char *layer, int64_t layer_id,
		     struct mb_error *err)
{
	char a[160] = "", u[400] = "";
	int r;

	if ((r = nearest(s, "SELECT name FROM lsoa_name ORDER BY name", 0, name, 1, a, sizeof(a),
			 err)))
		return r;
	if (layer_id) {
		if ((r = nearest(s, "SELECT name FROM unit WHERE layer_id = ?1 ORDER BY name", layer_id,
				 name, 0, u, sizeof(u), err)))
			return r;
	} else {
		/* a unit is only selected with its layer: name the layer beside it */
		if ((r = nearest(s, "SELECT u.name || ' (--layer ' || l.name || ')' FROM unit u"
				    " JOIN layer l ON l.id = u.layer_id ORDER BY 1", 0, name, 0, u,
				 sizeof(u), err)))
			return r;
	}
	if (layer)
		return mb_err(err, MB_ENOTFOUND,
			      "area '%s' is not a unit of layer '%s' nor a local authority or LSOA code"
			      " in the store; nearest units: %s; nearest authorities: %s",
			      name, layer, u[0] ? u : "(none)", a[0] ? a : "(none)");
	return mb_err(err, MB_ENOTFOUND,
		      "area '%s' is not a local authority or LSOA code in the store (names match"
		      " exactly); nearest authorities: %s; nearest units: %s",
		      name, a[0] ? a : "(none)", u[0] ? u : "(none; load a layer with 'microbeat areas')");
}

/* Mark the LSOAs of authority (or LSOA code) name; *any = 1 when one matched. */
static int match_authority(struct store *s, const char *name, struct scope *sc, int *any,
			   struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t want = strlen(name);
	int r;

	*any = 0;
	if ((r = store_prepare(s, &st, "SELECT l.id, l.code, n.name FROM lsoa l"
				       " LEFT JOIN lsoa_name n ON n.lsoa_id = l.id", err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);
		const char *code = (const char *)sqlite3_column_text(st, 1);
		const char *n = (const char *)sqlite3_column_text(st, 2);

		if (id >= sc->nlsoa)
			continue;
		if ((n && authority_len(n) == want && strncasecmp(n, name, want) == 0) ||
		    (code && strcasecmp(code, name) == 0)) {
			sc->lsoa_in[id] = 1;
			*any = 1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Units of the layer, densely numbered in store id order (as read_units in
 * store_areas.c numbers them), and the lookup's unit of each LSOA. */
static int load_units(struct store *s, struct scope *sc, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int r;

	if ((r = store_prepare(s, &st, "SELECT max(id) FROM unit", err)))
		return r;
	sc->ndense = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) + 1 : 1;
	sqlite3_finalize(st);
	if ((r = store_prepare(s, &st, "SELECT count(*) FROM unit WHERE layer_id = ?", err)))
		return r;
	sqlite3_bind_int64(st, 1, sc->layer_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sc->nunit = n + 1;
	sc->unit_code = calloc(sc->nunit, sizeof(char *));
	sc->unit_name = calloc(sc->nunit, sizeof(char *));
	sc->unit_chosen = calloc(sc->nunit, 1);
	sc->dense = calloc(sc->ndense, sizeof(uint32_t));
	sc->lsoa_unit = calloc(sc->nlsoa, sizeof(uint32_t));
	sc->loc_unit = calloc(sc->nloc, sizeof(uint32_t));
	if (!sc->unit_code || !sc->unit_name || !sc->unit_chosen || !sc->dense || !sc->lsoa_unit ||
	    !sc->loc_unit)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = store_prepare(s, &st, "SELECT id, code, name FROM unit WHERE layer_id = ?"
				       " ORDER BY id", err)))
		return r;
	sqlite3_bind_int64(st, 1, sc->layer_id);
	for (size_t k = 1; k < sc->nunit && sqlite3_step(st) == SQLITE_ROW; k++) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		sc->unit_code[k] = strdup((const char *)sqlite3_column_text(st, 1));
		sc->unit_name[k] = strdup((const char *)sqlite3_column_text(st, 2));
		if (!sc->unit_code[k] || !sc->unit_name[k]) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		if (id < sc->ndense)
			sc->dense[id] = (uint32_t)k;
	}
	sqlite3_finalize(st);
	return 0;
}

int scope_lsoa_lookup(struct store *s, int64_t layer_id, size_t nlsoa, uint32_t *unit_of,
		      int *any, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*any = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT q.id, (SELECT lu.unit_id FROM lsoa_unit lu JOIN unit un"
			       " ON un.id = lu.unit_id WHERE lu.lsoa_code = q.code AND un.layer_id = ?1"
			       " ORDER BY lu.weight DESC, lu.unit_id LIMIT 1) FROM lsoa q",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 l = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 1);

		if (l > 0 && (size_t)l < nlsoa && id > 0 && id <= UINT32_MAX) {
			unit_of[l] = (uint32_t)id;
			*any = 1;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_err(s, err, "loading the LSOA lookup");
}

/* The unit of every snap point: boundaries first, then the LSOA lookup
 * (scope_lsoa_lookup's rule). */
static int load_assignment(struct store *s, struct scope *sc, const uint32_t *loc_lsoa,
			   struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, any;

	/* store unit ids, then dense */
	if ((r = scope_lsoa_lookup(s, sc->layer_id, sc->nlsoa, sc->lsoa_unit, &any, err)))
		return r;
	for (size_t l = 0; l < sc->nlsoa; l++)
		sc->lsoa_unit[l] = sc->lsoa_unit[l] < sc->ndense ? sc->dense[sc->lsoa_unit[l]] : 0;
	if ((r = store_prepare(s, &st, "SELECT location_id, unit_id FROM location_unit"
				       " WHERE layer_id = ?1 AND unit_id IS NOT NULL", err)))
		return r;
	sqlite3_bind_int64(st, 1, sc->layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t loc = (size_t)sqlite3_column_int64(st, 0);
		size_t id = (size_t)sqlite3_column_int64(st, 1);

		if (loc < sc->nloc && id < sc->ndense)
			sc->loc_unit[loc] = sc->dense[id];
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading unit assignments");
	for (size_t loc = 1; loc < sc->nloc; loc++)
		if (!sc->loc_unit[loc] && loc_lsoa[loc] && loc_lsoa[loc] < sc->nlsoa)
			sc->loc_unit[loc] = sc->lsoa_unit[loc_lsoa[loc]];
	return 0;
}

/* Choose the units named in the comma-separated list area; MB_ENOTFOUND
 * (with *bad pointing at the entry) when an entry names no unit. */
static int choose_units(struct scope *sc, const char *area, char *bad, size_t badcap)
{
	const char *p = area;

	if (strcasecmp(area, "all") == 0) {
		memset(sc->unit_chosen, 1, sc->nunit);
		sc->unit_chosen[0] = 0;
		return 0;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int hit = 0;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		for (size_t k = 1; len && k < sc->nunit; k++)
			if ((strlen(sc->unit_name[k]) == len && strncasecmp(sc->unit_name[k], p, len) == 0) ||
			    (strlen(sc->unit_code[k]) == len && strncasecmp(sc->unit_code[k], p, len) == 0)) {
				sc->unit_chosen[k] = 1;
				hit = 1;
			}
		if (len && !hit) {
			snprintf(bad, badcap, "%.*s", (int)len, p);
			return -MB_ENOTFOUND;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* sc->unit_auth of an authority with a layer: the units most of whose snap
 * points with an LSOA code lie in the authority's LSOAs (a ward of another
 * district that one of its points strays into is not the authority's), and
 * a unit with no such snap point when the lookup maps one of the
 * authority's LSOAs to it. */
static int authority_units(struct scope *sc, const uint32_t *loc_lsoa, struct mb_error *err)
{
	uint32_t *votes;

	if (!sc->layer_id)
		return 0;
	sc->unit_auth = calloc(sc->nunit ? sc->nunit : 1, 1);
	votes = calloc(2 * (sc->nunit ? sc->nunit : 1), sizeof(uint32_t));
	if (!sc->unit_auth || !votes) {
		free(votes);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t loc = 1; loc < sc->nloc; loc++) {
		uint32_t l = loc_lsoa[loc], u = sc->loc_unit[loc];

		if (l && l < sc->nlsoa && u && u < sc->nunit) {
			votes[2 * u] += sc->lsoa_in[l] != 0;
			votes[2 * u + 1]++;
		}
	}
	for (size_t u = 1; u < sc->nunit; u++)
		sc->unit_auth[u] = 2 * (uint64_t)votes[2 * u] > votes[2 * u + 1];
	for (size_t l = 1; l < sc->nlsoa; l++) {
		uint32_t u = sc->lsoa_unit[l];

		if (sc->lsoa_in[l] && u && u < sc->nunit && !votes[2 * u + 1])
			sc->unit_auth[u] = 1;
	}
	free(votes);
	return 0;
}

int scope_resolve(struct store *s, const char *area, const char *layer, size_t nloc,
		  const uint32_t *loc_lsoa, size_t nlsoa, struct scope *sc, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char bad[256] = "";
	int r, any = 0;

	memset(sc, 0, sizeof(*sc));
	if (area && !area[strspn(area, " \t,")])
		return mb_err(err, MB_EUSAGE, "--area is empty: give a local authority, an LSOA code"
			      " or units of --layer (or all)");
	sc->nlsoa = nlsoa;
	sc->nloc = nloc;
	sc->lsoa_in = calloc(nlsoa + 1, 1);
	if (!sc->lsoa_in)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (layer) {
		if ((r = store_prepare(s, &st, "SELECT id, method FROM layer WHERE name = ?", err)))
			return r;
		sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *m = (const char *)sqlite3_column_text(st, 1);

			sc->layer_id = sqlite3_column_int64(st, 0);
			sc->boundaries = m && strncmp(m, "boundaries", 10) == 0;
		}
		sqlite3_finalize(st);
		if (!sc->layer_id)
			return mb_err(err, MB_ENOTFOUND,
				      "layer '%s' is not loaded (load it with 'microbeat areas')", layer);
		if ((r = load_units(s, sc, err)) || (r = load_assignment(s, sc, loc_lsoa, err)))
			return r;
	}
	if (!area || strcasecmp(area, "all") == 0) {
		sc->kind = SCOPE_ALL;
		if (layer) {
			memset(sc->unit_chosen, 1, sc->nunit);
			sc->unit_chosen[0] = 0;
			snprintf(sc->label, sizeof(sc->label), "All units of %s", layer);
		} else {
			snprintf(sc->label, sizeof(sc->label), "All areas");
		}
		return 0;
	}
	if (layer) {
		if (choose_units(sc, area, bad, sizeof(bad)) == 0) {
			sc->kind = SCOPE_UNITS;
			snprintf(sc->label, sizeof(sc->label), "%s (%s)", area, layer);
			return 0;
		}
		memset(sc->unit_chosen, 0, sc->nunit);
		/* a single name that is no unit may still be an authority: the
		 * layer then only gives each event of it its unit */
		if (!strchr(area, ',')) {
			if ((r = match_authority(s, area, sc, &any, err)))
				return r;
			if (any) {
				sc->kind = SCOPE_AUTHORITY;
				snprintf(sc->label, sizeof(sc->label), "%s", area);
				return authority_units(sc, loc_lsoa, err);
			}
		}
		return not_found(s, bad, layer, sc->layer_id, err);
	}
	if ((r = match_authority(s, area, sc, &any, err)))
		return r;
	if (!any)
		return not_found(s, area, NULL, 0, err);
	sc->kind = SCOPE_AUTHORITY;
	snprintf(sc->label, sizeof(sc->label), "%s", area);
	return 0;
}

void scope_release(struct scope *sc)
{
	for (size_t k = 0; sc->unit_code && k < sc->nunit; k++)
		free(sc->unit_code[k]);
	for (size_t k = 0; sc->unit_name && k < sc->nunit; k++)
		free(sc->unit_name[k]);
	free(sc->unit_code);
	free(sc->unit_name);
	free(sc->unit_chosen);
	free(sc->lsoa_in);
	free(sc->dense);
	free(sc->lsoa_unit);
	free(sc->loc_unit);
	free(sc->unit_auth);
	memset(sc, 0, sizeof(*sc));
}

int scope_lsoa_in(const struct scope *sc, uint32_t l)
{
	if (sc->kind == SCOPE_UNITS || (sc->kind == SCOPE_ALL && sc->layer_id))
		return l && l < sc->nlsoa && scope_unit_in(sc, sc->lsoa_unit[l]);
	if (sc->kind == SCOPE_ALL)
		return 1;
	return l && l < sc->nlsoa && sc->lsoa_in[l];
}

int scope_unit_in(const struct scope *sc, uint32_t u)
{
	return u && u < sc->nunit && sc->unit_chosen && sc->unit_chosen[u];
}
