/* deepdive_outcomes — section 5 of 'microbeat deepdive': the last outcome of
 * each crime, the charge/summons rate and its change, with the censoring
 * caution (docs/methods-deepdive.md §5). */
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

/* Court-route ("charge/summons") outcomes: police.uk names of the outcomes that
 * follow a charge or summons (docs/methods-deepdive.md §5). */
static int detected(const char *o)
{
	static const char *const names[] = {
		"Suspect charged", "Suspect charged as part of another case", "Awaiting court outcome",
		"Court result unavailable", "Court case unable to proceed", "Defendant found not guilty",
		"Defendant sent to Crown Court", "Offender sent to prison",
		"Offender given suspended prison sentence", "Offender fined",
		"Offender given community sentence", "Offender given conditional discharge",
		"Offender given absolute discharge", "Offender otherwise dealt with",
		"Offender deprived of property", "Offender ordered to pay compensation",
	};

	for (size_t k = 0; o && k < ARRAY_SIZE(names); k++)
		if (strcasecmp(o, names[k]) == 0)
			return 1;
	return 0;
}

/* What dd_sec_outcomes tallies of the area's events (outcome_tally, one row
 * at a time: the rows are not kept). */
struct outcome_tally {
	const struct dd_run *d;  /* the run: period, selected types and sources */
	const uint8_t *loc;      /* snap point -> one of the selection's */
	char **name;             /* outcome name by id */
	double *dist;            /* period's crimes by last outcome id */
	double n_cur, n_prev;    /* crimes of the period, of the previous period */
	double det_cur, det_prev; /* of them charged or summonsed */
	double inv, none;        /* period's still under investigation, with no outcome */
	double n_recent;         /* period's crimes of its last RECENT_UNFINAL months */
};

static int outcome_tally(void *ctx, const struct outcome_row *o)
{
	struct outcome_tally *t = ctx;
	const struct dd_run *d = t->d;

	if (o->location >= d->S.nloc || !t->loc[o->location] || o->category >= d->S.ncat ||
	    !d->on[o->category] || o->source >= d->S.nsource || !d->S.src_police[o->source] ||
	    !d->S.src_on[o->source])
		return 0;
	const char *name = t->name[o->outcome];

	if (dd_in_period(d, o->month)) {
		t->n_cur++;
		t->dist[o->outcome]++;
		t->det_cur += detected(name);
		t->inv += name && strcasecmp(name, "Under investigation") == 0;
		t->none += !name;
		t->n_recent += o->month > d->sel.to - RECENT_UNFINAL;
	} else if (dd_in_prev(d, o->month)) {
		t->n_prev++;
		t->det_prev += detected(name);
	}
	return 0;
}

/* Section 5: outcomes. */
int dd_sec_outcomes(struct dd_run *d, struct store *s, struct mb_error *err)
{
	struct outcome_tally o = { .d = d };
	uint8_t *loc = calloc(d->S.nloc ? d->S.nloc : 1, 1);
	size_t nout = 0;
	struct table t = { 0 };
	static const char *const cols[] = { "last outcome", "crimes", "share %", "charge/summons" };
	int r;

	if (!loc)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->S.n; i++)
		if (d->S.location[i] < d->S.nloc)
			loc[d->S.location[i]] = 1;
	o.loc = loc;
	if ((r = store_outcome_names(s, &o.name, &nout, err)))
		goto cleanup;
	if (!(o.dist = calloc(nout, sizeof(double)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_outcomes_scan(s, d->pfrom, d->sel.to, nout, outcome_tally, &o, err)))
		goto cleanup;
	fprintf(d->md, "## Outcomes\n\n");
	if (o.n_cur == 0) {
		fprintf(d->md, "No crimes of the period with a recorded outcome were found.\n\n");
		goto cleanup;
	}
	if ((r = table_init(&t, "Last outcome of the period's crimes (selection)", cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	for (size_t k = 0; k < nout && !r; k++) {
		size_t row;

		if (!o.dist[k])
			continue;
		if ((r = table_add_row(&t, &row, err)) ||
		    (r = table_set_text(&t, row, 0, k ? o.name[k] : "(none recorded)", err)) ||
		    (r = table_set_int(&t, row, 1, (int64_t)o.dist[k], err)) ||
		    (r = table_set_double(&t, row, 2, 100 * o.dist[k] / o.n_cur, 1, err)))
			break;
		r = table_set_text(&t, row, 3, detected(o.name[k]) ? "yes" : "", err);
	}
	if (r)
		goto cleanup;
	char a[96], b[96], c[96], e[96];
	double p = dd_fisher_p((unsigned long)o.det_cur, (unsigned long)(o.n_cur - o.det_cur),
			       (unsigned long)o.det_prev, (unsigned long)(o.n_prev - o.det_prev));

	dd_share_text(o.det_cur, o.n_cur, a, sizeof(a));
	dd_share_text(o.det_prev, o.n_prev, b, sizeof(b));
	dd_share_text(o.inv, o.n_cur, c, sizeof(c));
	dd_share_text(o.none, o.n_cur, e, sizeof(e));
	fprintf(d->md, "The last outcome of each crime is the latest outcomes-file entry for its Crime"
		" ID, else the street file's last outcome. The charge/summons (\"detection\") rate"
		" is the share of crimes whose last outcome follows a charge or summons (court"
		" outcomes included): %s in the period against %s in the previous period (Fisher's"
		" exact test p = %.3g: %s). Still under investigation: %s; no outcome recorded: %s.\n\n",
		a, b, p, p < d->fdr ? "a clear change" : "no clear change", c, e);
	fprintf(d->md, "Caution: outcomes are not final. Crimes of the last months are still being"
		" investigated and charged (%.0f of the period's crimes fall in its last %d months),"
		" so the latest rates understate what they will become; the rate of the previous"
		" period has had longer to mature, which by itself favours it.\n\n", o.n_recent,
		RECENT_UNFINAL);
	r = dd_emit_table(&d->out, &t, "outcomes.csv", err);
cleanup:
	table_release(&t);
	free(loc);
	free(o.dist);
	outcome_names_release(o.name, nout);
	return r;
}
