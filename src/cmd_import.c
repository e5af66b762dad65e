/* cmd_import — 'microbeat import PATH...'. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/ingest.h"
#include "microbeat/store.h"

int cmd_import(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "max-errors", required_argument, NULL, 'm' },
		{ "map", required_argument, NULL, 'M' },
		{ "source", required_argument, NULL, 's' },
		{ "replace", no_argument, NULL, 'R' },
		{ "max-removed", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest_opts o = { .progress = !c->quiet, .quiet = c->quiet, .out = c->out,
				 .msg = c->msg, .max_shown = 10 };
	struct ingest_summary sum;
	struct store *s = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "qPm:M:s:RX:", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': o.quiet = 1; o.progress = 0; break;
		case 'P': o.progress = 0; break;
		case 'm': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 1000000)
				return mb_err(err, MB_EUSAGE, "--max-errors wants a number, not '%s'", optarg);
			o.max_shown = (int)v;
			break;
		}
		case 'X': {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || !(v >= 0 && v <= 100))
				return mb_err(err, MB_EUSAGE,
					      "--max-removed wants a percentage from 0 to 100, not '%s'",
					      optarg);
			o.max_removed = v > 0 ? v : -1; /* 0 in the options is the default */
			break;
		}
		case 'R': o.replace = 1; break;
		case 'M': o.map_path = optarg; break;
		case 's': o.source_name = optarg; break;
		default: return -MB_EUSAGE;
		}
	}
	if (optind >= argc)
		return mb_err(err, MB_EUSAGE, "import: no PATH given (see 'microbeat import --help')");
	if ((o.map_path != NULL) != (o.source_name != NULL) && !o.map_path)
		return mb_err(err, MB_EUSAGE, "import: --source needs --map");
	if ((r = store_open(c->db_path, 0, &s, err)))
		return r;
	r = ingest_paths(s, (const char *const *)argv + optind, argc - optind, &o, &sum, err);
	/* -MB_EIO with no message: an input could not be opened (reported); the
	 * others were read */
	int went_on = r == 0 || r == -MB_EDATA || (r == -MB_EIO && !err->msg[0]);

	if (went_on && sum.files_loaded) {
		/* place the new snap points in every loaded boundary layer */
		struct mb_error aerr = { 0 };
		long placed = 0;
		int ar = store_areas_refresh(s, &placed, &aerr);

		if (ar == -MB_EIO)
			fprintf(c->msg, "microbeat: warning: %s (new points stay unplaced until 'areas'"
					" reloads the layer)\n", aerr.msg);
		else if (ar) {
			*err = aerr;
			r = ar;
		} else if (placed && !o.quiet)
			fprintf(c->out, "areas: %ld new snap points placed in the loaded layers\n", placed);
	}
	if (went_on) {
		const struct import_stats *t = &sum.total;

		if (!o.quiet || r)
			fprintf(c->out,
				"total: %d files loaded, %d unchanged, %d skipped; %lld rows read ="
				" %lld loaded + %lld duplicate + %lld rejected\n",
				sum.files_loaded, sum.files_unchanged, sum.files_skipped,
				(long long)t->rows_read, (long long)t->rows_loaded,
				(long long)t->rows_duplicate, (long long)t->rows_rejected);
	}
	store_close(s);
	return r;
}
