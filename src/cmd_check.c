/* cmd_check — 'microbeat check': the store's integrity (SQLite's quick_check,
 * the events' references), its column blocks against the event rows they copy
 * and its dimension blocks against the street and snap-point rows; --repair
 * rebuilds both. */
#include <getopt.h>
#include <string.h>

#include "microbeat/cli.h"
#include "microbeat/store.h"

/* One line on out: blocks of kind compared with rows (checked -1: the store
 * has none). */
static void say_blocks(FILE *out, const char *kind, const char *rows, int64_t checked,
		       int64_t bad)
{
	if (checked < 0)
		fprintf(out, "%s blocks: none in this store (an older schema: a writing command or"
			" 'check --repair' builds them)\n", kind);
	else
		fprintf(out, "%s blocks: %lld compared with %s, %lld differ\n", kind,
			(long long)checked, rows, (long long)bad);
}

/* Run the checks on s; problems named on msg, their number in *bad. */
static int check(struct store *s, FILE *out, FILE *msg, int64_t *bad, struct mb_error *err)
{
	int64_t checked = 0, bad_blocks = 0;
	int r;

	if ((r = store_quick_check(s, msg, bad, err)))
		return r;
	fprintf(out, "store: %s\n", *bad ? "PROBLEMS (listed above)" :
		"SQLite quick_check ok; every event's category, source, snap point and import held");
	if ((r = store_blocks_check(s, &checked, &bad_blocks, msg, err)))
		return r;
	say_blocks(out, "column", "the event rows", checked, bad_blocks);
	*bad += bad_blocks;
	if ((r = store_dimblocks_check(s, &checked, &bad_blocks, msg, err)))
		return r;
	say_blocks(out, "dimension", "the street and snap-point rows", checked, bad_blocks);
	*bad += bad_blocks;
	return 0;
}

int cmd_check(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = { { "repair", no_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	struct store *s = NULL;
	int64_t bad = 0, imports = 0;
	int r, repair = 0, o;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			repair = 1;
		else
			return mb_err(err, MB_EUSAGE, "check: unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return mb_err(err, MB_EUSAGE, "check: unexpected argument '%s'", argv[optind]);
	/* reading only, unless repairing: opening to write would migrate an
	 * older store (building its blocks) before it is checked */
	if ((r = store_open(c->db_path, repair ? 0 : STORE_READONLY, &s, err)))
		return r;
	if (repair) {
		if ((r = store_begin(s, err)) || (r = store_blocks_build_all(s, &imports, err)) ||
		    (r = store_dimblocks_build_all(s, err)) || (r = store_commit(s, err))) {
			store_rollback(s);
			goto cleanup;
		}
		fprintf(c->out, "repair: column blocks rebuilt from the event rows of %lld imports,"
			" dimension blocks from the street and snap-point rows\n", (long long)imports);
	}
	if ((r = check(s, c->out, c->msg, &bad, err)))
		goto cleanup;
	if (bad)
		r = mb_err(err, MB_EDB, "check: %lld problem%s found (listed above)%s", (long long)bad,
			   bad > 1 ? "s" : "",
			   repair ? "" : "; 'microbeat check --repair' rebuilds the blocks");
cleanup:
	store_close(s);
	return r;
}
