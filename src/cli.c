/* cli — global options and the command table. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/cli.h"
#include "microbeat/select.h"

/* what --out does to its folder (emit_dir_begin / emit_dir_finish) */
#define OUT_HELP                                                                               \
	"  DIR is replaced whole at the end of a run (written beside it, then renamed): a run\n" \
	"  stopped half-way leaves it as it was; a folder not written by microbeat is refused.\n"

static const struct cli_command COMMANDS[] = {
	{ "import", cmd_import, "load police.uk CSVs, folders or zips (or mapped agency CSVs)",
	  "usage: microbeat [--db FILE] import [--quiet] [--no-progress] [--max-errors N]\n"
	  "                 [--max-removed PCT] [--replace] [--source NAME --map MAP.ini] PATH...\n"
	  "  PATH is a CSV file, a folder (walked recursively in name order) or a police.uk\n"
	  "  bulk-download .zip (read directly). Street, outcomes and stop-and-search files\n"
	  "  are recognised by their header. Each file is one transaction. A police.uk monthly\n"
	  "  file is the complete set for its (force, month): a newer release replaces it.\n"
	  "  --map MAP.ini loads another agency's CSV through a column map (see the man page).\n"
	  "  --max-errors N prints at most N rejected rows per file (default 10).\n"
	  "  A release that would remove more than PCT% (default 20) of what the store holds\n"
	  "  for its partition, or a file that ends mid-row (a cut download), is refused;\n"
	  "  --replace applies it anyway.\n" },
	{ "streets", cmd_streets, "load a street gazetteer: the universe of micro-beats",
	  "usage: microbeat [--db FILE] streets [--replace] GAZETTEER.csv\n"
	  "  CSV columns (by header name): street_name (or street, name), longitude, latitude,\n"
	  "  lsoa_code (either census vintage), lsoa_name, area_code (or area). Each street is\n"
	  "  keyed like crime snap points (normalised name + LSOA code); without an LSOA\n"
	  "  column it joins the nearest same-named street seen in crime data within 1 km.\n"
	  "  Loading a gazetteer replaces the previous one; a file without streets is refused\n"
	  "  unless --replace (which then clears the loaded gazetteer).\n"
	  "       microbeat [--db FILE] streets --observed --from YYYY-MM --to YYYY-MM\n"
	  "  Freeze the observed universe: the micro-beats seen in those months become N\n"
	  "  until the next freeze, so later imports no longer move it ('info' shows it).\n"
	  "       microbeat [--db FILE] streets --clear     drop the frozen universe\n" },
	{ "areas", cmd_areas, "area layers: parishes, wards ... (boundaries, LSOA lookup, population)",
	  "usage: microbeat [--db FILE] areas [--layer NAME SOURCE... [--population FILE ...]]\n"
	  "  Without options: list the loaded layers (units, population, events in no unit).\n"
	  "  --layer NAME                  the layer to create or replace (parish, ward, ...)\n"
	  "  --boundaries FILE.geojson     Polygon/MultiPolygon features in WGS84; snap points\n"
	  "    --code-field F --name-field F   are placed by point in polygon (a point on a\n"
	  "                                shared edge goes to the earlier feature)\n"
	  "  --tolerance M                 a point outside every polygon goes to the nearest\n"
	  "                                unit within M metres (default 0: none)\n"
	  "  --lookup FILE.csv             LSOA code (either census vintage) -> unit code\n"
	  "    --lsoa-field F[,F2]         LSOA column(s) (default: lsoa_code, LSOA21CD, LSOA11CD ...)\n"
	  "    --unit-field F              unit column (default: unit_code, parish_code, code ...)\n"
	  "    --name-field F              unit name column (lookup-only layers)\n"
	  "    --weight-field F            share of a split LSOA (the largest share wins)\n"
	  "  --population FILE.csv         unit code -> residents (rates per 1,000 residents)\n"
	  "    --pop-code-field F --pop-field F\n"
	  "  Boundaries and a lookup may be given together: points by polygon, rows with only\n"
	  "  an LSOA code by the lookup. Loading is one transaction; units keep their ids.\n" },
	{ "concentration", cmd_concentration, "micro-beats: how concentrated crime is, and the power few",
	  "usage: microbeat [--db FILE] concentration [selectors] [options]\n"
	  SELECT_HELP
	  "  --kind street|place|all       micro-beats counted (default all)\n"
	  "  --harm[=FILE]                 also harm-weighted figures (default weights: the\n"
	  "                                Cambridge Crime Harm Index, datasets/harm_cchi.csv)\n"
	  "  --compare-previous            stability against the previous period of equal length\n"
	  "  --top P                       list the top P%% of streets (default 3)\n"
	  "  --format table|csv|md         what goes to standard output (default table)\n"
	  "  --out DIR                     write concentration.csv, hot_streets.csv,\n"
	  "                                hot_streets.geojson and the charts (lorenz, hot_streets)\n"
	  "  --seed N, --chance-draws N    the chance Monte Carlo (default seed 1, 200 draws;\n"
	  "                                at most 2 x 10^7 street-draws, the time said first)\n"
	  "  --charts png|svg|both         the chart files to draw (default both)\n"
	  "  --no-charts                   skip the gnuplot charts\n"
	  OUT_HELP
	  "  --street-unit LAYER           key micro-beats on name + unit of an area layer\n"
	  "                                (survives LSOA code changes) instead of name + LSOA\n"
	  "  --by LAYER                    the headline figures per selected unit of LAYER, one\n"
	  "                                row each after the whole selection (by_unit.csv)\n"
	  "  Counts police crimes (sources that import police.uk street files); agency events\n"
	  "  enter with --source or --types and are placed like crimes (coordinates or LSOA).\n"
	  "  The street universe N is every street seen in any loaded month of the area\n"
	  "  (observed universe, a lower bound; the output says over which months), the one\n"
	  "  frozen by 'streets --observed', or, with a gazetteer loaded, its streets plus\n"
	  "  any observed ones it lacks. A snap point keeps the street of its latest loaded\n"
	  "  month (one micro-beat across LSOA vintages); a place (Petrol Station ...) is one\n"
	  "  snap point. Figures are defined in docs/methods-concentration.md.\n" },
	{ "trends", cmd_trends, "is it a real rise? tested year-on-year change, trend, control chart",
	  "usage: microbeat [--db FILE] trends [selectors] [options]\n"
	  SELECT_HELP
	  "  --by type|area|none|LAYER     series: one per crime type, per area (the MSOA of\n"
	  "                                the LSOA name), per selected unit of a loaded area\n"
	  "                                layer, or the total only (default none); several\n"
	  "                                series are tested together under the FDR; --by area\n"
	  "                                is refused when LSOAs were renumbered between census\n"
	  "                                vintages (a series would mix them)\n"
	  "  --baseline-months N           c-chart baseline before the last 3 months (default 24)\n"
	  "  --fdr Q                       false discovery rate across series (default 0.05)\n"
	  "  --primary NAME                one series tested alone at Q (the rest together, with FDR)\n"
	  "  --yoy-top N                   the year-on-year chart shows the total and the N series\n"
	  "                                with the largest change in counts (default 25; 0 all;\n"
	  "                                every series is in yoy.csv)\n"
	  "  --format table|csv|md         what goes to standard output (default table)\n"
	  "  --out DIR                     write monthly.csv, yoy.csv, trend.csv and the charts\n"
	  "                                (monthly_NN, yoy, seasonal)\n"
	  "  --charts png|svg|both         the chart files to draw (default both)\n"
	  "  --no-charts                   skip the gnuplot charts\n"
	  OUT_HELP
	  "  Counts police crimes unless --source or --types names agency events.\n"
	  "  Missing months are gaps, not zeros: a period with one is refused unless\n"
	  "  --allow-gaps; then named, shown as breaks, left out of fits.\n"
	  "  Year on year compares the last 12 months of the period with the 12 before.\n" },
	{ "deepdive", cmd_deepdive, "one place or theme in depth against the rest of the district",
	  "usage: microbeat [--db FILE] deepdive [selectors] [options]\n"
	  SELECT_HELP
	  "  --format table|md|csv         standard output: the report (table, md: Markdown) or\n"
	  "                                the counts by type and year (csv)\n"
	  "  --out DIR                     write deepdive.md, the tables (CSV) and the charts\n"
	  "  --charts png|svg|both         the chart files to draw (default both)\n"
	  "  --no-charts                   skip the gnuplot charts\n"
	  "  --overlay-metres M            partner events within M metres of a power-few\n"
	  "                                micro-beat's snap points count as on it (default 100)\n"
	  OUT_HELP
	  "  The selection (--layer/--area, period, --theme or --types) against the rest of the\n"
	  "  district (the whole layer, or everything loaded) and its previous period: counts by\n"
	  "  type and year, rates per 1,000 residents, the monthly verdict (as 'trends'),\n"
	  "  location quotients, the power few, outcomes, seasonality, what drives the change,\n"
	  "  force-extract questions (DA, offence subgroups, hate, times) and a partner overlay.\n"
	  "  See docs/methods-deepdive.md.\n" },
	{ "flags", cmd_flags, "geographic priorities: units with credible harm-weighted excess, and why",
	  "usage: microbeat [--db FILE] flags --layer NAME [selectors] [options]\n"
	  SELECT_HELP
	  "  --layer NAME                  area layer loaded with 'microbeat areas'; --area then\n"
	  "                                names the units to report (default all): rates,\n"
	  "                                shrinkage and FDR are always over the whole layer\n"
	  "  --categories LIST             crime and agency activity types (comma-separated;\n"
	  "                                default: every type but Anti-social behaviour)\n"
	  "  --min-flags K                 credible categories that make a priority (default 3)\n"
	  "  --top N                       the top set by harm-weighted excess (default 5)\n"
	  "  --rr-threshold T              credible means P(RR > T) >= 0.95 (default 1.2)\n"
	  "  --opportunity LIST            opportunity crime types, judged against --exposure or,\n"
	  "                                without it, the unit's share of other crime\n"
	  "                                (default Shoplifting)\n"
	  "  --exposure FILE               CSV: unit code, exposure (e.g. shops), with a header\n"
	  "  --fdr Q                       false discovery rate of each flag family (default 0.05)\n"
	  "  --baseline-months N           control-chart baseline before the last 3 months (24)\n"
	  "  --harm FILE                   harm weights for the ranking (default: the store's,\n"
	  "                                else datasets/harm_cchi.csv)\n"
	  "  --format table|csv|md         what goes to standard output (default table)\n"
	  "  --out DIR                     write flags_matrix.csv, priorities.csv and the charts\n"
	  "                                (heatmap, funnel)\n"
	  "  --charts png|svg|both         the chart files to draw (default both)\n"
	  "  --no-charts                   skip the gnuplot charts\n"
	  OUT_HELP
	  "  --hot-min N                   crimes a top-3% street needs to count as hot (3)\n"
	  "  Units are ranked by harm-weighted excess after empirical-Bayes shrinkage; a priority\n"
	  "  is credible on >= K categories or in the top N with P(RR > 1) > 0.95. Flags: H high\n"
	  "  on the over-dispersion-adjusted funnel, R rising (last 12 months vs 12 before,\n"
	  "  quasi-Poisson), C above the Laney-adjusted limit in the last 3 months, each under\n"
	  "  FDR. Hot streets held are described against the share of streets. Without\n"
	  "  populations the share of crime is compared with the share of streets. See\n"
	  "  docs/methods-flags.md.\n" },
	{ "hotspots", cmd_hotspots, "spatial hot spots: Gi*, patterns, KDE map, hot-list forecast, Knox",
	  "usage: microbeat [--db FILE] hotspots [selectors] [options]\n"
	  SELECT_HELP
	  "  --band M                      Gi* distance band in metres (default: the distance\n"
	  "                                at which 99% of micro-beats have a neighbour, printed)\n"
	  "  --periods K                   periods of the selected length, ending with it, for\n"
	  "                                the patterns (default 4; only fully loaded ones)\n"
	  "  --critical-q Q                hot in a period: Gi* > 0 and BH q < Q (default 0.05)\n"
	  "  --persistent-prop P           persistent: hot in >= P of the periods (default 0.8)\n"
	  "  --recent-prop P               the last floor(P x periods) are recent (default 0.2)\n"
	  "  --hotspot-prop P              emerging, former, intermittent: hot in >= P of the\n"
	  "                                recent / older / all periods (default 0.1; sfhotspot)\n"
	  "  --cell M --bandwidth M        KDE grid cell and quartic bandwidth in metres (default:\n"
	  "                                the shorter side of the extent / 150, and 5 cells)\n"
	  "  --outline FILE.geojson        area outline (polygons, WGS84) for the maps and the\n"
	  "                                KDE clip (default: the --layer units selected, else\n"
	  "                                the loaded layer's units holding the micro-beats)\n"
	  "  --knox                        require the Knox near-repeat test (refused without\n"
	  "                                event dates: police.uk data has months only); it\n"
	  "                                runs by itself whenever dates are loaded\n"
	  "  --knox-distances LIST         distance band edges in metres (100,200,300,400,500)\n"
	  "  --knox-days LIST              time band edges in days (7,14,21,28,35)\n"
	  "  --knox-permutations R         permutations of the dates (default 999), --seed N (1)\n"
	  "  --out DIR                     write gistar.csv, hotspot_classes.csv, kde_grid.csv,\n"
	  "                                forecast.csv, knox.csv (with dates), hotspots.geojson\n"
	  "                                and the maps (hotspot_map, hotspot_kde)\n"
	  "  --charts png|svg|both         the map files to draw (default both)\n"
	  "  --no-charts                   skip the gnuplot maps\n"
	  OUT_HELP
	  "  Micro-beats are those of 'concentration' (observed universe), each at the mean of\n"
	  "  its snap points; distances are metres on a local plane. The forecast takes the\n"
	  "  previous period's top p% as the hot list for the selected one (PAI, PEI, RRI).\n"
	  "  Figures are defined in docs/methods-hotspots.md.\n" },
	{ "assess", cmd_assess, "the strategic assessment pack: every analysis, one report",
	  "usage: microbeat [--db FILE] assess [--config ASSESSMENT.ini] [--charts svg|both]\n"
	  "                                     --out DIR\n"
	  "  Runs the whole assessment from one INI file and writes one folder: report.md,\n"
	  "  a self-contained report.html, tables/ (CSV), charts/ (PNG, SVG, .gp, .dat;\n"
	  "  --charts svg: no PNG; report.html inlines the SVG, so there is no png alone),\n"
	  "  hot_streets.geojson and assessment.ini as used. Sections and keys:\n"
	  "  [assessment] area = NAME (default: everything loaded), layer = L (priorities;\n"
	  "               default none), fy = YYYY or from = YYYY-MM, to = YYYY-MM (default\n"
	  "               the 12 months to the latest loaded month), themes = LIST,\n"
	  "               primary = TYPE, harm = FILE (default CCHI), allow_gaps = yes|no (no)\n"
	  "  [thresholds] fdr (0.05), rr_threshold (1.2), min_flags (3), top (5)\n"
	  "  [publication] suppress = N (5: counts below N hidden, with secondary\n"
	  "               suppression), min_count_for_percent = N (20)\n"
	  "  [previous]   places = LIST, themes = LIST (last assessment's priorities)\n"
	  "  [deepdive NAME] layer, area, theme, types (one section per deep dive)\n"
	  "  An unknown section or key is an error (FILE:LINE). Without --config the\n"
	  "  defaults are used and said. The generated line honours SOURCE_DATE_EPOCH.\n"
	  OUT_HELP },
	{ "info", cmd_info, "what the store holds: imports, coverage and gaps, rejects",
	  "usage: microbeat [--db FILE] info\n"
	  "  Imports with their counts, events per force x month with gaps named,\n"
	  "  unlocated share, LSOA code vintages, rejects by reason.\n" },
	{ "check", cmd_check, "the store's integrity, and its column blocks against the event rows",
	  "usage: microbeat [--db FILE] check [--repair]\n"
	  "  SQLite's quick_check; every event's category, source, snap point and import\n"
	  "  present; each column block (what the analyses read) equal to the event rows it\n"
	  "  copies. Exit 0 when all hold, 5 when not (each problem named). --repair rebuilds\n"
	  "  the column blocks from the event rows, then checks.\n" },
	{ "rejects", cmd_rejects, "list rejected and duplicate rows (CSV)",
	  "usage: microbeat [--db FILE] rejects [--import N]\n"
	  "  Prints import,file,line,column,kind,reason,raw for every kept row.\n" },
};

