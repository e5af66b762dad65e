/* store_scope — what --area and --layer select (private to src/store*.c).
 *
 * The one area selector of every analysis command (docs/methods.md, "Area
 * selection"): without a layer, --area is a local authority (the LSOA name
 * without its " 001A" suffix, matched exactly, case-insensitively) or an LSOA
 * code; with a layer, one or more unit names or codes of the layer
 * (comma-separated, exact, case-insensitive) or "all", and, when no unit
 * matches, an authority as above (the layer then gives each event its unit).
 * A unit holds the snap points its boundaries place it in (point in polygon,
 * stored by 'areas'), else the snap points whose LSOA its lookup maps to it:
 * the assignment 'flags' uses. */
#ifndef MICROBEAT_STORE_SCOPE_H
#define MICROBEAT_STORE_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "store_internal.h"

/* What a scope is made of. */
enum scope_kind {
	SCOPE_ALL = 0,     /* no --area: everything (all units with a layer) */
	SCOPE_AUTHORITY,   /* an authority or LSOA code: by the LSOA of each snap point */
	SCOPE_UNITS        /* units of the layer: by the unit of each snap point */
};

/* A resolved area selection. */
struct scope {
	enum scope_kind kind;  /* what selects */
	size_t nlsoa;          /* LSOA ids + 1 */
	uint8_t *lsoa_in;      /* per LSOA id: in the authority (SCOPE_AUTHORITY) */
	int64_t layer_id;      /* the layer, 0 without --layer */
	int boundaries;        /* the layer has boundaries (every point with coordinates is placed) */
	size_t nunit;          /* dense units + 1 (store id order; 0 = no unit) */
	char **unit_code;      /* per dense unit: code (owned) */
	char **unit_name;      /* per dense unit: name (owned) */
	uint8_t *unit_chosen;  /* per dense unit: selected (SCOPE_UNITS, or every unit for SCOPE_ALL) */
	size_t ndense;         /* store unit ids + 1 */
	uint32_t *dense;       /* store unit id -> dense unit (0 = another layer) */
	uint32_t *lsoa_unit;   /* per LSOA id: the lookup's unit (largest weight), 0 none */
	size_t nloc;           /* snap point ids + 1 */
	uint32_t *loc_unit;    /* per snap point: its unit (boundaries, else lookup), 0 none */
	uint8_t *unit_auth;    /* SCOPE_AUTHORITY with a layer, per dense unit: 1 = most of its
				  snap points with an LSOA code are the authority's (or, with
				  none, the lookup maps one of its LSOAs there): a point
				  without an LSOA code, or a row coded to the unit, in it is in
				  the authority */
	char label[320];       /* what was selected, in words ("Milton & Waterbeach (ward)") */
};

/* Resolve area (may be NULL) and layer (may be NULL) against the store for
 * snap points 1..nloc-1 whose LSOA ids are loc_lsoa (0 = none) and LSOA ids
 * 1..nlsoa-1. MB_ENOTFOUND when the layer is not loaded or a name matches
 * nothing (the message lists the nearest authorities and units); MB_ENOMEM.
 * Free with scope_release (also after a failure). */
int scope_resolve(struct store *s, const char *area, const char *layer, size_t nloc,
		  const uint32_t *loc_lsoa, size_t nlsoa, struct scope *sc, struct mb_error *err);

/* The LSOA lookup of layer_id: for each LSOA id below nlsoa, the store id
 * of its unit of largest weight, ties to the lower id (0: none), into
 * unit_of (nlsoa entries, zeroed by the caller) -- the one rule every
 * command places a snap point by when the layer's boundaries leave it out.
 * *any: some LSOA has a unit. */
int scope_lsoa_lookup(struct store *s, int64_t layer_id, size_t nlsoa, uint32_t *unit_of,
		      int *any, struct mb_error *err);

/* Free what sc holds; the struct may be reused. */
void scope_release(struct scope *sc);

/* Is LSOA id l / dense unit u inside the scope? */
int scope_lsoa_in(const struct scope *sc, uint32_t l);
int scope_unit_in(const struct scope *sc, uint32_t u);

#endif
