/* cmd_streets — 'microbeat streets FILE': load the street gazetteer (the universe N);
 * 'microbeat streets --observed --from A --to B': freeze the observed universe. */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "microbeat/cli.h"
#include "microbeat/gazetteer.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/universe.h"

/* Freeze the micro-beats seen in months from..to (any type, any area, located
 * events; identities as the slice gives them: docs/methods-concentration.md §0). */
static int freeze_observed(struct cli *c, int32_t from, int32_t to, struct mb_error *err)
{
	struct store *s = NULL;
	struct slice sl = { 0 };
	uint64_t *keys = NULL;
	uint8_t *seen = NULL;
	size_t n = 0, beats = 0;
	int32_t lo, hi;
	int r;

	if ((r = store_open(c->db_path, 0, &s, err)) || (r = store_month_range(s, &lo, &hi, err)))
		goto cleanup;
	if (lo < 0) {
		r = mb_err(err, MB_ENOTFOUND, "streets --observed: the store holds no events");
		goto cleanup;
	}
	/* identities are taken over every loaded month, members over from..to:
	 * only those months' events are kept (slice_query.keep_set) */
	struct slice_query q = { .from = lo < from ? lo : from, .to = hi > to ? hi : to,
				 .include_asb = 1, .no_source = 1, .no_street_column = 1,
				 .keep_set = 1, .keep_from = from, .keep_to = to };

	if ((r = store_slice_load(s, &q, &sl, err)))
		goto cleanup;
	int32_t months = 0;

	for (int32_t m = from; m <= to; m++)
		months += sl.month_present[m - sl.month_from] != 0;
	if (!months) {
		char a[8], b[8];

		month_format(from, a);
		month_format(to, b);
		r = mb_err(err, MB_ENOTFOUND, "streets --observed: no month of %s..%s is loaded", a, b);
		goto cleanup;
	}
	seen = calloc(sl.nstreet + 1, 1);
	if (!seen) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl.n; i++) {
		uint32_t b = slice_event_beat(&sl, i);

		if (b && sl.month[i] >= from && sl.month[i] <= to && !seen[b]) {
			seen[b] = 1;
			beats++;
		}
	}
	if ((r = universe_slice_keys(&sl, seen, &keys, &n, err)) ||
	    (r = store_universe_save(s, from, to, months, (int64_t)beats, keys, n, err)))
		goto cleanup;
	if (!c->quiet) {
		char a[8], b[8];

		month_format(from, a);
		month_format(to, b);
		fprintf(c->out,
			"observed universe frozen: %zu micro-beats seen in %d loaded months of %s..%s;"
			" analyses use it until the next 'streets --observed'\n", beats, months, a, b);
	}
cleanup:
	free(seen);
	free(keys);
	slice_release(&sl);
	store_close(s);
	return r;
}

/* A gazetteer read on a thread of its own. */
struct gaz_reader {
	const char *path;       /* the file */
	struct gazetteer *g;    /* what it holds */
	FILE *msg;              /* where its row messages go */
	struct mb_error err;    /* its error */
	int r;                  /* gazetteer_read's result */
};

static void *reader_main(void *arg)
{
	struct gaz_reader *rd = arg;

	rd->r = gazetteer_read(rd->path, rd->g, rd->msg, &rd->err);
	return NULL;
}

/* Read the gazetteer at path into g and load it. The store's streets are
 * read (store_gazetteer_begin) while a thread reads the file: ~0.2 s of the
 * national load. What is seen is as in the order read, then open, then
 * load: a bad file is the error whatever the store, the store is opened
 * early only if it exists (opening makes one), and the load's transaction
 * is rolled back when the file is refused (*bad_file set: the error is the
 * reader's). */
static int read_and_load(struct cli *c, const char *path, int replace, struct gazetteer *g,
			 struct gaz_stats *gs, int *bad_file, struct mb_error *err)
{
	struct gaz_reader rd = { .path = path, .g = g, .msg = c->msg };
	struct store *s = NULL;
	struct gaz_load *ld = NULL;
	struct stat st;
	pthread_t th;
	int threaded, early = stat(c->db_path, &st) == 0 && S_ISREG(st.st_mode), r = 0;

	double tr = gazetteer_clock(), t0, t1 = tr, t2 = tr;