static const size_t NCOMMANDS = sizeof(COMMANDS) / sizeof(COMMANDS[0]);

const struct cli_command *cli_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

void cli_usage(FILE *f, const struct cli_command *cmd)
{
	fputs(cmd->usage, f);
}

static void global_usage(FILE *f)
{
	fprintf(f, "usage: microbeat [--db FILE] [--quiet] <command> [options]\n"
		   "       microbeat --help | --version | <command> --help\n\n"
		   "The store is --db FILE, else $MICROBEAT_DB, else ./microbeat.db.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-14s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
	fprintf(f, "\nexit status: 0 ok, 1 failure, 2 usage, 3 input rejected or skipped,\n"
		   "4 file I/O, 5 store error, 6 not found (see microbeat(1))\n");
}

/* Check that stdout reached its destination (a full disk fails loudly). */
static int flush_out(struct mb_error *err)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return mb_err(err, MB_EIO, "error writing standard output: %s", strerror(errno));
	return 0;
}

int cli_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .out = stdout, .msg = stderr, .find = cli_find };
	struct mb_error err = { 0 };
	int o, r;

	c.db_path = getenv("MICROBEAT_DB");
	if (!c.db_path || !*c.db_path)
		c.db_path = "microbeat.db";
	/* '+': stop at the command name; the command parses the rest */
	while ((o = getopt_long(argc, argv, "+d:qhV", opts, NULL)) != -1) {
		switch (o) {
		case 'd': c.db_path = optarg; break;
		case 'q': c.quiet = 1; break;
		case 'h': global_usage(stdout); return flush_out(&err);
		case 'V': printf("microbeat %s\n", MB_VERSION); return flush_out(&err);
		default: global_usage(stderr); return -MB_EUSAGE;
		}
	}
	if (optind >= argc) {
		global_usage(stderr);
		return -MB_EUSAGE;
	}
	const char *name = argv[optind];
	const struct cli_command *cmd = NULL;

	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			cmd = &COMMANDS[i];
	if (!cmd) {
		fprintf(stderr, "microbeat: '%s' is not a command; see 'microbeat --help'\n",
			MB_SHOWN(name));
		return -MB_EUSAGE;
	}
	int cargc = argc - optind;
	char **cargv = argv + optind;

	for (int i = 1; i < cargc; i++) {
		if (strcmp(cargv[i], "--") == 0)
			break;
		if (strcmp(cargv[i], "--help") == 0 || strcmp(cargv[i], "-h") == 0) {
			cli_usage(stdout, cmd);
			return flush_out(&err);
		}
	}
	optind = 0; /* glibc: reinitialise getopt for the command */
	r = cmd->run(&c, cargc, cargv, &err);
	if (r == -MB_EUSAGE && !err.msg[0])
		cli_usage(stderr, cmd);
	/* messages carry names from outside (files, zip entries, sources,
	 * layers): no control character reaches the terminal */
	if (r && err.msg[0])
		fprintf(stderr, "microbeat: %s\n", MB_SHOWN(err.msg));
	if (!r)
		r = flush_out(&err);
	if (r && err.code == MB_EIO && r == -MB_EIO && !ferror(stderr) && err.msg[0] &&
	    strstr(err.msg, "standard output"))
		fprintf(stderr, "microbeat: %s\n", err.msg);
	return r;
}
