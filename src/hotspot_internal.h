/*
 * hotspot_internal — what the files of 'microbeat hotspots' share (not an
 * interface between layers): the run's state and its steps. cmd_hotspots.c
 * calls the steps in order; each fills its part of struct hs_run and returns
 * 0 or a negative MB_E* code with err filled. Everything a step allocates
 * stays in the run and is freed by cmd_hotspots's cleanup.
 */
#ifndef MICROBEAT_HOTSPOT_INTERNAL_H
#define MICROBEAT_HOTSPOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "microbeat/hotspot.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/emit.h"

#define MAX_PERIODS 12   /* --periods cap */
#define MAX_BANDS 16     /* Knox bands of each kind */

struct store;

/* Everything the command computes, for the writers. */
struct hs_run {
	struct selection sel;   /* period, area, types */
	struct slice sl;        /* the events, every loaded month */
	uint8_t *selected;      /* per category: counted */
	size_t n;               /* micro-beats in the universe */
	uint32_t *beat;         /* universe index -> micro-beat id */
	int32_t *uindex;        /* micro-beat id -> universe index, -1 none */
	size_t npos;            /* micro-beats with coordinates */
	int knox_only;          /* no micro-beats to test (agency points only): Knox alone */
	size_t knox_events;     /* dated located events the Knox test uses */
	double *kn_x, *kn_y;    /* their points on the plane (taken before the slice's events
				   are freed) */
	int32_t *kn_day;        /* their days */
	int has_days;           /* the store holds event dates (the slice's day column was
				   loaded; it is freed with the events) */
	int reload;             /* hsr_universe: no micro-beat has coordinates and the keep
				   window left events out: load every month's events */
	double lon0, lat0;      /* centre of the local plane */
	double *lon, *lat;      /* per micro-beat: mean of its snap points */
	double *x, *y;          /* the same in metres */
	size_t nper;            /* periods analysed (oldest first; the last is the selected) */
	int32_t per_from[MAX_PERIODS]; /* first month of each */
	char per_label[MAX_PERIODS][32]; /* "2024-01..2024-12" */
	double *count;          /* nper * n counts (period-major) */
	uint32_t *kde_w;        /* per snap point: crimes of the selected period on the
				   universe (the KDE's weights; the slice's events are freed
				   before the KDE) */
	double band;            /* Gi* distance band (metres) */
	int band_default;       /* 1 = chosen from the data */
	struct hs_gi gi[MAX_PERIODS]; /* Gi* of each period */
	struct hs_trend_rule rule; /* pattern thresholds */
	uint8_t *pattern;       /* per micro-beat: enum hs_pattern */
	struct hs_pai pai;      /* forecast accuracy (nper >= 2) */
	int has_forecast;       /* pai filled */
	double cell, bw;        /* KDE cell and bandwidth (metres) */
	int cell_default, bw_default; /* chosen from the data */
	size_t kx, ky;          /* KDE grid */
	double gx0, gy0;        /* KDE grid corner */
	double *dens;           /* KDE per m^2 (NaN outside the area) */
	size_t nring;           /* outline rings */
	size_t *ring_start;     /* nring + 1 offsets */
	double *ox, *oy;        /* outline vertices (metres) */
	size_t nvert, vcap;     /* vertices used / ox allocated */
	size_t ycap, rcap;      /* oy / ring_start allocated */
	struct hs_knox knox;    /* Knox result */
	int knox_done;          /* knox filled */
	int knox_ask;           /* --knox given */
	int knox_skipped;       /* dates present but the test could not run (said on stderr) */
	int perms;              /* Knox permutations */
	double kd[MAX_BANDS], kt[MAX_BANDS]; /* Knox band edges */
	size_t nkd, nkt;        /* their counts */
	uint64_t seed;          /* Knox seed */
	size_t events_period;   /* located events of the selected period */
	size_t kde_outside;     /* micro-beats outside the KDE grid's extent */
	char outline_src[200];  /* where the outline came from, in words ("" = none) */
};

/* hotspot_prep.c */

/* Which categories count (hr->selected); an unknown --types name is MB_ENOTFOUND. */
int hsr_pick_types(struct hs_run *hr, struct mb_error *err);

/* The micro-beats of the area seen in any loaded month and their positions
 * (mean of their snap points) on the local plane. Sets hr->reload instead
 * when no micro-beat has coordinates and the slice was loaded with a keep
 * window that left events out (the plane's centre is then the mean of every
 * located event): free with hsr_universe_release, load again without. */
int hsr_universe(struct hs_run *hr, struct mb_error *err);

/* Free what hsr_universe made (hr->n becomes 0). */
void hsr_universe_release(struct hs_run *hr);

/* The selected period and up to want - 1 earlier ones of equal length, each
 * fully loaded; counts per micro-beat and period, and the KDE's weights
 * (hr->kde_w). */
int hsr_periods(struct hs_run *hr, size_t want, struct mb_error *err);

/* The default Gi* band: 99th percentile of nearest-neighbour distances, up to 10 m. */
int hsr_default_band(struct hs_run *hr, struct mb_error *err);

/* The q-quantile (0..1) of the m finite values of v (reordered in place: the ceil(q m)-th
 * smallest). */
double hsr_quantile(double *v, size_t m, double q);

/* The Knox test's events (the selected period's dated events in the area),
 * taken from the slice's events (hr->has_days). */
int hsr_knox_events(struct hs_run *hr, struct mb_error *err);

/* The Knox test on the events hsr_knox_events took. */
int hsr_knox(struct hs_run *hr, struct mb_error *err);

/* hotspot_area.c */

/* Read an outline GeoJSON file (every Polygon / MultiPolygon feature). */
int hsr_load_outline(struct hs_run *hr, const char *path, struct mb_error *err);

/* The outline from a loaded boundary layer (said on msg when there is none). */
int hsr_layer_outline(struct hs_run *hr, struct store *s, FILE *msg, struct mb_error *err);

/* The KDE grid of the selected period, clipped to the outline. */
int hsr_kde(struct hs_run *hr, struct mb_error *err);

/* hotspot_write.c: the small tables (t zeroed by the caller, released by it) */
int hsr_table_forecast(const struct hs_run *hr, struct table *t, struct mb_error *err);
int hsr_table_knox(const struct hs_run *hr, struct table *t, struct mb_error *err);

/* gistar.csv, hotspot_classes.csv and kde_grid.csv into dir, a row at a time. */
int hsr_save_gistar(const struct hs_run *hr, const char *dir, struct mb_error *err);
int hsr_save_classes(const struct hs_run *hr, const char *dir, struct mb_error *err);
int hsr_save_kde(const struct hs_run *hr, const char *dir, struct mb_error *err);

/* hotspots.geojson into dir. */
int hsr_write_geojson(const struct hs_run *hr, const char *dir, struct mb_error *err);

/* The Gi* class map and the KDE heat map into dir. */
int hsr_write_maps(const struct hs_run *hr, const char *dir, struct mb_error *err);

#endif
