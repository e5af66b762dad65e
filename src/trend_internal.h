/* trend_internal.h — what trend.c, trend_kendall.c and trend_verdict.c share. */
#ifndef MICROBEAT_TREND_INTERNAL_H
#define MICROBEAT_TREND_INTERNAL_H

#include <math.h>

#include "microbeat/trend.h"

/* Return 1 when month i of s is present. */
static inline int is_present(const struct trend_series *s, size_t i)
{
	return s->present == NULL || s->present[i] != 0;
}

/* Month of the year (0 = January) of month index idx, also for idx < 0. */
static inline int month_of_year(long idx)
{
	long m = idx % 12;

	return (int)(m < 0 ? m + 12 : m);
}

/* Check s itself and every present count (finite, >= 0). Return 0 or -MB_E*. */
static inline int series_check(const struct trend_series *s, struct mb_error *err)
{
	size_t i;

	if (s == NULL || (s->n > 0 && s->count == NULL))
		return mb_err(err, MB_EUSAGE, "trend: no series given");
	for (i = 0; i < s->n; i++) {
		double c = s->count[i];

		if (is_present(s, i) && (!isfinite(c) || c < 0))
			return mb_err(err, MB_EDATA,
				"trend: month %zu has count %g (want a finite count >= 0)",
				i, c);
	}
	return 0;
}

#endif
