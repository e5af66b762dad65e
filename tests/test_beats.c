/*
 * Unit tests for beats (the street universe of concentration, shared with
 * flags): a hand-built slice of five streets, eight snap points and a few
 * events, every figure counted by hand in the comments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/beats.h"
#include "microbeat/conc.h"
#include "microbeat/emit.h"
#include "microbeat/slice.h"
#include "microbeat/util.h"

/* Streets (id 0 unused):
 *   1 HIGH STREET    in the area, a street, seen in events
 *   2 MILL ROAD      in the area, a street, gazetteer only (no event)
 *   3 PETROL STATION in the area, a place (snap point 3)
 *   4 FAR LANE       outside the area (seen in an event)
 *   5 QUIET CLOSE    in the area, no event, not in the gazetteer
 * Categories: 1 Burglary, 2 Drugs, 3 Robbery. Period months 12..13, so the
 * previous period is 10..11. Events (street, snap point, category, month):
 *   e0 1 1 Burglary 12   e1 1 2 Burglary 13   e2 1 2 Drugs 12
 *   e3 3 3 Robbery 13    e4 1 1 Burglary 10 (previous)
 *   e5 4 4 Burglary 12   e6 3 3 Drugs 9 (before both periods)
 * Unlocated: Burglary 12 (counted), Drugs 8 (not). Placed without
 * coordinates: Burglary 13 (counted). */
static struct slice_street streets[6] = {
	{ .name = "" },
	{ .name = "HIGH STREET", .lsoa = "E01", .area = "" },
	{ .name = "MILL ROAD", .lsoa = "E01", .area = "", .gazetteer = 1 },
	{ .name = "PETROL STATION", .lsoa = "E01", .area = "", .place = 1, .snap = 3 },
	{ .name = "FAR LANE", .lsoa = "E02", .area = "" },
	{ .name = "QUIET CLOSE", .lsoa = "E01", .area = "" },
};
static uint8_t in_area[6] = { 0, 1, 1, 1, 0, 1 };
static char burglary[] = "Burglary", drugs[] = "Drugs", robbery[] = "Robbery";
static char *cat_name[4] = { NULL, burglary, drugs, robbery };
static int16_t month[7] = { 12, 13, 12, 13, 10, 12, 9 };
static uint16_t category[7] = { 1, 1, 2, 3, 1, 1, 2 };
static uint32_t street[7] = { 1, 1, 1, 3, 1, 4, 3 };
static uint32_t location[7] = { 1, 2, 2, 3, 1, 4, 3 };
static int32_t unloc_month[2] = { 12, 8 };
static uint32_t unloc_category[2] = { 1, 2 };
static int32_t nc_month[1] = { 13 };
static uint32_t nc_category[1] = { 1 };
static const uint8_t selected[4] = { 0, 1, 1, 1 };
static const double weight[4] = { NAN, 2.0, NAN, 5.0 };

static struct slice test_slice(void)
{
	return (struct slice){
		.n = 7, .month = month, .category = category, .street = street,
		.location = location, .ncat = 4, .cat_name = cat_name, .nstreet = 6,
		.streets = streets, .street_in_area = in_area, .nloc = 8, .n_unloc = 2,
		.unloc_month = unloc_month, .unloc_category = unloc_category, .n_nc = 1,
		.nc_month = nc_month, .nc_category = nc_category,
	};
}

static struct beats_spec test_spec(void)
{
	return (struct beats_spec){ .selected = selected, .weight = weight, .harm = 1,
				    .from = 12, .to = 13 };
}

