/* flags_charts — the charts of 'microbeat flags': the heat map and the funnel plot. */
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "microbeat/plot.h"
#include "cmd_flags_internal.h"

/* Rows of the heat map: the top units in rank order (legible at 100+ units). */
#define HEAT_ROWS 30

/* Place the funnel's labels so that none overlaps another: in rate order,
 * each label moves down until it clears every label already placed that
 * could share its row (points within a label's width). */
static void place_labels(const double *x, const double *y, const int *show, size_t n,
			 double xmax, double ymax, double *ly)
{
	double sep = 0.04 * ymax, wid = 0.22 * xmax;
	size_t *idx = malloc((n + 1) * sizeof(size_t)), m = 0;

	for (size_t i = 0; i < n; i++)
		ly[i] = y[i];
	if (!idx)
		return;
	for (size_t i = 0; i < n; i++)
		if (show[i])
			idx[m++] = i;
	for (size_t a = 1; a < m; a++) /* insertion sort by rate, highest first */
		for (size_t b = a; b > 0 && y[idx[b]] > y[idx[b - 1]]; b--) {
			size_t t = idx[b];

			idx[b] = idx[b - 1];
			idx[b - 1] = t;
		}
	for (size_t a = 0; a < m; a++) {
		double *v = &ly[idx[a]];

		for (int moved = 1, guard = 0; moved && guard < 100; guard++) {
			moved = 0;
			for (size_t b = 0; b < a; b++)
				if (fabs(x[idx[b]] - x[idx[a]]) < wid && fabs(ly[idx[b]] - *v) < sep) {
					*v = ly[idx[b]] - sep;
					moved = 1;
				}
		}
	}
	free(idx);
}

/* The heat map (the top units in rank order x categories, shrunk rate
 * ratios) and, with populations, the funnel plot of all analysed categories
 * together with over-dispersion-adjusted limits. */
