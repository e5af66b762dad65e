/* cmd_info — 'microbeat info' and 'microbeat rejects'. */
#include <getopt.h>
#include <stdlib.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/store.h"
#include "microbeat/universe.h"

/* Which street universe the analyses use (docs/methods-concentration.md §0). */
static int universe_line(struct store *s, FILE *f, struct mb_error *err)
{
	struct universe u;
	int64_t gaz = 0;
	int r;

	if ((r = store_universe_load(s, &u, err)) || (r = store_gazetteer_count(s, &gaz, err)))
		return r;
	if (gaz)
		fprintf(f, "\nStreet universe: gazetteer, %lld streets (plus observed ones it lacks)\n",
			(long long)gaz);
	else if (u.present) {
		char a[8], b[8];

		month_format(u.from, a);
		month_format(u.to, b);
		fprintf(f, "\nStreet universe: observed, frozen %s: %lld micro-beats seen in %d loaded"
			" months of %s..%s (refreeze with 'streets --observed')\n", u.frozen,
			(long long)u.streets, (int)u.months, a, b);
	} else {
		fprintf(f, "\nStreet universe: observed, every micro-beat seen in any loaded month (a"
			" lower bound; not frozen: imports move it)\n");
	}
	universe_release(&u);
	return ferror(f) ? mb_err(err, MB_EIO, "write error") : 0;
}

int cmd_info(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	struct store *s = NULL;
	int r;

	if (argc > 1)
		return mb_err(err, MB_EUSAGE, "info: unexpected argument '%s'", argv[1]);
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)))
		return r;
	r = store_info(s, c->out, err);
	if (!r)
		r = universe_line(s, c->out, err);
	if (!r && fputc('\n', c->out) != EOF)
		r = store_areas_info(s, c->out, err);
	store_close(s);
	return r;
}

int cmd_rejects(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		{ "import", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *s = NULL;
	long long id = 0;
	int o, r;

	while ((o = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (o != 'i')
			return -MB_EUSAGE;
		char *end;

		id = strtoll(optarg, &end, 10);
		if (*end || id <= 0)
			return mb_err(err, MB_EUSAGE, "--import wants an import number, not '%s'", optarg);
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)))
		return r;
	r = store_rejects(s, id, c->out, err);
	store_close(s);
	return r;
}
