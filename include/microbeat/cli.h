/*
 * cli — the command line: global options, the command table, each command.
 *
 * A command gets the global context and its own argv (argv[0] = its name),
 * returns 0 or a negative MB_E* code with details in err; cli_run() prints the
 * error and main() maps it to an exit code.
 */
#ifndef MICROBEAT_CLI_H
#define MICROBEAT_CLI_H

#include <stdio.h>

#include "microbeat/common.h"
#include "microbeat/context.h"

/* One subcommand. */
struct cli_command {
	const char *name;    /* as typed */
	int (*run)(struct cli *c, int argc, char **argv, struct mb_error *err); /* the command */
	const char *summary; /* one line for --help */
	const char *usage;   /* full help text */
};

/* Run the program; return 0 or a negative MB_E* code (already printed). */
int cli_run(int argc, char **argv);

/* Print a command's usage to f. */
void cli_usage(FILE *f, const struct cli_command *cmd);

/* The command called name, or NULL when this build has none. */
const struct cli_command *cli_find(const char *name);

/* Commands. */
int cmd_import(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_info(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_streets(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_concentration(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_trends(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_rejects(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_areas(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_flags(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_deepdive(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_hotspots(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_assess(struct cli *c, int argc, char **argv, struct mb_error *err);
int cmd_check(struct cli *c, int argc, char **argv, struct mb_error *err);

#endif
