/* plot_internal.h — what plot.c and plot_run.c share (no other module). */
#ifndef MICROBEAT_PLOT_INTERNAL_H
#define MICROBEAT_PLOT_INTERNAL_H

#include "microbeat/common.h"

/* Queue the chart outdir/NAME.gp (already written; name passed plot.c's
 * name_ok, so it is safe inside gnuplot script text) in the formats of the
 * innermost open batch, or, with no batch open, draw it at once in PNG and
 * SVG. 0, or MB_ENOMEM, or the drawing's error (plot_batch_end). */
int plot_queue_chart(const char *outdir, const char *name, struct mb_error *err);

#endif
