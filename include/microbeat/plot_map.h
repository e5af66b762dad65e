/*
 * plot_map — maps drawn by gnuplot on a local metric plane (hotspot.h's
 * hs_project): micro-beats coloured by Gi* class and a KDE heat map, each
 * over the area outline. Same rules as plot.h: text from the data only in
 * data files, scripts copied verbatim from plots/.
 */
#ifndef MICROBEAT_PLOT_MAP_H
#define MICROBEAT_PLOT_MAP_H

#include <stddef.h>

#include "microbeat/common.h"

/* The area outline: rings of vertices in metres. */
struct plot_outline {
	size_t nring;            /* rings (0 = no outline) */
	const size_t *start;     /* nring + 1 offsets into x/y: ring r is [start[r], start[r+1]) */
	const double *x, *y;     /* vertices (metres) */
};

/* Micro-beats coloured by class (hotspot.h enum hs_class). */
struct plot_classmap {
	const char *title;        /* chart title (untrusted: data file only) */
	const char *subtitle;     /* second title line (untrusted), or NULL */
	size_t n;                 /* micro-beats */
	const double *x, *y;      /* positions (metres; NaN = not drawn) */
	const unsigned char *cls; /* enum hs_class of each */
	struct plot_outline outline; /* area outline */
	size_t nlabel;            /* micro-beats named on the map */
	const size_t *label_at;   /* their indices into x, y */
	const char *const *label; /* their names (untrusted: data file only) */
};
/* Draw the class map NAME in outdir (script plots/hotspot_map.gp). */
int plot_classmap(const char *outdir, const char *name, const struct plot_classmap *in,
		  struct mb_error *err);

/* A density surface on a grid. */
struct plot_kdemap {
	const char *title;        /* chart title (untrusted: data file only) */
	const char *subtitle;     /* second title line (untrusted), or NULL */
	size_t nx, ny;            /* cells across and up */
	double x0, y0, cell;      /* lower-left corner and cell side (metres) */
	const double *dens;       /* nx * ny values (row j then column i); NaN = outside the area */
	struct plot_outline outline; /* area outline */
};
/* Draw the KDE heat map NAME in outdir (script plots/hotspot_kde.gp). */
int plot_kdemap(const char *outdir, const char *name, const struct plot_kdemap *in,
		struct mb_error *err);

#endif
