/* assess_config — the assessment's INI file (inih): defaults, reading, writing. */
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/assess.h"
#include "microbeat/util.h"

/* Parser state handed to inih. */
struct load {
	struct assess_config *cfg; /* being filled */
	char msg[300];             /* the first problem (line from ini_parse) */
	int failed;                /* a handler call failed on memory */
	struct assess_dive *dive;  /* the [deepdive NAME] section being read, or NULL */
};

/* Replace *slot with a copy of v ("" = unset). Return 0 or -1 (memory). */
static int set_str(char **slot, const char *v)
{
	char *c = NULL;
	if (v && *v && !(c = strdup(v)))
		return -1;
	free(*slot);
	*slot = c;
	return 0;
}

/* A string-valued key: where it goes. */
struct skey {
	const char *section, *key; /* as written in the file */
	size_t off;                /* offset of the char * in struct assess_config */
};

#define K(sec, k, field) { sec, k, offsetof(struct assess_config, field) }
static const struct skey SKEYS[] = {
	K("assessment", "area", area),        K("assessment", "layer", layer),
	K("assessment", "fy", fy),            K("assessment", "from", from),
	K("assessment", "to", to),            K("assessment", "themes", themes),
	K("assessment", "primary", primary),  K("assessment", "harm", harm),
	K("thresholds", "fdr", fdr),          K("thresholds", "rr_threshold", rr_threshold),
	K("thresholds", "min_flags", min_flags), K("thresholds", "top", top),
	K("previous", "places", prev_places), K("previous", "themes", prev_themes),
};
#undef K

/* Parse a count 1..1000000 for [publication]; -1 when not one. */
static int parse_count(const char *v)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 1000000)
		return -1;
	return (int)n;
}

/* Is v a plain number (fdr, thresholds)? Validated again by each command. */
static int numeric(const char *v)
{
	char *end;
	errno = 0;
	(void)strtod(v, &end);
	return !errno && end != v && !*end;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct load *ld = user;
	struct assess_config *cfg = ld->cfg;
	int first = !ld->msg[0];

#define FAIL(...)                                                            \
	do {                                                                 \
		if (first)                                                   \
			snprintf(ld->msg, sizeof(ld->msg), __VA_ARGS__);      \
		return 0;                                                    \
	} while (0)

	if (!key) /* a section header with inih's INI_CALL_HANDLER_ON_NEW_SECTION */
		return 1;
	if (strncmp(section, "deepdive ", 9) == 0 && section[9]) {
		const char *name = section + 9;
		if (!ld->dive || strcmp(ld->dive->name, name) != 0) {
			ld->dive = NULL;
			for (size_t i = 0; i < cfg->ndives; i++)
				if (strcmp(cfg->dives[i].name, name) == 0)
					ld->dive = &cfg->dives[i];
			if (!ld->dive) {
				if (cfg->ndives == ASSESS_MAX_DIVES)
					FAIL("at most %d deep dives", ASSESS_MAX_DIVES);
				ld->dive = &cfg->dives[cfg->ndives++];
				if (!(ld->dive->name = strdup(name))) {
					ld->failed = 1;
					return 0;
				}
			}
		}
		char **slot = strcmp(key, "layer") == 0   ? &ld->dive->layer
			      : strcmp(key, "area") == 0  ? &ld->dive->area
			      : strcmp(key, "theme") == 0 ? &ld->dive->theme
			      : strcmp(key, "types") == 0 ? &ld->dive->types
							  : NULL;
		if (!slot)
			FAIL("unknown key '%s' in [%s] (layer, area, theme, types)", key, section);
		if (set_str(slot, value)) {
			ld->failed = 1;
			return 0;
		}
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(SKEYS); i++) {
		if (strcmp(SKEYS[i].section, section) || strcmp(SKEYS[i].key, key))
			continue;
		if (strcmp(section, "thresholds") == 0 && !numeric(value))
			FAIL("%s must be a number, not '%s'", key, value);
		if (set_str((char **)((char *)cfg + SKEYS[i].off), value)) {
			ld->failed = 1;
			return 0;
		}
		return 1;
	}
	if (strcmp(section, "assessment") == 0 && strcmp(key, "allow_gaps") == 0) {
		if (strcasecmp(value, "yes") == 0 || strcmp(value, "1") == 0)
			cfg->allow_gaps = 1;
		else if (strcasecmp(value, "no") == 0 || strcmp(value, "0") == 0)
			cfg->allow_gaps = 0;
		else
			FAIL("allow_gaps must be yes or no, not '%s'", value);
		return 1;
	}
	if (strcmp(section, "publication") == 0 &&
	    (strcmp(key, "suppress") == 0 || strcmp(key, "min_count_for_percent") == 0)) {
		int n = parse_count(value);
		if (n < 0)
			FAIL("%s must be a whole number from 1 to 1000000, not '%s'", key, value);
		if (key[0] == 's')
			cfg->suppress = n;
		else
			cfg->min_count_pct = n;
		return 1;
	}
	if (strcmp(section, "assessment") && strcmp(section, "thresholds") &&
	    strcmp(section, "publication") && strcmp(section, "previous"))
		FAIL("unknown section [%s] (assessment, thresholds, publication, previous, "
		     "deepdive NAME)", section);
	FAIL("unknown key '%s' in [%s]", key, section);
#undef FAIL
}

