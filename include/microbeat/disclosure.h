/*
 * disclosure — statistical disclosure control for count tables meant for
 * publication: primary suppression of small counts and secondary (comple-
 * mentary) suppression so that no suppressed cell can be worked out from the
 * published row and column totals. Pure: no I/O, no store.
 *
 * The rule (docs/methods.md, "Disclosure control"): a count 1..N-1 is
 * primary-suppressed (shown "<N"); a zero is shown (it discloses nobody).
 * Then, until nothing changes, cells are added (shown "x") so that
 *  - every row and column holds no suppressed cell or at least two;
 *  - the suppressed cells of a row or column sum to at least N (so two small
 *    counts cannot be pinned by their total);
 *  - no suppressed cell is a bridge of the bipartite graph rows-columns whose
 *    edges are the suppressed cells (a bridge is fixed by the margins: its
 *    value is the only solution of the totals' linear system; a cell on a
 *    cycle can move by +d/-d around the cycle with every total unchanged).
 * Each added cell is the smallest non-zero count that does the job (a zero
 * only when no non-zero candidate exists), ties to the first in row-major
 * order, so the result is deterministic.
 */
#ifndef MICROBEAT_DISCLOSURE_H
#define MICROBEAT_DISCLOSURE_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

/* What happens to one cell. */
enum disclosure_state {
	DISCLOSE_SHOWN = 0,     /* published as it is */
	DISCLOSE_PRIMARY = 1,   /* a small count: published as "<N" */
	DISCLOSE_SECONDARY = 2  /* suppressed to protect a small count: published as "x" */
};

/* Decide the suppression of the nr x nc table of non-negative counts cells
 * (row-major) under threshold n (>= 1; 1 suppresses nothing) whose row totals
 * (when nc > 1) and column totals (when nr > 1) are published in full. state
 * (nr*nc entries) receives an enum disclosure_state per cell. Returns 0, or
 * MB_EUSAGE on a negative count or threshold, MB_ENOMEM. */
int disclosure_suppress(const int64_t *cells, size_t nr, size_t nc, int64_t n,
			unsigned char *state, struct mb_error *err);

#endif
