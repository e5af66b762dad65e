/*
 * plot — charts drawn by gnuplot, run as an external program.
 *
 * A chart NAME in folder OUTDIR is four kinds of file: NAME.gp (a fixed script
 * copied verbatim from the plots/ folder), NAME*.dat (data written here),
 * NAME.png and NAME.svg (rendered). The analyst can restyle a chart by editing
 * NAME.gp and running `gnuplot NAME.gp` in OUTDIR. A command's charts are
 * drawn together at the end of its batch (below), by two gnuplot processes.
 *
 * Safety rule: text from the data (street, area and category names, titles)
 * never appears in script text. It goes only into data files, as quoted
 * fields, which gnuplot parses but never executes; the script reads it with
 * xticlabels()/strcol()/`with labels`. gnuplot is started with fork + execve
 * and an argument vector (no shell), in OUTDIR, with a minimal environment,
 * and the only -e definition passed is the program-chosen output format.
 *
 * When gnuplot is not installed the .gp and .dat files are still written, one
 * warning is printed on stderr for the whole run and the call succeeds.
 *
 * The plots/ folder is found through $MB_PLOTS, else <dir of executable>/plots,
 * else <dir of executable>/../share/microbeat/plots. gnuplot is $MB_GNUPLOT
 * when set (no fallback), else `gnuplot` on $PATH, else /usr/bin/gnuplot.
 *
 * Unless stated otherwise a function returns 0, or a negative MB_E* code with
 * err (may be NULL) filled. Input arrays stay the caller's and are only read.
 * Percentages are in percent (0..100). NaN means missing and is written as
 * NaN (gnuplot skips the point).
 */
#ifndef MICROBEAT_PLOT_H
#define MICROBEAT_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"

/* Longest chart name accepted (bytes). */
#define PLOT_NAME_MAX 64

/* ---- data files ------------------------------------------------------------ */

/* A gnuplot data file being written. Field writers are "sticky": after a
 * failure they do nothing and plot_dat_close reports the first error. */
struct plot_dat {
	FILE *fp;        /* open stream, NULL once closed */
	char *path;      /* owned: outdir/file */
	int failed;      /* non-zero after a write or allocation failure */
	int fields;      /* fields written on the current line */
};

/* Create outdir/file (file must pass emit_name_ok and end in ".dat"), with a
 * first comment line naming the program. On failure d holds nothing. */
int plot_dat_open(struct plot_dat *d, const char *outdir, const char *file,
	struct mb_error *err);

/* Write s as a double-quoted field that gnuplot's data parser reads back as
 * the same text, except: '"' becomes U+201D (gnuplot cannot escape a quote in
 * data files), CR, LF, TAB and other control characters become spaces,
 * invalid UTF-8 bytes become '?', and '\' is doubled. NULL writes "". */
void plot_dat_text(struct plot_dat *d, const char *s);

/* Write v with "%.17g" (round-trips); NaN and infinities are written "NaN". */
void plot_dat_num(struct plot_dat *d, double v);

/* Write the integer v. */
void plot_dat_int(struct plot_dat *d, int64_t v);

/* Write month (months since 2000-01) as YYYY-MM, unquoted (timefmt "%Y-%m"). */
void plot_dat_month(struct plot_dat *d, int32_t month);

/* End the current line. */
void plot_dat_endrow(struct plot_dat *d);

/* Write an empty line: a break in gnuplot's lines (a gap in a series). */
void plot_dat_gap(struct plot_dat *d);

/* Flush, check and close d (releasing it). Return 0, or MB_EIO when any
 * write failed (the file is then removed). NULL-safe on a closed d. */
int plot_dat_close(struct plot_dat *d, struct mb_error *err);

/* ---- rendering ------------------------------------------------------------- */

/* The files a chart is drawn as (--charts png|svg|both); 0 = none. */
enum plot_formats { PLOT_PNG = 1, PLOT_SVG = 2, PLOT_BOTH = 3 };

/* The formats --charts s asks for ("png", "svg", "both"), or -1. */
int plot_formats_parse(const char *s);

/* The extension a report links a chart by when drawn in formats: "png",
 * unless only SVG is drawn. */
const char *plot_formats_ext(int formats);

/* Copy the script plots/<script>.gp to outdir/<name>.gp and, when gnuplot is
 * available, queue the chart to be drawn as <name>.png and <name>.svg (in the
 * open batch's formats) by running the script in outdir, reading the
 * <name>*.dat files already written. With no batch open it is drawn before
 * plot_render returns. script must be [a-z_]+ and name [A-Za-z0-9_] then
 * [A-Za-z0-9_.-]* (at most PLOT_NAME_MAX bytes), else MB_EUSAGE. Fails with
 * MB_ENOTFOUND when the script cannot be found, MB_EIO when a copy fails or
 * (drawn at once) gnuplot fails (see plot_batch_end). Without gnuplot: warn
 * once on stderr and return 0. */
