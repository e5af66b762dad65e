/* report — the options, loading and output folder every analysis command
 * shares (include/microbeat/report.h). */
#include <string.h>

#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/report.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

void report_init(struct report_opts *ro)
{
	*ro = (struct report_opts){ .format = REPORT_TABLE, .out_dir = NULL, .charts = PLOT_BOTH };
}

int report_option(struct report_opts *ro, int code, const char *arg, struct mb_error *err)
{
	switch (code) {
	case REPORT_FORMAT:
		if (strcmp(arg, "table") == 0)
			ro->format = REPORT_TABLE;
		else if (strcmp(arg, "csv") == 0)
			ro->format = REPORT_CSV;
		else if (strcmp(arg, "md") == 0)
			ro->format = REPORT_MD;
		else
			return mb_err(err, MB_EUSAGE, "--format wants table, csv or md");
		return 0;
	case REPORT_OUT:
		ro->out_dir = arg;
		return 0;
	case REPORT_NOCHARTS:
		ro->charts = 0;
		return 0;
	case REPORT_CHARTS:
		ro->charts = plot_formats_parse(arg);
		if (ro->charts < 0)
			return mb_err(err, MB_EUSAGE, "--charts wants png, svg or both");
		return 0;
	default:
		return -MB_EUSAGE;
	}
}

int report_open(const char *db_path, struct selection *sel, struct store **s,
		struct mb_error *err)
{
	int r;

	if ((r = store_open(db_path, STORE_READONLY, s, err)))
		return r;
	return select_finish(sel, *s, err);
}

int report_load(struct store *s, struct selection *sel, const struct slice_query *q,
		struct slice *sl, struct mb_error *err)
{
	int r;

	if ((r = store_slice_load(s, q, sl, err)))
		return r;
	return select_check_gaps(sel, sl, err);
}

int report_write_dir(const struct report_opts *ro,
		     int (*write)(void *ctx, const char *dir, struct mb_error *err), void *ctx,
		     struct mb_error *err)
{
	struct plot_batch pb;
	char *tmp = NULL;
	int r;

	if (!ro->out_dir)
		return 0;
	if ((r = emit_dir_begin(ro->out_dir, &tmp, err)))
		return r;
	plot_batch_begin(&pb, ro->charts);
	r = write(ctx, tmp, err);
	r = plot_batch_end(&pb, r, err);
	return emit_dir_finish(r, tmp, ro->out_dir, err);
}
