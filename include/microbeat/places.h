/*
 * places — police.uk's non-street snap points ("On or near Supermarket").
 * The list mirrors datasets/place_names.csv (a test keeps the two equal).
 * Also the normalised form of a snap-point name, shared by the import and
 * the gazetteer so that both key a street alike.
 */
#ifndef MICROBEAT_PLACES_H
#define MICROBEAT_PLACES_H

#include <stddef.h>

/* Is the normalised (upper-case, no "On or near") name a place, not a street? */
int places_is_place(const char *norm_name);

/* The list: n entries, in datasets/place_names.csv order (mixed case). */
const char *const *places_list(size_t *n);

/* Normalise a snap-point name for street identity: drop a leading
 * "On or near " (any case), trim, collapse white space, upper-case ASCII.
 * Writes at most cap - 1 bytes and a NUL into out; returns the length. */
size_t ingest_normalise_name(const char *in, size_t len, char *out, size_t cap);

#endif
