/*
 * plot — gnuplot charts: data files, the fixed scripts of plots/ and the
 * charts' data; plot_run.c draws them. See include/microbeat/plot.h and
 * docs/output.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "plot_internal.h"

/* Largest script copied from plots/ (bytes). */
#define PLOT_SCRIPT_MAX (1 << 20)

/* Set once the "gnuplot not found" warning has been printed. */
static int warned_no_gnuplot;

/* ---- data files ------------------------------------------------------------ */

/* Return a newly allocated a "/" b, or NULL. */
static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

int plot_dat_open(struct plot_dat *d, const char *outdir, const char *file,
	struct mb_error *err)
{
	size_t n = file ? strlen(file) : 0;

	memset(d, 0, sizeof(*d));
	if (!outdir || !emit_name_ok(file) || n < 5 || strcmp(file + n - 4, ".dat") != 0)
		return mb_err(err, MB_EUSAGE, "bad data file name '%s'", file ? file : "");
	d->path = path_join(outdir, file);
	if (!d->path)
		return mb_err(err, MB_ENOMEM, "out of memory");
	d->fp = fopen(d->path, "we");
	if (!d->fp) {
		mb_err(err, MB_EIO, "cannot create '%s': %s", d->path, strerror(errno));
		free(d->path);
		d->path = NULL;
		return -MB_EIO;
	}
	if (fputs("# microbeat chart data (quoted fields are labels)\n", d->fp) == EOF)
		d->failed = 1;
	return 0;
}

/* Write s unless d has failed. */
static void dat_puts(struct plot_dat *d, const char *s)
{
	if (!d->failed && d->fp && fputs(s, d->fp) == EOF)
		d->failed = 1;
}

/* Write n bytes of s unless d has failed. */
static void dat_putn(struct plot_dat *d, const char *s, size_t n)
{
	if (!d->failed && d->fp && fwrite(s, 1, n, d->fp) != n)
		d->failed = 1;
}

/* Start a field: a space separator after the first field of a line. */
static void dat_sep(struct plot_dat *d)
{
	if (d->fields++ > 0)
		dat_puts(d, " ");
}

void plot_dat_text(struct plot_dat *d, const char *s)
{
	size_t n = s ? strlen(s) : 0, len;

	dat_sep(d);
	dat_puts(d, "\"");
	for (size_t i = 0; i < n; i += len) {
		long cp = emit_utf8_next(s + i, n - i, &len);

		/* gnuplot's SVG terminal escapes < and & but not the > of "]]>",
		 * which may not appear in XML text (issue 21): a zero-width space
		 * keeps it out, unseen. U+FFFE and U+FFFF are not XML characters. */
		if (cp == '>' && i >= 2 && s[i - 1] == ']' && s[i - 2] == ']')
			dat_puts(d, "\xe2\x80\x8b");
		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
			dat_puts(d, "?");
		else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
			dat_puts(d, " ");
		else if (cp == '"')
			dat_puts(d, "\xe2\x80\x9d"); /* U+201D: gnuplot data has no \" escape */
		else if (cp == '\\')
			dat_puts(d, "\\\\");       /* gnuplot reads \\ back as one \ */
		else
			dat_putn(d, s + i, len);
	}
	dat_puts(d, "\"");
}

