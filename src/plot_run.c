/*
 * plot_run — drawing the charts: the queue a command's batch fills, and the
 * gnuplot processes that draw it, two at once (one per core), each drawing
 * many charts. See include/microbeat/plot.h ("batches").
 *
 * One process draws its share of a folder's charts from its argument vector
 * alone (no driver file: the output folder holds what it held when each
 * chart had its own processes): per chart and format
 *
 *	-e "reset session"
 *	-e "fmt='png'; print '@microbeat-chart K'; call 'NAME.gp'; unset output"
 *
 * `reset session` (alone on its line: gnuplot 5.4 ignores it, with a
 * warning, when a command follows it on the line) forgets the previous
 * chart's variables and settings, and `call` sets ARG0 = "NAME.gp" as
 * `gnuplot NAME.gp` does, so each file is byte for byte the one a lone
 * `gnuplot -e "fmt='png'" NAME.gp` draws (tests/e2e/charts_batch.sh checks
 * it). NAME comes from the program (plot.c name_ok: no quote), never from
 * the data. The marker line on stderr says which chart is being drawn: an
 * error names it, and the 60 s limit counts per chart.
 */
/* posix_spawn_file_actions_addchdir_np */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "microbeat/plot.h"
#include "microbeat/util.h"
#include "plot_internal.h"

/* Seconds one chart may take before its gnuplot is killed. */
#define PLOT_TIMEOUT_S 60
/* Bytes of a chart's gnuplot messages kept for error messages. */
#define PLOT_STDERR_MAX 8192
/* gnuplot processes drawing at once: the machine's two cores. */
#define PLOT_PROCS 2
/* Cost of a PNG render against an SVG one (1), for sharing the work: the
 * demo's 18 trend charts took 0.77 s as PNG (cairo rasterises) and 0.18 s
 * as SVG in one process. */
#define PLOT_PNG_COST 4
/* Start of the line a process prints on stderr before each chart. */
#define PLOT_MARK "@microbeat-chart "

/* A chart waiting to be drawn. */
struct plot_job {
	char *outdir;                 /* owned: the folder holding NAME.gp and its data */
	char name[PLOT_NAME_MAX + 1]; /* the chart's name, checked by plot.c */
	int formats;                  /* PLOT_PNG | PLOT_SVG: the files to draw */
};

/* The queue of the process: the charts of the open batches, oldest first. */
static struct {
	struct plot_job *job; /* queued charts */
	size_t n;             /* charts queued */
	size_t cap;           /* allocated in job */
	int open;             /* batches open; 0: a chart is drawn when queued */
	int formats;          /* formats of the innermost open batch */
	int check_set;        /* at_exit_check is registered */
} Q;

/* One file to draw: a chart in one format. */
struct render {
	size_t job; /* index in Q.job */
	int fmt;    /* PLOT_PNG or PLOT_SVG */
};

/* A gnuplot process drawing a list of renders in one folder. */
struct gp_proc {
	pid_t pid;                      /* the process, 0 when not started */
	int fd;                         /* read end of its stderr, -1 once closed */
	struct render *r;               /* owned: what it draws, in order */
	size_t n;                       /* renders in r */
	char **argv;                    /* owned: its argument vector (n * 4 + 2 slots) */
	long cur;                       /* index in r of the render under way (the last
					   marker), -1 before the first */
	char line[512];                 /* the stderr line being read */
	size_t line_n;                  /* bytes in line */
	char text[PLOT_STDERR_MAX + 1]; /* stderr since the last marker: cur's messages */
	size_t used;                    /* bytes in text */
	struct timespec since;          /* when cur started: the time limit counts from it */
	int timed_out;                  /* killed after PLOT_TIMEOUT_S on one chart */
	int status;                     /* its wait status */
};

/* A queue left with charts at exit means a batch never ended: the output
 * folder lacks those charts. Say so as the bug it is and fail the run. */
