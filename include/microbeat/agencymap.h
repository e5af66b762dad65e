/*
 * microbeat — agency column maps: which column of a partner agency's CSV
 * (fire and rescue, council ASB team, ...) holds the date, category and
 * location of each incident. Read from a small INI file:
 *
 *   [source]
 *   name = Cambridgeshire Fire and Rescue
 *   [columns]
 *   id = incident_ref        ; optional: a unique id column
 *   date = call_date         ; either date + date_format ...
 *   date_format = %d/%m/%Y
 *   month = month_col        ; ... or month (YYYY-MM)
 *   category = incident_type ; required
 *   longitude = lon_col      ; location: exactly one of longitude + latitude,
 *   latitude = lat_col
 *   easting = easting        ;   easting + northing (British National Grid),
 *   northing = northing
 *   lsoa = lsoa_code         ;   an LSOA code column,
 *   unit = parish_code       ;   or a unit code of a loaded layer
 *   unit_layer = parish      ;   with that layer's name
 *
 * date_format directives: %d (day, 1-2 digits), %m (month, 1-2 digits), %Y
 * (4-digit year), %y (2-digit year: 90-99 -> 1990s, 00-89 -> 2000-2089), %%
 * (a literal %), %* (ignore the rest of the field, e.g. a time of day); any
 * other character must match literally. %m and one of %Y/%y are required.
 *
 * Usage: agencymap_load, then agencymap_bind against the CSV header, then for
 * each row read the columns named by map->col[...].index and call
 * agencymap_parse_month on the date or month field.
 */
#ifndef MICROBEAT_AGENCYMAP_H
#define MICROBEAT_AGENCYMAP_H

#include <stddef.h>

#include "microbeat/common.h"

/* The keys of [columns] that name a CSV column; index into agencymap.col. */
enum agencymap_field {
	AGENCYMAP_ID,         /* optional unique incident id */
	AGENCYMAP_DATE,       /* a date, parsed with date_format */
	AGENCYMAP_MONTH,      /* a month, YYYY-MM */
	AGENCYMAP_CATEGORY,   /* incident / activity type (required) */
	AGENCYMAP_LONGITUDE,  /* WGS84 longitude, degrees */
	AGENCYMAP_LATITUDE,   /* WGS84 latitude, degrees */
	AGENCYMAP_EASTING,    /* British National Grid easting, metres */
	AGENCYMAP_NORTHING,   /* British National Grid northing, metres */
	AGENCYMAP_LSOA,       /* LSOA code (2011 or 2021) */
	AGENCYMAP_UNIT,       /* unit code of the layer named by unit_layer */
	AGENCYMAP_NFIELDS     /* number of fields */
};

/* How a row is placed on the map. */
enum agencymap_location {
	AGENCYMAP_LOC_LONLAT,  /* longitude + latitude columns */
	AGENCYMAP_LOC_BNG,     /* easting + northing columns (EPSG:27700) */
	AGENCYMAP_LOC_LSOA,    /* an LSOA code column */
	AGENCYMAP_LOC_UNIT     /* a unit code column of layer unit_layer */
};

/* How a row's month is given. */
enum agencymap_when {
	AGENCYMAP_WHEN_DATE,   /* the date column with date_format */
	AGENCYMAP_WHEN_MONTH   /* the month column, YYYY-MM */
};

/* One mapped column. */
struct agencymap_column {
	char *name;   /* column name from the INI file (NULL when the key is absent) */
	int line;     /* INI line of the key, 0 when absent */
	long index;   /* 0-based CSV column after agencymap_bind, -1 before or when absent */
};

/* One step of a compiled date_format. */
struct agencymap_fmt_step {
	char kind;  /* 'd', 'm', 'Y', 'y', '*' for a directive, 'L' for a literal */
	char lit;   /* the literal character when kind == 'L' */
};

/* A loaded column map. Read the fields; change them only through this API. */
struct agencymap {
	char *path;                      /* INI file it came from (for messages) */
	char *source_name;               /* [source] name, NULL when not given */
	enum agencymap_location location;  /* which location columns are used */
	enum agencymap_when when;        /* date or month */
	char *unit_layer;                /* layer name for AGENCYMAP_LOC_UNIT, else NULL */
	char *date_format;               /* date_format text, NULL for month */
	struct agencymap_column col[AGENCYMAP_NFIELDS]; /* the columns, by enum agencymap_field */
	size_t header_fields;            /* fields in the bound header, 0 before bind */
	struct agencymap_fmt_step fmt[64]; /* compiled date_format (internal) */
	size_t fmt_len;                  /* steps in fmt (internal) */
};

/*
 * Read and validate a column map. Errors (MB_EDATA) say "FILE:LINE: problem"
 * for unknown sections or keys, repeated keys, syntax errors, conflicting
 * location or date keys and bad date_format, and "FILE: problem" for what is
 * missing (category, a location, a date or month). MB_EIO if unreadable.
 * On success *out is owned by the caller (agencymap_free); on failure NULL.
 */
int agencymap_load(const char *path, struct agencymap **out, struct mb_error *err);

/* Free a map; NULL is a no-op. */
void agencymap_free(struct agencymap *map);

/*
 * Resolve the mapped column names against a CSV header of nfields names
 * (compared case-insensitively after trimming spaces and tabs; a UTF-8 BOM on
 * the first name is ignored), setting map->col[f].index. Fails (MB_EDATA) naming
 * the first column not found or found twice; indexes are then all -1.
 */
int agencymap_bind(struct agencymap *map, const char *const header_fields[],
	size_t nfields, struct mb_error *err);

/*
 * Parse a NUL-terminated date (with the map's date_format) or month (YYYY-MM)
 * field into months since 2000-01 (2000-01 -> 0, 1999-12 -> -1), after
 * trimming spaces and tabs. Days are checked against the month's length (leap
 * years included); years must be 1990..2100. Returns 0, or -MB_EDATA with
 * *reason (optional) set to a static lower-case reason.
 */
int agencymap_parse_month(const struct agencymap *map, const char *text,
	int *month_index, const char **reason);

/* Same for a field of len bytes that need not be NUL-terminated (libcsv). */
int agencymap_parse_month_n(const struct agencymap *map, const char *text, size_t len,
	int *month_index, const char **reason);

/* The INI key of a field ("date", "easting", ...). */
const char *agencymap_field_key(enum agencymap_field f);

#endif
