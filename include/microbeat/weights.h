/*
 * weights — harm weights per category (crime type or activity type).
 *
 * The default file is datasets/harm_cchi.csv, the Cambridge Crime Harm Index
 * (days of imprisonment per police.uk crime type; Sherman, Neyroud & Neyroud
 * 2016). Any CSV with a category column and a numeric weight column works.
 */
#ifndef MICROBEAT_WEIGHTS_H
#define MICROBEAT_WEIGHTS_H

#include <stdio.h>

#include "microbeat/common.h"

struct slice;

/* Read weights from path (NULL: the shipped CCHI file) for every category of
 * sl: *weight gets sl->ncat entries (NaN for a category the file does not
 * weigh, which is then named once on msg). The caller frees *weight.
 * Column 1 is the category, column 2 the weight (by position; read with
 * csvtab). MB_EDATA with FILE:LINE:COL, *weight NULL, when the file is
 * malformed, a category is blank or named twice (case aside), or a weight is
 * blank, not a plain decimal, or outside 0 .. 1e9; MB_EIO when unreadable. */
int weights_load(const char *path, const struct slice *sl, double **weight, FILE *msg,
		 struct mb_error *err);

#endif
