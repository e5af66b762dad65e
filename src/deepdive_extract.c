/* deepdive_extract — section 7 of 'microbeat deepdive': the force-extract
 * questions (DA, offence subgroups, real rise or better recording, hate crime
 * by strand, day of week by hour; docs/methods-deepdive.md §7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/csvtab.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/util.h"
#include "deepdive_internal.h"

/* The row of subgroup name in the subgroup weights (column cs), or -1. */
static long subgroup_row(const struct csvtab *sw, long cs, const char *name)
{
	for (size_t k = 0; sw && cs >= 0 && name && k < sw->nrows; k++)
		if (strcasecmp(sw->rows[k].f[cs], name) == 0)
			return (long)k;
	return -1;
}

/* Is subgroup name recording-sensitive (1), high-harm (2) or other (0)? Its
 * "recording" column in datasets/harm_cchi_subgroup.csv (sw) when listed there,
 * else datasets/recording_sensitive.csv (rs) and the high-harm names below. */
static int subgroup_class(const char *name, const struct csvtab *sw, const struct csvtab *rs)
{
	static const char *const high[] = { "Violence with injury", "Robbery", "Death or serious injury",
					    "Homicide", "Robbery of business property",
					    "Robbery of personal property" };
	long cs = sw ? csvtab_col(sw, "subgroup") : -1, cr = sw ? csvtab_col(sw, "recording") : -1;
	long row = cr >= 0 ? subgroup_row(sw, cs, name) : -1;

	if (row >= 0)
		return strcasecmp(sw->rows[row].f[cr], "recording-sensitive") == 0 ? 1
		       : strcasecmp(sw->rows[row].f[cr], "high-harm") == 0 ? 2 : 0;
	for (size_t k = 0; rs && k < rs->nrows; k++)
		if (strcasecmp(rs->rows[k].f[0], name) == 0)
			return 1;
	for (size_t k = 0; k < ARRAY_SIZE(high); k++)
		if (strcasecmp(high[k], name) == 0)
			return 2;
	return 0;
}

/* "+12%" / "-4%" of later against earlier ("n/a" when earlier is 0). */
static double pct_of(double later, double earlier)
{
	return earlier > 0 ? 100 * (later / earlier - 1) : NAN;
}

/* Weights per id: wsub by subgroup name from sw (cchi_days), wcat by category
 * name from datasets/harm_cchi.csv; NaN where none. MB_ENOMEM, MB_EDATA. */
static int harm_weights(const struct slice *sl, const struct csvtab *sw, double **wsub, double **wcat,
			struct mb_error *err)
{
	struct csvtab h = { 0 };
	char path[4096];
	long cs = csvtab_col(sw, "subgroup"), cw = csvtab_col(sw, "cchi_days");

	*wsub = malloc((sl->nsubgroup ? sl->nsubgroup : 1) * sizeof(double));
	*wcat = malloc((sl->ncat ? sl->ncat : 1) * sizeof(double));
	if (!*wsub || !*wcat)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (cs < 0 || cw < 0)
		return mb_err(err, MB_EDATA, "%s: wants columns subgroup and cchi_days", sw->path);
	for (size_t k = 0; k < (sl->nsubgroup ? sl->nsubgroup : 1); k++) {
		long row = k && sl->subgroup_name ? subgroup_row(sw, cs, sl->subgroup_name[k]) : -1;

		if (row < 0 || csvtab_number(sw->rows[row].f[cw], &(*wsub)[k]))
			(*wsub)[k] = NAN;
	}
	for (size_t k = 0; k < (sl->ncat ? sl->ncat : 1); k++)
		(*wcat)[k] = NAN;
	/* the type weights are the fallback: without them, subgroup weights alone */
	if (mb_data_path("harm_cchi.csv", path, sizeof(path), NULL) == 0 && csvtab_read(path, &h, NULL) == 0) {
		long ct = csvtab_col(&h, "crime_type"), cd = csvtab_col(&h, "cchi_days");

		for (size_t k = 1; ct >= 0 && cd >= 0 && sl->cat_name && k < sl->ncat; k++)
			for (size_t j = 0; j < h.nrows; j++)
				if (sl->cat_name[k] && strcasecmp(h.rows[j].f[ct], sl->cat_name[k]) == 0 &&
				    csvtab_number(h.rows[j].f[cd], &(*wcat)[k]))
					(*wcat)[k] = NAN;
	}
	csvtab_release(&h);
	return 0;
}

