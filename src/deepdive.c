/* deepdive — exact tests, location quotients, changes and force-extract tallies
 * for 'microbeat deepdive' (docs/methods-deepdive.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include <strings.h>

#include "microbeat/csvtab.h"
#include "microbeat/deepdive.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/trend.h"

/* scipy's relative tolerance for "no more likely than the observed outcome" */
#define REL_TOL (1 + 1e-7)

double dd_binom_p(unsigned long k, unsigned long n, double p0)
{
	if (!(p0 >= 0 && p0 <= 1) || k > n)
		return NAN;
	if (n == 0)
		return 1;
	if (n > 4000000000UL)
		return NAN;
	double d = gsl_ran_binomial_pdf((unsigned)k, p0, (unsigned)n), p = 0;

	/* the binomial is unimodal: summing every outcome no more likely than k
	 * equals scipy's two tails */
	for (unsigned long i = 0; i <= n; i++) {
		double f = gsl_ran_binomial_pdf((unsigned)i, p0, (unsigned)n);

		if (f <= d * REL_TOL)
			p += f;
	}
	return p > 1 ? 1 : p;
}

double dd_fisher_p(unsigned long a, unsigned long b, unsigned long c, unsigned long d)
{
	unsigned long good = a + c, bad = b + d, draws = a + b;

	if (a + b == 0 || c + d == 0 || good == 0 || bad == 0)
		return 1;
	if (good + bad > 4000000000UL)
		return NAN;
	unsigned long lo = draws > bad ? draws - bad : 0, hi = draws < good ? draws : good;
	double obs = gsl_ran_hypergeometric_pdf((unsigned)a, (unsigned)good, (unsigned)bad,
						(unsigned)draws), p = 0;

	for (unsigned long x = lo; x <= hi; x++) {
		double f = gsl_ran_hypergeometric_pdf((unsigned)x, (unsigned)good, (unsigned)bad,
						      (unsigned)draws);

		if (f <= obs * REL_TOL)
			p += f;
	}
	return p > 1 ? 1 : p;
}

/* A count must be a whole number >= 0 below 2^32 (the exact tests' range). */
static int count_ok(double v)
{
	return isfinite(v) && v >= 0 && v < 4e9 && v == floor(v);
}

/* BH over the tested entries: p at stride bytes from base; q written likewise. */
static int bh(double *p, size_t m, double fdr, double *q, unsigned char *rej, struct mb_error *err)
{
	if (m == 0)
		return 0;
	return trend_fdr_bh(p, m, fdr, q, rej, err);
}

int dd_lq_compute(const double *a, const double *b, size_t m, double fdr, struct dd_lq *out,
		  struct mb_error *err)
{
	double A = 0, B = 0, *p = calloc(m ? m : 1, sizeof(double)), *q = calloc(m ? m : 1, sizeof(double));
	unsigned char *rej = calloc(m ? m : 1, 1);
	int r = 0;

	if (!p || !q || !rej) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < m; i++) {
		if (!count_ok(a[i]) || !count_ok(b[i])) {
			r = mb_err(err, MB_EUSAGE, "location quotient: count %zu is not a whole number", i);
			goto cleanup;
		}
		A += a[i];
		B += b[i];
	}
	for (size_t i = 0; i < m; i++) {
		struct dd_lq *x = &out[i];

		*x = (struct dd_lq){ .a = a[i], .b = b[i], .p = NAN, .q = NAN };
		x->lq = (b[i] > 0 && A > 0 && B > 0) ? (a[i] / A) / (b[i] / B) : NAN;
		x->expected = A + B > 0 ? (a[i] + b[i]) * A / (A + B) : NAN;
		x->tested = a[i] + b[i] >= DD_MIN_TEST && A > 0 && B > 0;
		if (x->tested)
			x->p = dd_binom_p((unsigned long)a[i], (unsigned long)(a[i] + b[i]), A / (A + B));
		p[i] = x->tested ? x->p : NAN;
	}
	if ((r = bh(p, m, fdr, q, rej, err)))
		goto cleanup;
	for (size_t i = 0; i < m; i++) {
		out[i].q = q[i];
		out[i].significant = out[i].tested && rej[i];
	}
cleanup:
	free(p);
	free(q);
	free(rej);
	return r;
}

