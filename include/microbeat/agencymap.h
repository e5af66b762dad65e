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
 * (4-digit year), %y (2-digit year: 90-99 -> 1990s, 00-89 -> 2000-2089), %H
 * (hour 0..23, 1-2 digits), %M (minute 0..59, 2 digits), %S (second 0..59, 2
 * digits, checked and not kept), %% (a literal %), %* (ignore the rest of the
 * field); any other character must match literally. %m and one of %Y/%y are
 * required; %H and %M go together.
 *
 * A force extract (police crimes with richer fields) says so in [source]:
 *
 *   [source]
 *   name = Cambridgeshire Constabulary (force extract)
 *   kind = extract           ; "agency" (the default) or "extract"
 *   [columns]
 *   id = crime_id            ; required: the police.uk Crime ID (64 hex digits)
 *   date = committed         ; date (+ date_format) or month, as above
 *   date_format = %d/%m/%Y %H:%M
 *   time = time_committed    ; optional: a time column (not with %H in date_format)
 *   time_format = %H:%M      ;   its format (%H, %M, %S, %%, literals; default %H:%M)
 *   ho_code = ho_offence_code ; optional: Home Office offence code ("008/01")
 *   subgroup = offence_subgroup ; optional: offence subgroup ("Violence without injury")
 *   da = da_flag             ; optional: domestic-abuse flag
 *   da_yes = Y,Yes,1,TRUE    ;   values meaning yes (default Y,Yes,1,True)
 *   da_no = N,No,0,FALSE     ;   values meaning no (default N,No,0,False)
 *   hate = hate_flag         ; optional: hate-crime flag, with hate_yes / hate_no
 *   hate_strand = hate_strand ; optional: hate-crime strand ("Race", ...)
 *   street = street_name     ; optional: street as the force records it
 *   parish = parish_name     ; optional: parish as the force records it
 *
 * An agency row whose date_format has %d keeps its day (and with %H:%M its
 * time) for analyses of days and times (the store's event_when).
 *
 * Flag values are compared case-insensitively after trimming; a blank flag is
 * "unknown", any value in neither list rejects the row. An extract's rows are
 * not events: each attaches its fields to the police.uk crime of the same
 * Crime ID and month (docs/methods.md, "Force extracts"), so nothing is
 * counted twice; location and category keys are refused in an extract map
 * (the police.uk crime gives both). The extract-only keys (time..parish) are
 * refused in an agency map.
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
	AGENCYMAP_TIME,       /* extract: time of day, parsed with time_format */
	AGENCYMAP_HO_CODE,    /* extract: Home Office offence code */
	AGENCYMAP_SUBGROUP,   /* extract: offence subgroup */
	AGENCYMAP_DA,         /* extract: domestic-abuse flag */
	AGENCYMAP_HATE,       /* extract: hate-crime flag */
	AGENCYMAP_HATE_STRAND, /* extract: hate-crime strand */
	AGENCYMAP_STREET,     /* extract: street as recorded by the force */
	AGENCYMAP_PARISH,     /* extract: parish as recorded by the force */
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

/* One step of a compiled date_format or time_format. */
struct agencymap_fmt_step {
	char kind;  /* 'd', 'm', 'Y', 'y', 'H', 'M', 'S', '*' for a directive, 'L' for a literal */
	char lit;   /* the literal character when kind == 'L' */
};

/* The flags of an extract row. */
enum agencymap_flag { AGENCYMAP_FLAG_DA, AGENCYMAP_FLAG_HATE, AGENCYMAP_NFLAGS };

/* Most values a flag's yes or no list may hold. */
#define AGENCYMAP_FLAG_VALUES 16

/* The values of one flag that mean yes and no. */
struct agencymap_flagvals {
	char *text[2];                           /* the yes / no lists as given (NULL: default) */
	int line[2];                             /* their INI lines, 0 when defaulted */
	char *v[2][AGENCYMAP_FLAG_VALUES];       /* the values, trimmed (owned) */
	size_t n[2];                             /* how many of each */
};

/* Date, day and time of a row (agencymap_parse_when_n). */
struct agencymap_when_out {
	int month;   /* months since 2000-01 */
	int day;     /* days since 2000-01-01, -1 when the format has no %d */
	int minute;  /* minute of the day 0..1439, -1 when no time is given */
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
	int extract;                     /* 1 = [source] kind = extract (a force extract) */
	int date_has_time;               /* date_format holds %H and %M */
	char *time_format;               /* time_format text, NULL when absent */
	struct agencymap_fmt_step tfmt[32]; /* compiled time_format (internal) */
	size_t tfmt_len;                 /* steps in tfmt (internal) */
	struct agencymap_flagvals flag[AGENCYMAP_NFLAGS]; /* yes/no values of da and hate */
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

/*
 * Parse a date or month field (as agencymap_parse_month_n) into *w: month,
 * day (-1 without %d) and minute (-1 without %H/%M in date_format).
 */
int agencymap_parse_when_n(const struct agencymap *map, const char *text, size_t len,
	struct agencymap_when_out *w, const char **reason);

/*
 * Parse a time field of len bytes with the map's time_format into *minute
 * (0..1439); a blank field gives -1 (unknown). Returns 0, or -MB_EDATA with
 * *reason (optional) set to a static lower-case reason.
 */
int agencymap_parse_time_n(const struct agencymap *map, const char *text, size_t len,
	int *minute, const char **reason);

/*
 * A flag field of len bytes: 1 (a yes value), 0 (a no value), -1 (blank:
 * unknown) or -2 (neither: the row must be rejected).
 */
int agencymap_flag_n(const struct agencymap *map, enum agencymap_flag which, const char *text,
	size_t len);

/* The INI key of a field ("date", "easting", ...). */
const char *agencymap_field_key(enum agencymap_field f);

#endif
