/*
 * context — what every command gets (struct cli), apart from the command
 * table (cli.h): a command's helpers in other files read the context without
 * depending on the dispatcher that calls their command.
 */
#ifndef MICROBEAT_CONTEXT_H
#define MICROBEAT_CONTEXT_H

#include <stdio.h>

struct cli_command;

/* What every command gets. */
struct cli {
	const char *db_path; /* store file (--db, $MICROBEAT_DB, or microbeat.db) */
	FILE *out;           /* standard output */
	FILE *msg;           /* standard error */
	int quiet;           /* --quiet: no progress, fewer words */
	int in_pack;         /* 1: run as a step of assess's pack (concentration then draws no
				timing draws to say how long its chance draws will take) */
	/* the command table's lookup (cli_find), handed down so that a command that
	 * runs others (assess) needs no arrow back to cli.c */
	const struct cli_command *(*find)(const char *name);
};

#endif