int assess_config_defaults(struct assess_config *cfg, struct mb_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->suppress = 5;
	cfg->min_count_pct = 20;
	if (set_str(&cfg->fdr, "0.05") || set_str(&cfg->rr_threshold, "1.2") ||
	    set_str(&cfg->min_flags, "3") || set_str(&cfg->top, "5")) {
		assess_config_release(cfg);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	return 0;
}

int assess_config_load(struct assess_config *cfg, const char *path, struct mb_error *err)
{
	struct load ld = { .cfg = cfg };
	FILE *f = fopen(path, "r");
	if (!f)
		return mb_err(err, MB_EIO, "%s: cannot open: %s", path, strerror(errno));
	int line = ini_parse_file(f, handler, &ld);
	fclose(f);
	if (ld.failed)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (line > 0)
		return mb_err(err, MB_EDATA, "%s:%d: %s", path, line,
			      ld.msg[0] ? ld.msg : "not a section header, key = value or comment");
	if (line < 0)
		return mb_err(err, MB_EIO, "%s: cannot read", path);
	if (cfg->fy && (cfg->from || cfg->to))
		return mb_err(err, MB_EDATA, "%s: give fy or from/to, not both", path);
	if (!cfg->from != !cfg->to)
		return mb_err(err, MB_EDATA, "%s: from and to go together", path);
	for (size_t i = 0; i < cfg->ndives; i++)
		if (!cfg->dives[i].area && !cfg->dives[i].theme && !cfg->dives[i].types)
			return mb_err(err, MB_EDATA,
				      "%s: [deepdive %s] names no area, theme or types", path,
				      cfg->dives[i].name);
	if (set_str(&cfg->path, path))
		return mb_err(err, MB_ENOMEM, "out of memory");
	return 0;
}

/* One "key = value" line; an unset value is written commented out. */
static int kv(FILE *f, const char *key, const char *v)
{
	return v ? fprintf(f, "%s = %s\n", key, v) : fprintf(f, "; %s =\n", key);
}

int assess_config_write(const struct assess_config *c, FILE *f, struct mb_error *err)
{
	int bad = 0;
	bad |= fprintf(f, "; the assessment as run by microbeat assess (defaults filled in)\n"
			  "[assessment]\n") < 0;
	bad |= kv(f, "area", c->area) < 0;
	bad |= kv(f, "layer", c->layer) < 0;
	bad |= kv(f, "fy", c->fy) < 0;
	bad |= kv(f, "from", c->from) < 0;
	bad |= kv(f, "to", c->to) < 0;
	bad |= kv(f, "themes", c->themes) < 0;
	bad |= kv(f, "primary", c->primary) < 0;
	bad |= kv(f, "harm", c->harm) < 0;
	bad |= kv(f, "allow_gaps", c->allow_gaps ? "yes" : "no") < 0;
	bad |= fprintf(f, "\n[thresholds]\n") < 0;
	bad |= kv(f, "fdr", c->fdr) < 0;
	bad |= kv(f, "rr_threshold", c->rr_threshold) < 0;
	bad |= kv(f, "min_flags", c->min_flags) < 0;
	bad |= kv(f, "top", c->top) < 0;
	bad |= fprintf(f, "\n[publication]\nsuppress = %d\nmin_count_for_percent = %d\n",
		       c->suppress, c->min_count_pct) < 0;
	bad |= fprintf(f, "\n[previous]\n") < 0;
	bad |= kv(f, "places", c->prev_places) < 0;
	bad |= kv(f, "themes", c->prev_themes) < 0;
	for (size_t i = 0; i < c->ndives; i++) {
		const struct assess_dive *d = &c->dives[i];
		bad |= fprintf(f, "\n[deepdive %s]\n", d->name) < 0;
		bad |= kv(f, "layer", d->layer) < 0;
		bad |= kv(f, "area", d->area) < 0;
		bad |= kv(f, "theme", d->theme) < 0;
		bad |= kv(f, "types", d->types) < 0;
	}
	if (bad || ferror(f))
		return mb_err(err, MB_EIO, "error writing assessment.ini: %s", strerror(errno));
	return 0;
}

void assess_config_release(struct assess_config *c)
{
	if (!c)
		return;
	free(c->path);
	for (size_t i = 0; i < ARRAY_SIZE(SKEYS); i++)
		free(*(char **)((char *)c + SKEYS[i].off));
	for (size_t i = 0; i < c->ndives; i++) {
		free(c->dives[i].name);
		free(c->dives[i].layer);
		free(c->dives[i].area);
		free(c->dives[i].theme);
		free(c->dives[i].types);
	}
	memset(c, 0, sizeof *c);
}
