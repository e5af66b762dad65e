/* deepdive_report — the deep dive's report helpers: a table saved and written
 * into deepdive.md, and a change table with its sentences (docs/methods-deepdive.md §6). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/slice.h"
#include "microbeat/util.h"
#include "deepdive_internal.h"

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
	    (r = table_init(&t, title, cols, ARRAY_SIZE(cols), err)))
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
	int first = 1;

	for (size_t k = 0; m <= 6 && k < m; k++) {
		char pc[32];

		if (c[k].later + c[k].earlier == 0)
			continue;
		if (isfinite(c[k].pct) && c[k].delta)
			snprintf(pc, sizeof(pc), " %.0f%%", fabs(c[k].pct));
		else
			pc[0] = 0;
		/* the first clause starts a sentence: "Non-DA rose ..." */
		if (first && islower((unsigned char)label[k][0]))
			fputc(toupper((unsigned char)label[k][0]), d->md);
		if ((r = emit_md_escape(label[k] + (first && islower((unsigned char)label[k][0])), d->md, err)))
			goto cleanup;
		first = 0;
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

/* Counts per category of a slice's selected events in the period (which = 0)
 * or the previous period (which = 1). cnt has ncat entries. */
void dd_count_types(const struct dd_run *d, const struct slice *sl, int which, double *cnt)
{
	for (size_t i = 0; i < sl->n; i++)
		if (d->on[sl->category[i]] &&
		    (which ? dd_in_prev(d, sl->month[i]) : dd_in_period(d, sl->month[i])))
			cnt[sl->category[i]]++;
}

void dd_chart_title(const struct dd_out *o, const char *what, char *out, size_t cap)
{
	snprintf(out, cap, "%s: %s", o->where, what);
}

/* Paired bars (plots/deepdive_bars.gp): n rows of v1 (and v2 when given), a
 * dashed reference line at refline (NaN = none). Labels go through data files. */
int dd_draw_bars(const char *dir, const char *name, const char *title, const char *xlabel,
		     size_t n, const char *const *label, const double *v1, const char *leg1,
		     const double *v2, const char *leg2, double refline, struct mb_error *err)
{
	struct plot_dat pd;
	char file[128];
	int r;

	snprintf(file, sizeof(file), "%s-meta.dat", name);
	if ((r = plot_dat_open(&pd, dir, file, err)))
		return r;
	plot_dat_text(&pd, title);
	plot_dat_text(&pd, xlabel);
	plot_dat_int(&pd, (int64_t)n);
	plot_dat_text(&pd, leg1);
	plot_dat_text(&pd, v2 ? leg2 : "");
	plot_dat_num(&pd, refline);
	plot_dat_endrow(&pd);
	if ((r = plot_dat_close(&pd, err)))
		return r;
	snprintf(file, sizeof(file), "%s.dat", name);
	if ((r = plot_dat_open(&pd, dir, file, err)))
		return r;
	for (size_t k = 0; k < n; k++) {
		plot_dat_int(&pd, (int64_t)k + 1);
		plot_dat_num(&pd, v1[k]);
		plot_dat_num(&pd, v2 ? v2[k] : NAN);
		plot_dat_text(&pd, label[k]);
		plot_dat_endrow(&pd);
	}
	if ((r = plot_dat_close(&pd, err)))
		return r;
	return plot_render("deepdive_bars", name, dir, err);
}

/* The index of beat b in h (h->n when absent). */
size_t dd_hot_index(const struct hot *h, uint32_t b)
{
	for (size_t k = 0; k < h->n; k++)
		if (h->beat[k] == b)
			return k;
	return h->n;
}
