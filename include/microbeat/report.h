/*
 * microbeat — what every analysis command shares around its figures: the
 * report options (--format, --out, --charts, --no-charts), opening the store and loading
 * the selection's slice, and writing the output folder atomically.
 *
 * Adopting it in a command (cmd_trends.c, cmd_concentration.c and cmd_flags.c
 * do; the pattern is the same for the others):
 *
 *	static const struct option opts[] = {
 *		SELECT_LONG_OPTIONS,
 *		REPORT_LONG_OPTIONS,
 *		{ "own-option", ... },
 *		{ NULL, 0, NULL, 0 },
 *	};
 *	struct report_opts ro;
 *
 *	report_init(&ro);
 *	while ((o = getopt_long(...)) != -1) {
 *		switch (o) {
 *		... the command's own options ...
 *		default:
 *			if (o >= SEL_FIRST && o < SEL_LAST)
 *				r = select_option(&sel, o, optarg, err);
 *			else if (o >= REPORT_FIRST && o < REPORT_LAST)
 *				r = report_option(&ro, o, optarg, err);
 *			else
 *				r = -MB_EUSAGE;
 *		}
 *	}
 *	if ((r = report_open(c->db_path, &sel, &s, err)) ||      // store + select_finish
 *	    (r = report_load(s, &sel, &q, &sl, err)))           // slice + gap check
 *		goto cleanup;
 *	... compute, print in ro.format ...
 *	r = report_write_dir(&ro, write_pack, &run, err); // NULL out_dir: nothing
 *
 * where write_pack(void *run, const char *dir, struct mb_error *err) writes
 * every file of the pack into dir (a fresh folder, renamed over --out only
 * when write_pack returns 0 and its charts are drawn).
 */
#ifndef MICROBEAT_REPORT_H
#define MICROBEAT_REPORT_H

#include <getopt.h>

#include "microbeat/common.h"

struct selection;
struct slice;
struct slice_query;
struct store;

/* How a command prints its report on stdout (--format). */
enum report_format {
	REPORT_TABLE = 0, /* aligned console tables (the default) */
	REPORT_CSV = 1,   /* the main table as CSV, machine-readable; notes go to stderr */
	REPORT_MD = 2,    /* Markdown: headline lines and tables, names escaped */
};

/* getopt codes of the report options; below SEL_FIRST (1000), above any
 * command's own enum (those start at 1). */
enum report_code {
	REPORT_FIRST = 900,
	REPORT_FORMAT = REPORT_FIRST, REPORT_OUT, REPORT_NOCHARTS, REPORT_CHARTS, REPORT_LAST
};

/* The report options, for a command's getopt_long table (beside
 * SELECT_LONG_OPTIONS); pass every code in [REPORT_FIRST, REPORT_LAST) to
 * report_option(). */
#define REPORT_LONG_OPTIONS                                          \
	{ "format", required_argument, NULL, REPORT_FORMAT },        \
	{ "out", required_argument, NULL, REPORT_OUT },              \
	{ "no-charts", no_argument, NULL, REPORT_NOCHARTS },         \
	{ "charts", required_argument, NULL, REPORT_CHARTS }

/* What the report options asked for. */
struct report_opts {
	enum report_format format; /* --format (REPORT_TABLE unless given) */
	const char *out_dir;       /* --out FOLDER (borrowed from argv), or NULL: no files */
	int charts;                /* files to draw the charts as (plot.h enum plot_formats:
				      --charts png|svg|both, PLOT_BOTH unless given), 0 with
				      --no-charts; the last of the two given wins */
};

/* Defaults: console tables, no output folder, charts as PNG and SVG. */
void report_init(struct report_opts *ro);

/* Parse one report option (code in [REPORT_FIRST, REPORT_LAST), its argument
 * arg). 0, or MB_EUSAGE ("--format wants table, csv or md", "--charts wants
 * png, svg or both"). */
int report_option(struct report_opts *ro, int code, const char *arg, struct mb_error *err);

/* Open the store at db_path read-only into *s and finish the selection
 * (select_finish: defaults, the period, the area resolved against the
 * store). On failure *s may still be open: the caller closes it
 * (store_close(NULL) is a no-op). */
int report_open(const char *db_path, struct selection *sel, struct store **s,
		struct mb_error *err);

/* Load the events q asks for into *sl (store_slice_load) and check the
 * selection's months against what is loaded (select_check_gaps). The caller
 * releases *sl (slice_release) whatever the outcome. */
int report_load(struct store *s, struct selection *sel, const struct slice_query *q,
		struct slice *sl, struct mb_error *err);

/* Write a command's output folder ro->out_dir: with none nothing happens and
 * 0 is returned. Otherwise write(ctx, tmp, err) fills a fresh folder beside
 * it (emit_dir_begin) inside a chart batch (plot_batch_begin, formats
 * ro->charts), whose charts are drawn when write returns 0; the folder
 * replaces out_dir only then (emit_dir_finish): a run stopped half-way never
 * leaves a half-written folder that looks complete, nor a mix with an
 * earlier run's. Returns write's error, the charts', or the folder's. */
int report_write_dir(const struct report_opts *ro,
		     int (*write)(void *ctx, const char *dir, struct mb_error *err), void *ctx,
		     struct mb_error *err);

#endif