static void test_number(void **state)
{
	struct slice sl = test_slice();
	int32_t pos[6];
	uint32_t ids[6];
	uint8_t keep[6] = { 0, 1, 0, 1, 1, 0 };

	(void)state;
	/* every street of the area: 1, 2, 3, 5 */
	assert_int_equal(beats_number(&sl, NULL, pos, ids), 4);
	assert_int_equal(pos[0], -1);
	assert_int_equal(pos[1], 0);
	assert_int_equal(pos[2], 1);
	assert_int_equal(pos[3], 2);
	assert_int_equal(pos[4], -1);
	assert_int_equal(pos[5], 3);
	assert_int_equal(ids[3], 5);
	/* kept and in the area: 1, 3 (4 is kept but outside) */
	assert_int_equal(beats_number(&sl, keep, pos, ids), 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(pos[4], -1);
}

static void test_count_observed(void **state)
{
	struct slice sl = test_slice();
	struct beats_spec sp = test_spec();
	struct beats b = { 0 };
	struct mb_error err = { 0 };

	(void)state;
	/* observed: streets of the area seen in an event: 1 and 3 */
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.ustreet[0], 1);
	assert_int_equal(b.ustreet[1], 3);
	assert_null(b.ev_u); /* without street_unit: uindex of the event's street */
	assert_int_equal(beats_event_u(&b, &sl, 5), -1);
	assert_int_equal(beats_event_u(&b, &sl, 0), 0);
	assert_null(b.ucode);
	/* HIGH STREET: e0, e1, e2 now, e4 before; harm 2 + 2 (Drugs has none) */
	assert_true(b.count[0] == 3 && b.prev[0] == 1 && b.harmc[0] == 4);
	/* PETROL STATION: e3 now (harm 5); e6 is before both periods */
	assert_true(b.count[1] == 1 && b.prev[1] == 0 && b.harmc[1] == 5);
	assert_int_equal(b.crimes_outside, 1); /* e5 */
	assert_int_equal(b.unlocated, 1);
	assert_int_equal(b.placed_no_street, 1);
	beats_release(&b);
	assert_null(b.count);
}

static void test_count_gazetteer_kind(void **state)
{
	struct slice sl = test_slice();
	struct beats_spec sp = test_spec();
	struct beats b = { 0 };
	struct mb_error err = { 0 };
	uint8_t member[6] = { 0, 0, 0, 1, 0, 0 };

	(void)state;
	/* streets only, plus the gazetteer: HIGH STREET and MILL ROAD; the
	 * place's crime (e3) now falls outside the universe's kind */
	sp.gazetteer = 1;
	sp.kind = 1;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.ustreet[0], 1);
	assert_int_equal(b.ustreet[1], 2);
	assert_true(b.count[0] == 3 && b.count[1] == 0);
	assert_int_equal(b.crimes_outside, 2); /* e3, e5 */
	beats_release(&b);
	/* places only */
	sp.kind = 2;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.ustreet[0], 3);
	assert_int_equal(b.crimes_outside, 4); /* e0, e1, e2, e5 */
	beats_release(&b);
	/* a frozen universe of the place alone */
	sp = test_spec();
	sp.member = member;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.ustreet[0], 3);
	beats_release(&b);
}

static void test_count_street_unit(void **state)
{
	struct slice sl = test_slice();
	struct beats_spec sp = test_spec();
	struct beats b = { 0 };
	struct mb_error err = { 0 };
	char u1[] = "U1", u2[] = "U2";
	char *codes[3] = { NULL, u1, u2 };
	/* snap points 1, 3, 4 in unit U1; 2 in U2 */
	uint32_t unit_of_loc[8] = { 0, 1, 2, 1, 1, 1, 0, 0 };

	(void)state;
	sp.street_unit = "ward";
	sp.unit_code = codes;
	sp.nunit = 3;
	sp.unit_of_loc = unit_of_loc;
	/* keys in event order: (U1, HIGH STREET) e0 e4; (U2, HIGH STREET) e1 e2;
	 * the place e3 e6 (keyed on its id, code of its unit U1); (U1, FAR
	 * LANE) e5 -- the key ignores the area's street list */
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.ev_u[0], 0);
	assert_int_equal(b.ev_u[4], 0);
	assert_int_equal(b.ev_u[1], 1);
	assert_int_equal(b.ev_u[2], 1);
	assert_int_equal(b.ev_u[3], 2);
	assert_int_equal(b.ev_u[6], 2);
	assert_int_equal(b.ev_u[5], 3);
	assert_string_equal(b.ucode[0], "U1");
	assert_string_equal(b.ucode[1], "U2");
	assert_string_equal(b.ucode[2], "U1");
	assert_true(b.count[0] == 1 && b.prev[0] == 1);
	assert_true(b.count[1] == 2 && b.count[2] == 1 && b.count[3] == 1);
	assert_int_equal(b.crimes_outside, 0);
	beats_release(&b);
}

