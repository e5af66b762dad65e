/* deepdive_change — section 6 of 'microbeat deepdive': the month-of-year
 * profile and what drives the change, by type (with its harm weighting) and by
 * unit (docs/methods-deepdive.md §6). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/areas.h"
#include "microbeat/csvtab.h"
#include "microbeat/emit.h"
#include "microbeat/outcomes.h"
#include "microbeat/plot.h"
#include "microbeat/store.h"
#include "microbeat/trend.h"
#include "microbeat/util.h"
#include "deepdive_internal.h"

/* Section 6: month-of-year profile. */
int dd_sec_season(struct dd_run *d, struct mb_error *err)
{
	static const char *const mname[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	double sum[12] = { 0 }, mean[12];
	int nm[12] = { 0 }, r = 0;
	struct table t = { 0 };
	static const char *const cols[] = { "month of year", "months loaded", "crimes", "mean per month" };

	for (int32_t m = d->span_from; m <= d->sel.to; m++)
		if (d->S.month_present[m - d->span_from])
			nm[m % 12]++;
	for (size_t i = 0; i < d->S.n; i++)
		if (d->on[d->S.category[i]] && d->S.month[i] <= d->sel.to &&
		    d->S.month_present[d->S.month[i] - d->span_from])
			sum[d->S.month[i] % 12]++;
	if ((r = table_init(&t, "Month-of-year profile (selection)", cols, ARRAY_SIZE(cols), err)))
		return r;
	int hi = 0, lo = 0;

	for (int k = 0; k < 12 && !r; k++) {
		size_t row;

		mean[k] = nm[k] ? sum[k] / nm[k] : NAN;
		if (nm[k] && (!nm[hi] || mean[k] > mean[hi]))
			hi = k;
		if (nm[k] && (!nm[lo] || mean[k] < mean[lo]))
			lo = k;
		if (!(r = table_add_row(&t, &row, err)) && !(r = table_set_text(&t, row, 0, mname[k], err)) &&
		    !(r = table_set_int(&t, row, 1, nm[k], err)) && !(r = table_set_int(&t, row, 2, (int64_t)sum[k], err)))
			r = table_set_double(&t, row, 3, mean[k], 1, err);
	}
	if (r)
		goto cleanup;
	int loaded = 0;

	for (int k = 0; k < 12; k++)
		loaded += nm[k];
	fprintf(d->md, "## Seasonality\n\nMean crimes per calendar month over the %d loaded months"
		" of %04d-%02d..%04d-%02d: highest in %s (%.1f), lowest in %s (%.1f). With two or three"
		" years per month, this profile is a description, not a test.\n\n", loaded,
		2000 + d->span_from / 12, d->span_from % 12 + 1, 2000 + d->sel.to / 12,
		d->sel.to % 12 + 1, mname[hi], mean[hi], mname[lo], mean[lo]);
	if ((r = dd_emit_table(&d->out, &t, "seasonality.csv", err)))
		goto cleanup;
	if (d->charts && d->dir) {
		double mv[12];

		for (int k = 0; k < 12; k++)
			mv[k] = isfinite(mean[k]) ? mean[k] : 0;
		char title[600];

		dd_chart_title(&d->out, "mean crimes per month of the year", title, sizeof(title));
		struct plot_seasonal ps = { .title = title,
					    .value_label = "Mean crimes per month", .n = 12,
					    .label = mname, .mean = mv };

		if ((r = plot_seasonal(d->dir, "seasonality", &ps, err)))
			goto cleanup;
		fprintf(d->md, "![Seasonality](seasonality.%s)\n\n", plot_formats_ext(d->charts));
	}
cleanup:
	table_release(&t);
	return r;
}

/* The change weighted by harm: each type's crimes times its Cambridge Crime
 * Harm Index weight (datasets/harm_cchi.csv, days of imprisonment), in the
 * period and the previous one (docs/methods-deepdive.md §6). */
static int harm_change(struct dd_run *d, const char *const *lab, const double *l, const double *e,
		       size_t m, struct mb_error *err)
{
	static const char *const cols[] = { "type", "CCHI days per crime", "period harm",
					    "previous harm", "harm change %" };
	struct csvtab h = { 0 };
	struct table t = { 0 };
	char path[4096];
	double hl = 0, he = 0, nl = 0, ne = 0;
	size_t unweighted = 0;
	int r;

	if (mb_data_path("harm_cchi.csv", path, sizeof(path), err) || csvtab_read(path, &h, err)) {
		fprintf(d->md, "No harm weights (datasets/harm_cchi.csv not found): no harm-weighted"
			" change.\n\n");
		return 0;
	}
	long ct = csvtab_col(&h, "crime_type"), cw = csvtab_col(&h, "cchi_days");

	if (ct < 0 || cw < 0) {
		r = mb_err(err, MB_EDATA, "%s: wants columns crime_type and cchi_days", path);
		goto cleanup;
	}
	if ((r = table_init(&t, "Harm-weighted change by type (Cambridge Crime Harm Index)", cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	for (size_t k = 0; k < m && !r; k++) {
		double w = NAN;
		size_t row;

		for (size_t j = 0; j < h.nrows; j++)
			if (strcasecmp(h.rows[j].f[ct], lab[k]) == 0 && csvtab_number(h.rows[j].f[cw], &w))
				w = NAN;
		if (!isfinite(w)) {
			unweighted++;
		} else {
			hl += w * l[k];
			he += w * e[k];
			nl += l[k];
			ne += e[k];
		}
		if ((r = table_add_row(&t, &row, err)) || (r = table_set_text(&t, row, 0, lab[k], err)) ||
		    (r = table_set_double(&t, row, 1, w, 2, err)) ||
		    (r = table_set_double(&t, row, 2, w * l[k], 1, err)) ||
		    (r = table_set_double(&t, row, 3, w * e[k], 1, err)))
			break;
		r = table_set_double(&t, row, 4, e[k] > 0 && isfinite(w) ? 100 * (l[k] / e[k] - 1) : NAN, 1, err);
	}
	if (r)
		goto cleanup;
	fprintf(d->md, "Weighted by harm (Cambridge Crime Harm Index: the days of imprisonment a"
		" first offender would get, per crime; datasets/harm_cchi.csv), the selected types"
		" went from %.0f to %.0f harm-days (%s%.0f%%), while their count went from %.0f to"
		" %.0f (%s%.0f%%).", he, hl, hl >= he ? "+" : "-", he > 0 ? fabs(100 * (hl / he - 1)) : 0.0,
		ne, nl, nl >= ne ? "+" : "-", ne > 0 ? fabs(100 * (nl / ne - 1)) : 0.0);
	if (unweighted)
		fprintf(d->md, " %zu type%s without a weight left out.", unweighted, unweighted == 1 ? "" : "s");
	fprintf(d->md, " At police.uk's level each type has one weight, so this shows shifts between"
		" types, not within them (a force extract's subgroups would).\n\n");
	r = dd_emit_table(&d->out, &t, "harm_by_type.csv", err);
cleanup:
	table_release(&t);
	csvtab_release(&h);
	return r;
}

/* Section 6b: the contribution of each unit and type to the change. */
int dd_sec_contrib(struct dd_run *d, struct mb_error *err)
{
	size_t m = d->ntype, nu = d->S.nunit;
	double *l = calloc(d->D.ncat + nu + 1, sizeof(double)), *e = calloc(d->D.ncat + nu + 1, sizeof(double));
	double *lt = calloc(m + nu + 1, sizeof(double)), *et = calloc(m + nu + 1, sizeof(double));
	const char **lab = calloc(m + nu + 1, sizeof(char *));
	int r = 0;

	if (!l || !e || !lt || !et || !lab) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	fprintf(d->md, "## What drives the change\n\nThe period against the previous period of the"
		" same length; each component's exact test (conditional binomial) with BH control"
		" across components; fewer than %d crimes in the two periods: shown, not tested.\n\n",
		DD_MIN_TEST);
	dd_count_types(d, &d->S, 0, l);
	dd_count_types(d, &d->S, 1, e);
	for (size_t k = 0; k < m; k++) {
		lt[k] = l[d->type[k]];
		et[k] = e[d->type[k]];
		lab[k] = d->D.cat_name[d->type[k]];
	}
	if ((r = dd_change_report(&d->out, "Change by type (selection)", "type", "change_by_type.csv", lab, lt, et, m, err)) ||
	    (r = harm_change(d, lab, lt, et, m, err)))
		goto cleanup;
	if (d->S.unit && nu > 1) {
		size_t k = 0;
		uint32_t *idx = calloc(nu, sizeof(uint32_t));

		if (!idx) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		memset(lt, 0, (m + nu + 1) * sizeof(double));
		memset(et, 0, (m + nu + 1) * sizeof(double));
		for (uint32_t u = 1; u < nu; u++)
			if (d->S.unit_chosen[u]) {
				idx[u] = (uint32_t)k + 1;
				lab[k++] = d->S.unit_name[u];
			}
		for (size_t i = 0; i < d->S.n; i++) {
			uint32_t u = d->S.unit[i];

			if (!u || u >= nu || !idx[u] || !d->on[d->S.category[i]])
				continue;
			if (dd_in_period(d, d->S.month[i]))
				lt[idx[u] - 1]++;
			else if (dd_in_prev(d, d->S.month[i]))
				et[idx[u] - 1]++;
		}
		free(idx);
		if (k > 1)
			r = dd_change_report(&d->out, "Change by unit (selection)", "unit", "change_by_unit.csv", lab, lt, et, k, err);
	}
cleanup:
	free(l);
	free(e);
	free(lt);
	free(et);
	free(lab);
	return r;
}
