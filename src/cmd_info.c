/* cmd_info — 'microbeat info' and 'microbeat rejects': the store's rows
 * (store_read.c, store_areas.c) rendered for the console. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/emit.h"
#include "microbeat/store.h"
#include "microbeat/universe.h"

/* Print a count with thousands separators. */
static void put_count(FILE *f, long long v)
{
	char buf[32], out[48];
	int n = snprintf(buf, sizeof(buf), "%lld", v < 0 ? -v : v), o = 0;

	if (v < 0)
		out[o++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = buf[i];
	}
	out[o] = '\0';
	fputs(out, f);
}

static void print_imports(FILE *f, const struct store_summary *sum)
{
	fprintf(f, "Imports (rows read = loaded + duplicate + rejected)\n");
	for (size_t k = 0; k < sum->nimports; k++) {
		const struct info_import *im = &sum->imports[k];

		fprintf(f, "  #%-5lld %-15s ", (long long)im->id, im->format);
		for (int i = 0; i < 4; i++) {
			put_count(f, im->rows[i]);
			fputs(i == 0 ? " = " : i < 3 ? " + " : "", f);
		}
		fprintf(f, "  %s", MB_SHOWN(im->path));
		if (im->replaced_by)
			fprintf(f, "  (replaced by #%lld)", (long long)im->replaced_by);
		fputc('\n', f);
	}
	if (!sum->nimports)
		fprintf(f, "  (none)\n");
}

/* Print one source's months as runs, naming the gaps between first and last. */
static void print_runs(FILE *f, const struct info_month *m, size_t n)
{
	char a[8], b[8];
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		int64_t sum = m[i].rows;

		while (j + 1 < n && m[j + 1].month == m[j].month + 1)
			sum += m[++j].rows;
		month_format(m[i].month, a);
		month_format(m[j].month, b);
		fprintf(f, "    %s..%s  %d month%s, ", a, b, (int)(j - i + 1), j > i ? "s" : "");
		put_count(f, sum);
		fprintf(f, " rows\n");
		if (j + 1 < n) {
			int gap = m[j + 1].month - m[j].month - 1;

			month_format(m[j].month + 1, a);
			month_format(m[j + 1].month - 1, b);
			fprintf(f, "    %s..%s  GAP: %d month%s missing (no import)\n", a, b, gap,
				gap > 1 ? "s" : "");
		}
		i = j + 1;
	}
}

/* Year x month grid of row counts for one source ("-" = missing). */
static void print_grid(FILE *f, const struct info_month *m, size_t n)
{
	if (!n)
		return;
	int y0 = m[0].month / 12, y1 = m[n - 1].month / 12;
	size_t k = 0;

	fprintf(f, "    year ");
	for (int i = 1; i <= 12; i++)
		fprintf(f, "%7d", i);
	fputc('\n', f);
	for (int y = y0; y <= y1; y++) {
		fprintf(f, "    %4d ", 2000 + y);
		for (int i = 0; i < 12; i++) {
			int32_t mi = y * 12 + i;

			while (k < n && m[k].month < mi)
				k++;
			if (k < n && m[k].month == mi)
				fprintf(f, "%7lld", (long long)m[k].rows);
			else
				fprintf(f, "%7s", "-");
		}
		fputc('\n', f);
	}
}

static void print_coverage(FILE *f, const struct store_summary *sum)
{
	fprintf(f, "\nCoverage: events per force x month (a missing month is a gap, not a zero)\n");
	for (size_t i = 0; i < sum->nmonths;) {
		size_t j = i;
		char name[256];

		while (j < sum->nmonths && sum->months[j].source == sum->months[i].source)
			j++;
		/* names shown up to 255 bytes */
		snprintf(name, sizeof(name), "%s", sum->months[i].name);
		fprintf(f, "  %s\n", MB_SHOWN(name));
		print_runs(f, sum->months + i, j - i);
		print_grid(f, sum->months + i, j - i);
		i = j;
	}
	if (!sum->nmonths)
		fprintf(f, "  (no events)\n");
}

static void print_events(FILE *f, const struct store_summary *sum)
{
	long long n = sum->events, u = sum->unlocated;

	fprintf(f, "\nEvents: ");
	put_count(f, n);
	fprintf(f, " in %d months; unlocated (\"No location\", no coordinates): ", sum->event_months);
	put_count(f, u);
	fprintf(f, " (%.2f%%)\n", n ? 100.0 * (double)u / (double)n : 0.0);
	fprintf(f, "\nLSOA codes seen per year (codes are keys; 2021-only codes mark the 2021 vintage)\n");
	for (size_t i = 0; i < sum->nyears; i++) {
		const struct info_year *y = &sum->years[i];

		fprintf(f, "  %d: %d codes, %d of them 2021-only -> %s\n", y->year, y->codes, y->new21,
			y->new21 ? "2021 vintage" : "2011 vintage (or no 2021-only codes)");
	}
}

static void print_rejects(FILE *f, const struct store_summary *sum)
{
	fprintf(f, "\nRejected and duplicate rows by reason (microbeat rejects lists them)\n");
	if (!sum->nrejects)
		fprintf(f, "  (none)\n");
	for (size_t i = 0; i < sum->nrejects; i++) {
		const struct info_reject *k = &sum->rejects[i];

		fprintf(f, "  %10lld  %s%s\n", k->n, k->dup ? "[duplicate] " : "", MB_SHOWN(k->kind));
	}
}

