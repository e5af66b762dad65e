/*
 * Tests for geo.c: polygon layers, point-in-polygon (holes, multipolygons,
 * shared edges), tolerance lookups, load errors, BNG -> WGS84, and the real
 * South Cambridgeshire geography when ../shared is present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "microbeat/geo.h"

#define FIX "tests/fixtures/geo/"

/* Metres per degree of longitude and latitude on the WGS84 ellipsoid at lat
 * (exact: N cos(phi) pi/180 and M pi/180), used to measure test distances
 * independently of geo.c's series. */
static void test_m_per_deg(double lat, double *mx, double *my)
{
	const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
	double p = lat * M_PI / 180, w = 1 - e2 * sin(p) * sin(p);

	*mx = a / sqrt(w) * cos(p) * M_PI / 180;
	*my = a * (1 - e2) / (w * sqrt(w)) * M_PI / 180;
}

/* Distance in metres between two nearby lon/lat points. */
static double test_dist_m(double lon1, double lat1, double lon2, double lat2)
{
	double mx, my;

	test_m_per_deg((lat1 + lat2) / 2, &mx, &my);
	return hypot((lon2 - lon1) * mx, (lat2 - lat1) * my);
}

/* 1 when running under valgrind or a sanitizer build: shrink the big loops. */
static int test_slow(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return getenv("MB_SANITIZED") || getenv("MB_WRAP") || (pre && strstr(pre, "vgpreload"));
}

/* Directory of the shared real data, or NULL (and a printed note) if absent. */
static const char *test_shared_geo(char *buf, size_t len)
{
	const char *root = getenv("MB_SHARED");
	FILE *fp;

	snprintf(buf, len, "%s/datasets/geo/south-cambridgeshire", root ? root : "../shared");
	{
		char probe[600];

		snprintf(probe, sizeof(probe), "%s/ward25.geojson", buf);
		fp = fopen(probe, "r");
	}
	if (!fp) {
		printf("skip: real geography not found at %s (set MB_SHARED)\n", buf);
		return NULL;
	}
	fclose(fp);
	return buf;
}

static struct geo_layer *test_load(const char *path, const char *code, const char *name)
{
	struct geo_layer *l = NULL;
	struct mb_error err = { 0, "" };
	int rc = geo_layer_load(path, code, name, &l, &err);

	if (rc != 0)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(l);
	return l;
}

/* Table-driven point lookups: a point, the expected unit code or NULL for -1. */
struct loc_case {
	double lon, lat;     /* query point */
	const char *code;    /* expected unit code, NULL when no unit */
};

static void test_run_cases(struct geo_layer *l, const struct loc_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long got = geo_layer_locate(l, c[i].lon, c[i].lat);

		if (!c[i].code) {
			if (got != -1)
				print_error("case %zu (%g, %g): got %ld\n", i, c[i].lon, c[i].lat, got);
			assert_int_equal(got, -1);
		} else {
			if (got < 0)
				print_error("case %zu (%g, %g): got -1\n", i, c[i].lon, c[i].lat);
			assert_true(got >= 0);
			assert_string_equal(geo_layer_code(l, (size_t)got), c[i].code);
		}
	}
}

static void test_square_with_hole(void **state)
{
	static const struct loc_case cases[] = {
		{ 0.2, 50.2, "SQ" },    /* interior */
		{ 0.5, 50.5, NULL },    /* inside the hole */
		{ 0.45, 50.55, NULL },  /* inside the hole, off centre */
		{ 0.4, 50.5, "SQ" },    /* on the hole's edge: boundary counts */
		{ 0.0, 50.5, "SQ" },    /* on the outer edge */
		{ 1.0, 51.0, "SQ" },    /* on an outer vertex */
		{ 1.5, 50.5, NULL },    /* outside */
		{ 0.5, 49.99, NULL },   /* just south */
		{ NAN, 50.5, NULL },    /* not a number */
	};
	struct geo_layer *l = test_load(FIX "square_hole.geojson", "code", "name");

	(void)state;
	assert_int_equal(geo_layer_count(l), 1);
	assert_string_equal(geo_layer_code(l, 0), "SQ");
	assert_string_equal(geo_layer_name(l, 0), "Square with a hole");
	assert_null(geo_layer_code(l, 1));
	assert_null(geo_layer_name(l, 1));
	test_run_cases(l, cases, sizeof(cases) / sizeof(cases[0]));
	geo_layer_free(l);
}