static void at_exit_check(void)
{
	struct mb_error e = { 0 };

	if (Q.n == 0 && Q.open == 0)
		return;
	BUG(&e, "%zu chart(s) queued and never drawn (plot_batch_begin without "
		"plot_batch_end)", Q.n);
	fprintf(stderr, "microbeat: %s\n", e.msg);
	_exit(mb_exit_code(e.code));
}

/* Free the jobs from index from on and shorten the queue to from. */
static void queue_truncate(size_t from)
{
	for (size_t i = from; i < Q.n; i++)
		free(Q.job[i].outdir);
	if (from < Q.n)
		Q.n = from;
}

/* ---- finding gnuplot ------------------------------------------------------------ */

/* Non-zero when path is an executable regular file. */
static int is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *plot_find_gnuplot(void)
{
	const char *env = getenv("MB_GNUPLOT");
	const char *path = getenv("PATH");

	if (env && env[0])
		return is_exec(env) ? strdup(env) : NULL;
	while (path && *path) {
		size_t n = strcspn(path, ":");
		char *cand = n ? malloc(n + sizeof("/gnuplot")) : NULL;

		if (cand)
			snprintf(cand, n + sizeof("/gnuplot"), "%.*s/gnuplot", (int)n, path);
		/* Only absolute PATH entries: a relative one would depend on the folder. */
		if (cand && cand[0] == '/' && is_exec(cand))
			return cand;
		free(cand);
		path += n;
		if (*path == ':')
			path++;
	}
	return is_exec("/usr/bin/gnuplot") ? strdup("/usr/bin/gnuplot") : NULL;
}

/* ---- one gnuplot process ---------------------------------------------------- */

/* From a chart's gnuplot messages, pick the line to quote in an error: the
 * first "line N:" message that is not a warning, else the last non-empty
 * line. Writes at most size bytes (NUL-terminated) into out. */
static void pick_error_line(const char *text, char *out, size_t size)
{
	const char *best = NULL, *last = NULL;
	size_t best_n = 0, last_n = 0;

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (n > 0) {
			int is_msg = 0;

			for (size_t i = 0; i + 5 < n; i++)
				if (strncmp(p + i, "line ", 5) == 0) {
					is_msg = 1;
					break;
				}
			if (!best && is_msg && !strstr(p, "warning") && memchr(p, ':', n)) {
				best = p;
				best_n = n;
			}
			last = p;
			last_n = n;
		}
		p += n;
		if (*p)
			p++;
	}
	if (!best) {
		best = last;
		best_n = last_n;
	}
	if (!best) {
		snprintf(out, size, "no message");
		return;
	}
	if (best_n >= size)
		best_n = size - 1;
	memcpy(out, best, best_n);
	out[best_n] = '\0';
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

/* Build p's argument vector (gnuplot path gp, then two -e per render). */
static int proc_argv(struct gp_proc *p, const char *gp, struct mb_error *err)
{
	size_t k = 0;

	p->argv = calloc(p->n * 4 + 2, sizeof(*p->argv));
	if (!p->argv || !(p->argv[k++] = strdup(gp)))
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		const struct plot_job *j = &Q.job[p->r[i].job];
		char cmd[PLOT_NAME_MAX + 96];

		snprintf(cmd, sizeof(cmd), "fmt='%s'; print '" PLOT_MARK "%zu'; call '%s.gp'; "
			"unset output", p->r[i].fmt == PLOT_PNG ? "png" : "svg", i, j->name);
		if (!(p->argv[k++] = strdup("-e")) || !(p->argv[k++] = strdup("reset session")) ||
		    !(p->argv[k++] = strdup("-e")) || !(p->argv[k++] = strdup(cmd)))
			return mb_err(err, MB_ENOMEM, "out of memory");
	}
	return 0;
}

/* Start p: gnuplot in dir, stdin and stdout on /dev/null, stderr into a
 * pipe (p->fd), a minimal environment. */