static void test_describe(void **state)
{
	struct slice sl = test_slice();
	struct beats_spec sp = test_spec();
	struct beats b = { 0 };
	struct mb_error err = { 0 };
	size_t top[2] = { 0, 1 };
	uint32_t *busiest = NULL;
	char **dominant = NULL;

	(void)state;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(beats_describe(&sl, &sp, &b, top, 2, &busiest, &dominant, &err), 0);
	/* HIGH STREET: snap point 1 has e0, snap point 2 has e1 and e2 */
	assert_int_equal(busiest[0], 2);
	assert_string_equal(dominant[0], "Burglary 67%; Drugs 33%");
	assert_int_equal(busiest[1], 3);
	assert_string_equal(dominant[1], "Robbery 100%");
	for (int k = 0; k < 2; k++)
		free(dominant[k]);
	free(dominant);
	free(busiest);
	/* a listed street without crime in the period: any of its snap points,
	 * no types (the place in the period 10..11 has e6 only in month 9) */
	sp.from = 10;
	sp.to = 11;
	beats_release(&b);
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(beats_describe(&sl, &sp, &b, top + 1, 1, &busiest, &dominant, &err), 0);
	assert_int_equal(busiest[0], 3);
	assert_string_equal(dominant[0], "");
	free(dominant[0]);
	free(dominant);
	free(busiest);
	beats_release(&b);
}

/* The slice of test_slice with a keep window of months 12..13 (what
 * concentration loads without --compare-previous): e4 (month 10, snap point 1)
 * and e6 (month 9, snap point 3) are not events but seen snap points, and a
 * crime of month 5 at snap point 5 (QUIET CLOSE, no event in the window) is
 * seen first of all. Kept events k0..k4 = e0 e1 e2 e3 e5. Scan order:
 *   seen 5 (pos 0), k0, k1, k2, k3, seen 1 (pos 4), k4, seen 3 (pos 5). */
static int16_t w_month[5] = { 12, 13, 12, 13, 12 };
static uint16_t w_category[5] = { 1, 1, 2, 3, 1 };
static uint32_t w_street[5] = { 1, 1, 1, 3, 4 };
static uint32_t w_location[5] = { 1, 2, 2, 3, 4 };
static uint32_t w_seen_loc[3] = { 5, 1, 3 };
static size_t w_seen_pos[3] = { 0, 4, 5 };
static uint32_t w_loc_beat[8] = { 0, 1, 1, 3, 4, 5, 0, 0 };

static struct slice window_slice(void)
{
	struct slice sl = test_slice();

	sl.n = 5;
	sl.month = w_month;
	sl.category = w_category;
	sl.street = w_street;
	sl.location = w_location;
	sl.nseen = 3;
	sl.seen_loc = w_seen_loc;
	sl.seen_pos = w_seen_pos;
	sl.loc_beat = w_loc_beat;
	return sl;
}