int plot_render(const char *script, const char *name, const char *outdir,
	struct mb_error *err);

/* Batches: a command opens one around the writing of its output folder, so
 * that its charts are drawn together by a few gnuplot processes rather than
 * one process per file (start-up is most of a small chart's cost). Between
 * plot_batch_begin and plot_batch_end, plot_render only writes NAME.gp and
 * queues the chart; plot_batch_end draws the queue, two gnuplot processes at
 * once, each drawing many charts, each file byte-identical to what a lone
 * `gnuplot -e "fmt='png'" NAME.gp` in outdir draws. A batch must end before
 * its folder is renamed or read (report.html inlines the SVG). Batches nest
 * (an inner one draws only its own charts). Charts still queued at exit
 * (a batch never ended) are a bug: the run fails with MB_EXIT_BUG. */
struct plot_batch {
	size_t mark; /* charts queued before it began: its own follow */
	int outer;   /* formats of the enclosing batch, restored at the end */
	int open;    /* 1 between plot_batch_begin and plot_batch_end */
};

/* Open batch b: charts rendered from now on are drawn in formats (a mask of
 * enum plot_formats; 0: not drawn, only their scripts and data written). */
void plot_batch_begin(struct plot_batch *b, int formats);

/* End batch b. When rc is 0, draw every chart queued since it began (folder
 * by folder, in queue order) and return 0, or MB_EIO naming the first chart
 * that failed (gnuplot exited non-zero, quoting its first error line, or
 * one chart ran longer than 60 s), MB_ENOTFOUND when gnuplot vanished;
 * otherwise drop them undrawn and return rc. A no-op returning rc when b is
 * not open (cleanup paths may call it twice). */
int plot_batch_end(struct plot_batch *b, int rc, struct mb_error *err);

/* Charts queued and not yet drawn (0 outside batches). */
size_t plot_queued(void);

/* Full path of the gnuplot executable that plot_render would run, or NULL when
 * none is found. Caller frees with free(). */
char *plot_find_gnuplot(void);

/* Path of the plots/ folder (see above), or NULL when none holds
 * lorenz.gp. Caller frees with free(). */
char *plot_find_scripts(void);

/* ---- charts -------------------------------------------------------------------
 * Each writes the chart's data files and calls plot_render(<chart>, name,
 * outdir). title and value_label are untrusted text (NULL = generic); they
 * are written only to NAME-meta.dat. */

/* Lorenz curve of concentration. */
struct plot_lorenz {
	const char *title;        /* chart title, e.g. "Burglary, 2023/24" */
	const char *what;         /* what is concentrated, e.g. "crime" (NULL = "crime") */
	size_t n;                 /* points on the observed curve */
	const double *x;          /* cumulative % of streets, ascending, from 0 */
	const double *y;          /* cumulative % of crime at x[i] (streets in descending order) */
	size_t n_chance;          /* points on the chance-expectation curve (0 = none) */
	const double *chance_x;   /* its cumulative % of streets */
	const double *chance_y;   /* its cumulative % of crime */
	double mark_p;            /* marked point: nominal % of streets (e.g. 3); NaN = no marker */
	double mark_x;            /* actual cumulative % of streets at the marker (e.g. 3.1) */
	double mark_y;            /* cumulative % of crime at the marker (e.g. 31.4) */
};
/* Draw the Lorenz curve NAME in outdir (see the struct); MB_EUSAGE without a curve. */
int plot_lorenz(const char *outdir, const char *name, const struct plot_lorenz *in,
	struct mb_error *err);

/* Bar chart of the power-few streets, largest first. */
struct plot_hot_streets {
	const char *title;        /* chart title */
	const char *value_label;  /* axis label for counts, e.g. "Crimes" */
	size_t n;                 /* streets (bars), in the order to draw top to bottom */
	const char *const *label; /* street labels (untrusted) */
	const double *count;      /* count per street */
};
/* Draw the power-few bar chart NAME in outdir; MB_EUSAGE without streets. */
int plot_hot_streets(const char *outdir, const char *name,
	const struct plot_hot_streets *in, struct mb_error *err);

