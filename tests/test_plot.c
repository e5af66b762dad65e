/*
 * Unit tests of plot: data-file formatting (checked byte for byte and, when
 * gnuplot is installed, read back by gnuplot itself), the safety rule (hostile
 * labels never reach script text and never run), rendering of every chart to
 * PNG and SVG, how gnuplot is started (argv, folder, clean environment, via a
 * fake gnuplot that records them), failures, and the no-gnuplot path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "microbeat/common.h"
#include "microbeat/plot.h"
#include "microbeat/plot_map.h"

/* Marker file a successful injection would create ("/tmp/mb_pwned_<pid>"). */
static char pwned[64];
/* Hostile labels, built in setup with the marker path inside. */
static char hostile[8][160];
static const char *hostile_p[8];
/* Folder of the repository's plots/ scripts. */
static char plots_dir[PATH_MAX];

/* ---- helpers --------------------------------------------------------------- */

/* Remove path and everything under it (no symlinks followed). */
static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char sub[PATH_MAX];

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d) {
		e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rm_rf(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* Read dir/name into a malloc'd NUL-terminated buffer (NULL when missing). */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

/* Non-zero when dir/name exists. */
static int has(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* Write an executable shell script dir/name with the given body. */
static void put_exec(const char *dir, const char *name, const char *body, char *path,
	size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Make a fresh temporary folder into buf. */
static void mk_tmp(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/mb_test_plot_XXXXXX");
	assert_non_null(mkdtemp(buf));
}

/* Non-zero when gnuplot is installed (MB_GNUPLOT unset). */
static int have_gnuplot(void)
{
	char *gp;

	unsetenv("MB_GNUPLOT");
	gp = plot_find_gnuplot();
	free(gp);
	return gp != NULL;
}

static int setup(void **state)
{
	const char *root = getenv("MB_ROOT");
	struct stat st;

	(void)state;
	snprintf(pwned, sizeof(pwned), "/tmp/mb_pwned_%ld", (long)getpid());
	snprintf(hostile[0], sizeof(hostile[0]), "`touch %s`", pwned);
	snprintf(hostile[1], sizeof(hostile[1]), "system(\"touch %s\")", pwned);
	snprintf(hostile[2], sizeof(hostile[2]), "\"; !touch %s", pwned);
	snprintf(hostile[3], sizeof(hostile[3]), "$(touch %s) @x", pwned);
	snprintf(hostile[4], sizeof(hostile[4]), "<script>alert(1)</script>");
	snprintf(hostile[5], sizeof(hostile[5]), "back\\slash \\\" %s", pwned);
	snprintf(hostile[6], sizeof(hostile[6]), "line\nbreak'; system('touch %s')", pwned);
	snprintf(hostile[7], sizeof(hostile[7]), "Caf\xc3\xa9 Road \xe2\x80\x8f");
	for (int i = 0; i < 8; i++)
		hostile_p[i] = hostile[i];
	snprintf(plots_dir, sizeof(plots_dir), "%s/plots", root ? root : ".");
	if (stat(plots_dir, &st) != 0)
		fail_msg("no plots folder at '%s' (run from the repository root)", plots_dir);
	setenv("MB_PLOTS", plots_dir, 1);
	unlink(pwned);
	return 0;
}

/* ---- data files ------------------------------------------------------------ */

static void test_dat_format(void **state)
{
	(void)state;
	char dir[64];
	struct plot_dat d;
	struct mb_error err = { 0 };
	char *text;

	mk_tmp(dir, sizeof(dir));
	assert_int_equal(plot_dat_open(&d, dir, "../x.dat", &err), -MB_EUSAGE);
	assert_int_equal(plot_dat_open(&d, dir, "x.gp", &err), -MB_EUSAGE);
	assert_int_equal(plot_dat_open(&d, dir, "x.dat", &err), 0);
	plot_dat_num(&d, 0.1);
	plot_dat_num(&d, -2.5);
	plot_dat_num(&d, NAN);
	plot_dat_num(&d, INFINITY);
	plot_dat_int(&d, -42);
	plot_dat_month(&d, 279);
	plot_dat_endrow(&d);
	plot_dat_text(&d, "say \"hi\"");
	plot_dat_text(&d, "a\\b\tc\nd\r");
	plot_dat_text(&d, "bad\xff utf8 \xc3\xa9");
	plot_dat_text(&d, NULL);
	plot_dat_text(&d, "`x` # not a comment");
	plot_dat_endrow(&d);
	plot_dat_num(&d, 1);
	plot_dat_gap(&d);
	plot_dat_num(&d, 2);
	assert_int_equal(plot_dat_close(&d, &err), 0);
	text = slurp(dir, "x.dat", NULL);
	assert_non_null(text);
	/* %.17g of 0.1 is 0.10000000000000001; month 279 = 2023-04. */
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"0.10000000000000001 -2.5 NaN NaN -42 2023-04\n"
		"\"say \xe2\x80\x9dhi\xe2\x80\x9d\" \"a\\\\b c d \" \"bad? utf8 \xc3\xa9\" \"\" "
		"\"`x` # not a comment\"\n"
		"1\n\n"
		"2\n");
	free(text);
	assert_int_equal(plot_dat_close(&d, &err), 0); /* closing twice is harmless */

	/* A folder that does not exist fails at open. */
	assert_int_equal(plot_dat_open(&d, "/nonexistent", "y.dat", &err), -MB_EIO);
	rm_rf(dir);
}

/* Labels end up as SVG text (gnuplot escapes < and & but not the > of
 * "]]>", which XML forbids in text): "]]>" never reaches a data file, a
 * zero-width space (U+200B) goes before its >; U+FFFE/U+FFFF (not XML
 * characters) become '?'; a lone > or ]] stays as it is. */
static void test_dat_text_xml(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "A]]>B", "\"A]]\xe2\x80\x8b>B\"" },
		{ "]]>", "\"]]\xe2\x80\x8b>\"" },
		{ "x]]]]>>", "\"x]]]]\xe2\x80\x8b>>\"" },
		{ "a > b ]] c ]>", "\"a > b ]] c ]>\"" },
		{ "u\xef\xbf\xbeu\xef\xbf\xbf", "\"u?u?\"" },
	};
	char dir[64], want[128];
	struct plot_dat d;
	struct mb_error err = { 0 };

	mk_tmp(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text;

		assert_int_equal(plot_dat_open(&d, dir, "x.dat", &err), 0);
		plot_dat_text(&d, cases[i].in);
		assert_int_equal(plot_dat_close(&d, &err), 0);
		text = slurp(dir, "x.dat", NULL);
		assert_non_null(text);
		snprintf(want, sizeof(want), "# microbeat chart data (quoted fields are labels)\n%s\n",
			 cases[i].want);
		assert_string_equal(text, want);
		assert_null(strstr(text, "]]>"));
		free(text);
	}
	rm_rf(dir);
}

/* Run argv (argv[0] a full path) in dir; return its exit status. */
static int run_in(const char *dir, char *const argv[])
{
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (chdir(dir) != 0)
			_exit(126);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The class map without a hot cluster: spread micro-beats, micro-beats on a
 * north-south line, and one alone, none labelled and no outline. gnuplot 5.4
 * crashed on a labels file whose only row was NaN (exit 139: every map
 * without a hot cluster, and its folder, was lost) and drew a sliver of an
 * axis at equal scales. Each now renders; the labels file holds only empty
 * labels, and with them each axis spans at least a tenth of the other and
 * 200 m (one empty label alone when no axis is thin). */
static void test_classmap_edges(void **state)
{
	static const double sx[5] = { 0, 1000, 2500, -800, 300 }, sy[5] = { 0, 500, -1200, 900, 2000 };
	static const double lx[4] = { 100, 100, 100, 100 }, ly[4] = { 0, 1000, 2000, 3000 };
	static const double px[1] = { 5000 }, py[1] = { -3000 };
	static const unsigned char cls[5] = { 0, 0, 1, 0, 0 };
	static const struct {
		size_t n;
		const double *x, *y;
		size_t rows; /* label rows written */
	} c[3] = { { 5, sx, sy, 1 }, { 4, lx, ly, 2 }, { 1, px, py, 4 } };
	int gp = have_gnuplot();

	(void)state;
	for (int k = 0; k < 3; k++) {
		char dir[64], png[128];
		struct mb_error err = { 0 };
		struct plot_classmap m = { .title = "t", .subtitle = "s", .n = c[k].n, .x = c[k].x,
					   .y = c[k].y, .cls = cls };
		double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, span;
		size_t rows = 0;

		mk_tmp(dir, sizeof(dir));
		if (!gp)
			setenv("MB_GNUPLOT", "/nonexistent", 1);
		assert_int_equal(plot_classmap(dir, "hotspot_map", &m, &err), 0);
		unsetenv("MB_GNUPLOT");
		snprintf(png, sizeof(png), "%s/hotspot_map.png", dir);
		if (gp)
			assert_int_equal(access(png, F_OK), 0);
		for (size_t i = 0; i < c[k].n; i++) {
			x0 = fmin(x0, c[k].x[i] / 1000), x1 = fmax(x1, c[k].x[i] / 1000);
			y0 = fmin(y0, c[k].y[i] / 1000), y1 = fmax(y1, c[k].y[i] / 1000);
		}
		char *txt = slurp(dir, "hotspot_map-labels.dat", NULL);

		assert_non_null(txt);
		for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
			double x, y;
			char q[3];

			if (line[0] == '#')
				continue;
			assert_int_equal(sscanf(line, "%lf %lf %2s", &x, &y, q), 3);
			assert_string_equal(q, "\"\""); /* an empty label */
			x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
			rows++;
		}
		free(txt);
		assert_int_equal(rows, c[k].rows);
		span = fmax(0.2, fmax(x1 - x0, y1 - y0) / 10) - 1e-9;
		assert_true(x1 - x0 >= span && y1 - y0 >= span);
		rm_rf(dir);
	}
}

static void test_dat_read_back_by_gnuplot(void **state)
{
	(void)state;
	/* What gnuplot must read back for each hostile label: quotes become
	 * U+201D, control characters spaces; everything else unchanged. */
	char want[8][200];
	char dir[64];
	struct plot_dat d;
	struct mb_error err = { 0 };
	char *gp, *out, *line;
	FILE *f;
	char script[PATH_MAX];

	if (!have_gnuplot())
		skip();
	gp = plot_find_gnuplot();
	mk_tmp(dir, sizeof(dir));
	assert_int_equal(plot_dat_open(&d, dir, "labels.dat", &err), 0);
	for (int i = 0; i < 8; i++) {
		char *w = want[i];

		plot_dat_int(&d, i);
		plot_dat_text(&d, hostile[i]);
		plot_dat_num(&d, i * 1.5);
		plot_dat_endrow(&d);
		for (const char *p = hostile[i]; *p; p++) {
			if (*p == '"') {
				memcpy(w, "\xe2\x80\x9d", 3);
				w += 3;
			} else {
				*w++ = *p == '\n' ? ' ' : *p;
			}
		}
		*w = '\0';
	}
	assert_int_equal(plot_dat_close(&d, &err), 0);
	snprintf(script, sizeof(script), "%s/read.gp", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs("set print 'out.txt'\n"
	      "do for [i=0:7] {\n"
	      "  stats 'labels.dat' every ::i::i using (s = strcol(2), v = column(3), 0) nooutput\n"
	      "  print sprintf('%s|%g', s, v)\n"
	      "}\n", f);
	assert_int_equal(fclose(f), 0);
	{
		char *const argv[] = { gp, (char *)"read.gp", NULL };

		assert_int_equal(run_in(dir, argv), 0);
	}
	out = slurp(dir, "out.txt", NULL);
	assert_non_null(out);
	line = out;
	for (int i = 0; i < 8; i++) {
		char expect[sizeof(want) + 40];
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		*nl = '\0';
		snprintf(expect, sizeof(expect), "%s|%g", want[i], i * 1.5);
		assert_string_equal(line, expect);
		line = nl + 1;
	}
	assert_false(access(pwned, F_OK) == 0);
	free(out);
	free(gp);
	rm_rf(dir);
}

static void test_monthly_gaps_file(void **state)
{
	(void)state;
	char dir[64];
	struct mb_error err = { 0 };
	double count[] = { 5, NAN, NAN, 7, 8, NAN };
	double trend[] = { 5, 5.5, 6, 6.5, 7, 7.5 };
	struct plot_monthly m = { "t", NULL, 6, 287, count, trend, 6, 13.348469228349535,
		NAN, NULL, 0, 0 };
	char *text;

	setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	assert_int_equal(plot_monthly(dir, "m", &m, &err), 0);
	text = slurp(dir, "m.dat", NULL);
	assert_non_null(text);
	/* Month 287 = 2023-12. One blank line per run of missing months. */
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"2023-12 5 13.348469228349535 NaN\n"
		"\n"
		"2024-03 7 13.348469228349535 NaN\n"
		"2024-04 8 13.348469228349535 NaN\n"
		"\n");
	free(text);
	text = slurp(dir, "m-fit.dat", NULL);
	assert_non_null(text);
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"2023-12 5 6 13.348469228349535 NaN 0\n"
		"2024-01 5.5 6 13.348469228349535 NaN 1\n"
		"2024-02 6 6 13.348469228349535 NaN 1\n"
		"2024-03 6.5 6 13.348469228349535 NaN 0\n"
		"2024-04 7 6 13.348469228349535 NaN 0\n"
		"2024-05 7.5 6 13.348469228349535 NaN 1\n");
	free(text);
	text = slurp(dir, "m-meta.dat", NULL);
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"\"t\" \"Crimes per month\" 3 1 1 1 0 0\n");
	free(text);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* Months under the lower control limit are marked as the text counts them
 * (docs/methods-trends.md §4: below when y < LCL), apart from those above the
 * upper limit: centre 30, limits 30 -+ 3 sqrt(30) = 13.568 / 46.432; 8 and 12
 * are below, 52 above, the gap neither. */