int dd_change_compute(const double *later, const double *earlier, size_t m, double fdr,
		      struct dd_change *out, struct mb_error *err)
{
	double total = 0, *p = calloc(m ? m : 1, sizeof(double)), *q = calloc(m ? m : 1, sizeof(double));
	unsigned char *rej = calloc(m ? m : 1, 1);
	int r = 0;

	if (!p || !q || !rej) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < m; i++) {
		if (!count_ok(later[i]) || !count_ok(earlier[i])) {
			r = mb_err(err, MB_EUSAGE, "change: count %zu is not a whole number", i);
			goto cleanup;
		}
		total += later[i] - earlier[i];
	}
	for (size_t i = 0; i < m; i++) {
		struct dd_change *x = &out[i];

		*x = (struct dd_change){ .later = later[i], .earlier = earlier[i], .p = NAN, .q = NAN };
		x->delta = later[i] - earlier[i];
		x->pct = earlier[i] > 0 ? 100 * (later[i] / earlier[i] - 1) : NAN;
		x->share = total != 0 ? x->delta / total : NAN;
		x->tested = later[i] + earlier[i] >= DD_MIN_TEST;
		if (x->tested)
			x->p = dd_binom_p((unsigned long)later[i], (unsigned long)(later[i] + earlier[i]), 0.5);
		p[i] = x->tested ? x->p : NAN;
	}
	if ((r = bh(p, m, fdr, q, rej, err)))
		goto cleanup;
	for (size_t i = 0; i < m; i++) {
		out[i].q = q[i];
		out[i].significant = out[i].tested && rej[i];
	}
cleanup:
	free(p);
	free(q);
	free(rej);
	return r;
}

int dd_weekday(int32_t day)
{
	/* 2000-01-01 was a Saturday (5 with Monday = 0) */
	int w = (int)((day % 7 + 7) % 7);

	return (w + 5) % 7;
}