void plot_dat_num(struct plot_dat *d, double v)
{
	char buf[40];

	dat_sep(d);
	if (!isfinite(v)) {
		dat_puts(d, "NaN");
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", v);
	dat_puts(d, buf);
}

void plot_dat_int(struct plot_dat *d, int64_t v)
{
	char buf[32];

	dat_sep(d);
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	dat_puts(d, buf);
}

void plot_dat_month(struct plot_dat *d, int32_t month)
{
	char buf[8];

	month_format(month, buf);
	dat_sep(d);
	dat_puts(d, buf);
}

void plot_dat_endrow(struct plot_dat *d)
{
	dat_puts(d, "\n");
	d->fields = 0;
}

void plot_dat_gap(struct plot_dat *d)
{
	if (d->fields)
		plot_dat_endrow(d);
	dat_puts(d, "\n");
}

int plot_dat_close(struct plot_dat *d, struct mb_error *err)
{
	int rc = 0;

	if (!d->fp) {
		free(d->path);
		memset(d, 0, sizeof(*d));
		return 0;
	}
	errno = 0;
	if (d->fields)
		plot_dat_endrow(d);
	if (!d->failed && (fflush(d->fp) == EOF || ferror(d->fp)))
		d->failed = 1;
	if (fclose(d->fp) != 0)
		d->failed = 1;
	if (d->failed) {
		rc = mb_err(err, MB_EIO, "cannot write '%s': %s", d->path,
			errno ? strerror(errno) : "write error");
		unlink(d->path);
	}
	free(d->path);
	memset(d, 0, sizeof(*d));
	return rc;
}

/* ---- finding the scripts (gnuplot: plot_run.c) ----------------------------- */

/* Non-zero when dir/file exists as a regular file. */
static int has_file(const char *dir, const char *file)
{
	char *p = path_join(dir, file);
	struct stat st;
	int ok;

	if (!p)
		return 0;
	ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

char *plot_find_scripts(void)
{
	static const char *const rel[] = { "/plots", "/../share/microbeat/plots" };
	const char *env = getenv("MB_PLOTS");
	char exe[4096];
	ssize_t n;
	char *slash;

	if (env && env[0])
		return has_file(env, "lorenz.gp") ? strdup(env) : NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		size_t le = strlen(exe), lr = strlen(rel[i]);
		char *dir = malloc(le + lr + 1);

		if (!dir)
			return NULL;
		memcpy(dir, exe, le);
		memcpy(dir + le, rel[i], lr + 1);
		if (has_file(dir, "lorenz.gp"))
			return dir;
		free(dir);
	}
	return NULL;
}

/* ---- rendering ------------------------------------------------------------- */

int plot_formats_parse(const char *s)
{
	if (s && strcmp(s, "png") == 0)
		return PLOT_PNG;
	if (s && strcmp(s, "svg") == 0)
		return PLOT_SVG;
	if (s && strcmp(s, "both") == 0)
		return PLOT_BOTH;
	return -1;
}

const char *plot_formats_ext(int formats)
{
	return (formats & PLOT_BOTH) == PLOT_SVG ? "svg" : "png";
}

/* Non-zero when s is a script name: [a-z_]+, at most PLOT_NAME_MAX bytes. */
static int script_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > PLOT_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

/* Non-zero when s is a chart name: [A-Za-z0-9_][A-Za-z0-9_.-]*, at most
 * PLOT_NAME_MAX bytes. It never starts with '-' (an option to gnuplot) or
 * '.' and never holds a quote, so it is safe in argv and file names. */
static int name_ok(const char *s)
{
	static const char first[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > PLOT_NAME_MAX || !strchr(first, s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(first, s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* Copy the file src to outdir/dst atomically. */
static int copy_script(const char *src, const char *outdir, const char *dst,
	struct mb_error *err)
{
	struct emit_file af = { 0 };
	char *buf = NULL;
	FILE *in = NULL;
	size_t n;
	int rc = 0;

	in = fopen(src, "re");
	if (!in) {
		rc = mb_err(err, MB_ENOTFOUND, "cannot open chart script '%s': %s", src,
			strerror(errno));
		goto cleanup;
	}
	buf = malloc(PLOT_SCRIPT_MAX);
	if (!buf) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	n = fread(buf, 1, PLOT_SCRIPT_MAX, in);
	if (ferror(in) || n == PLOT_SCRIPT_MAX) {
		rc = mb_err(err, MB_EIO, "cannot read chart script '%s'", src);
		goto cleanup;
	}
	rc = emit_open_atomic(outdir, dst, &af, err);
	if (rc)
		goto cleanup;
	if (fwrite(buf, 1, n, af.fp) != n) {
		emit_abort_atomic(&af);
		rc = mb_err(err, MB_EIO, "cannot write '%s/%s': %s", outdir, dst, strerror(errno));
		goto cleanup;
	}
	rc = emit_commit_atomic(&af, err);
cleanup:
	if (in)
		fclose(in);
	free(buf);
	return rc;
}

int plot_render(const char *script, const char *name, const char *outdir,
	struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 8], src_name[PLOT_NAME_MAX + 8];
	char *dir = NULL, *src = NULL, *gp = NULL;
	int rc = 0;

	if (!script_ok(script) || !name_ok(name) || !outdir)
		return mb_err(err, MB_EUSAGE, "bad chart name '%s'", name ? name : "");
	snprintf(file, sizeof(file), "%s.gp", name);
	snprintf(src_name, sizeof(src_name), "%s.gp", script);
	dir = plot_find_scripts();
	if (!dir || !has_file(dir, src_name)) {
		rc = mb_err(err, MB_ENOTFOUND, "chart script '%s' not found (set MB_PLOTS to "
			"the plots folder)", src_name);
		goto cleanup;
	}
	src = path_join(dir, src_name);
	if (!src) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = copy_script(src, outdir, file, err);
	if (rc)
		goto cleanup;
	gp = plot_find_gnuplot();
	if (!gp) {
		if (!warned_no_gnuplot) {
			warned_no_gnuplot = 1;
			fprintf(stderr, "microbeat: gnuplot not found: wrote %s.gp and %s.dat; "
				"charts not drawn\n", name, name);
		}
		goto cleanup;
	}
	rc = plot_queue_chart(outdir, name, err);
cleanup:
	free(dir);
	free(src);
	free(gp);
	return rc;
}

/* ---- charts ---------------------------------------------------------------- */

/* Build "NAME<suffix>" into buf (size bytes); 0, or -1 when it does not fit. */
static int dat_name(char *buf, size_t size, const char *name, const char *suffix)
{
	int n = snprintf(buf, size, "%s%s", name, suffix);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Open outdir/NAME<suffix> as d. */
static int open_named(struct plot_dat *d, const char *outdir, const char *name,
	const char *suffix, struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 32];

	memset(d, 0, sizeof(*d));
	if (!name_ok(name) || dat_name(file, sizeof(file), name, suffix) != 0)
		return mb_err(err, MB_EUSAGE, "bad chart name '%s'", name ? name : "");
	return plot_dat_open(d, outdir, file, err);
}

/* Value of a[i], or NaN when a is NULL. */
static double at(const double *a, size_t i)
{
	return a ? a[i] : NAN;
}

/* Write NAME-meta.dat: one row of the title and a text, then numbers. */
static int write_meta(const char *outdir, const char *name, const char *title,
	const char *text, const double *nums, size_t n, struct mb_error *err)
{
	struct plot_dat d;
	int rc = open_named(&d, outdir, name, "-meta.dat", err);

	if (rc)
		return rc;
	plot_dat_text(&d, title ? title : "");
	plot_dat_text(&d, text ? text : "");
	for (size_t i = 0; i < n; i++)
		plot_dat_num(&d, nums[i]);
	plot_dat_endrow(&d);
	return plot_dat_close(&d, err);
}

int plot_lorenz(const char *outdir, const char *name, const struct plot_lorenz *in,
	struct mb_error *err)
{
	struct plot_dat d = { 0 };
	double meta[2];
	int rc;

	if (!in || in->n == 0 || !in->x || !in->y || (in->n_chance && (!in->chance_x || !in->chance_y)))
		return mb_err(err, MB_EUSAGE, "lorenz chart '%s': no curve to draw", name ? name : "");
	meta[0] = in->n_chance > 0;
	meta[1] = isfinite(in->mark_p) && isfinite(in->mark_x) && isfinite(in->mark_y);
	rc = write_meta(outdir, name, in->title, in->what ? in->what : "crime", meta, 2, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		plot_dat_num(&d, in->x[i]);
		plot_dat_num(&d, in->y[i]);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	/* Always write the optional files (a NaN row when empty) so that the
	 * script's plot command needs no conditionals. */
	rc = open_named(&d, outdir, name, "-chance.dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n_chance; i++) {
		plot_dat_num(&d, in->chance_x[i]);
		plot_dat_num(&d, in->chance_y[i]);
		plot_dat_endrow(&d);
	}
	if (in->n_chance == 0) {
		plot_dat_num(&d, NAN);
		plot_dat_num(&d, NAN);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, "-mark.dat", err);
	if (rc)
		return rc;
	plot_dat_num(&d, meta[1] ? in->mark_x : NAN);
	plot_dat_num(&d, meta[1] ? in->mark_y : NAN);
	plot_dat_num(&d, meta[1] ? in->mark_p : NAN);
	plot_dat_num(&d, meta[1] ? in->mark_y : NAN);
	plot_dat_endrow(&d);
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("lorenz", name, outdir, err);
}

int plot_hot_streets(const char *outdir, const char *name,
	const struct plot_hot_streets *in, struct mb_error *err)
{
	struct plot_dat d;
	double meta[1];
	int rc;

	if (!in || in->n == 0 || !in->label || !in->count)
		return mb_err(err, MB_EUSAGE, "hot streets chart '%s': no streets to draw",
			name ? name : "");
	meta[0] = (double)in->n;
	rc = write_meta(outdir, name, in->title, in->value_label ? in->value_label : "Crimes",
		meta, 1, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		plot_dat_int(&d, (int64_t)i + 1);
		plot_dat_num(&d, in->count[i]);
		plot_dat_text(&d, in->label[i]);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("hot_streets", name, outdir, err);
}

void plot_monthly_window(const unsigned char *present, size_t n, size_t limit, int32_t span_from,
	int32_t bl_first, int32_t bl_last, size_t *first, struct plot_monthly *pm)
{
	size_t f = 0;
	int32_t b0 = -1, b1 = -1;

	while (f < limit && f + 1 < n && !present[f])
		f++;
	*first = f;
	for (int32_t m = bl_first < 0 ? 0 : bl_first; m <= bl_last && (size_t)m < n; m++)
		if (present[m]) {
			b0 = b0 < 0 ? m : b0;
			b1 = m;
		}
	pm->baseline_last = span_from + b1;
	pm->baseline_months = b0 < 0 ? 0 : b1 - b0 + 1;
}

int plot_monthly(const char *outdir, const char *name, const struct plot_monthly *in,
	struct mb_error *err)
{
	struct plot_dat d;
	double meta[6] = { 0 };
	int rc;

	if (!in || in->n == 0 || !in->count)
		return mb_err(err, MB_EUSAGE, "monthly chart '%s': no months to draw",
			name ? name : "");
	for (size_t i = 0; i < in->n; i++) {
		if (!isfinite(in->count[i]))
			meta[0] += 1;
		if (isfinite(at(in->trend, i)))
			meta[2] = 1;
		/* flagged above and below as trend_cchart flags them
		 * (docs/methods-trends.md §4): the key names only what is drawn */
		if (isfinite(in->count[i]) && in->count[i] > in->ucl)
			meta[4] += 1;
		if (isfinite(in->count[i]) && in->count[i] < in->lcl)
			meta[5] += 1;
	}
	meta[1] = isfinite(in->centre);
	meta[3] = isfinite(in->ucl) || isfinite(in->lcl);
	/* meta numbers: gap months, has centre, has trend, has limits, months
	 * above the upper limit, months below the lower limit */
	rc = write_meta(outdir, name, in->title,
		in->value_label ? in->value_label : "Crimes per month", meta, 6, err);
	if (rc)
		return rc;
	/* NAME-note.dat: "note" "centre line's key" 1 (the 1 gives gnuplot's
	 * stats a number to read) */
	rc = open_named(&d, outdir, name, "-note.dat", err);
	if (rc)
		return rc;
	plot_dat_text(&d, in->note ? in->note : "");
	if (in->baseline_months > 0) {
		char key[64];
		int32_t b = in->baseline_last, a = b - in->baseline_months + 1;

		snprintf(key, sizeof key, "Centre line (mean of %04d-%02d..%04d-%02d)",
			 2000 + a / 12, a % 12 + 1, 2000 + b / 12, b % 12 + 1);
		plot_dat_text(&d, key);
	} else {
		plot_dat_text(&d, "Centre line (mean)");
	}
	plot_dat_int(&d, 1);
	plot_dat_endrow(&d);
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	/* NAME.dat: month count ucl lcl; a blank line at each gap breaks the line. */
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		if (!isfinite(in->count[i])) {
			/* One blank line per run of missing months: two in a row would
			 * start a new gnuplot data block. */
			if (i > 0 && isfinite(in->count[i - 1]))
				plot_dat_gap(&d);
			continue;
		}
		plot_dat_month(&d, in->first_month + (int32_t)i);
		plot_dat_num(&d, in->count[i]);
		plot_dat_num(&d, in->ucl);
		plot_dat_num(&d, in->lcl);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	/* NAME-fit.dat: month trend centre ucl lcl gap — continuous. */
	rc = open_named(&d, outdir, name, "-fit.dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		plot_dat_month(&d, in->first_month + (int32_t)i);
		plot_dat_num(&d, at(in->trend, i));
		plot_dat_num(&d, in->centre);
		plot_dat_num(&d, in->ucl);
		plot_dat_num(&d, in->lcl);
		plot_dat_int(&d, !isfinite(in->count[i]));
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("monthly", name, outdir, err);
}

int plot_yoy(const char *outdir, const char *name, const struct plot_yoy *in,
	struct mb_error *err)
{
	struct plot_dat d;
	double meta[5] = { 0 };
	int rc;

	if (!in || in->n == 0 || !in->label || !in->pct || !in->lo || !in->hi)
		return mb_err(err, MB_EUSAGE, "year-on-year chart '%s': no series to draw",
			name ? name : "");
	meta[0] = (double)in->n;
	/* bars as yoy.gp colours them (red: significant and up, blue: significant
	 * and not up, grey: not significant; none without a change) and the
	 * whiskers it draws: the key names only what is drawn */
	for (size_t i = 0; i < in->n; i++) {
		int sig = in->significant && in->significant[i] != 0;

		if (!isfinite(in->pct[i]))
			continue;
		meta[sig ? (in->pct[i] > 0 ? 1 : 2) : 3] += 1;
		if (isfinite(in->lo[i]) && isfinite(in->hi[i]))
			meta[4] += 1;
	}
	/* meta numbers: n, significant rises, significant falls, not
	 * significant, whiskers */
	rc = write_meta(outdir, name, in->title, "", meta, 5, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		plot_dat_int(&d, (int64_t)i + 1);
		plot_dat_num(&d, in->pct[i]);
		plot_dat_num(&d, in->lo[i]);
		plot_dat_num(&d, in->hi[i]);
		plot_dat_int(&d, in->significant ? in->significant[i] != 0 : 0);
		plot_dat_text(&d, in->label[i]);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("yoy", name, outdir, err);
}

int plot_seasonal(const char *outdir, const char *name, const struct plot_seasonal *in,
	struct mb_error *err)
{
	struct plot_dat d;
	double meta[2];
	int rc;

	if (!in || in->n == 0 || !in->label || !in->mean)
		return mb_err(err, MB_EUSAGE, "seasonal chart '%s': no months to draw",
			name ? name : "");
	meta[0] = (double)in->n;
	meta[1] = in->lo && in->hi;
	rc = write_meta(outdir, name, in->title,
		in->value_label ? in->value_label : "Mean crimes per month", meta, 2, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		plot_dat_int(&d, (int64_t)i + 1);
		plot_dat_num(&d, in->mean[i]);
		plot_dat_num(&d, at(in->lo, i));
		plot_dat_num(&d, at(in->hi, i));
		plot_dat_text(&d, in->label[i]);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("seasonal", name, outdir, err);
}

/* Write NAME<suffix>: one row "index label" per label. */
static int write_labels(const char *outdir, const char *name, const char *suffix,
	const char *const *label, size_t n, struct mb_error *err)
{
	struct plot_dat d;
	int rc = open_named(&d, outdir, name, suffix, err);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		plot_dat_int(&d, (int64_t)i);
		plot_dat_text(&d, label[i]);
		plot_dat_endrow(&d);
	}
	return plot_dat_close(&d, err);
}

int plot_heatmap(const char *outdir, const char *name, const struct plot_heatmap *in,
	struct mb_error *err)
{
	struct plot_dat d;
	double meta[3];
	int rc;

	if (!in || in->nrows == 0 || in->ncols == 0 || !in->row_label || !in->col_label ||
	    !in->value)
		return mb_err(err, MB_EUSAGE, "heat map '%s': no cells to draw", name ? name : "");
	meta[0] = (double)in->nrows;
	meta[1] = (double)in->ncols;
	meta[2] = isfinite(in->vmax) && in->vmax > 0 ? in->vmax : 4;
	rc = write_meta(outdir, name, in->title, in->value_label ? in->value_label : "", meta, 3,
		err);
	if (rc)
		return rc;
	/* NAME.dat: column row value — one line per cell, rows in blocks. */
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t r = 0; r < in->nrows; r++) {
		for (size_t c = 0; c < in->ncols; c++) {
			plot_dat_int(&d, (int64_t)c);
			plot_dat_int(&d, (int64_t)r);
			plot_dat_num(&d, in->value[r * in->ncols + c]);
			plot_dat_endrow(&d);
		}
		plot_dat_gap(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	rc = write_labels(outdir, name, "-rows.dat", in->row_label, in->nrows, err);
	if (rc)
		return rc;
	rc = write_labels(outdir, name, "-cols.dat", in->col_label, in->ncols, err);
	if (rc)
		return rc;
	return plot_render("heatmap", name, outdir, err);
}

int plot_funnel(const char *outdir, const char *name, const struct plot_funnel *in,
	struct mb_error *err)
{
	struct plot_dat d;
	double meta[7] = { 0 };
	int rc;

	if (!in || in->n == 0 || !in->label || !in->pop || !in->rate || in->n_limits == 0 ||
	    !in->lim_pop || !in->lo95 || !in->hi95 || !in->lo998 || !in->hi998)
		return mb_err(err, MB_EUSAGE, "funnel plot '%s': nothing to draw", name ? name : "");
	meta[0] = in->district_rate;
	meta[1] = (double)in->n;
	/* points drawn per class, outlier -2..2 at meta[4 + outlier]: the key
	 * names only the classes drawn */
	for (size_t i = 0; i < in->n; i++) {
		int o = in->outlier ? in->outlier[i] : 0;

		if (isfinite(in->pop[i]) && isfinite(in->rate[i]))
			meta[4 + (o < -2 ? -2 : o > 2 ? 2 : o)] += 1;
	}
	/* meta numbers: district rate, n, points below the 99.8% limit, below
	 * the 95% limit only, within, above the 95% limit only, above 99.8% */
	rc = write_meta(outdir, name, in->title,
		in->value_label ? in->value_label : "Rate per 1,000 residents", meta, 7, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, ".dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		int o = in->outlier ? in->outlier[i] : 0;

		plot_dat_num(&d, in->pop[i]);
		plot_dat_num(&d, in->rate[i]);
		o = o < -2 ? -2 : o > 2 ? 2 : o;
		plot_dat_int(&d, o);
		plot_dat_text(&d, in->label[i]);
		/* label position and whether to show it: after the text, columns 5, 6 */
		plot_dat_num(&d, in->label_y ? in->label_y[i] : in->rate[i]);
		plot_dat_int(&d, in->show_label ? in->show_label[i] != 0 : o != 0);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	rc = open_named(&d, outdir, name, "-limits.dat", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n_limits; i++) {
		plot_dat_num(&d, in->lim_pop[i]);
		plot_dat_num(&d, in->lo95[i]);
		plot_dat_num(&d, in->hi95[i]);
		plot_dat_num(&d, in->lo998[i]);
		plot_dat_num(&d, in->hi998[i]);
		plot_dat_endrow(&d);
	}
	rc = plot_dat_close(&d, err);
	if (rc)
		return rc;
	return plot_render("funnel", name, outdir, err);
}