static void test_keep_window(void **state)
{
	struct slice sl = window_slice();
	struct beats_spec sp = test_spec();
	struct beats b = { 0 };
	struct mb_error err = { 0 };
	char u1[] = "U1", u2[] = "U2";
	char *codes[3] = { NULL, u1, u2 };
	uint32_t unit_of_loc[8] = { 0, 1, 2, 1, 1, 1, 0, 0 };
	size_t top[1] = { 2 };
	uint32_t *busiest = NULL;
	char **dominant = NULL;

	(void)state;
	/* observed: 1 and 3 from the events, 5 from its seen snap point only */
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.ustreet[2], 5);
	assert_int_equal(b.seen_u[0], 2);
	assert_int_equal(b.seen_u[1], 0);
	assert_int_equal(b.seen_u[2], 1);
	assert_true(b.count[0] == 3 && b.count[1] == 1 && b.count[2] == 0);
	/* listed without crime in the period: the snap point it was seen at */
	assert_int_equal(beats_describe(&sl, &sp, &b, top, 1, &busiest, &dominant, &err), 0);
	assert_int_equal(busiest[0], 5);
	assert_string_equal(dominant[0], "");
	free(dominant[0]);
	free(dominant);
	free(busiest);
	beats_release(&b);
	/* street_unit: keys numbered in scan order, seen snap points where they
	 * were met: (U1, QUIET CLOSE) first, then as test_count_street_unit */
	sp.street_unit = "ward";
	sp.unit_code = codes;
	sp.nunit = 3;
	sp.unit_of_loc = unit_of_loc;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.seen_u[0], 0);
	assert_string_equal(b.ucode[0], "U1");
	assert_int_equal(b.ustreet[0], 5);
	assert_int_equal(b.ev_u[0], 1);  /* (U1, HIGH STREET) */
	assert_int_equal(b.ev_u[1], 2);  /* (U2, HIGH STREET) */
	assert_int_equal(b.ev_u[3], 3);  /* the place */
	assert_int_equal(b.seen_u[1], 1); /* snap point 1: (U1, HIGH STREET) again */
	assert_int_equal(b.ev_u[4], 4);  /* (U1, FAR LANE) */
	assert_int_equal(b.seen_u[2], 3); /* snap point 3: the place */
	beats_release(&b);
	/* no street column (concentration's slice): each event's micro-beat is
	 * its snap point's, the same keys in the same order */
	sl.street = NULL;
	assert_int_equal(slice_event_beat(&sl, 4), 4);
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.ev_u[0], 1);
	assert_int_equal(b.ev_u[4], 4);
	beats_release(&b);
	sp.street_unit = NULL;
	assert_int_equal(beats_count(&sl, &sp, &b, &err), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(beats_event_u(&b, &sl, 3), 1);
	assert_true(b.count[0] == 3 && b.count[1] == 1 && b.count[2] == 0);
	beats_release(&b);
}

/* beats_label's slice: two places called PETROL STATION in two LSOAs, each
 * named by its nearest street of its own LSOA. LSOA codes are known by their
 * address (one code, one string), as in a loaded slice. Snap points:
 *   1 HIGH STREET (A) 0.100    2 MILL ROAD (A) 0.110    3 PETROL STATION (A) 0.109
 *   4 FAR LANE (B) 0.300       5 PETROL STATION (B) 0.301
 *   6 SUPERMARKET (C) 0.500    7 FAR LANE (B) 0.1091: nearer the first petrol
 *   station than MILL ROAD is, but in another LSOA
 * (longitudes; latitude 52.2 but 52.3 for 4 and 5). */
static char lsoa_a[] = "E01", lsoa_b[] = "E02", lsoa_c[] = "E03";
static struct slice_street l_streets[8] = {
	{ .name = "" },
	{ .name = "HIGH STREET", .lsoa = lsoa_a },
	{ .name = "MILL ROAD", .lsoa = lsoa_a },
	{ .name = "PETROL STATION", .lsoa = lsoa_a, .place = 1, .snap = 3 },
	{ .name = "PETROL STATION", .lsoa = lsoa_b, .place = 1, .snap = 5 },
	{ .name = "FAR LANE", .lsoa = lsoa_b },
	{ .name = "SUPERMARKET", .lsoa = lsoa_c, .place = 1 },
	{ .name = "PARK/OPEN SPACE", .lsoa = lsoa_a, .place = 1 },
};
static double l_lon[8] = { NAN, 0.100, 0.110, 0.109, 0.300, 0.301, 0.500, 0.1091 };
static double l_lat[8] = { NAN, 52.2, 52.2, 52.2, 52.3, 52.3, 52.2, 52.2 };
static uint32_t l_loc_beat[8] = { 0, 1, 2, 3, 5, 4, 6, 5 };