static void test_monthly_below_marked(void **state)
{
	(void)state;
	char dir[64];
	struct mb_error err = { 0 };
	double count[] = { 30, 8, 31, 52, 29, NAN, 12, 33 };
	double c = 30, h = 3 * sqrt(30);
	struct plot_monthly m = { "t", NULL, 8, 300, count, NULL, c, c + h, c - h, NULL, 303, 4 };
	char *text;
	size_t len;

	if (!have_gnuplot()) {
		print_message("gnuplot not installed: the drawn marks are not checked\n");
		setenv("MB_GNUPLOT", "/nonexistent", 1);
	}
	mk_tmp(dir, sizeof(dir));
	assert_int_equal(plot_monthly(dir, "m", &m, &err), 0);
	text = slurp(dir, "m-meta.dat", NULL);
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"\"t\" \"Crimes per month\" 1 1 0 1 1 2\n");
	free(text);
	/* the baseline (4 months to 2025-04) named in the centre line's key */
	text = slurp(dir, "m-note.dat", NULL);
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"\"\" \"Centre line (mean of 2025-01..2025-04)\" 1\n");
	free(text);
	text = slurp(dir, "m.dat", NULL);
	assert_string_equal(text,
		"# microbeat chart data (quoted fields are labels)\n"
		"2025-01 30 46.431676725154986 13.568323274845017\n"
		"2025-02 8 46.431676725154986 13.568323274845017\n"
		"2025-03 31 46.431676725154986 13.568323274845017\n"
		"2025-04 52 46.431676725154986 13.568323274845017\n"
		"2025-05 29 46.431676725154986 13.568323274845017\n"
		"\n"
		"2025-07 12 46.431676725154986 13.568323274845017\n"
		"2025-08 33 46.431676725154986 13.568323274845017\n");
	free(text);
	if (have_gnuplot()) {
		/* gnuplot's SVG: one mark per month below (navy), one per month
		 * above (red), and one of each in the key */
		char *svg = slurp(dir, "m.svg", &len), *p = svg;
		int navy = 0, red = 0;

		assert_non_null(svg);
		while ((p = strstr(p, "color='rgb(  8,  48, 107)'")))
			navy++, p++;
		for (p = svg; (p = strstr(p, "color='rgb(214,  39,  40)'")); p++)
			red++;
		assert_int_equal(navy, 2 + 1);
		assert_int_equal(red, 1 + 1);
		assert_non_null(strstr(svg, "<text>Below the lower limit</text>"));
		assert_non_null(strstr(svg, "<text>Above the upper limit</text>"));
		assert_non_null(strstr(svg, "<text>Centre line (mean of 2025-01..2025-04)</text>"));
		free(svg);
	}
	/* nothing above or below (centre 4: limits 10 and 0): neither key entry,
	 * no mark */
	{
		double few[] = { 3, 5, 4, 2 };
		struct plot_monthly q = { "t", NULL, 4, 300, few, NULL, 4, 10, 0, NULL, 0, 0 };

		assert_int_equal(plot_monthly(dir, "q", &q, &err), 0);
		text = slurp(dir, "q-meta.dat", NULL);
		assert_string_equal(text,
			"# microbeat chart data (quoted fields are labels)\n"
			"\"t\" \"Crimes per month\" 0 1 0 1 0 0\n");
		free(text);
		if (have_gnuplot()) {
			char *svg = slurp(dir, "q.svg", &len);

			assert_non_null(svg);
			assert_non_null(strstr(svg, "<text>Centre line (mean)</text>"));
			assert_null(strstr(svg, "Above the upper limit"));
			assert_null(strstr(svg, "Below the lower limit"));
			assert_null(strstr(svg, "color='rgb(214,  39,  40)'"));
			assert_null(strstr(svg, "color='rgb(  8,  48, 107)'"));
			free(svg);
		}
	}
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* ---- keys name only what is drawn -------------------------------------------- */