	threaded = pthread_create(&th, NULL, reader_main, &rd) == 0;
	if (!threaded)
		reader_main(&rd);
	if (early && (r = store_open(c->db_path, 0, &s, err)) == 0)
		r = store_gazetteer_begin(s, &ld, err);
	t1 = gazetteer_clock();
	if (threaded)
		pthread_join(th, NULL);
	if (rd.r) {
		*err = rd.err;
		r = rd.r;
		*bad_file = 1;
		goto cleanup;
	}
	if (r)
		goto cleanup;
	if (!early && ((r = store_open(c->db_path, 0, &s, err)) ||
		       (r = store_gazetteer_begin(s, &ld, err))))
		goto cleanup;
	t2 = gazetteer_clock();
	r = store_gazetteer_finish(ld, g, replace, gs, err);
	ld = NULL;
cleanup:
	store_gazetteer_abandon(ld);
	t0 = gazetteer_clock();
	store_close(s);
	if (!r && getenv("MICROBEAT_TIMING")) /* docs/performance.md */
		fprintf(stderr, "timing: store read %.2f s, file read %.2f s (at once), matching %.2f s,"
			" writes %.2f s (%ld streets changed), commit %.2f s, close %.2f s\n", t1 - tr,
			t2 - tr, gs->match_s, gs->write_s, gs->written, gs->commit_s,
			gazetteer_clock() - t0);
	return r;
}

int cmd_streets(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	enum { O_OBSERVED = 1, O_FROM, O_TO, O_CLEAR, O_REPLACE };
	static const struct option opts[] = {
		{ "observed", no_argument, NULL, O_OBSERVED },
		{ "clear", no_argument, NULL, O_CLEAR },
		{ "replace", no_argument, NULL, O_REPLACE },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ NULL, 0, NULL, 0 },
	};
	struct gazetteer g;
	struct gaz_stats gs;
	struct store *s = NULL;
	int observed = 0, clear = 0, replace = 0, bad_file = 0, o, r;
	int32_t from = -1, to = -1;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int32_t *m = o == O_FROM ? &from : &to;

		if (o == O_OBSERVED) {
			observed = 1;
		} else if (o == O_REPLACE) {
			replace = 1;
		} else if (o == O_CLEAR) {
			clear = 1;
		} else if (o == O_FROM || o == O_TO) {
			if (month_parse(optarg, strlen(optarg), m))
				return mb_err(err, MB_EUSAGE, "--%s wants a month YYYY-MM, not '%s'",
					      o == O_FROM ? "from" : "to", optarg);
		} else {
			return -MB_EUSAGE;
		}
	}
	if (clear) {
		if (observed || replace || from >= 0 || to >= 0 || optind < argc)
			return mb_err(err, MB_EUSAGE, "streets --clear takes nothing else");
		if ((r = store_open(c->db_path, 0, &s, err)) == 0 &&
		    (r = store_universe_clear(s, err)) == 0 && !c->quiet)
			fprintf(c->out, "frozen universe dropped: analyses use every loaded month\n");
		store_close(s);
		return r;
	}
	if (observed || from >= 0 || to >= 0) {
		if (!observed || replace || from < 0 || to < 0 || optind < argc)
			return mb_err(err, MB_EUSAGE,
				      "streets: freeze with --observed --from YYYY-MM --to YYYY-MM"
				      " (no file)");
		if (from > to)
			return mb_err(err, MB_EUSAGE, "streets: --from is after --to");
		return freeze_observed(c, from, to, err);
	}
	if (argc - optind != 1)
		return mb_err(err, MB_EUSAGE, "streets: give exactly one gazetteer CSV");
	const char *path = argv[optind];

	memset(&g, 0, sizeof(g));
	if ((r = read_and_load(c, path, replace, &g, &gs, &bad_file, err)) == 0 && !c->quiet)
		fprintf(c->out,
			"%s: %ld streets: %ld match streets seen in crime data, %ld crime-free added,"
			" %ld repeat a key (same name in the same LSOA)%s\n",
			MB_SHOWN(path), gs.rows, gs.matched, gs.added, gs.merged,
			g.has_lsoa ? "" : "; no LSOA column: matched by name within 1 km");
	if (r == -MB_EDATA && !bad_file && !g.n) { /* the store's refusal: name the file */
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		mb_err(err, MB_EDATA, "%s: %s", path, why);
	}
	if (!r && g.skipped)
		fprintf(c->msg, "microbeat: %s: %ld rows without a street name skipped\n", MB_SHOWN(path),
			g.skipped);
	gazetteer_release(&g);
	return r;
}
