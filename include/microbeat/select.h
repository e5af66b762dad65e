/*
 * select — the selectors shared by the analysis commands: period, area, types.
 *
 *   --from YYYY-MM --to YYYY-MM | --fy YYYY (April YYYY .. March YYYY+1) | --year YYYY
 *   --area NAME   (LSOA-name prefix such as "South Cambridgeshire", or a unit of --layer)
 *   --types LIST | --exclude-types LIST | --theme NAME   (comma-separated crime types)
 *
 * A command lists SELECT_LONG_OPTIONS in its getopt table and passes every
 * option code >= SEL_FIRST to select_option().
 */
#ifndef MICROBEAT_SELECT_H
#define MICROBEAT_SELECT_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

struct store;

/* Option codes (outside the char range so they never clash with short options). */
enum sel_code {
	SEL_FIRST = 1000,
	SEL_FROM = SEL_FIRST, SEL_TO, SEL_FY, SEL_YEAR, SEL_AREA, SEL_LAYER, SEL_TYPES,
	SEL_EXCLUDE, SEL_THEME, SEL_LAST
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
	{ "theme", required_argument, NULL, SEL_THEME }

/* Help text for the selectors. */
#define SELECT_HELP                                                                          \
	"  --from YYYY-MM --to YYYY-MM   period (default: the 12 months ending at the latest\n"   \
	"                                month in the store); or --fy YYYY (April..March) or\n"  \
	"                                --year YYYY (calendar)\n"                                \
	"  --area NAME                   LSOA-name prefix (e.g. \"South Cambridgeshire\") or a\n" \
	"                                unit name/code of --layer\n"                             \
	"  --types LIST                  comma-separated crime types (default: all crime types\n" \
	"                                except Anti-social behaviour)\n"                         \
	"  --exclude-types LIST          types to leave out\n"                                    \
	"  --theme NAME                  a named set of types from datasets/themes.csv\n"

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

/* Does the selection count category name? With --types: when listed; else
 * every type but "Anti-social behaviour" (an incident type, not a crime);
 * --exclude-types always wins. */
int select_type_on(const struct selection *sel, const char *name);

/* Find a data file shipped with microbeat (datasets/NAME): $MB_DATA/NAME, then
 * <exe dir>/datasets/NAME, then <exe dir>/../share/microbeat/datasets/NAME.
 * Writes the path into out; 0, or -MB_ENOTFOUND. */
int mb_data_path(const char *name, char *out, size_t cap, struct mb_error *err);

#endif