/* Occurrences of needle in s. */
static int count_of(const char *s, const char *needle)
{
	int k = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

/* Check that dir/NAME-meta.dat is meta and, when gnuplot drew dir/NAME.svg,
 * that its key holds entry[i] (as gnuplot's SVG <text>) exactly when
 * shown[i], and that mark[k] (a colour attribute) occurs marks[k] times. */
static void check_key(const char *dir, const char *name, const char *meta,
	const char *const *entry, const int *shown, size_t nentry, const char *const *mark,
	const int *marks, size_t nmark)
{
	char file[PLOT_NAME_MAX + 16], text[128];
	char *got;

	snprintf(file, sizeof(file), "%s-meta.dat", name);
	got = slurp(dir, file, NULL);
	assert_non_null(got);
	assert_string_equal(got, meta);
	free(got);
	if (!have_gnuplot())
		return;
	snprintf(file, sizeof(file), "%s.svg", name);
	got = slurp(dir, file, NULL);
	assert_non_null(got);
	for (size_t i = 0; i < nentry; i++) {
		snprintf(text, sizeof(text), "<text>%s</text>", entry[i]);
		if ((strstr(got, text) != NULL) != (shown[i] != 0))
			fail_msg("%s: key entry '%s' %s", name, entry[i],
				 shown[i] ? "missing" : "shown with nothing drawn");
	}
	for (size_t k = 0; k < nmark; k++)
		if (count_of(got, mark[k]) != marks[k])
			fail_msg("%s: %d of %s, want %d", name, count_of(got, mark[k]), mark[k],
				 marks[k]);
	free(got);
}

/* The hot spot map's key names only the Gi* classes drawn (the demo's key
 * listed three cold classes with no cold spot), and hot 90% is drawn in
 * RdBu's #f4a582, not the #fddbc7 that was hard to tell from the grey of
 * not significant. A micro-beat without a position is not drawn and not
 * counted. */
static void test_classmap_key(void **state)
{
	static const char *const entry[9] = { "not significant", "hot spot, 99% conf.",
		"hot spot, 95%", "hot spot, 90%", "cold spot, 99%", "cold spot, 95%",
		"cold spot, 90%", "isolated (no neighbour)", "not testable" };
	static const char *const mark[2] = { "color='rgb(244, 165, 130)'",
		"color='rgb(253, 219, 199)'" };
	static const double x[6] = { 0, 1000, 2000, 3000, 4000, NAN };
	static const double y[6] = { 0, 800, -500, 1500, 300, 0 };
	static const struct {
		unsigned char cls[6]; /* classes of the six micro-beats (the last not drawn) */
		const char *meta;     /* NAME-meta.dat wanted */
		int shown[9];         /* key entries of classes 0..8 wanted */
		int marks[2];         /* hot 90% marks (points and key), old-colour marks */
	} c[2] = {
		{ { 0, 1, 2, 3, 7, 4 }, "\"t\" \"s\" 0 1 1 1 1 0 0 0 1 0\n",
		  { 1, 1, 1, 1, 0, 0, 0, 1, 0 }, { 2, 0 } },
		{ { 0, 4, 5, 6, 8, 3 }, "\"t\" \"s\" 0 1 0 0 0 1 1 1 0 1\n",
		  { 1, 0, 0, 0, 1, 1, 1, 0, 1 }, { 0, 0 } },
	};
	char dir[64], meta[128];
	struct mb_error err = { 0 };

	(void)state;
	if (!have_gnuplot())
		setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	for (size_t k = 0; k < 2; k++) {
		struct plot_classmap m = { .title = "t", .subtitle = "s", .n = 6, .x = x, .y = y,
					   .cls = c[k].cls };
		char name[16];

		snprintf(name, sizeof(name), "map%zu", k);
		assert_int_equal(plot_classmap(dir, name, &m, &err), 0);
		snprintf(meta, sizeof(meta), "# microbeat chart data (quoted fields are labels)\n%s",
			 c[k].meta);
		check_key(dir, name, meta, entry, c[k].shown, 9, mark, c[k].marks, 2);
	}
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* The map's labels are placed apart: three micro-beats a street apart (the
 * demo's "CHURCH STREET" and "PARKING AREA" printed over each other) get
 * label boxes that do not overlap (9-point text, 5.6 px a character and 13 px
 * a line on a 700-px map), the topmost and a far one stay at their points,
 * and a moved one is only moved down. */
static void test_map_labels_apart(void **state)
{
	static const double x[5] = { 0, 60, 120, 9000, -9000 }, y[5] = { 0, 15, -10, 9000, -9000 };
	static const unsigned char cls[5] = { 1, 1, 2, 1, 0 };
	static const size_t at[4] = { 0, 1, 2, 3 };
	static const char *const name[4] = { "CHURCH STREET", "PARKING AREA", "HIGH STREET",
					      "FAR LANE" };
	double lx[4], ly[4], px = 18000.0 / 700.0 / 1000.0; /* km a pixel: 18 km across */
	char dir[64];
	struct mb_error err = { 0 };
	struct plot_classmap m = { .title = "t", .subtitle = "s", .n = 5, .x = x, .y = y,
				   .cls = cls, .nlabel = 4, .label_at = at, .label = name };
	size_t k = 0;

	(void)state;
	setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	assert_int_equal(plot_classmap(dir, "map", &m, &err), 0);
	char *txt = slurp(dir, "map-labels.dat", NULL);

	assert_non_null(txt);
	for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
		double px0, py0;
		int off = 0;

		if (line[0] == '#')
			continue;
		assert_true(k < 4);
		assert_int_equal(sscanf(line, "%lf %lf %n", &px0, &py0, &off), 2);
		assert_true(strncmp(line + off + 1, name[k], strlen(name[k])) == 0);
		assert_int_equal(sscanf(line + off + strlen(name[k]) + 2, "%lf %lf", &lx[k], &ly[k]), 2);
		assert_true(fabs(px0 - x[k] / 1000) < 1e-9 && fabs(lx[k] - px0) < 1e-9);
		assert_true(ly[k] <= py0 + 1e-12); /* down only */
		k++;
	}
	free(txt);
	assert_int_equal(k, 4);
	assert_true(fabs(ly[1] - y[1] / 1000) < 1e-12); /* the topmost */
	assert_true(fabs(ly[3] - y[3] / 1000) < 1e-12); /* the far one */
	assert_true(ly[0] < y[0] / 1000 || ly[2] < y[2] / 1000); /* someone moved */
	for (size_t a = 0; a < 4; a++)
		for (size_t b = a + 1; b < 4; b++) {
			double wa = (double)(strlen(name[a]) + 1) * 5.6 * px;
			double wb = (double)(strlen(name[b]) + 1) * 5.6 * px;
			int xo = lx[a] < lx[b] + wb && lx[b] < lx[a] + wa;

			assert_false(xo && fabs(ly[a] - ly[b]) < 13.0 * px - 1e-9);
		}
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* The year-on-year key names "Significant rise", "Significant fall", "Not
 * significant" and the whiskers only when such a bar or whisker is drawn
 * (the demo's key showed a significant fall beside no blue bar). */
static void test_yoy_key(void **state)
{
	static const char *const entry[4] = { "Significant rise", "Significant fall",
		"Not significant", "Interval used by the verdict" };
	static const char *const lab[3] = { "a", "b", "c" };
	static const struct {
		double pct[3], lo[3], hi[3];
		int sig[3];
		const char *meta; /* NAME-meta.dat wanted */
		int shown[4];     /* key entries wanted */
	} c[3] = {
		/* rises only; the undefined change draws nothing */
		{ { 12, 35, NAN }, { 2, 10, NAN }, { 23, 65, NAN }, { 1, 1, 1 },
		  "\"t\" \"\" 3 2 0 0 2\n", { 1, 0, 0, 1 } },
		/* a fall and two not significant, one without a whisker */
		{ { -30, 5, 3 }, { -45, -8, -6 }, { -12, 20, NAN }, { 1, 0, 0 },
		  "\"t\" \"\" 3 0 1 2 2\n", { 0, 1, 1, 1 } },
		/* a bar without whiskers: no interval in the key */
		{ { -4, NAN, NAN }, { NAN, NAN, NAN }, { NAN, NAN, NAN }, { 0, 0, 0 },
		  "\"t\" \"\" 3 0 0 1 0\n", { 0, 0, 1, 0 } },
	};
	char dir[64], meta[128];
	struct mb_error err = { 0 };

	(void)state;
	if (!have_gnuplot())
		setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	for (size_t k = 0; k < 3; k++) {
		struct plot_yoy y = { "t", 3, lab, c[k].pct, c[k].lo, c[k].hi, c[k].sig };
		char name[16];

		snprintf(name, sizeof(name), "yoy%zu", k);
		assert_int_equal(plot_yoy(dir, name, &y, &err), 0);
		snprintf(meta, sizeof(meta), "# microbeat chart data (quoted fields are labels)\n%s",
			 c[k].meta);
		check_key(dir, name, meta, entry, c[k].shown, 4, NULL, NULL, 0);
	}
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* The funnel draws units below the 99.8% limit (outlier -2) navy, apart from
 * those below the 95% limit only (blue), as it draws red apart from orange
 * above; each key entry only when such a unit is drawn. */
static void test_funnel_key(void **state)
{
	static const char *const entry[5] = { "Below the 99.8% limit", "Below the 95% limit",
		"Within limits", "Above the 95% limit", "Above the 99.8% limit" };
	static const char *const mark[5] = { "color='rgb(  8,  48, 107)'",
		"color='rgb( 33, 102, 172)'", "color='rgb(150, 150, 150)'",
		"color='rgb(230, 126,  34)'", "color='rgb(192,  57,  43)'" };
	static const char *const lab[6] = { "a", "b", "c", "d", "e", "f" };
	static const double pop[6] = { 1000, 2000, 3000, 4000, 5000, 6000 };
	static const double rate[6] = { 5, 14, 20, 26, 40, 4 };
	static const double lp[3] = { 500, 3000, 7000 }, l95[3] = { 10, 15, 17 },
		h95[3] = { 30, 25, 23 }, l998[3] = { 5, 12, 15 }, h998[3] = { 35, 28, 25 };
	static const struct {
		int outl[6];      /* outlier class of each unit */
		const char *meta; /* NAME-meta.dat wanted */
		int shown[5];     /* key entries wanted, classes -2..2 */
		int marks[5];     /* marks of each colour: points and key */
	} c[2] = {
		{ { -2, -1, 0, 1, 2, -2 }, "\"t\" \"y\" 20 6 2 1 1 1 1\n", { 1, 1, 1, 1, 1 },
		  { 3, 2, 2, 2, 2 } },
		{ { 0, 0, 0, 1, 0, 0 }, "\"t\" \"y\" 20 6 0 0 5 1 0\n", { 0, 0, 1, 1, 0 },
		  { 0, 0, 6, 2, 0 } },
	};
	char dir[64], meta[160];
	struct mb_error err = { 0 };

	(void)state;
	if (!have_gnuplot())
		setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	for (size_t k = 0; k < 2; k++) {
		struct plot_funnel f = { "t", "y", 6, lab, pop, rate, c[k].outl, 20, 3, lp, l95,
			h95, l998, h998, NULL, NULL };
		char name[16];

		snprintf(name, sizeof(name), "funnel%zu", k);
		assert_int_equal(plot_funnel(dir, name, &f, &err), 0);
		snprintf(meta, sizeof(meta), "# microbeat chart data (quoted fields are labels)\n%s",
			 c[k].meta);
		check_key(dir, name, meta, entry, c[k].shown, 5, mark, c[k].marks, 5);
	}
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

/* ---- charts ---------------------------------------------------------------- */

/* Draw every chart into dir with hostile labels and titles. Return the number
 * of charts drawn; names[] receives their names. */
static size_t draw_all(const char *dir, const char **names)
{
	struct mb_error err = { 0 };
	size_t k = 0;
	double x[21], y[21], cx[21], cy[21];
	double cnt[8] = { 120, 95, 80, 66, 60, 51, 44, 40 };
	double pct[8] = { 12, -8, 35, -30, 3, NAN, 60, 0 };
	double lo[8] = { 2, -15, 10, -45, -5, NAN, 20, -10 };
	double hi[8] = { 23, 0.5, 65, -12, 12, NAN, INFINITY, 11 };
	int sig[8] = { 1, 0, 1, 1, 0, 0, 1, 0 };
	double month[30], trend[30];
	double mean[12], slo[12], shi[12];
	double v[8 * 5];
	double pop[8], rate[8], lp[40], l95[40], h95[40], l998[40], h998[40];
	int outl[8] = { 0, 0, 2, 0, 0, 1, 0, 0 };
	const char *mon[12] = { "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
		"Dec", "Jan", "Feb", "Mar" };

	for (int i = 0; i <= 20; i++) {
		x[i] = i * 5;
		y[i] = 100 * (1 - pow(1 - i / 20.0, 5));
		cx[i] = x[i];
		cy[i] = 100 * (1 - pow(1 - i / 20.0, 1.7));
	}
	struct plot_lorenz L = { hostile[0], hostile[1], 21, x, y, 21, cx, cy, 3, 3.2, 31.4 };
	assert_int_equal(plot_lorenz(dir, "lorenz", &L, &err), 0);
	names[k++] = "lorenz";

	struct plot_hot_streets H = { hostile[2], hostile[3], 8, hostile_p, cnt };
	assert_int_equal(plot_hot_streets(dir, "hot_streets", &H, &err), 0);
	names[k++] = "hot_streets";

	for (int i = 0; i < 30; i++) {
		month[i] = 40 + 10 * sin(i * 0.5) + i * 0.3;
		trend[i] = 42 + i * 0.3;
	}
	month[5] = month[6] = month[17] = NAN;
	month[25] = 75;
	struct plot_monthly M = { hostile[4], hostile[5], 30, 279, month, trend, 48,
		48 + 3 * sqrt(48), 48 - 3 * sqrt(48), NULL, 0, 0 };
	assert_int_equal(plot_monthly(dir, "monthly", &M, &err), 0);
	names[k++] = "monthly";

	struct plot_yoy Y = { hostile[6], 8, hostile_p, pct, lo, hi, sig };
	assert_int_equal(plot_yoy(dir, "yoy", &Y, &err), 0);
	names[k++] = "yoy";

	for (int i = 0; i < 12; i++) {
		mean[i] = 40 + 8 * sin(i * 0.5);
		slo[i] = mean[i] - 5;
		shi[i] = mean[i] + 5;
	}
	struct plot_seasonal S = { hostile[0], hostile[1], 12, mon, mean, slo, shi };
	assert_int_equal(plot_seasonal(dir, "seasonal", &S, &err), 0);
	names[k++] = "seasonal";

	for (int i = 0; i < 40; i++)
		v[i] = (i * 7) % 5;
	v[3] = NAN;
	struct plot_heatmap HM = { hostile[2], 8, 5, hostile_p, hostile_p + 2, v, 4, NULL };
	assert_int_equal(plot_heatmap(dir, "heatmap", &HM, &err), 0);
	names[k++] = "heatmap";

	for (int i = 0; i < 8; i++) {
		pop[i] = 500 + i * 1200;
		rate[i] = 20 + ((i * 37) % 11) - 5;
	}
	rate[2] = 45;
	rate[5] = 12;
	for (int i = 0; i < 40; i++) {
		double s;

		lp[i] = 300 + i * 250;
		s = sqrt(20.0 * 1000 / lp[i]);
		l95[i] = fmax(0, 20 - 1.96 * s);
		h95[i] = 20 + 1.96 * s;
		l998[i] = fmax(0, 20 - 3.09 * s);
		h998[i] = 20 + 3.09 * s;
	}
	struct plot_funnel F = { hostile[3], hostile[4], 8, hostile_p, pop, rate, outl, 20,
		40, lp, l95, h95, l998, h998, NULL, NULL };
	assert_int_equal(plot_funnel(dir, "funnel", &F, &err), 0);
	names[k++] = "funnel";
	return k;
}

static void test_hostile_labels_render(void **state)
{
	(void)state;
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
	const char *names[16];
	char dir[64], file[PLOT_NAME_MAX + 8];
	size_t n, len;
	int drawn = have_gnuplot();

	if (!drawn) {
		print_message("gnuplot not installed: rendering checks skipped\n");
		setenv("MB_GNUPLOT", "/nonexistent", 1);
	}
	mk_tmp(dir, sizeof(dir));
	n = draw_all(dir, names);
	assert_int_equal(n, 7);
	assert_false(access(pwned, F_OK) == 0);
	for (size_t i = 0; i < n; i++) {
		char *gp, *orig, *img;

		/* The script is the fixed one from plots/, byte for byte ... */
		snprintf(file, sizeof(file), "%s.gp", names[i]);
		gp = slurp(dir, file, NULL);
		orig = slurp(plots_dir, file, NULL);
		assert_non_null(gp);
		assert_non_null(orig);
		assert_string_equal(gp, orig);
		/* ... so no label text can be in it. */
		for (int h = 0; h < 8; h++)
			assert_null(strstr(gp, hostile[h]));
		assert_null(strstr(gp, "mb_pwned"));
		free(gp);
		free(orig);
		snprintf(file, sizeof(file), "%s.dat", names[i]);
		assert_true(has(dir, file));
		if (!drawn) {
			snprintf(file, sizeof(file), "%s.png", names[i]);
			assert_false(has(dir, file));
			continue;
		}
		snprintf(file, sizeof(file), "%s.png", names[i]);
		img = slurp(dir, file, &len);
		if (!img)
			fail_msg("%s not drawn", file);
		assert_true(len > 5000);
		assert_memory_equal(img, png_magic, 8);
		free(img);
		snprintf(file, sizeof(file), "%s.svg", names[i]);
		img = slurp(dir, file, &len);
		if (!img)
			fail_msg("%s not drawn", file);
		assert_non_null(strstr(img, "<svg"));
		assert_non_null(strstr(img, "</svg>"));
		/* gnuplot's SVG terminal escapes '<' in text: no live markup. */
		assert_null(strstr(img, "<script"));
		free(img);
	}
	/* The labels did reach the data files (as quoted text). */
	{
		char *dat = slurp(dir, "hot_streets.dat", NULL);

		assert_non_null(strstr(dat, "\"`touch /tmp/mb_pwned_"));
		free(dat);
	}
	assert_false(access(pwned, F_OK) == 0);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

static void test_no_gnuplot(void **state)
{
	(void)state;
	char dir[64];
	struct mb_error err = { 0 };
	double cnt[2] = { 3, 2 };
	const char *lab[2] = { "A Street", "B Road" };
	struct plot_hot_streets H = { NULL, NULL, 2, lab, cnt };

	setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	assert_null(plot_find_gnuplot());
	assert_int_equal(plot_hot_streets(dir, "hot", &H, &err), 0);
	assert_true(has(dir, "hot.gp"));
	assert_true(has(dir, "hot.dat"));
	assert_true(has(dir, "hot-meta.dat"));
	assert_false(has(dir, "hot.png"));
	assert_false(has(dir, "hot.svg"));
	/* Warned once only; still succeeds. */
	assert_int_equal(plot_hot_streets(dir, "hot2", &H, &err), 0);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

static void test_how_gnuplot_is_run(void **state)
{
	(void)state;
	char dir[64], tools[64], fake[PATH_MAX], real[PATH_MAX];
	struct mb_error err = { 0 };
	double cnt[1] = { 3 };
	const char *lab[1] = { "A Street" };
	struct plot_hot_streets H = { NULL, NULL, 1, lab, cnt };
	char *log, want[PATH_MAX * 3];

	mk_tmp(dir, sizeof(dir));
	mk_tmp(tools, sizeof(tools));
	/* A fake gnuplot that records its folder, arguments and environment
	 * (in one write: the two processes, PNG and SVG, run at once). */
	put_exec(tools, "fakegp",
		"#!/bin/sh\n"
		"r=$({ echo \"cwd=$(pwd -P)\"; for a in \"$@\"; do echo \"arg=$a\"; done;\n"
		"  echo \"secret=${MB_TEST_SECRET-unset}\"; echo \"home=$HOME\";\n"
		"  echo \"lc=$LC_ALL\"; echo \"path=$PATH\"; })\n"
		"printf '%s\\n' \"$r\" >> run.log\n", fake, sizeof(fake));
	setenv("MB_GNUPLOT", fake, 1);
	setenv("MB_TEST_SECRET", "leaked", 1);
	assert_int_equal(plot_hot_streets(dir, "hot", &H, &err), 0);
	unsetenv("MB_TEST_SECRET");
	log = slurp(dir, "run.log", NULL);
	assert_non_null(log);
	assert_non_null(realpath(dir, real));
	size_t total = 0;

	for (int f = 0; f < 2; f++) {
		snprintf(want, sizeof(want),
			"cwd=%s\narg=-e\narg=reset session\narg=-e\narg=fmt='%s'; "
			"print '@microbeat-chart 0'; call 'hot.gp'; unset output\nsecret=unset\n"
			"home=/nonexistent\nlc=C.UTF-8\npath=/usr/bin:/bin\n", real, f ? "svg" : "png");
		assert_non_null(strstr(log, want));
		total += strlen(want);
	}
	assert_int_equal(strlen(log), total);
	free(log);

	/* gnuplot failing: the error quotes its message line, not warnings. */
	put_exec(tools, "failgp",
		"#!/bin/sh\n"
		"echo 'warning: line 2: something minor' >&2\n"
		"echo '         plot foo' >&2\n"
		"echo '\"hot.gp\" line 7: undefined variable: foo' >&2\n"
		"exit 1\n", fake, sizeof(fake));
	setenv("MB_GNUPLOT", fake, 1);
	assert_int_equal(plot_hot_streets(dir, "hot", &H, &err), -MB_EIO);
	assert_int_equal(err.code, MB_EIO);
	assert_non_null(strstr(err.msg, "\"hot.gp\" line 7: undefined variable: foo"));

	setenv("MB_GNUPLOT", "/bin/false", 1);
	assert_int_equal(plot_hot_streets(dir, "hot", &H, &err), -MB_EIO);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
	rm_rf(tools);
}

/* A batch draws its charts at its end, in its formats, and nothing when the
 * command failed; an inner batch draws only its own. */
static void test_batch(void **state)
{
	(void)state;
	char dir[64];
	struct mb_error err = { 0 };
	double cnt[1] = { 3 };
	const char *lab[1] = { "A Street" };
	struct plot_hot_streets H = { NULL, NULL, 1, lab, cnt };
	struct plot_batch outer, inner, b;

	if (!have_gnuplot())
		skip();
	mk_tmp(dir, sizeof(dir));
	plot_batch_begin(&b, PLOT_SVG);
	assert_int_equal(plot_hot_streets(dir, "a", &H, &err), 0);
	assert_int_equal(plot_hot_streets(dir, "b", &H, &err), 0);
	assert_true(has(dir, "a.gp") && has(dir, "b.gp"));
	assert_false(has(dir, "a.svg") || has(dir, "b.svg"));
	assert_int_equal(plot_queued(), 2);
	assert_int_equal(plot_batch_end(&b, 0, &err), 0);
	assert_true(has(dir, "a.svg") && has(dir, "b.svg"));
	assert_false(has(dir, "a.png") || has(dir, "b.png"));
	assert_int_equal(plot_queued(), 0);
	/* ending it again changes nothing */
	assert_int_equal(plot_batch_end(&b, 0, &err), 0);

	plot_batch_begin(&b, PLOT_BOTH);
	assert_int_equal(plot_hot_streets(dir, "c", &H, &err), 0);
	assert_int_equal(plot_batch_end(&b, -MB_EDATA, &err), -MB_EDATA);
	assert_true(has(dir, "c.gp"));
	assert_false(has(dir, "c.png") || has(dir, "c.svg"));
	assert_int_equal(plot_queued(), 0);

	plot_batch_begin(&outer, PLOT_PNG);
	assert_int_equal(plot_hot_streets(dir, "d", &H, &err), 0);
	plot_batch_begin(&inner, PLOT_SVG);
	assert_int_equal(plot_hot_streets(dir, "e", &H, &err), 0);
	assert_int_equal(plot_batch_end(&inner, 0, &err), 0);
	assert_true(has(dir, "e.svg"));
	assert_false(has(dir, "e.png") || has(dir, "d.png"));
	assert_int_equal(plot_queued(), 1);
	assert_int_equal(plot_hot_streets(dir, "f", &H, &err), 0);
	assert_int_equal(plot_batch_end(&outer, 0, &err), 0);
	assert_true(has(dir, "d.png") && has(dir, "f.png"));
	assert_false(has(dir, "d.svg") || has(dir, "f.svg"));
	assert_int_equal(plot_queued(), 0);
	rm_rf(dir);
}

/* A failing chart among many drawn by one process is named, from the
 * marker line before it (a fake gnuplot acting out the -e commands). */
static void test_batch_names_failing_chart(void **state)
{
	(void)state;
	char dir[64], tools[64], fake[PATH_MAX];
	struct mb_error err = { 0 };
	double cnt[1] = { 3 };
	const char *lab[1] = { "A Street" };
	struct plot_hot_streets H = { NULL, NULL, 1, lab, cnt };
	struct plot_batch b;
	char name[16];

	mk_tmp(dir, sizeof(dir));
	mk_tmp(tools, sizeof(tools));
	put_exec(tools, "fakegp",
		"#!/bin/sh\n"
		"for a in \"$@\"; do\n"
		"  case \"$a\" in *\"print '\"*)\n"
		"    m=${a#*print \\'}; echo \"${m%%\\'*}\" >&2\n"
		"    echo 'warning: line 1: minor' >&2\n"
		"    case \"$a\" in *\"call 'c3.gp'\"*)\n"
		"      echo '\"c3.gp\" line 9: undefined variable: nosuch' >&2; exit 1;;\n"
		"    esac;;\n"
		"  esac\n"
		"done\n", fake, sizeof(fake));
	setenv("MB_GNUPLOT", fake, 1);
	plot_batch_begin(&b, PLOT_BOTH);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(plot_hot_streets(dir, name, &H, &err), 0);
	}
	assert_int_equal(plot_batch_end(&b, 0, &err), -MB_EIO);
	assert_non_null(strstr(err.msg, "/c3.gp': \"c3.gp\" line 9: undefined variable: nosuch"));
	assert_int_equal(plot_queued(), 0);

	/* the same charts with none failing: the batch succeeds */
	plot_batch_begin(&b, PLOT_BOTH);
	for (int i = 4; i < 6; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(plot_hot_streets(dir, name, &H, &err), 0);
	}
	assert_int_equal(plot_batch_end(&b, 0, &err), 0);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
	rm_rf(tools);
}

/* A batch never ended leaves charts undrawn: caught at exit as a bug
 * (exit 70 and a message), in a child process. */
static void test_unended_batch_caught(void **state)
{
	(void)state;
	char dir[64], tools[64], fake[PATH_MAX], *msg;
	int pfd[2], status = 0;
	pid_t pid;

	mk_tmp(dir, sizeof(dir));
	mk_tmp(tools, sizeof(tools));
	put_exec(tools, "fakegp", "#!/bin/sh\nexit 0\n", fake, sizeof(fake));
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mb_error err = { 0 };
		double cnt[1] = { 3 };
		const char *lab[1] = { "A Street" };
		struct plot_hot_streets H = { NULL, NULL, 1, lab, cnt };
		struct plot_batch b;

		dup2(pfd[1], 2);
		setenv("MB_GNUPLOT", fake, 1);
		plot_batch_begin(&b, PLOT_BOTH);
		if (plot_hot_streets(dir, "left", &H, &err) != 0)
			_exit(3);
		exit(0);
	}
	close(pfd[1]);
	msg = calloc(1, 4096);
	assert_non_null(msg);
	assert_true(read(pfd[0], msg, 4095) > 0);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 70);
	assert_non_null(strstr(msg, "1 chart(s) queued and never drawn"));
	free(msg);
	rm_rf(dir);
	rm_rf(tools);
}

static void test_formats_parse(void **state)
{
	(void)state;
	assert_int_equal(plot_formats_parse("png"), PLOT_PNG);
	assert_int_equal(plot_formats_parse("svg"), PLOT_SVG);
	assert_int_equal(plot_formats_parse("both"), PLOT_BOTH);
	assert_int_equal(plot_formats_parse("PNG"), -1);
	assert_int_equal(plot_formats_parse(""), -1);
	assert_int_equal(plot_formats_parse(NULL), -1);
	assert_string_equal(plot_formats_ext(PLOT_BOTH), "png");
	assert_string_equal(plot_formats_ext(PLOT_PNG), "png");
	assert_string_equal(plot_formats_ext(PLOT_SVG), "svg");
}

static void test_bad_names(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "-e", ".x", "a b", "../x", "a/b", "a'b",
		"a\"b", "a`b`", "x;y" };
	char dir[64];
	struct mb_error err = { 0 };
	double cnt[1] = { 1 };
	const char *lab[1] = { "A" };
	struct plot_hot_streets H = { NULL, NULL, 1, lab, cnt };
	struct plot_hot_streets empty = { NULL, NULL, 0, lab, cnt };

	setenv("MB_GNUPLOT", "/nonexistent", 1);
	mk_tmp(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(plot_render("lorenz", bad[i], dir, &err), -MB_EUSAGE);
		assert_int_equal(plot_hot_streets(dir, bad[i], &H, &err), -MB_EUSAGE);
	}
	assert_int_equal(plot_render("Lorenz", "x", dir, &err), -MB_EUSAGE);
	assert_int_equal(plot_render("../lorenz", "x", dir, &err), -MB_EUSAGE);
	assert_int_equal(plot_render("nosuchchart", "x", dir, &err), -MB_ENOTFOUND);
	assert_int_equal(plot_hot_streets(dir, "x", &empty, &err), -MB_EUSAGE);
	assert_int_equal(plot_hot_streets(dir, "x", NULL, &err), -MB_EUSAGE);
	assert_int_equal(plot_hot_streets(dir, "ok_name-2.v1", &H, &err), 0);
	setenv("MB_PLOTS", "/nonexistent", 1);
	assert_null(plot_find_scripts());
	assert_int_equal(plot_hot_streets(dir, "x", &H, &err), -MB_ENOTFOUND);
	setenv("MB_PLOTS", plots_dir, 1);
	unsetenv("MB_GNUPLOT");
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dat_format),
		cmocka_unit_test(test_dat_text_xml),
		cmocka_unit_test(test_dat_read_back_by_gnuplot),
		cmocka_unit_test(test_classmap_edges),
		cmocka_unit_test(test_monthly_gaps_file),
		cmocka_unit_test(test_monthly_below_marked),
		cmocka_unit_test(test_map_labels_apart),
		cmocka_unit_test(test_classmap_key),
		cmocka_unit_test(test_yoy_key),
		cmocka_unit_test(test_funnel_key),
		cmocka_unit_test(test_hostile_labels_render),
		cmocka_unit_test(test_no_gnuplot),
		cmocka_unit_test(test_how_gnuplot_is_run),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_batch_names_failing_chart),
		cmocka_unit_test(test_formats_parse),
		cmocka_unit_test(test_unended_batch_caught),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