static int proc_spawn(struct gp_proc *p, const char *dir, struct mb_error *err)
{
	/* A clean environment: no inherited GNUPLOT_LIB, GNUTERM, HOME init file
	 * (~/.gnuplot would run first), LD_PRELOAD or the like. */
	char *const envp[] = { (char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C.UTF-8",
		(char *)"HOME=/nonexistent", NULL };
	int pfd[2] = { -1, -1 }, devnull = -1, sr, rc = 0;
	posix_spawn_file_actions_t fa;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
		rc = mb_err(err, MB_EIO, "cannot start gnuplot: %s", strerror(errno));
		goto cleanup;
	}
	/* posix_spawn (vfork-like): no copy of a large parent's page tables,
	 * which cost more than gnuplot itself after loading millions of events */
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = mb_err(err, MB_ENOMEM, "cannot start gnuplot: out of memory");
		goto cleanup;
	}
	sr = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (!sr)
		sr = posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	if (!sr)
		sr = posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	if (!sr)
		sr = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!sr)
		sr = posix_spawn(&p->pid, p->argv[0], &fa, NULL, p->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (sr != 0) {
		p->pid = 0;
		if (access(dir, X_OK) != 0)
			rc = mb_err(err, MB_EIO, "cannot enter folder '%s' for gnuplot", dir);
		else
			rc = mb_err(err, MB_EIO, "cannot start gnuplot '%s': %s", p->argv[0],
				strerror(sr));
		goto cleanup;
	}
	p->fd = pfd[0];
	pfd[0] = -1;
	clock_gettime(CLOCK_MONOTONIC, &p->since);
cleanup:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

/* One whole line of p's stderr: a marker starts a chart (its messages and
 * its time limit start afresh), anything else is kept for an error. */
static void proc_line(struct gp_proc *p, const char *s, size_t n)
{
	size_t lm = strlen(PLOT_MARK);

	if (n > lm && memcmp(s, PLOT_MARK, lm) == 0) {
		long k = strtol(s + lm, NULL, 10);

		if (k >= 0 && (size_t)k < p->n) {
			p->cur = k;
			p->used = 0;
			clock_gettime(CLOCK_MONOTONIC, &p->since);
			return;
		}
	}
	for (size_t i = 0; i <= n && p->used < PLOT_STDERR_MAX; i++)
		p->text[p->used++] = i < n ? s[i] : '\n';
	p->text[p->used] = '\0';
}

/* Read what p wrote on stderr; close p->fd at its end. */
static void proc_read(struct gp_proc *p)
{
	char chunk[1024];
	ssize_t got = read(p->fd, chunk, sizeof(chunk));

	if (got < 0 && errno == EINTR)
		return;
	if (got <= 0) {
		if (p->line_n)
			proc_line(p, p->line, p->line_n);
		p->line_n = 0;
		close(p->fd);
		p->fd = -1;
		return;
	}
	for (ssize_t i = 0; i < got; i++) {
		if (chunk[i] != '\n' && p->line_n < sizeof(p->line)) {
			p->line[p->line_n++] = chunk[i];
			continue;
		}
		proc_line(p, p->line, p->line_n);
		p->line_n = 0;
		if (chunk[i] != '\n')
			p->line[p->line_n++] = chunk[i];
	}
}

/* Milliseconds p's current chart has left, killing p when none. */
static long proc_left_ms(struct gp_proc *p)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = PLOT_TIMEOUT_S * 1000L - (now.tv_sec - p->since.tv_sec) * 1000L -
		(now.tv_nsec - p->since.tv_nsec) / 1000000L;
	if (ms <= 0 && !p->timed_out) {
		p->timed_out = 1;
		kill(p->pid, SIGKILL);
		close(p->fd);
		p->fd = -1;
	}
	return ms;
}

/* Read the started processes' stderr until each closes it (or is killed),
 * then wait for them. */
