/*
 * microbeat — geography helpers: polygon layers with point-in-polygon lookup
 * (GEOS), and British National Grid -> WGS84 conversion (PROJ).
 *
 * Pure library layer: no store access. Coordinates are WGS84 longitude and
 * latitude in decimal degrees, always in that order (x = lon, y = lat).
 * Methods, tie rules and accuracy are documented in docs/methods-geo.md.
 *
 * Thread safety: each layer and each transformation owns its own GEOS/PROJ
 * context, so different objects may be used from different threads; one object
 * must not be used from two threads at once.
 */
#ifndef MICROBEAT_GEO_H
#define MICROBEAT_GEO_H

#include <stddef.h>

#include "microbeat/common.h"

/* A loaded polygon layer (parishes, wards, LSOAs ...): opaque. */
struct geo_layer;

/* A BNG (EPSG:27700) -> WGS84 (EPSG:4326) transformation: opaque. */
struct geo_bng;

/*
 * Load a GeoJSON FeatureCollection of Polygon / MultiPolygon features in WGS84
 * (CRS84 axis order lon,lat; a "crs" member naming another CRS is an error).
 * code_field names the property holding each unit's code (a string, or an
 * integer that is kept as its decimal text); name_field names the property
 * holding its name, or is NULL to use the code as the name. Codes must be
 * unique. Features are numbered from 1 in messages; units keep file order, so
 * unit i is the i-th feature (0-based).
 * On success *out owns the layer (free with geo_layer_free) and 0 is returned.
 * On failure *out is NULL and err says "FILE:LINE:COL: problem" (JSON syntax)
 * or "FILE: feature N: problem" (MB_EIO for an unreadable file, MB_EDATA for
 * bad content, MB_ENOMEM).
 */
int geo_layer_load(const char *path, const char *code_field,
	const char *name_field, struct geo_layer **out, struct mb_error *err);

/* Free a layer and everything it owns; NULL is a no-op. */
void geo_layer_free(struct geo_layer *layer);

/* Number of units in the layer. */
size_t geo_layer_count(const struct geo_layer *layer);

/* Code of unit i (0 <= i < count), owned by the layer; NULL if i is out of range. */
const char *geo_layer_code(const struct geo_layer *layer, size_t i);

/* Name of unit i, owned by the layer; NULL if i is out of range. */
const char *geo_layer_name(const struct geo_layer *layer, size_t i);

/*
 * Return the index of the unit whose polygon covers (lon, lat), interior or
 * boundary, or -1 when none does (outside, in a hole, non-finite input).
 * Tie rule: a point on an edge or vertex shared by several units belongs to
 * the one with the smallest index (earliest feature in the file), so every
 * point is assigned to at most one unit, the same one every time.
 * Not safe for concurrent use of the same layer.
 */
long geo_layer_locate(struct geo_layer *layer, double lon, double lat);

/*
 * Like geo_layer_locate, but a point covered by no unit goes to the unit whose
 * boundary is nearest, if that distance is at most max_dist_m metres; -1
 * otherwise. Distances are measured in a local equirectangular approximation
 * at the point's latitude (metres per degree of the WGS84 ellipsoid there);
 * ties in distance go to the smaller index.
 */
long geo_layer_locate_nearest(struct geo_layer *layer, double lon, double lat,
	double max_dist_m);

/*
 * Create the EPSG:27700 -> EPSG:4326 transformation (output order lon, lat),
 * with PROJ network access disabled. Uses the OSTN15 grid when PROJ finds it
 * installed, else the 7-parameter Helmert "OSGB36 to WGS 84 (6)" (EPSG:1314,
 * about 2 m); geo_bng_method says which. On success *out owns the object (free
 * with geo_bng_close); on failure *out is NULL and err holds PROJ's reason.
 */
int geo_bng_open(struct geo_bng **out, struct mb_error *err);

/*
 * Convert one BNG easting/northing (metres) to WGS84 lon/lat (degrees).
 * Returns 0, or -MB_EDATA (outputs untouched) when the input is not finite or
 * outside the grid's extent (0..700000 E, 0..1300000 N) or PROJ fails.
 */
int geo_bng_to_wgs84(struct geo_bng *t, double easting, double northing,
	double *lon, double *lat);

/*
 * Description of the operation PROJ used for the last conversion (initially
 * for a probe point in central England), e.g. "Inverse of British National
 * Grid + OSGB36 to WGS 84 (6) + axis order change (2D)" when the OSTN15 grid
 * is not installed; owned by t, valid until the next call on t.
 */
const char *geo_bng_method(struct geo_bng *t);

/* Stated accuracy in metres of that operation (-1 when PROJ does not know). */
double geo_bng_accuracy(struct geo_bng *t);

/* Free the transformation and its PROJ context; NULL is a no-op. */
void geo_bng_close(struct geo_bng *t);

#endif