/* A monthly series with a c-chart and a fitted trend. */
struct plot_monthly {
	const char *title;        /* chart title */
	const char *value_label;  /* y axis label, e.g. "Crimes per month" */
	size_t n;                 /* consecutive months */
	int32_t first_month;      /* months since 2000-01 of count[0] */
	const double *count;      /* count per month; NaN = gap (month not loaded) */
	const double *trend;      /* fitted trend per month, or NULL; NaN = none */
	double centre;            /* c-chart centre line; NaN = no control chart */
	double ucl;               /* upper control limit; NaN = none */
	double lcl;               /* lower control limit; NaN = none */
	const char *note;         /* a line under the chart (e.g. the run rules), or NULL;
	                             written only to NAME-note.dat */
	int32_t baseline_last;    /* months since 2000-01 of the centre line's baseline's last */
	int32_t baseline_months;  /* ... and its length, named in the key; 0: not named */
};
/* The window of a monthly chart over months 0..n-1 of a span starting at
 * span_from (present[i]: month i is loaded): *first, the first month drawn
 * (the first loaded one, but no later than limit: months before any is
 * loaded are no gap to draw); and in pm the baseline's loaded months among
 * bl_first..bl_last (span indices, clipped to the span) for the centre line's
 * key (baseline_months 0 when none is loaded). */
void plot_monthly_window(const unsigned char *present, size_t n, size_t limit, int32_t span_from,
	int32_t bl_first, int32_t bl_last, size_t *first, struct plot_monthly *pm);

/* Draw the monthly chart NAME in outdir; gaps become breaks in the line and
 * grey bars. MB_EUSAGE without months. */
int plot_monthly(const char *outdir, const char *name, const struct plot_monthly *in,
	struct mb_error *err);

/* Year-on-year % change per series, with confidence intervals. */
struct plot_yoy {
	const char *title;        /* chart title */
	size_t n;                 /* series (bars) */
	const char *const *label; /* series labels (untrusted) */
	const double *pct;        /* % change; NaN = undefined (no bar) */
	const double *lo;         /* CI lower limit (%); non-finite = no whisker end */
	const double *hi;         /* CI upper limit (%); non-finite = no whisker end */
	const int *significant;   /* 1 = significant (solid bar), or NULL = all 0 */
};
/* Draw the year-on-year chart NAME in outdir; a bar or whisker with a NaN end
 * is left out (an undefined change is labelled). MB_EUSAGE without series. */
int plot_yoy(const char *outdir, const char *name, const struct plot_yoy *in,
	struct mb_error *err);

/* Seasonal profile: mean count per month of the year, in the given order. */
struct plot_seasonal {
	const char *title;        /* chart title */
	const char *value_label;  /* y axis label, e.g. "Mean crimes per month" */
	size_t n;                 /* bars (usually 12) */
	const char *const *label; /* month labels, e.g. "Apr".."Mar" */
	const double *mean;       /* mean per month of the year */
	const double *lo;         /* lower whisker, or NULL */
	const double *hi;         /* upper whisker, or NULL */
};
/* Draw the seasonal profile NAME in outdir; MB_EUSAGE without months. */
int plot_seasonal(const char *outdir, const char *name, const struct plot_seasonal *in,
	struct mb_error *err);

/* Heat map of units x categories (flag counts 0..4). */
struct plot_heatmap {
	const char *title;            /* chart title */
	size_t nrows;                 /* units (rows, top to bottom) */
	size_t ncols;                 /* categories (columns, left to right) */
	const char *const *row_label; /* unit labels (untrusted) */
	const char *const *col_label; /* category labels (untrusted) */
	const double *value;          /* nrows*ncols, row-major; NaN = blank cell */
	double vmax;                  /* top of the colour scale (e.g. 4) */
	const char *value_label;      /* NULL: counts 0..vmax ("Number of flags"); else the
					 colour-bar label of a rate-ratio scale 1/vmax..vmax */
};
/* Draw the heat map NAME in outdir; MB_EUSAGE without cells. */
int plot_heatmap(const char *outdir, const char *name, const struct plot_heatmap *in,
	struct mb_error *err);

/* Funnel plot: unit rates against population with Poisson control limits. */
struct plot_funnel {
	const char *title;        /* chart title */
	const char *value_label;  /* y axis label (NULL = "Rate per 1,000 residents") */
	size_t n;                 /* units (points) */
	const char *const *label; /* unit labels (untrusted; shown for outliers only) */
	const double *pop;        /* population per unit */
	const double *rate;       /* rate per 1,000 per unit */
	const int *outlier;       /* 0 inside, 1 / 2 above the 95% / 99.8% limit, -1 / -2
				     below them (NULL = all 0) */
	double district_rate;     /* district rate per 1,000 */
	size_t n_limits;          /* points on the limit curves */
	const double *lim_pop;    /* population at each limit point, ascending */
	const double *lo95;       /* 95% lower limit (rate per 1,000) */
	const double *hi95;       /* 95% upper limit */
	const double *lo998;      /* 99.8% lower limit */
	const double *hi998;      /* 99.8% upper limit */
	const double *label_y;    /* where each label goes (NULL = at its point) */
	const int *show_label;    /* 1 = label the point (NULL = the outliers) */
};
/* Draw the funnel plot NAME in outdir; MB_EUSAGE without units or limits. */
int plot_funnel(const char *outdir, const char *name, const struct plot_funnel *in,
	struct mb_error *err);

#endif