/* "Real rise or better recording?" in harm: the counted events weighted by the
 * CCHI weight of their offence subgroup (datasets/harm_cchi_subgroup.csv),
 * against the same events weighted by their police.uk type. The harm and count
 * changes (%) go to *hpct and *cpct (NaN when not computed). */
static int harm_by_subgroup(const struct dd_out *d, const struct slice *sl, const uint8_t *on,
			    int32_t from, int32_t to, int32_t pfrom, int32_t pto, const struct csvtab *sw,
			    double *hpct, double *cpct, struct mb_error *err)
{
	static const char *const cols[] = { "subgroup", "CCHI days per crime", "period crimes",
					    "previous crimes", "period harm", "previous harm",
					    "harm change", "share of harm change %", "share of crime change %" };
	struct dd_harm x = { 0 };
	struct table t = { 0 };
	double *wsub = NULL, *wcat = NULL, hl = 0, he = 0;
	int r;

	*hpct = *cpct = NAN;
	if ((r = harm_weights(sl, sw, &wsub, &wcat, err)) ||
	    (r = dd_harm_count(sl, on, from, to, pfrom, pto, wsub, wcat, &x, err)) ||
	    (r = table_init(&t, "Harm-weighted change by offence subgroup (Cambridge Crime Harm Index)",
			    cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	double nl = 0, ne = 0;

	for (size_t sg = 0; sg < x.nsub; sg++) {
		hl += x.harm_later[sg];
		he += x.harm_earlier[sg];
		nl += x.crimes_later[sg];
		ne += x.crimes_earlier[sg];
	}
	size_t big = x.nsub; /* the subgroup with the largest rise in crimes */

	for (size_t sg = 0; sg < x.nsub && !r; sg++) {
		size_t row;
		double dl = x.harm_later[sg] - x.harm_earlier[sg];
		double dc = x.crimes_later[sg] - x.crimes_earlier[sg];

		if (x.crimes_later[sg] + x.crimes_earlier[sg] == 0)
			continue;
		if (big == x.nsub || dc > x.crimes_later[big] - x.crimes_earlier[big])
			big = sg;
		if ((r = table_add_row(&t, &row, err)) ||
		    (r = table_set_text(&t, row, 0, sg && sl->subgroup_name ? sl->subgroup_name[sg]
						     : "(subgroup unknown)", err)) ||
		    (r = table_set_double(&t, row, 1, wsub[sg], 2, err)) ||
		    (r = table_set_int(&t, row, 2, (int64_t)x.crimes_later[sg], err)) ||
		    (r = table_set_int(&t, row, 3, (int64_t)x.crimes_earlier[sg], err)) ||
		    (r = table_set_double(&t, row, 4, x.harm_later[sg], 1, err)) ||
		    (r = table_set_double(&t, row, 5, x.harm_earlier[sg], 1, err)) ||
		    (r = table_set_double(&t, row, 6, dl, 1, err)) ||
		    (r = table_set_double(&t, row, 7, hl != he ? 100 * dl / (hl - he) : NAN, 1, err)))
			break;
		r = table_set_double(&t, row, 8, nl != ne ? 100 * dc / (nl - ne) : NAN, 1, err);
	}
	if (r)
		goto cleanup;
	char a[32], b[32], c[32];

	*hpct = pct_of(hl, he);
	*cpct = pct_of(x.weighted_later, x.weighted_earlier);
	dd_pct_text(*hpct, a, sizeof(a));
	dd_pct_text(*cpct, b, sizeof(b));
	dd_pct_text(pct_of(x.type_later, x.type_earlier), c, sizeof(c));
	fprintf(d->md, "Weighted by the harm of each offence subgroup (Cambridge Crime Harm Index days"
		" per crime; datasets/harm_cchi_subgroup.csv), the crimes went from %.0f to %.0f"
		" harm-days (%s), while their count went from %.0f to %.0f (%s). With one weight per"
		" police.uk type (datasets/harm_cchi.csv) the same crimes give %.0f to %.0f harm-days"
		" (%s): a type's weight is the average over its subgroups, so it prices every extra"
		" crime of a type at that average whichever subgroup it is.",
		he, hl, a, x.weighted_earlier, x.weighted_later, b, x.type_earlier, x.type_later, c);
	if (big < x.nsub && nl > ne && hl != he) {
		double dc = x.crimes_later[big] - x.crimes_earlier[big];
		double dh = x.harm_later[big] - x.harm_earlier[big];

		fprintf(d->md, " ");
		if ((r = emit_md_escape(big && sl->subgroup_name ? sl->subgroup_name[big] : "(subgroup unknown)",
					d->md, err)))
			goto cleanup;
		fprintf(d->md, " makes %.0f%% of the rise in crimes and %.0f%% of the change in harm.",
			100 * dc / (nl - ne), 100 * dh / (hl - he));
	}
	if (x.fallback)
		fprintf(d->md, " %.0f crime%s of a subgroup without its own weight %s weighted by"
			" %s type.", x.fallback, x.fallback == 1 ? "" : "s", x.fallback == 1 ? "is" : "are",
			x.fallback == 1 ? "its" : "their");
	if (x.unweighted)
		fprintf(d->md, " %.0f crime%s without any weight %s left out of the harm.", x.unweighted,
			x.unweighted == 1 ? "" : "s", x.unweighted == 1 ? "is" : "are");
	fprintf(d->md, " Harm-days describe; they are not tested (a few heavily weighted crimes"
		" move them).\n\n");
	r = dd_emit_table(d, &t, "harm_by_subgroup.csv", err);
cleanup:
	table_release(&t);
	dd_harm_release(&x);
	free(wsub);
	free(wcat);
	return r;
}

/* Section 7: the force-extract questions (DA, subgroups, recording, hate, times). */
int dd_extract_report(const struct dd_out *d, const struct slice *sl, const uint8_t *on,
		      int32_t from, int32_t to, int32_t pfrom, int32_t pto, struct mb_error *err)
{
	struct dd_extract x = { 0 };
	struct csvtab rs = { 0 }, sw = { 0 };
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
		if (d->charts && d->dir && k) {
			/* long subgroup names would squeeze the bars: cut past 72 bytes, at
			 * a character's start (the Home Office's longest, "non-DA Racially
			 * or religiously aggravated public fear, alarm or distress", is 72:
			 * cut at 40 it lost the offence) */
			char (*cut)[80] = calloc(k, 80);
			const char **cl = calloc(k, sizeof(char *));

			for (size_t j = 0; cut && cl && j < k; j++) {
				size_t len = strlen(lab[j]), m = 69;

				if (len > 72) {
					while (m > 0 && ((unsigned char)lab[j][m] & 0xC0) == 0x80)
						m--;
					snprintf(cut[j], 80, "%.*s...", (int)m, lab[j]);
				} else {
					snprintf(cut[j], 80, "%s", lab[j]);
				}
				cl[j] = cut[j];
			}
			char title[600];

			dd_chart_title(d, "crimes by subgroup and DA flag", title, sizeof(title));
			r = cut && cl ? dd_draw_bars(d->dir, "change_by_subgroup", title,
						     "Crimes", k, cl, e, "Previous period", l, "Period", NAN, err)
				      : mb_err(err, MB_ENOMEM, "out of memory");
			free(cut);
			free(cl);
			if (r)
				goto done;
			fprintf(d->md, "![Crimes by offence subgroup and DA flag](change_by_subgroup.%s)\n\n",
				plot_formats_ext(d->charts));
		}
		/* recording-sensitive vs high-harm */
		if (mb_data_path("recording_sensitive.csv", path, sizeof(path), NULL) == 0)
			(void)csvtab_read(path, &rs, NULL);
		if (mb_data_path("harm_cchi_subgroup.csv", path, sizeof(path), NULL) == 0)
			(void)csvtab_read(path, &sw, NULL);
		double cls_l[3] = { 0 }, cls_e[3] = { 0 };

		for (size_t sg = 1; sg < ns; sg++) {
			int cl = sl->subgroup_name ? subgroup_class(sl->subgroup_name[sg], sw.nrows ? &sw : NULL,
								    rs.nrows ? &rs : NULL) : 0;

			for (int a = 0; a < DD_DA_CLASSES; a++) {
				cls_l[cl] += x.cross_later[a * ns + sg];
				cls_e[cl] += x.cross_earlier[a * ns + sg];
			}
		}
		static const char *const cname[] = { "other subgroups", "recording-sensitive subgroups",
						     "high-harm subgroups" };

		fprintf(d->md, "### Real rise or better recording?\n\n"
			"Recording-sensitive subgroups (violence without injury, stalking and harassment,"
			" public order: their recorded counts move with recording practice) against"
			" high-harm subgroups (violence with injury, death or serious injury, homicide,"
			" robbery: recorded much the same whatever the practice); the kinds are the"
			" `recording` column of datasets/harm_cchi_subgroup.csv.\n\n");
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
		double hpct = NAN, cpct = NAN;

		if (sw.nrows && (r = harm_by_subgroup(d, sl, on, from, to, pfrom, pto, &sw, &hpct, &cpct, err)))
			goto done;
		if (!sw.nrows)
			fprintf(d->md, "No subgroup harm weights (datasets/harm_cchi_subgroup.csv not"
				" found): no harm-weighted change by subgroup.\n\n");
		/* the reading follows the tests, not the raw counts */
		struct dd_change two[2];
		double tl[2] = { cls_l[1], cls_l[2] }, te[2] = { cls_e[1], cls_e[2] };

		if ((r = dd_change_compute(tl, te, 2, d->fdr, two, err)))
			goto done;
		int rs_up = two[0].significant && two[0].delta > 0, hh_up = two[1].significant && two[1].delta > 0;
		/* harm rising at under half the rate of the count: the rise is in light offences */
		int light = isfinite(hpct) && isfinite(cpct) && cpct > 0 && hpct < cpct / 2;

		fprintf(d->md, "**Reading.** %s%s\n\n"
			"What the data cannot tell: how much of a rise in recording-sensitive subgroups"
			" is more offending and how much is more complete recording (a recording audit"
			" or a victim survey would); nor whether the high-harm subgroups would have"
			" shown a rise over a longer period. The harm weights are sentencing starting"
			" points for the offence, not the harm done in each case.\n\n",
			hh_up ? "High-harm subgroups rose clearly: the rise is not only a recording effect."
			: rs_up ? "The clear rise is in the recording-sensitive subgroups while the"
				  " high-harm subgroups show no clear rise: the data fit better recording"
				  " (or more low-harm offending) at least as well as a rise in serious harm."
			: two[0].delta > 0 && two[0].delta > two[1].delta
				? "Neither kind of subgroup changed clearly; most of the rise is in the"
				  " recording-sensitive subgroups, which is where better recording would"
				  " show first."
				: "Neither kind of subgroup changed clearly.",
			!light ? ""
			: hh_up ? " Weighted by harm the rise is smaller than in count, as most extra"
				  " crimes are of low-harm subgroups."
				: " Weighted by harm the rise is much smaller than in count: the extra"
				  " crimes are mostly of low-harm subgroups.");
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

		if ((r = table_init(&t, "Crimes by weekday and hour (period)", cols, ARRAY_SIZE(cols), err)))
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
			char title[600];

			dd_chart_title(d, "crimes by day of the week and hour (crimes with a time)", title,
				       sizeof(title));
			if ((r = plot_dat_open(&pd, d->dir, "weekday_hour-meta.dat", err)))
				goto done;
			plot_dat_text(&pd, title);
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
			fprintf(d->md, "![Day of week by hour](weekday_hour.%s)\n\n", plot_formats_ext(d->charts));
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
	csvtab_release(&sw);
	dd_extract_release(&x);
	return r;
}