static void test_multipolygon(void **state)
{
	static const struct loc_case cases[] = {
		{ 0.5, 50.5, "E1" },   /* first part */
		{ 3.1, 50.5, "E1" },   /* second part, west of its hole */
		{ 3.5, 50.5, NULL },   /* second part's hole */
		{ 2.0, 50.5, "42" },   /* the other feature (integer code) */
		{ 1.25, 50.5, NULL },  /* the gap between */
		{ 2.75, 50.5, NULL },  /* the other gap */
	};
	struct geo_layer *l = test_load(FIX "multi.geojson", "code", NULL);

	(void)state;
	assert_int_equal(geo_layer_count(l), 2);
	assert_string_equal(geo_layer_code(l, 1), "42");
	assert_string_equal(geo_layer_name(l, 1), "42"); /* no name field: the code */
	test_run_cases(l, cases, sizeof(cases) / sizeof(cases[0]));
	geo_layer_free(l);
}

static void test_shared_edge(void **state)
{
	/* the same two squares listed in both orders: an edge point goes to the
	 * first-listed unit (index 0), whichever that is */
	static const struct { const char *file, *first, *second; } files[] = {
		{ FIX "shared_edge.geojson", "WEST", "EAST" },
		{ FIX "shared_edge_rev.geojson", "EAST", "WEST" },
	};

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct geo_layer *l = test_load(files[f].file, "code", "name");
		size_t hits[2] = { 0, 0 };

		assert_string_equal(geo_layer_code(l, 0), files[f].first);
		/* 101 points along the shared edge lon = 1, both ends being shared vertices */
		for (int k = 0; k <= 100; k++) {
			long got = geo_layer_locate(l, 1.0, 50.0 + k / 100.0);

			assert_true(got == 0 || got == 1);
			hits[got]++;
		}
		assert_int_equal(hits[0], 101);
		assert_int_equal(hits[1], 0);
		/* interiors are unaffected */
		assert_string_equal(geo_layer_code(l, (size_t)geo_layer_locate(l, 0.999, 50.5)), "WEST");
		assert_string_equal(geo_layer_code(l, (size_t)geo_layer_locate(l, 1.001, 50.5)), "EAST");
		assert_string_equal(geo_layer_code(l, 1), files[f].second);
		geo_layer_free(l);
	}
}

static void test_nearest(void **state)
{
	struct geo_layer *sq = test_load(FIX "square_hole.geojson", "code", "name");
	struct geo_layer *mp = test_load(FIX "multi.geojson", "code", "name");
	double mx, my;

	(void)state;
	/* 0.0005 deg east of the square's edge at 50.5 N: 35.47 m on the WGS84
	 * ellipsoid (N cos(phi) pi/180 = 70949.44 m per degree, computed in Python) */
	test_m_per_deg(50.5, &mx, &my);
	assert_true(fabs(0.0005 * mx - 35.4747) < 0.001);
	assert_int_equal(geo_layer_locate_nearest(sq, 1.0005, 50.5, 36.0), 0);
	assert_int_equal(geo_layer_locate_nearest(sq, 1.0005, 50.5, 35.0), -1);
	/* 0.0001 deg of latitude south: 11.12 m (M pi/180 = 111238.7 m per degree) */
	assert_int_equal(geo_layer_locate_nearest(sq, 0.5, 49.9999, 11.5), 0);
	assert_int_equal(geo_layer_locate_nearest(sq, 0.5, 49.9999, 10.9), -1);
	/* inside the hole, 0.0001 deg (7.09 m) from the hole's east edge */
	assert_int_equal(geo_layer_locate_nearest(sq, 0.5999, 50.5, 7.5), 0);
	assert_int_equal(geo_layer_locate_nearest(sq, 0.5999, 50.5, 7.0), -1);
	/* a point inside still wins with any tolerance */
	assert_int_equal(geo_layer_locate_nearest(sq, 0.2, 50.2, 0), 0);
	/* equidistant (0.25 deg = 17.7 km) from E1 (index 0) and 42 (index 1): smaller index */
	assert_int_equal(geo_layer_locate_nearest(mp, 1.25, 50.5, 20000), 0);
	/* nearer to 42 */
	assert_int_equal(geo_layer_locate_nearest(mp, 1.3, 50.5, 20000), 1);
	assert_int_equal(geo_layer_locate_nearest(mp, 1.25, 50.5, 17000), -1);
	geo_layer_free(sq);
	geo_layer_free(mp);
}