static int procs_wait(struct gp_proc *p, size_t np, struct mb_error *err)
{
	int rc = 0;

	for (;;) {
		struct pollfd pf[PLOT_PROCS];
		size_t who[PLOT_PROCS], nf = 0;
		long wait_ms = 1000;

		for (size_t i = 0; i < np; i++) {
			long left = p[i].fd >= 0 ? proc_left_ms(&p[i]) : 0;

			if (p[i].fd < 0)
				continue;
			if (left < wait_ms)
				wait_ms = left;
			pf[nf] = (struct pollfd){ p[i].fd, POLLIN, 0 };
			who[nf++] = i;
		}
		if (nf == 0)
			break;
		if (poll(pf, nf, (int)wait_ms) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < nf; k++)
			if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
				proc_read(&p[who[k]]);
	}
	for (size_t i = 0; i < np; i++) {
		if (p[i].fd >= 0) {
			kill(p[i].pid, SIGKILL);
			close(p[i].fd);
			p[i].fd = -1;
		}
		while (p[i].pid > 0 && waitpid(p[i].pid, &p[i].status, 0) < 0) {
			if (errno != EINTR) {
				rc = mb_err(err, MB_EIO, "cannot wait for gnuplot: %s",
					strerror(errno));
				break;
			}
		}
	}
	return rc;
}

/* The chart (index in Q.job) p failed on, or -1 when p drew all its renders. */
static long proc_failed_job(const struct gp_proc *p)
{
	int ok = !p->timed_out && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;

	if (p->pid <= 0 || ok)
		return -1;
	return (long)p->r[p->cur >= 0 ? (size_t)p->cur : 0].job;
}

/* The error of process p on the chart it failed on, in folder dir. */
static int proc_error(const struct gp_proc *p, const char *dir, struct mb_error *err)
{
	const char *name = Q.job[proc_failed_job(p)].name;
	char line[300];

	if (p->timed_out)
		return mb_err(err, MB_EIO, "gnuplot ran longer than %d s on '%s/%s.gp'",
			PLOT_TIMEOUT_S, dir, name);
	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 126)
		return mb_err(err, MB_EIO, "cannot enter folder '%s' for gnuplot", dir);
	pick_error_line(p->text, line, sizeof(line));
	return mb_err(err, MB_EIO, "gnuplot failed on '%s/%s.gp': %s", dir, name, line);
}

/* ---- a folder's charts -------------------------------------------------------- */

/* Share the renders of the charts idx[0..k) between the processes p (their r
 * and n filled): each render goes to the process with the least work so far,
 * a PNG costing PLOT_PNG_COST SVGs. */
static int plan(struct gp_proc *p, const size_t *idx, size_t k, struct mb_error *err)
{
	static const int fmts[] = { PLOT_PNG, PLOT_SVG };
	size_t load[PLOT_PROCS] = { 0 };

	for (size_t i = 0; i < PLOT_PROCS; i++) {
		p[i].r = calloc(k * 2, sizeof(*p[i].r));
		if (!p[i].r)
			return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < k; i++)
		for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
			size_t w = 0;

			if (!(Q.job[idx[i]].formats & fmts[f]))
				continue;
			for (size_t q = 1; q < PLOT_PROCS; q++)
				if (load[q] < load[w])
					w = q;
			p[w].r[p[w].n++] = (struct render){ idx[i], fmts[f] };
			load[w] += fmts[f] == PLOT_PNG ? PLOT_PNG_COST : 1;
		}
	return 0;
}

