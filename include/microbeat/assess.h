/*
 * assess — the strategic assessment pack: one INI file names the area, the
 * period, the themes, the deep dives and the thresholds; 'microbeat assess'
 * runs every analysis in-process and writes report.md, report.html, tables/
 * and charts/ into one folder (docs/output.md, "The assessment pack").
 */
#ifndef MICROBEAT_ASSESS_H
#define MICROBEAT_ASSESS_H

#include <stdio.h>

#include "microbeat/common.h"

/* At most this many deep dives in one config. */
#define ASSESS_MAX_DIVES 16

/* One deep dive: a place or theme to look at in depth. */
struct assess_dive {
	char *name;  /* the section name after "deepdive " (owned) */
	char *layer; /* area layer of the place, or NULL (owned) */
	char *area;  /* unit(s) of the layer or a local authority, or NULL (owned) */
	char *theme; /* theme from datasets/themes.csv, or NULL (owned) */
	char *types; /* comma-separated crime types, or NULL (owned) */
};

/* The assessment as configured (every string owned; NULL = not set). */
struct assess_config {
	char *path;        /* the config file read, or NULL for the defaults */
	char *area;        /* [assessment] area: local authority (default: all loaded) */
	char *layer;       /* [assessment] layer: the layer priorities are judged on */
	char *fy;          /* [assessment] fy: financial year YYYY (April..March) */
	char *from, *to;   /* [assessment] from / to: YYYY-MM (instead of fy) */
	char *themes;      /* [assessment] themes: comma-separated theme names */
	char *primary;     /* [assessment] primary: the series tested alone in trends */
	char *harm;        /* [assessment] harm: harm weights CSV (default CCHI) */
	int allow_gaps;    /* [assessment] allow_gaps: yes/no (default no) */
	char *fdr;         /* [thresholds] fdr (default 0.05) */
	char *rr_threshold;/* [thresholds] rr_threshold (default 1.2) */
	char *min_flags;   /* [thresholds] min_flags (default 3) */
	char *top;         /* [thresholds] top: top set of units by harm (default 5) */
	int suppress;      /* [publication] suppress: counts below it hidden (default 5) */
	int min_count_pct; /* [publication] min_count_for_percent: no % change below it (default 20) */
	char *prev_places; /* [previous] places: last assessment's priority places */
	char *prev_themes; /* [previous] themes: last assessment's priority themes */
	struct assess_dive dives[ASSESS_MAX_DIVES]; /* [deepdive NAME] sections */
	size_t ndives;     /* deep dives used */
};

/* Fill cfg with the defaults (documented in docs/output.md). */
int assess_config_defaults(struct assess_config *cfg, struct mb_error *err);

/* Read the INI file at path over the defaults already in cfg. An unknown
 * section or key, a bad value or a malformed line is MB_EDATA with
 * "FILE:LINE: problem"; an unreadable file MB_EIO. */
int assess_config_load(struct assess_config *cfg, const char *path, struct mb_error *err);

/* Write cfg as an INI file that assess_config_load reads back to the same
 * assessment (every key, defaults included). */
int assess_config_write(const struct assess_config *cfg, FILE *f, struct mb_error *err);

/* Free what cfg owns. */
void assess_config_release(struct assess_config *cfg);

/* Render the Markdown md (len bytes; GitHub tables) as one self-contained
 * HTML page titled title into f: CSS inline, and every image whose source is
 * an .svg file under pack_dir (relative path, no "..") replaced by that SVG
 * inline with its ids made unique. A missing or unsafe image is an error. */
int assess_render_html(const char *md, size_t len, const char *title, const char *pack_dir,
		       FILE *f, struct mb_error *err);

#endif