static void test_label(void **state)
{
	struct slice sl = { .nstreet = 8, .streets = l_streets, .nloc = 8, .loc_lon = l_lon,
			    .loc_lat = l_lat, .loc_beat = l_loc_beat };
	static const struct {
		uint32_t beat;     /* the micro-beat */
		uint32_t at;       /* the point to search from when it has no snap point */
		const char *label; /* expected */
		uint32_t near;     /* expected */
	} cases[] = {
		{ 1, 0, "HIGH STREET", 0 },
		{ 3, 0, "Petrol station, near MILL ROAD", 2 },
		{ 4, 0, "Petrol station, near FAR LANE", 5 },
		{ 6, 6, "Supermarket", 0 },     /* no street snap point in its LSOA */
		{ 7, 0, "Park/open space", 0 }, /* no point to search from */
		{ 7, 2, "Park/open space, near MILL ROAD", 2 },
	};
	size_t n = ARRAY_SIZE(cases);
	uint32_t beat[ARRAY_SIZE(cases)], at[ARRAY_SIZE(cases)], near[ARRAY_SIZE(cases)];
	char *label[ARRAY_SIZE(cases)];
	struct mb_error err = { 0 };

	(void)state;
	for (size_t k = 0; k < n; k++) {
		beat[k] = cases[n - 1 - k].beat; /* in reverse: a row's label is its own */
		at[k] = cases[n - 1 - k].at;
	}
	assert_int_equal(beats_label(&sl, beat, at, n, label, near, &err), 0);
	for (size_t k = 0; k < n; k++) {
		assert_string_equal(label[k], cases[n - 1 - k].label);
		assert_int_equal(near[k], cases[n - 1 - k].near);
		free(label[k]);
	}
	/* without at_of or near (the deep dive's overlay): snap points only */
	assert_int_equal(beats_label(&sl, beat, NULL, n, label, NULL, &err), 0);
	assert_string_equal(label[0], "Park/open space");
	assert_string_equal(label[n - 2], "Petrol station, near MILL ROAD");
	for (size_t k = 0; k < n; k++)
		free(label[k]);
}

/* The value cell of measure name in t (NULL when absent). */
static const struct table_cell *value_of(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (strcmp(t->cells[i * 2].text, name) == 0)
			return &t->cells[i * 2 + 1];
	return NULL;
}

static void test_measures(void **state)
{
	struct beats b = { .n = 2, .unlocated = 7, .crimes_outside = 3, .placed_no_street = 2 };
	struct conc_result res = { .n_streets = 2, .n_active = 1, .crimes = 9, .gini = 0.5 };
	struct beats_summary m = { .b = &b, .res = &res, .months_total = 12, .months_used = 11,
				   .gazetteer = 1, .umonths = 12, .ufrom = 300, .uto = 311,
				   .nn = 1, .nhot = 2 };
	struct table t = { 0 };
	struct mb_error err = { 0 };

	(void)state;
	res.chance.gini_mean = NAN;
	assert_int_equal(beats_measures(&m, &t, &err), 0);
	assert_string_equal(t.title, "Concentration");
	assert_int_equal(value_of(&t, "streets")->i, 2);
	assert_int_equal(value_of(&t, "crimes")->i, 9);
	assert_int_equal(value_of(&t, "crimes_unlocated")->i, 7);
	assert_int_equal(value_of(&t, "events_in_area_without_coordinates")->i, 2);
	assert_int_equal(value_of(&t, "months_used")->i, 11);
	assert_int_equal(value_of(&t, "universe_gazetteer")->i, 1);
	assert_int_equal(value_of(&t, "universe_frozen")->i, 0);
	assert_string_equal(value_of(&t, "universe_first_month")->text, "2025-01");
	assert_string_equal(value_of(&t, "universe_last_month")->text, "2025-12");
	assert_int_equal(value_of(&t, "hot_tied_added")->i, 1);
	assert_int_equal(value_of(&t, "crimes_outside_universe_kind")->i, 3);
	assert_int_equal(value_of(&t, "chance_gini")->kind, TABLE_BLANK);
	assert_true(value_of(&t, "gini")->d == 0.5);
	/* no harm, no stability: those rows are absent */
	assert_null(value_of(&t, "harm_total"));
	assert_null(value_of(&t, "stability_spearman"));
	table_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_count_observed),
		cmocka_unit_test(test_count_gazetteer_kind),
		cmocka_unit_test(test_count_street_unit),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_keep_window),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_measures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