/* Draw the charts idx[0..k) of folder dir with gnuplot gp. */
static int draw_folder(const char *gp, const char *dir, const size_t *idx, size_t k,
	struct mb_error *err)
{
	struct gp_proc p[PLOT_PROCS];
	size_t np = 0;
	long bad = -1;
	int rc, wr;

	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < PLOT_PROCS; i++) {
		p[i].fd = -1;
		p[i].cur = -1;
	}
	rc = plan(p, idx, k, err);
	for (size_t i = 0; !rc && i < PLOT_PROCS && p[i].n; i++) {
		if (!(rc = proc_argv(&p[i], gp, err)))
			rc = proc_spawn(&p[i], dir, err);
		np = i + 1;
	}
	wr = procs_wait(p, np, err);
	rc = rc ? rc : wr;
	/* report the first chart (in queue order) that failed */
	for (size_t i = 0; !rc && i < np; i++) {
		long j = proc_failed_job(&p[i]);

		if (j >= 0 && (bad < 0 || j < proc_failed_job(&p[bad])))
			bad = (long)i;
	}
	if (!rc && bad >= 0)
		rc = proc_error(&p[bad], dir, err);
	for (size_t i = 0; i < PLOT_PROCS; i++) {
		for (size_t a = 0; p[i].argv && p[i].argv[a]; a++)
			free(p[i].argv[a]);
		free(p[i].argv);
		free(p[i].r);
	}
	return rc;
}

/* Draw the queued charts from index from on, folder by folder (a folder's
 * charts in queue order); stop at the first error. */
static int draw_queue(size_t from, struct mb_error *err)
{
	size_t *idx = NULL, k;
	char *done = NULL, *gp = NULL;
	int rc = 0;

	if (from >= Q.n)
		return 0;
	if (!(gp = plot_find_gnuplot())) {
		rc = mb_err(err, MB_ENOTFOUND, "gnuplot not found: charts not drawn");
		goto cleanup;
	}
	idx = malloc((Q.n - from) * sizeof(*idx));
	done = calloc(Q.n - from, 1);
	if (!idx || !done) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = from; !rc && i < Q.n; i++) {
		if (done[i - from])
			continue;
		k = 0;
		for (size_t j = i; j < Q.n; j++)
			if (!done[j - from] && strcmp(Q.job[j].outdir, Q.job[i].outdir) == 0) {
				idx[k++] = j;
				done[j - from] = 1;
			}
		rc = draw_folder(gp, Q.job[i].outdir, idx, k, err);
	}
cleanup:
	free(idx);
	free(done);
	free(gp);
	return rc;
}

/* ---- the queue and batches ---------------------------------------------------- */

int plot_queue_chart(const char *outdir, const char *name, struct mb_error *err)
{
	int formats = Q.open ? Q.formats : PLOT_BOTH;
	size_t at = Q.n;
	struct plot_job *j;
	int rc;

	if (!formats)
		return 0;
	if (!Q.check_set && atexit(at_exit_check) == 0)
		Q.check_set = 1;
	if (GROW(Q.job, Q.n + 1, Q.cap))
		return mb_err(err, MB_ENOMEM, "out of memory");
	j = &Q.job[Q.n];
	if (!(j->outdir = strdup(outdir)))
		return mb_err(err, MB_ENOMEM, "out of memory");
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->formats = formats;
	Q.n++;
	if (Q.open)
		return 0;
	rc = draw_queue(at, err);
	queue_truncate(at);
	return rc;
}

void plot_batch_begin(struct plot_batch *b, int formats)
{
	b->mark = Q.n;
	b->outer = Q.formats;
	b->open = 1;
	Q.formats = formats & PLOT_BOTH;
	Q.open++;
}

int plot_batch_end(struct plot_batch *b, int rc, struct mb_error *err)
{
	if (!b->open)
		return rc;
	b->open = 0;
	if (Q.open == 0 || b->mark > Q.n) {
		queue_truncate(0);
		Q.open = 0;
		return rc ? rc : BUG(err, "plot batch ended twice or out of order");
	}
	if (!rc)
		rc = draw_queue(b->mark, err);
	queue_truncate(b->mark);
	Q.formats = b->outer;
	Q.open--;
	return rc;
}

size_t plot_queued(void)
{
	return Q.n;
}
