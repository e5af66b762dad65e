/*
 * progress — a progress bar on stderr (rows, MB/s, ETA) when it is a terminal.
 * Every function accepts NULL (no bar) and does nothing then.
 */
#ifndef MICROBEAT_PROGRESS_H
#define MICROBEAT_PROGRESS_H

#include <stdint.h>

struct progress;

/* A bar for total_bytes of work, or NULL when stderr is not a terminal
 * (or force_off). Free with progress_free(). */
struct progress *progress_new(int64_t total_bytes, int force_off);

/* Count bytes done (thread-safe: called by the parser thread). */
void progress_add(struct progress *p, uint64_t bytes);

/* Count rows done (thread-safe). */
void progress_rows(struct progress *p, uint64_t rows);

/* Redraw if 200 ms have passed since the last draw (or force). */
void progress_draw(struct progress *p, int force);

/* Erase the bar so that a message can be printed. */
void progress_clear(struct progress *p);

/* Erase the bar and free it. */
void progress_free(struct progress *p);

#endif
