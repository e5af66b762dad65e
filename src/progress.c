/* progress — a one-line progress bar on stderr for terminals. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "microbeat/progress.h"

struct progress {
	int64_t total;          /* bytes expected */
	atomic_uint_least64_t done; /* bytes done */
	atomic_uint_least64_t rows; /* rows done */
	double start;           /* monotonic seconds at creation */
	double last;            /* time of the last draw */
	int shown;              /* a bar is on screen */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress *progress_new(int64_t total_bytes, int force_off)
{
	if (force_off || !isatty(STDERR_FILENO))
		return NULL;
	struct progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->total = total_bytes > 0 ? total_bytes : 1;
	p->start = p->last = now();
	return p;
}

void progress_add(struct progress *p, uint64_t bytes)
{
	if (p)
		atomic_fetch_add(&p->done, bytes);
}

void progress_rows(struct progress *p, uint64_t rows)
{
	if (p)
		atomic_fetch_add(&p->rows, rows);
}

void progress_draw(struct progress *p, int force)
{
	if (!p)
		return;
	double t = now();

	if (!force && t - p->last < 0.2)
		return;
	p->last = t;
	double done = (double)atomic_load(&p->done), el = t - p->start;
	double frac = done / (double)p->total;

	if (frac > 1)
		frac = 1;
	double mbs = el > 0 ? done / el / 1e6 : 0;
	double eta = frac > 0 ? el / frac - el : 0;
	char bar[31];
	int fill = (int)(frac * 30);

	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %3.0f%%  %llu rows  %.0f MB/s  ETA %.0fs   ", bar, frac * 100,
		(unsigned long long)atomic_load(&p->rows), mbs, eta);
	fflush(stderr);
	p->shown = 1;
}

void progress_clear(struct progress *p)
{
	if (p && p->shown) {
		fprintf(stderr, "\r%70s\r", "");
		p->shown = 0;
	}
}

void progress_free(struct progress *p)
{
	progress_clear(p);
	free(p);
}