int dd_extract_count(const struct slice *sl, const uint8_t *on, int32_t later_from, int32_t later_to,
		     int32_t earlier_from, int32_t earlier_to, struct dd_extract *out,
		     struct mb_error *err)
{
	memset(out, 0, sizeof(*out));
	out->nsub = sl->subgroup && sl->nsubgroup ? sl->nsubgroup : 1;
	out->nhate = sl->hate && sl->nhate ? sl->nhate : 1;
	out->cross_later = calloc(DD_DA_CLASSES * out->nsub, sizeof(double));
	out->cross_earlier = calloc(DD_DA_CLASSES * out->nsub, sizeof(double));
	out->hate_later = calloc(out->nhate, sizeof(double));
	out->hate_earlier = calloc(out->nhate, sizeof(double));
	if (!out->cross_later || !out->cross_earlier || !out->hate_later || !out->hate_earlier) {
		dd_extract_release(out);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	out->has_hate = sl->hate != NULL && sl->nhate > 1; /* strands known: an extract loaded */
	for (size_t i = 0; i < sl->n; i++) {
		int32_t m = sl->month[i];
		int later = m >= later_from && m <= later_to;
		int earlier = m >= earlier_from && m <= earlier_to;

		if ((!later && !earlier) || !(on ? on : sl->cat_selected)[sl->category[i]])
			continue;
		uint32_t sub = sl->subgroup && sl->subgroup[i] < out->nsub ? sl->subgroup[i] : 0;
		int da = sl->da ? (sl->da[i] == 1 ? 1 : sl->da[i] == 0 ? 0 : 2) : 2;

		out->has_subgroup |= sub != 0;
		out->has_da |= da != 2;
		(later ? out->cross_later : out->cross_earlier)[(size_t)da * out->nsub + sub]++;
		if (sl->hate && sl->hate[i] && sl->hate[i] < out->nhate)
			(later ? out->hate_later : out->hate_earlier)[sl->hate[i]]++;
		if (!later)
			continue;
		if (sl->day && sl->minute && sl->day[i] >= 0 && sl->minute[i] >= 0 && sl->minute[i] < 1440) {
			out->heat[dd_weekday(sl->day[i]) * 24 + sl->minute[i] / 60]++;
			out->timed++;
			out->has_time = 1;
		} else {
			out->untimed++;
		}
	}
	return 0;
}

void dd_extract_release(struct dd_extract *x)
{
	free(x->cross_later);
	free(x->cross_earlier);
	free(x->hate_later);
	free(x->hate_earlier);
	x->cross_later = x->cross_earlier = x->hate_later = x->hate_earlier = NULL;
}

void dd_pct_text(double pct, char *buf, size_t cap)
{
	if (!isfinite(pct))
		snprintf(buf, cap, "n/a");
	else
		snprintf(buf, cap, "%+.0f%%", pct);
}

/* "12.3% (30 of 244)" — every percentage with its counts. */
void dd_share_text(double num, double den, char *buf, size_t cap)
{
	if (den > 0)
		snprintf(buf, cap, "%.1f%% (%.0f of %.0f)", 100 * num / den, num, den);
	else
		snprintf(buf, cap, "n/a (0 crimes)");
}


/* A table: saved as CSV in the output folder and written into the report. */
int dd_emit_table(const struct dd_out *d, struct table *t, const char *file, struct mb_error *err)
{
	int r;

	if (d->dir && (r = table_save_csv(t, d->dir, file, err)))
		return r;
	if ((r = table_write_md(t, d->md, err)))
		return r;
	if (d->dir)
		fprintf(d->md, "\n(Table: %s)\n", file);
	fputc('\n', d->md);
	return 0;
}


/* A change table (components named by label) with shares and tests, and the
 * sentence on the largest contributor. */
int dd_change_report(const struct dd_out *d, const char *title, const char *what, const char *file,
			const char *const *label, const double *later, const double *earlier,
			size_t m, struct mb_error *err)
{
	static const char *const cols[] = { "component", "period", "previous period", "change",
					    "change %", "share of total change %", "p", "q (BH)", "verdict" };
	struct dd_change *c = calloc(m ? m : 1, sizeof(*c));
	struct table t = { 0 };
	int r;

	if (!c)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = dd_change_compute(later, earlier, m, d->fdr, c, err)) ||
	    (r = table_init(&t, title, cols, 9, err)))
		goto cleanup;
	size_t big = m;
	double tot = 0;

	for (size_t k = 0; k < m && !r; k++) {
		size_t row;
		const char *v = !c[k].tested ? "too few to test"
				: !c[k].significant ? "no clear change"
				: c[k].delta > 0 ? "rose" : "fell";

		tot += c[k].delta;
		if (big == m || fabs(c[k].delta) > fabs(c[big].delta))
			big = k;
		if ((r = table_add_row(&t, &row, err)) || (r = table_set_text(&t, row, 0, label[k], err)) ||
		    (r = table_set_int(&t, row, 1, (int64_t)c[k].later, err)) ||
		    (r = table_set_int(&t, row, 2, (int64_t)c[k].earlier, err)) ||
		    (r = table_set_int(&t, row, 3, (int64_t)c[k].delta, err)) ||
		    (r = table_set_double(&t, row, 4, c[k].pct, 1, err)) ||
		    (r = table_set_double(&t, row, 5, 100 * c[k].share, 1, err)) ||
		    (r = table_set_double(&t, row, 6, c[k].p, 4, err)) ||
		    (r = table_set_double(&t, row, 7, c[k].q, 4, err)))
			break;
		r = table_set_text(&t, row, 8, v, err);
	}
	if (r)
		goto cleanup;
	if (big < m && tot != 0) {
		char pc[32];

		dd_pct_text(c[big].pct, pc, sizeof(pc));
		fprintf(d->md, "By %s, the total changed by %+.0f crimes. The largest part: ", what, tot);
		if ((r = emit_md_escape(label[big], d->md, err)))
			goto cleanup;
		fprintf(d->md, " (%.0f to %.0f, %s, %s), %.0f%% of the change%s.\n\n", c[big].earlier,
			c[big].later, pc,
			!c[big].tested ? "too few to test"
			: c[big].significant ? "significant after FDR control"
					     : "not significant after FDR control",
			100 * c[big].share,
			c[big].share > 1 ? " (more than the whole change: other components moved the"
					   " other way)"
			: c[big].share < 0 ? " (against the direction of the total)" : "");
	} else {
		fprintf(d->md, "By %s: no change in the total, so no shares.\n\n", what);
	}
	/* a short table is said in full, component by component */
	for (size_t k = 0; m <= 6 && k < m; k++) {
		char pc[32];

		if (c[k].later + c[k].earlier == 0)
			continue;
		if (isfinite(c[k].pct) && c[k].delta)
			snprintf(pc, sizeof(pc), " %.0f%%", fabs(c[k].pct));
		else
			pc[0] = 0;
		if ((r = emit_md_escape(label[k], d->md, err)))
			goto cleanup;
		fprintf(d->md, " %s%s (%.0f to %.0f; %s)", c[k].delta > 0 ? "rose" : c[k].delta < 0 ? "fell" : "was unchanged",
			pc, c[k].earlier, c[k].later,
			!c[k].tested ? "too few to test" : c[k].significant ? "significant" : "not significant");
		if (isfinite(c[k].share) && c[k].delta)
			fprintf(d->md, " and accounts for %.0f%% of the %s", 100 * fabs(c[k].share),
				(c[k].delta > 0) == (tot > 0) ? (tot > 0 ? "increase" : "decrease")
							    : "change, against its direction");
		fprintf(d->md, k + 1 < m ? "; " : ".\n\n");
	}
	r = dd_emit_table(d, &t, file, err);