int flags_write_charts(const struct flags_run *fr, const char *dir, struct mb_error *err)
{
	const struct flags_result *res = fr->res;
	size_t nu = fr->nunit, nc = fr->ncat, nl = 0, nrow = nu < HEAT_ROWS ? nu : HEAT_ROWS;
	const char **rl = calloc(nu, sizeof(char *)), **cl = calloc(nc, sizeof(char *));
	double *v = calloc(nu * nc, sizeof(double)), *ly = calloc(nu, sizeof(double));
	double *pop = calloc(nu, sizeof(double)), *rate = calloc(nu, sizeof(double));
	double *z = calloc(nu, sizeof(double));
	const char **fl = calloc(nu, sizeof(char *));
	int *outl = calloc(nu, sizeof(int)), *show = calloc(nu, sizeof(int));
	double *lp = NULL, *l95 = NULL, *h95 = NULL, *l998 = NULL, *h998 = NULL;
	int r = 0;

	if (!rl || !cl || !v || !ly || !pop || !rate || !z || !fl || !outl || !show) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t c = 0; c < nc; c++)
		cl[c] = fr->sl.cat_name[fr->cat_of[c]];
	size_t row = 0;
	/* titles carry the area: the named units, the authority, or the layer */
	const char *where = fr->sel.area && !fr->named && strcasecmp(fr->sel.area, "all") != 0
				    ? fr->sel.area : NULL;
	char area[200];

	if (fr->named)
		snprintf(area, sizeof(area), "%.120s (%.60s)", fr->sel.area, fr->au.layer);
	else if (where)
		snprintf(area, sizeof(area), "%.180s", where);
	else
		snprintf(area, sizeof(area), "All units of %.150s", fr->au.layer);

	for (size_t o = 0; o < nu && row < nrow; o++) {
		size_t k = res->order[o];

		if (!reported(fr, k))
			continue;
		rl[row] = fr->au.name[fr->unit_of[k]];
		for (size_t c = 0; c < nc; c++) {
			double x = res->cell[k * nc + c].rr_shrunk;

			v[row * nc + c] = isfinite(x) ? round(x * 100) / 100 : NAN;
		}
		row++;
	}
	nrow = row;
	char title[600];

	if (fr->named)
		snprintf(title, sizeof(title), "%s: shrunk rate ratio, %zu of %zu %s units (rates over all),"
			 " %s", area, nrow, nu, fr->au.layer, fr->sel.period_label);
	else if (nrow < nu)
		snprintf(title, sizeof(title), "%s: shrunk rate ratio, top %zu of %zu %s units by"
			 " harm-weighted excess, %s", area, nrow, nu, fr->au.layer, fr->sel.period_label);
	else
		snprintf(title, sizeof(title), "%s: shrunk rate ratio by %s (rank order) and category,"
			 " %s", area, fr->au.layer, fr->sel.period_label);
	struct plot_heatmap hm = { .title = title, .nrows = nrow, .ncols = nc, .row_label = rl,
				   .col_label = cl, .value = v, .vmax = 2,
				   .value_label = "Rate ratio (empirical Bayes)" };

	if ((r = plot_heatmap(dir, "heatmap", &hm, err)) || !res->by_population)
		goto cleanup;

	/* funnel: every analysed category together, against residents */
	double tot = 0, den = 0, pmax = 0, ymax = 0;
	size_t n = 0;

	for (size_t k = 0; k < nu; k++) {
		double p = fr->pop[k], o = 0;

		if (!isfinite(p) || p <= 0)
			continue;
		for (size_t c = 0; c < nc; c++)
			o += res->cell[k * nc + c].observed;
		tot += o;
		den += p;
		pop[n] = p;
		rate[n] = o; /* a count until the district rate is known */
		fl[n] = fr->au.name[fr->unit_of[k]];
		show[n] = res->unit[k].priority || (fr->named && reported(fr, k));
		n++;
		if (p > pmax)
			pmax = p;
	}
	if (!n || tot <= 0)
		goto cleanup;
	double drate = tot / den;

	for (size_t i = 0; i < n; i++)
		z[i] = (rate[i] - drate * pop[i]) / sqrt(drate * pop[i]);
	double phi = flags_winsor_phi(z, n);

	if (!(phi > 1))
		phi = 1;
	for (size_t i = 0; i < n; i++) {
		double lo, hi, lo2, hi2, obs = rate[i], mu = drate * pop[i];

		if (flags_od_limits(mu, phi, 0.95, &lo, &hi, NULL) == 0 &&
		    flags_od_limits(mu, phi, 0.998, &lo2, &hi2, NULL) == 0)
			outl[i] = obs > hi2 ? 2 : obs > hi ? 1 : obs < lo2 ? -2 : obs < lo ? -1 : 0;
		show[i] |= outl[i] == 2;
		rate[i] = 1000.0 * obs / pop[i];
		if (rate[i] > ymax)
			ymax = rate[i];
	}
	nl = 200;
	lp = calloc(nl, sizeof(double));
	l95 = calloc(nl, sizeof(double));
	h95 = calloc(nl, sizeof(double));
	l998 = calloc(nl, sizeof(double));
	h998 = calloc(nl, sizeof(double));
	if (!lp || !l95 || !h95 || !l998 || !h998) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	size_t m = 0;

	for (size_t i = 0; i < nl; i++) {
		double p = pmax * 1.1 * (double)(i + 1) / (double)nl, mu = drate * p, a, b, c2, d;

		if (flags_od_limits(mu, phi, 0.95, &a, &b, NULL) ||
		    flags_od_limits(mu, phi, 0.998, &c2, &d, NULL))
			continue;
		lp[m] = p;
		l95[m] = 1000.0 * a / p;
		h95[m] = 1000.0 * b / p;
		l998[m] = 1000.0 * c2 / p;
		h998[m] = 1000.0 * d / p;
		/* the limits at the smallest populations run off the chart: scale to the points */
		m++;
	}
	place_labels(pop, rate, show, n, pmax * 1.1, ymax > 0 ? ymax * 1.3 : 1, ly);
	snprintf(title, sizeof(title), "%s: crime per 1,000 residents by %s, %s (%zu categories,"
		 " phi %.1f)", area, fr->au.layer, fr->sel.period_label, nc, phi);
	struct plot_funnel fp = { .title = title, .n = n, .label = fl, .pop = pop, .rate = rate,
				  .outlier = outl, .district_rate = 1000.0 * drate, .n_limits = m,
				  .lim_pop = lp, .lo95 = l95, .hi95 = h95, .lo998 = l998, .hi998 = h998,
				  .label_y = ly, .show_label = show };

	if (m)
		r = plot_funnel(dir, "funnel", &fp, err);
cleanup:
	free(rl);
	free(cl);
	free(v);
	free(ly);
	free(pop);
	free(rate);
	free(z);
	free(fl);
	free(outl);
	free(show);
	free(lp);
	free(l95);
	free(h95);
	free(l998);
	free(h998);
	return r;
}