static void test_load_errors(void **state)
{
	static const struct { const char *file; int code; const char *msg; } cases[] = {
		{ FIX "no_such_file.geojson", MB_EIO,
			"cannot open '" FIX "no_such_file.geojson': No such file or directory" },
		{ FIX "bad_json.geojson", MB_EDATA, FIX "bad_json.geojson:5:" },
		{ FIX "missing_code.geojson", MB_EDATA,
			FIX "missing_code.geojson: feature 2: no 'code' property" },
		{ FIX "point_geom.geojson", MB_EDATA,
			FIX "point_geom.geojson: feature 1: geometry type 'Point' is not Polygon or "
			"MultiPolygon" },
		{ FIX "unclosed.geojson", MB_EDATA,
			FIX "unclosed.geojson: feature 1: a polygon ring is not closed" },
		{ FIX "bng_crs.geojson", MB_EDATA,
			FIX "bng_crs.geojson: unsupported crs 'urn:ogc:def:crs:EPSG::27700'" },
		{ FIX "duplicate.geojson", MB_EDATA,
			FIX "duplicate.geojson: feature 3: duplicate code 'D' (also feature 1)" },
		{ FIX "fire.ini", MB_EDATA, FIX "fire.ini:1:1:" },
		/* invalid polygons load no more (issue 21 item 9): named, with GEOS's reason
		 * and where; hand-made: a bow-tie crossing at its centre, a hole beside its
		 * shell, a ring wound twice round the same square */
		{ FIX "bowtie.geojson", MB_EDATA, FIX "bowtie.geojson: feature 2 (unit 'B'): invalid "
			"polygon: Self-intersection at (2.500000, 50.500000)" },
		{ FIX "hole_outside.geojson", MB_EDATA, FIX "hole_outside.geojson: feature 2 (unit 'H'): "
			"invalid polygon: Hole lies outside shell at (4.000000, 50.000000)" },
		{ FIX "double_wound.geojson", MB_EDATA, FIX "double_wound.geojson: feature 2 (unit 'W'):"
			" invalid polygon: Self-intersection" },
		/* codes and names of blanks were stored */
		{ FIX "blank_code.geojson", MB_EDATA,
			FIX "blank_code.geojson: feature 2: property 'code' is blank" },
		{ FIX "blank_name.geojson", MB_EDATA,
			FIX "blank_name.geojson: feature 2: property 'name' is blank" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct geo_layer *l = (struct geo_layer *)&cases; /* must be reset to NULL */
		struct mb_error err = { 0, "" };
		int rc = geo_layer_load(cases[i].file, "code", "name", &l, &err);

		assert_int_equal(rc, -cases[i].code);
		assert_int_equal(err.code, cases[i].code);
		assert_null(l);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			print_error("case %zu: got '%s'\n", i, err.msg);
		assert_int_equal(strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)), 0);
	}
}

static void test_bng_known_points(void **state)
{
	/*
	 * Reference lon/lat computed independently in Python from the formulas of
	 * OS "A guide to coordinate systems in Great Britain" (v3.6): inverse
	 * Transverse Mercator on Airy 1830 (Annex C; reproduces the guide's worked
	 * example E 651409.903 N 313177.270 -> OSGB36 52 39 27.2531 N,
	 * 1 43 4.5177 E) followed by the guide's 7-parameter Helmert OSGB36 ->
	 * WGS84 through geocentric cartesians. The Helmert itself is good to a few
	 * metres against OSTN15, hence the 5 m tolerance.
	 */
	static const struct { double e, n, lon, lat; } pts[] = {
		{ 651409.903, 313177.270, 1.716051946, 52.657978597 }, /* OS worked example */
		{ 545000, 258000, 0.120309141, 52.201163943 },
		{ 531399, 260061, -0.077782027, 52.223089433 },       /* postcode CB1 0SN */
	};
	struct geo_bng *t = NULL;
	struct mb_error err = { 0, "" };
	double lon = 0, lat = 0;

	(void)state;
	assert_int_equal(geo_bng_open(&t, &err), 0);
	printf("bng transform: %s (accuracy %g m)\n", geo_bng_method(t), geo_bng_accuracy(t));
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		double d;

		assert_int_equal(geo_bng_to_wgs84(t, pts[i].e, pts[i].n, &lon, &lat), 0);
		d = test_dist_m(lon, lat, pts[i].lon, pts[i].lat);
		printf("  E %.3f N %.3f -> %.9f %.9f (%.3f m from reference)\n", pts[i].e, pts[i].n,
			lon, lat, d);
		assert_true(d < 5.0);
	}
	/* out of the grid, not finite: rejected, outputs untouched */
	lon = lat = 99;
	assert_int_equal(geo_bng_to_wgs84(t, -1, 100, &lon, &lat), -MB_EDATA);
	assert_int_equal(geo_bng_to_wgs84(t, 100, 1300001, &lon, &lat), -MB_EDATA);
	assert_int_equal(geo_bng_to_wgs84(t, NAN, 100, &lon, &lat), -MB_EDATA);
	assert_true(lon == 99 && lat == 99);
	geo_bng_close(t);
	geo_bng_close(NULL);
}