/* The store summary of 'info' (store_info's rows). */
static int summary(struct store *s, FILE *f, struct mb_error *err)
{
	struct store_summary sum;
	int r;

	if ((r = store_info(s, &sum, err)))
		return r;
	fprintf(f, "Store: %s\n\n", MB_SHOWN(store_path(s)));
	print_imports(f, &sum);
	print_coverage(f, &sum);
	print_events(f, &sum);
	print_rejects(f, &sum);
	store_summary_release(&sum);
	return 0;
}

/* Which street universe the analyses use (docs/methods-concentration.md §0). */
static int universe_line(struct store *s, FILE *f, struct mb_error *err)
{
	struct universe u;
	int64_t gaz = 0;
	int r;

	if ((r = store_universe_load(s, &u, err)) || (r = store_gazetteer_count(s, &gaz, err)))
		return r;
	if (gaz)
		fprintf(f, "\nStreet universe: gazetteer, %lld streets (plus observed ones it lacks)\n",
			(long long)gaz);
	else if (u.present) {
		char a[8], b[8];

		month_format(u.from, a);
		month_format(u.to, b);
		fprintf(f, "\nStreet universe: observed, frozen %s: %lld micro-beats seen in %d loaded"
			" months of %s..%s (refreeze with 'streets --observed')\n", u.frozen,
			(long long)u.streets, (int)u.months, a, b);
	} else {
		fprintf(f, "\nStreet universe: observed, every micro-beat seen in any loaded month (a"
			" lower bound; not frozen: imports move it)\n");
	}
	universe_release(&u);
	return ferror(f) ? mb_err(err, MB_EIO, "write error") : 0;
}

/* Declared in areas.h ('areas' prints it too): the layers of
 * store_layers_info, one line each. */
int store_areas_info(struct store *s, FILE *f, struct mb_error *err)
{
	struct layer_info *v = NULL;
	size_t n = 0;
	int r;

	if ((r = store_layers_info(s, &v, &n, err)))
		return r;
	if (!n) {
		fprintf(f, "Area layers: none loaded (see 'microbeat areas --help')\n");
		return 0;
	}
	fprintf(f, "Area layers (located events: in a unit / in no unit; 'near' = in no unit but in"
		   " an LSOA the layer otherwise covers):\n");
	for (size_t i = 0; i < n; i++) {
		const struct layer_info *l = &v[i];

		fprintf(f, "  %s (%s): %ld units", MB_SHOWN(l->name), MB_SHOWN(l->method), l->units);
		if (l->with_pop)
			fprintf(f, ", population %.0f (%ld of %ld units)", l->pop, l->with_pop, l->units);
		else
			fprintf(f, ", no population");
		fprintf(f, "; located events: %ld in a unit, %ld in no unit", l->assigned,
			l->unassigned);
		if (l->boundaries)
			fprintf(f, " (%ld near)", l->near);
		if (l->coded)
			fprintf(f, "; %ld agency rows coded to a unit", l->coded);
		if (l->pending)
			fprintf(f, "; %ld snap points not yet placed", l->pending);
		fputc('\n', f);
	}
	store_layers_info_release(v, n);
	if (ferror(f))
		return mb_err(err, MB_EIO, "error writing the layer summary");
	return 0;
}

int cmd_info(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	struct store *s = NULL;
	int r;

	if (argc > 1)
		return mb_err(err, MB_EUSAGE, "info: unexpected argument '%s'", argv[1]);
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)))
		return r;
	r = summary(s, c->out, err);
	if (!r)
		r = universe_line(s, c->out, err);
	if (!r && fputc('\n', c->out) != EOF)
		r = store_areas_info(s, c->out, err);
	store_close(s);
	return r;
}

/* One row of 'rejects': text fields go through the tables' CSV writer, the
 * same quoting and formula neutralising (full-width forms too) as every
 * other CSV. */
static int reject_csv(void *arg, const struct reject_row *row, struct mb_error *err)
{
	FILE *f = arg;
	int r;

	fprintf(f, "%lld,", (long long)row->import_id);
	if ((r = emit_csv_field_n(row->path, row->path_len, f, err)))
		return r;
	fprintf(f, ",%lld,%lld,%s,", (long long)row->line, (long long)row->col,
		row->duplicate ? "duplicate" : "rejected");
	if ((r = emit_csv_field_n(row->reason, row->reason_len, f, err)))
		return r;
	fputc(',', f);
	if ((r = emit_csv_field_n(row->raw, row->raw_len, f, err)))
		return r;
	fputc('\n', f);
	return 0;
}

int cmd_rejects(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		{ "import", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *s = NULL;
	long long id = 0;
	int o, r;

	while ((o = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (o != 'i')
			return -MB_EUSAGE;
		char *end;

		id = strtoll(optarg, &end, 10);
		if (*end || id <= 0)
			return mb_err(err, MB_EUSAGE, "--import wants an import number, not '%s'", optarg);
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)))
		return r;
	int yes = 1;

	/* an import number that does not exist is not an empty list */
	if (id > 0 && !(r = store_import_exists(s, id, &yes, err)) && !yes)
		r = mb_err(err, MB_ENOTFOUND, "rejects: there is no import #%lld (see 'microbeat info')",
			   id);
	if (!r) {
		fprintf(c->out, "import,file,line,column,kind,reason,raw\n");
		r = store_rejects(s, id, reject_csv, c->out, err);
	}
	store_close(s);
	return r;
}
