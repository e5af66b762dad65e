/*
 * select — the selectors shared by the analysis commands: period, area, types.
 *
 *   --from YYYY-MM --to YYYY-MM | --fy YYYY (April YYYY .. March YYYY+1) | --year YYYY
 *   --area NAME   (a local authority, matched exactly, or an LSOA code; with --layer L,
 *                  units of L: NAME[,NAME...] or all)
 *   --types LIST | --exclude-types LIST | --theme NAME   (comma-separated crime types)
 *   --source LIST (reporting sources; default: police sources only, in the commands that say so)
 *   --allow-gaps  (analyse a period with months not loaded, stating which)
 *
 * A command lists SELECT_LONG_OPTIONS in its getopt table and passes every
 * option code >= SEL_FIRST to select_option().
 */
#ifndef MICROBEAT_SELECT_H
#define MICROBEAT_SELECT_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"

struct store;

/* Option codes (outside the char range so they never clash with short options). */
enum sel_code {
	SEL_FIRST = 1000,
	SEL_FROM = SEL_FIRST, SEL_TO, SEL_FY, SEL_YEAR, SEL_AREA, SEL_LAYER, SEL_TYPES,
	SEL_EXCLUDE, SEL_THEME, SEL_SOURCE, SEL_ALLOW_GAPS, SEL_LAST
};

/* getopt_long entries for the selectors (copy into a command's table). */
#define SELECT_LONG_OPTIONS                                                              \
	{ "from", required_argument, NULL, SEL_FROM },                                    \
	{ "to", required_argument, NULL, SEL_TO },                                        \
	{ "fy", required_argument, NULL, SEL_FY },                                        \
	{ "year", required_argument, NULL, SEL_YEAR },                                    \
	{ "area", required_argument, NULL, SEL_AREA },                                    \
	{ "layer", required_argument, NULL, SEL_LAYER },                                  \
	{ "types", required_argument, NULL, SEL_TYPES },                                  \
	{ "exclude-types", required_argument, NULL, SEL_EXCLUDE },                        \
	{ "theme", required_argument, NULL, SEL_THEME },                                  \
	{ "source", required_argument, NULL, SEL_SOURCE },                                \
	{ "allow-gaps", no_argument, NULL, SEL_ALLOW_GAPS }

/* Help text for the selectors. */
#define SELECT_HELP                                                                          \
	"  --from YYYY-MM --to YYYY-MM   period (default: the 12 months ending at the latest\n"   \
	"                                month in the store); or --fy YYYY (April..March) or\n"  \
	"                                --year YYYY (calendar)\n"                                \
	"  --area NAME                   a local authority, matched exactly against the LSOA\n"  \
	"                                names without their \" 001A\" suffix (e.g. \"South\n"    \
	"                                Cambridgeshire\"), or an LSOA code\n"                    \
	"  --layer L --area U[,U...]     units of area layer L by name or code (exact, any\n"     \
	"                                case), or --area all; events go to units by the\n"      \
	"                                layer's assignment (point in polygon, else LSOA lookup)\n" \
	"                                as in 'flags'. No match: exit 6 with the nearest names\n" \
	"  --types LIST                  comma-separated crime types (default: all crime types\n" \
	"                                except Anti-social behaviour)\n"                         \
	"  --exclude-types LIST          types to leave out\n"                                    \
	"  --theme NAME                  a named set of types from datasets/themes.csv\n"        \
	"  --source LIST                 reporting sources (police force, agency) to count\n"    \
	"  --allow-gaps                  analyse a period with months not loaded (refused\n"     \
	"                                otherwise, exit 2); the months used are stated\n"

/* Parsed selectors. Strings point into argv or into the struct's own storage. */
struct selection {
	int32_t from, to;      /* months since 2000-01, inclusive; -1 = not given */
	int period_given;      /* --from/--to/--fy/--year seen */
	char period_label[64]; /* "2024-01..2024-12", "FY 2024/25", "2024" */
	const char *area;      /* --area, or NULL */
	const char *layer;     /* --layer, or NULL */
	char *types[64];       /* --types / --theme entries (owned) */
	size_t ntypes;         /* entries of types */
	char *exclude[64];     /* --exclude-types entries (owned) */
	size_t nexclude;       /* entries of exclude */
	char theme[64];        /* --theme name, or "" */
	char *sources[64];     /* --source entries (owned) */
	size_t nsources;       /* entries of sources */
	int allow_gaps;        /* --allow-gaps */
	int months_used;       /* months of the period loaded (select_check_gaps) */
	int months_total;      /* months of the period */
	char gaps[256];        /* the missing months ("2022-04..2023-12, 2024-07"), or "" */
};

/* Initialise an empty selection. */
void select_init(struct selection *sel);

/* Free what the selection owns. */
void select_release(struct selection *sel);

/* Apply one option (code from enum sel_code). MB_EUSAGE on a bad value. */
int select_option(struct selection *sel, int code, const char *arg, struct mb_error *err);

/* Fill in defaults once options are parsed: without a period, the 12 months
 * ending at the store's latest month. Checks from <= to. */
int select_finish(struct selection *sel, struct store *s, struct mb_error *err);

struct slice;

/* The period's months against the slice's loaded months (sl->month_present;
 * the slice must span the period): fills months_used, months_total and gaps.
 * A period with no month loaded is always MB_EUSAGE; one with missing months
 * is MB_EUSAGE naming them unless --allow-gaps. */
int select_check_gaps(struct selection *sel, const struct slice *sl, struct mb_error *err);

/* Print the line stating the months a period rests on when some are missing
 * ("Months used: 6 of 12 (not loaded: 2023-07..2023-12)."), nothing otherwise. */
void select_print_months(const struct selection *sel, FILE *f);

/* Print "Events by source: S n placed in the area, m not placed; ..." for
 * every counted source with events of the period and selected types
 * (docs/methods.md §2a); nothing when there are none. */
void select_print_sources(const struct selection *sel, const struct slice *sl, FILE *f);

/* The source filter of the analyses that count police crimes by default: 1
 * when neither --source nor --types is given (agency events stay out). */
int select_police_only(const struct selection *sel);

struct slice_query;

/* Fill the selector part of a slice query from sel: area, layer (or
 * by_layer when sel has none), sources, the analysis period, and the
 * police-only default when police_default and neither --source nor --types
 * is given. The caller sets the loaded span (from/to) and the type filter.
 * Every analysis command loads its slice through this one selector. */
void select_query(const struct selection *sel, const char *by_layer, int police_default,
		  struct slice_query *q);

/* Does the selection count category name? With --types: when listed; else
 * every type but "Anti-social behaviour" (an incident type, not a crime);
 * --exclude-types always wins. */
int select_type_on(const struct selection *sel, const char *name);

/* Find a data file shipped with microbeat (datasets/NAME): $MB_DATA/NAME, then
 * <exe dir>/datasets/NAME, then <exe dir>/../share/microbeat/datasets/NAME.
 * Writes the path into out; 0, or -MB_ENOTFOUND. */
int mb_data_path(const char *name, char *out, size_t cap, struct mb_error *err);

#endif