/* Independent point-in-polygon: even-odd ray casting over every ring of a
 * GeoJSON (Multi)Polygon held by jansson. */
static int test_pip(json_t *geom, double x, double y)
{
	const char *type = json_string_value(json_object_get(geom, "type"));
	json_t *coords = json_object_get(geom, "coordinates");
	size_t npoly = strcmp(type, "Polygon") == 0 ? 1 : json_array_size(coords);
	int inside = 0;

	for (size_t p = 0; p < npoly; p++) {
		json_t *poly = strcmp(type, "Polygon") == 0 ? coords : json_array_get(coords, p);

		for (size_t r = 0; r < json_array_size(poly); r++) {
			json_t *ring = json_array_get(poly, r);
			size_t n = json_array_size(ring);

			for (size_t i = 0, j = n - 1; i < n; j = i++) {
				double xi = json_number_value(json_array_get(json_array_get(ring, i), 0));
				double yi = json_number_value(json_array_get(json_array_get(ring, i), 1));
				double xj = json_number_value(json_array_get(json_array_get(ring, j), 0));
				double yj = json_number_value(json_array_get(json_array_get(ring, j), 1));

				if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
					inside = !inside;
			}
		}
	}
	return inside;
}

/* Deterministic uniform numbers in [0, 1) (64-bit LCG, Knuth's MMIX constants). */
static double test_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_real_wards(void **state)
{
	char dir[512], path[600];
	struct geo_layer *l;
	struct geo_bng *t = NULL;
	struct mb_error err = { 0, "" };
	json_error_t jerr;
	json_t *root, *feats;
	double minx = 180, miny = 90, maxx = -180, maxy = -90, worst = 0;
	uint64_t seed = 12345;
	size_t npts, ncheck, found = 0;
	struct timespec t0, t1;
	double secs;

	(void)state;
	if (!test_shared_geo(dir, sizeof(dir))) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/ward25.geojson", dir);
	l = test_load(path, "WD25CD", "WD25NM");
	assert_int_equal(geo_layer_count(l), 26);
	assert_string_equal(geo_layer_code(l, 0), "E05011282");
	assert_string_equal(geo_layer_name(l, 0), "Balsham");
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	feats = json_object_get(root, "features");
	assert_int_equal(geo_bng_open(&t, &err), 0);

	/* ONS publishes each ward's label point both as BNG_E/BNG_N and LONG/LAT:
	 * an independent check of the transform (ONS rounds to 1 m and 1e-6 deg). */
	for (size_t i = 0; i < json_array_size(feats); i++) {
		json_t *pr = json_object_get(json_array_get(feats, i), "properties");
		double e = json_number_value(json_object_get(pr, "BNG_E"));
		double n = json_number_value(json_object_get(pr, "BNG_N"));
		double olon = json_number_value(json_object_get(pr, "LONG"));
		double olat = json_number_value(json_object_get(pr, "LAT"));
		double lon, lat, d;

		assert_int_equal(geo_bng_to_wgs84(t, e, n, &lon, &lat), 0);
		d = test_dist_m(lon, lat, olon, olat);
		if (d > worst)
			worst = d;
		assert_true(d < 5.0);
	}
	printf("ward label points: BNG -> WGS84 within %.2f m of ONS LONG/LAT (26 wards)\n", worst);

	/* the layer's extent, from the file */
	for (size_t i = 0; i < json_array_size(feats); i++) {
		json_t *g = json_object_get(json_array_get(feats, i), "geometry");
		json_t *c = json_object_get(g, "coordinates");
		int multi = strcmp(json_string_value(json_object_get(g, "type")), "MultiPolygon") == 0;

		for (size_t p = 0; p < (multi ? json_array_size(c) : 1); p++) {
			json_t *ring = json_array_get(multi ? json_array_get(c, p) : c, 0);

			for (size_t k = 0; k < json_array_size(ring); k++) {
				double x = json_number_value(json_array_get(json_array_get(ring, k), 0));
				double y = json_number_value(json_array_get(json_array_get(ring, k), 1));

				minx = fmin(minx, x);
				maxx = fmax(maxx, x);
				miny = fmin(miny, y);
				maxy = fmax(maxy, y);
			}
		}
	}

	/* agreement with independent ray casting on random points in the extent */
	ncheck = test_slow() ? 500 : 20000;
	for (size_t k = 0; k < ncheck; k++) {
		double x = minx + (maxx - minx) * test_rand(&seed);
		double y = miny + (maxy - miny) * test_rand(&seed);
		long got = geo_layer_locate(l, x, y);
		long want = -1;

		for (size_t i = 0; i < json_array_size(feats) && want < 0; i++)
			if (test_pip(json_object_get(json_array_get(feats, i), "geometry"), x, y))
				want = (long)i;
		if (got != want)
			print_error("point %.9f %.9f: locate %ld, ray casting %ld\n", x, y, got, want);
		assert_int_equal(got, want);
	}

	/* speed, printed: 1M points (fewer under valgrind / sanitizers) */
	npts = test_slow() ? 20000 : 1000000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t k = 0; k < npts; k++) {
		double x = minx + (maxx - minx) * test_rand(&seed);
		double y = miny + (maxy - miny) * test_rand(&seed);

		found += geo_layer_locate(l, x, y) >= 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("located %zu random points in the ward extent in %.3f s (%.0f points/s); "
		"%zu inside a ward\n", npts, secs, (double)npts / secs, found);
	/* the speed is printed, not asserted (no timing assertions: a loaded
	 * machine or a sanitizer build is not a bug) */
	assert_true(found > npts / 3); /* the district fills much of its bounding box */
	json_decref(root);
	geo_bng_close(t);
	geo_layer_free(l);
}