cleanup:
	table_release(&t);
	free(c);
	return r;
}


/* Is subgroup name recording-sensitive (datasets/recording_sensitive.csv) or high-harm? */
static int subgroup_class(const char *name, const struct csvtab *rs)
{
	static const char *const high[] = { "Violence with injury", "Robbery", "Death or serious injury",
					    "Homicide", "Robbery of business property",
					    "Robbery of personal property" };

	for (size_t k = 0; rs && k < rs->nrows; k++)
		if (strcasecmp(rs->rows[k].f[0], name) == 0)
			return 1;
	for (size_t k = 0; k < sizeof(high) / sizeof(high[0]); k++)
		if (strcasecmp(high[k], name) == 0)
			return 2;
	return 0;
}

/* Section 7: the force-extract questions (DA, subgroups, recording, hate, times). */
int dd_extract_report(const struct dd_out *d, const struct slice *sl, const uint8_t *on,
		      int32_t from, int32_t to, int32_t pfrom, int32_t pto, struct mb_error *err)
{
	struct dd_extract x = { 0 };
	struct csvtab rs = { 0 };
	char path[4096];
	int r;

	fprintf(d->md, "## Domestic abuse, offence subgroups, hate crime and times\n\n");
	if ((r = dd_extract_count(sl, on, from, to, pfrom, pto, &x, err)))
		return r;
	if (!x.has_da && !x.has_subgroup && !x.has_hate) { /* agency dates alone are no extract */
		fprintf(d->md, "Not available: the store holds police.uk data only for this selection,"
			" which gives each crime's month, type and approximate place, nothing more. A"
			" force extract loaded with `microbeat import --map` would answer:\n\n"
			"- *Is domestic abuse driving the change?* needs the domestic-abuse flag;\n"
			"- *Which offence subgroups moved?* needs the Home Office offence subgroup"
			" (violence with and without injury, stalking and harassment ...);\n"
			"- *Real rise or better recording?* needs the subgroups: police.uk's \"Violence"
			" and sexual offences\" mixes recording-sensitive and high-harm offences;\n"
			"- *Hate crime by strand* needs the hate flag and strand;\n"
			"- *Day of week by hour* needs the exact date and time (police.uk gives the month"
			" only).\n\n");
		goto cleanup;
	}
	size_t ns = x.nsub, nc = DD_DA_CLASSES * ns;
	const char **lab = calloc(nc + 3, sizeof(char *));
	char (*buf)[160] = calloc(nc + 3, 160);
	double *l = calloc(nc + 3, sizeof(double)), *e = calloc(nc + 3, sizeof(double));
	static const char *const daname[] = { "non-DA", "DA-flagged", "DA unknown" };

	if (!lab || !buf || !l || !e) {
		free(lab);
		free(buf);
		free(l);
		free(e);
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* DA vs non-DA */
	if (x.has_da) {
		size_t k = 0;

		for (int a = 0; a < DD_DA_CLASSES; a++) {
			double tl = 0, te = 0;

			for (size_t sg = 0; sg < ns; sg++) {
				tl += x.cross_later[a * ns + sg];
				te += x.cross_earlier[a * ns + sg];
			}
			if (tl + te == 0)
				continue;
			lab[k] = daname[a];
			l[k] = tl;
			e[k++] = te;
		}
		fprintf(d->md, "### Is domestic abuse driving the change?\n\n");
		if ((r = dd_change_report(d, "Change by domestic-abuse flag", "domestic-abuse flag", "change_by_da.csv",
				      lab, l, e, k, err)))
			goto done;
	} else {
		fprintf(d->md, "No domestic-abuse flag in the loaded extract: the DA split is absent.\n\n");
	}
	/* DA x subgroup */
	if (x.has_subgroup) {
		size_t k = 0;

		for (int a = 0; a < DD_DA_CLASSES; a++)
			for (size_t sg = 0; sg < ns; sg++) {
				size_t cidx = a * ns + sg;

				if (x.cross_later[cidx] + x.cross_earlier[cidx] == 0)
					continue;
				snprintf(buf[k], 160, "%s %s", x.has_da ? daname[a] : "",
					 sg && sl->subgroup_name ? sl->subgroup_name[sg] : "(subgroup unknown)");
				lab[k] = buf[k][0] == ' ' ? buf[k] + 1 : buf[k];
				l[k] = x.cross_later[cidx];
				e[k++] = x.cross_earlier[cidx];
			}
		fprintf(d->md, "### By offence subgroup%s\n\n", x.has_da ? " and DA flag" : "");
		if ((r = dd_change_report(d, "Change by offence subgroup and DA flag", "offence subgroup",
				      "change_by_subgroup.csv", lab, l, e, k, err)))
			goto done;
		/* recording-sensitive vs high-harm */
		if (mb_data_path("recording_sensitive.csv", path, sizeof(path), err) == 0)
			(void)csvtab_read(path, &rs, err);
		double cls_l[3] = { 0 }, cls_e[3] = { 0 };

		for (size_t sg = 1; sg < ns; sg++) {
			int cl = sl->subgroup_name ? subgroup_class(sl->subgroup_name[sg], rs.nrows ? &rs : NULL) : 0;

			for (int a = 0; a < DD_DA_CLASSES; a++) {
				cls_l[cl] += x.cross_later[a * ns + sg];
				cls_e[cl] += x.cross_earlier[a * ns + sg];
			}
		}
		static const char *const cname[] = { "other subgroups", "recording-sensitive subgroups",
						     "high-harm subgroups" };

		fprintf(d->md, "### Real rise or better recording?\n\n");
		size_t kk = 0;

		for (int g = 1; g <= 3; g++) {
			int cl = g % 3; /* recording-sensitive, high-harm, then other */

			if (cls_l[cl] + cls_e[cl] == 0 && cl != 2)
				continue;
			if (cl == 0 && cls_l[0] + cls_e[0] == 0)
				continue;
			lab[kk] = cname[cl];
			l[kk] = cls_l[cl];
			e[kk++] = cls_e[cl];
		}
		if ((r = dd_change_report(d, "Recording-sensitive against high-harm subgroups", "kind of subgroup",
				      "recording_vs_harm.csv", lab, l, e, kk, err)))
			goto done;
		/* the reading follows the tests, not the raw counts */
		struct dd_change two[2];
		double tl[2] = { cls_l[1], cls_l[2] }, te[2] = { cls_e[1], cls_e[2] };

		if ((r = dd_change_compute(tl, te, 2, d->fdr, two, err)))
			goto done;
		int rs_up = two[0].significant && two[0].delta > 0, hh_up = two[1].significant && two[1].delta > 0;

		fprintf(d->md, "%s The data cannot tell how much of a rise in recording-sensitive"
			" subgroups is more offending and how much is more complete recording; a"
			" recording audit or victim survey would.\n\n",
			hh_up ? "High-harm subgroups rose clearly: the rise is not only a recording effect."
			: rs_up ? "The clear rise is in the recording-sensitive subgroups while the"
				  " high-harm subgroups show no clear rise: this fits better recording at"
				  " least as well as more harm."
			: two[0].delta > 0 && two[0].delta > two[1].delta
				? "Neither kind of subgroup changed clearly; most of the rise is in the"
				  " recording-sensitive subgroups, which is where better recording would"
				  " show first."
				: "Neither kind of subgroup changed clearly.");
	} else {
		fprintf(d->md, "No offence subgroup in the loaded extract: the subgroup split and the"
			" recording-sensitive against high-harm comparison are absent.\n\n");
	}
	/* hate strands */
	if (x.has_hate) {
		size_t k = 0;

		for (size_t h = 1; h < x.nhate; h++) {
			if (x.hate_later[h] + x.hate_earlier[h] == 0)
				continue;
			lab[k] = sl->hate_name ? sl->hate_name[h] : "?";
			l[k] = x.hate_later[h];
			e[k++] = x.hate_earlier[h];
		}
		fprintf(d->md, "### Hate crime by strand\n\nSmall counts are shown, not tested: a strand"
			" with fewer than %d crimes in the two periods together gets no test.\n\n", DD_MIN_TEST);
		if (k && (r = dd_change_report(d, "Hate crime by strand", "hate strand", "hate_by_strand.csv", lab,
					   l, e, k, err)))
			goto done;
		if (!k)
			fprintf(d->md, "No hate-flagged crime in either period.\n\n");
	} else {
		fprintf(d->md, "No hate-crime strand in the loaded extract: hate crime is absent.\n\n");
	}
	/* heat map */
	if (x.has_time) {
		static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
		static const char *const cols[] = { "weekday", "hour", "crimes" };
		struct table t = { 0 };

		if ((r = table_init(&t, "Crimes by weekday and hour (period)", cols, 3, err)))
			goto done;
		for (int w = 0; w < 7 && !r; w++)
			for (int h = 0; h < 24 && !r; h++) {
				size_t row;

				if (!(r = table_add_row(&t, &row, err)) && !(r = table_set_text(&t, row, 0, wd[w], err)) &&
				    !(r = table_set_int(&t, row, 1, h, err)))
					r = table_set_int(&t, row, 2, (int64_t)x.heat[w * 24 + h], err);
			}
		if (!r && d->dir)
			r = table_save_csv(&t, d->dir, "weekday_hour.csv", err);
		table_release(&t);
		if (r)
			goto done;
		int bw = 0, bh = 0;

		for (int k = 0; k < 7 * 24; k++)
			if (x.heat[k] > x.heat[bw * 24 + bh]) {
				bw = k / 24;
				bh = k % 24;
			}
		char sh[96];

		dd_share_text(x.timed, x.timed + x.untimed, sh, sizeof(sh));
		fprintf(d->md, "### Day of week and hour\n\nCrimes of the period with a recorded time: %s."
			" The busiest hour of the week: %s %02d:00-%02d:59 (%.0f crimes). (Table:"
			" weekday_hour.csv)\n\n", sh, wd[bw], bh, bh, x.heat[bw * 24 + bh]);
		if (d->charts && d->dir) {
			struct plot_dat pd;

			if ((r = plot_dat_open(&pd, d->dir, "weekday_hour-meta.dat", err)))
				goto done;
			plot_dat_text(&pd, "Crimes by day of the week and hour (the period, crimes with a time)");
			plot_dat_text(&pd, "Crimes");
			plot_dat_endrow(&pd);
			if ((r = plot_dat_close(&pd, err)) ||
			    (r = plot_dat_open(&pd, d->dir, "weekday_hour.dat", err)))
				goto done;
			for (int w = 0; w < 7; w++) {
				for (int hr = 0; hr < 24; hr++) {
					plot_dat_int(&pd, hr);
					plot_dat_int(&pd, w);
					plot_dat_num(&pd, x.heat[w * 24 + hr]);
					plot_dat_endrow(&pd);
				}
				plot_dat_gap(&pd);
			}
			if ((r = plot_dat_close(&pd, err)) ||
			    (r = plot_render("deepdive_heat", "weekday_hour", d->dir, err)))
				goto done;
			fprintf(d->md, "![Day of week by hour](weekday_hour.png)\n\n");
		}
	} else {
		fprintf(d->md, "No times of day: the day-of-week by hour heat map needs exact dates and"
			" times (police.uk gives the month only).\n\n");
	}
done:
	free(lab);
	free(buf);
	free(l);
	free(e);
cleanup:
	csvtab_release(&rs);
	dd_extract_release(&x);
	return r;
}

