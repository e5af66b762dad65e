/* cmd_streets — 'microbeat streets FILE': load the street gazetteer (the universe N). */
#include <string.h>

#include "microbeat/cli.h"
#include "microbeat/gazetteer.h"
#include "microbeat/store.h"

int cmd_streets(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	struct gazetteer g;
	struct gaz_stats gs;
	struct store *s = NULL;
	int r, replace = argc == 3 && strcmp(argv[1], "--replace") == 0;

	argv += replace;
	argc -= replace;
	if (argc != 2)
		return mb_err(err, MB_EUSAGE, "streets: give exactly one gazetteer CSV");
	if ((r = gazetteer_read(argv[1], &g, c->msg, err)))
		return r;
	if ((r = store_open(c->db_path, 0, &s, err)) == 0 &&
	    (r = store_gazetteer_load(s, &g, replace, &gs, err)) == 0 && !c->quiet)
		fprintf(c->out,
			"%s: %ld streets: %ld match streets seen in crime data, %ld crime-free added,"
			" %ld repeat a key (same name in the same LSOA)%s\n",
			MB_SHOWN(argv[1]), gs.rows, gs.matched, gs.added, gs.merged,
			g.has_lsoa ? "" : "; no LSOA column: matched by name within 1 km");
	if (r == -MB_EDATA && !g.n) { /* the store's refusal: name the file */
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		mb_err(err, MB_EDATA, "%s: %s", argv[1], why);
	}
	if (!r && g.skipped)
		fprintf(c->msg, "microbeat: %s: %ld rows without a street name skipped\n", MB_SHOWN(argv[1]),
			g.skipped);
	store_close(s);
	gazetteer_release(&g);
	return r;
}