static void test_real_postcodes(void **state)
{
	char dir[512], path[600], line[512];
	struct geo_layer *l;
	struct geo_bng *t = NULL;
	struct mb_error err = { 0, "" };
	size_t rows = 0, inside = 0, tolerated = 0, outside = 0;
	FILE *fp;

	(void)state;
	if (!test_shared_geo(dir, sizeof(dir))) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/lsoa21.geojson", dir);
	l = test_load(path, "LSOA21CD", "LSOA21NM");
	assert_int_equal(geo_layer_count(l), 99);
	assert_int_equal(geo_bng_open(&t, &err), 0);
	snprintf(path, sizeof(path), "%s/codepoint_open_2014_postcodes.csv", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp)); /* header */
	while (fgets(line, sizeof(line), fp)) {
		/* "PC",PQ,EA,NO,...: no commas inside fields */
		char *p = strchr(line, ','), *end;
		double e, n, lon, lat;

		assert_non_null(p);
		p = strchr(p + 1, ',');
		assert_non_null(p);
		errno = 0;
		e = strtod(p + 1, &end);
		assert_true(*end == ',' && errno == 0);
		n = strtod(end + 1, &end);
		assert_true(*end == ',' && errno == 0);
		rows++;
		assert_int_equal(geo_bng_to_wgs84(t, e, n, &lon, &lat), 0);
		if (geo_layer_locate(l, lon, lat) >= 0)
			inside++;
		else if (geo_layer_locate_nearest(l, lon, lat, 50.0) >= 0)
			tolerated++;
		else {
			outside++;
			print_error("postcode %.10s at E %.0f N %.0f: not within 50 m of an LSOA\n",
				line, e, n);
		}
	}
	fclose(fp);
	printf("postcodes: %zu, inside an LSOA 2021 polygon: %zu, within 50 m: %zu, "
		"further: %zu\n", rows, inside, tolerated, outside);
	assert_int_equal(rows, 3782);
	assert_int_equal(outside, 0);
	geo_bng_close(t);
	geo_layer_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_square_with_hole),
		cmocka_unit_test(test_multipolygon),
		cmocka_unit_test(test_shared_edge),
		cmocka_unit_test(test_nearest),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_bng_known_points),
		cmocka_unit_test(test_real_wards),
		cmocka_unit_test(test_real_postcodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
