/*
 * record — the rows that flow from the parser (ingest) to the writer (store).
 *
 * The parser fills a struct batch; the writer thread writes it in one go.
 * Strings point into the batch's arena and live as long as the batch.
 * The parser gives sources, categories, outcomes and LSOAs ids of the file's
 * own (1, 2, ... in the order first seen) and puts each new one's row in the
 * batch; the writer maps them to the store's ids through the in-memory
 * dictionaries (struct dims), writing the rows the store lacks, so parses of
 * several files run at once without sharing anything. Snap points
 * (locations) and streets, the largest dictionaries, are interned by the
 * writer alone.
 */
#ifndef MICROBEAT_RECORD_H
#define MICROBEAT_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct dict;

/* Coordinates accepted on every input (imports, gazetteers): the United Kingdom and its waters (WGS84 degrees). */
#define INGEST_LON_MIN (-14.0)
#define INGEST_LON_MAX 3.0
#define INGEST_LAT_MIN 49.0
#define INGEST_LAT_MAX 61.5

/* Kinds of dimension rows a batch can create. */
enum dim_kind {
	DIM_SOURCE,    /* s1 = force or agency name */
	DIM_CATEGORY,  /* s1 = crime type / activity type */
	DIM_OUTCOME,   /* s1 = outcome text */
	DIM_LSOA,      /* s1 = LSOA code, s2 = LSOA name */
	DIM_LSOA_NAME, /* ref = lsoa id, s1 = another name seen for that code */
	DIM_STREET,    /* s1 = normalised name, ref = lsoa id (0 = none) */
	DIM_LOCATION   /* s1 = name as given, ref = lsoa id, ref2 = street id, lon/lat */
};

/* Number of dimension kinds (arrays indexed by enum dim_kind). */
#define DIM_COUNT (DIM_LOCATION + 1)

/* The kinds before it get ids of the file's own from the parser. */
#define DIM_LOCAL DIM_STREET

/* A new dimension row. */
struct rec_dim {
	enum dim_kind kind; /* which table */
	uint32_t id;        /* its id (the file's, before DIM_LOCAL) */
	uint32_t ref;       /* LSOA id (street, location) or LSOA id (lsoa name) */
	uint32_t ref2;      /* street id (location) */
	int has_coord;      /* location has lon/lat */
	double lon, lat;    /* WGS84 (location) */
	const char *s1;     /* main text (see enum dim_kind) */
	const char *s2;     /* second text, or NULL */
};

/* One crime or agency incident. */
struct rec_event {
	uint32_t line;       /* line of the row in its file (1 = header) */
	int32_t month;       /* months since 2000-01 */
	uint32_t category;   /* category id */
	uint32_t outcome;    /* outcome id, 0 = none */
	uint32_t location;   /* location id, 0 = none */
	uint32_t source;     /* reporting source (force / agency) id */
	uint32_t falls;      /* "Falls within" source id, 0 = none */
	uint32_t flags;      /* EVENT_F_* bits */
	uint8_t id_kind;     /* 0 = no id, 1 = 32-byte crime id, 2 = text id */
	uint8_t crime_id[32]; /* Crime ID (binary) when id_kind == 1 */
	/* (the three below fill the padding before text_id: the struct stays 128 bytes) */
	uint8_t has_when;    /* 1 = day/minute hold an agency row's date (event_when) */
	int16_t minute;      /* with has_when: minute of the day, -1 unknown */
	int32_t day;         /* with has_when: days since 2000-01-01 */
	const char *text_id; /* agency id text when id_kind == 2 */
	uint32_t unit;       /* unit id given by the row (agency maps), 0 = none */
	uint32_t layer;      /* layer of unit */
	/* the snap point, interned by the writer thread (location == 0 until
	 * then) when loc_pending: the parser only records it */
	uint8_t loc_pending; /* location still to intern from the fields below */
	uint8_t loc_has;     /* lon/lat given */
	uint32_t loc_lsoa;   /* LSOA id, 0 = none */
	uint32_t loc_len;    /* bytes of loc_name */
	const char *loc_name; /* the Location text */
	double lon, lat;     /* WGS84 when loc_has */
};

#define EVENT_F_UNLOCATED 1u /* no coordinates ("No location") */

/* A rejected or duplicate row, kept with its reason and raw text. */
struct rec_reject {
	uint32_t line;      /* line of the row's start */
	uint32_t col;       /* 1-based column (character) of the problem, 0 = row */
	int duplicate;      /* 1 = counted as duplicate, 0 = rejected */
	const char *reason; /* why */
	const char *raw;    /* the row as read (reconstructed from its fields) */
	size_t raw_len;     /* bytes of raw (may hold invalid UTF-8) */
};

/* One row of an outcomes file. */
struct rec_outcome {
	uint32_t line;        /* line in the file */
	int32_t month;        /* month of the outcome row */
	uint32_t outcome;     /* outcome id */
	uint8_t crime_id[32]; /* Crime ID (binary) */
};

/* One row of a force extract: fields attached to the police.uk crime of the
 * same Crime ID and month (docs/methods.md, "Force extracts"). */
struct rec_extra {
	uint32_t line;        /* line in the file */
	int32_t month;        /* months since 2000-01 */
	uint8_t crime_id[32]; /* Crime ID (binary) */
	int32_t day;          /* days since 2000-01-01, -1 unknown */
	int16_t minute;       /* minute of the day, -1 unknown */
	int8_t da;            /* domestic-abuse flag: 1, 0, -1 unknown */
	int8_t hate;          /* hate-crime flag: 1, 0, -1 unknown */
	const char *ho_code;  /* Home Office offence code, NULL when blank or not mapped */
	const char *subgroup; /* offence subgroup, NULL likewise */
	const char *strand;   /* hate strand, NULL likewise */
	const char *street;   /* street as the force records it, NULL likewise */
	const char *parish;   /* parish as the force records it, NULL likewise */
};

#define STOP_NFIELDS 15

/* One stop-and-search row (kept as text: small volumes). */
struct rec_stop {
	uint32_t line;                    /* line in the file */
	int32_t month;                    /* month of Date */
	int has_coord;                    /* lon/lat present */
	double lon, lat;                  /* WGS84 */
	const char *f[STOP_NFIELDS];      /* the 15 fields as given */
};

/* A growable array of records of one type. */
#define VEC(T) struct { T *v; size_t n, cap; }

/* What the parser hands to the writer. */
struct batch {
	VEC(struct rec_dim) dims;         /* new dimension rows, in creation order */
	VEC(struct rec_event) events;     /* events, in file order */
	VEC(struct rec_reject) rejects;   /* rejects and duplicates */
	VEC(struct rec_outcome) outcomes; /* outcome rows */
	VEC(struct rec_stop) stops;       /* stop-and-search rows */
	VEC(struct rec_extra) extras;     /* force-extract rows */
	char *arena;                      /* string storage */
	size_t arena_used, arena_cap;     /* bytes used / capacity */
};

/* In-memory dictionaries of the store's dimension tables, for interning. */
struct dims {
	struct dict *source;    /* name -> id */
	struct dict *category;  /* name -> id */
	struct dict *outcome;   /* name -> id */
	struct dict *lsoa;      /* code -> id */
	struct dict *lsoa_name; /* id(4 bytes) + name -> 1 */
	struct dict *street;    /* lsoa id(4 bytes) + normalised name -> id */
	struct dict *location;  /* lsoa id + lon/lat micro-degrees + name -> id */
	uint32_t next[7];       /* next id to assign, per enum dim_kind */
};

#endif
