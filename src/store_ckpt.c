/* store_ckpt — background checkpoints while bulk loading (store_bulk_mode). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "microbeat/store.h"
#include "store_internal.h"

/*
 * A checkpoint copies the WAL into the store file and syncs both: done in the
 * writer's COMMIT (wal_autocheckpoint) it holds the import up for the copy
 * and the fsyncs. While bulk loading, a thread with its own connection runs
 * a PASSIVE checkpoint each time CKPT_BYTES more were committed (the
 * writer's wal hook says how many); PASSIVE never blocks the writer or
 * readers. The WAL cannot restart while the writer keeps appending, so once it
 * holds CKPT_RESTART bytes the writer, between two files, runs a RESTART
 * checkpoint itself: by then nearly everything is copied, so it costs about
 * one fsync, and the WAL starts again from the beginning. Small steps keep
 * what is left to copy when the import ends (on its critical path) small:
 * with 64 MB / 256 MB the end took ~0.15 s, with 8 MB / 64 MB ~0.01 s, and
 * the smaller WAL file is rewritten in place more often (less system time). */
#define CKPT_BYTES (8 << 20)     /* in WAL frames: CKPT_BYTES / page size */
#define CKPT_RESTART (64 << 20)

struct ckpt {
	pthread_t th;        /* the checkpointing thread */
	pthread_mutex_t mu;  /* guards what follows */
	pthread_cond_t cv;   /* signalled by the hook and at stop */
	sqlite3 *db;         /* the thread's own connection */
	int frames;          /* frames in the WAL after the last commit */
	int last;            /* frames when the last checkpoint started */
	int stop;            /* bulk loading is over */
	int every;           /* frames between two checkpoints */
	int restart;         /* frames past which the writer restarts the WAL */
};

/* The store's page size in bytes (SQLite's default when it cannot say). */
static int page_size(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int ps = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= 512)
		ps = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ps;
}

/* The writer's wal hook: called after each commit with the WAL's size. */
static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ckpt *c = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&c->mu);
	c->frames = frames;
	if (frames < c->last) /* the WAL restarted */
		c->last = 0;
	if (frames - c->last >= c->every)
		pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	prctl(PR_SET_NAME, "mb-ckpt"); /* named for perf and top */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && c->frames - c->last < c->every)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->last = c->frames;
		pthread_mutex_unlock(&c->mu);
		/* a failure (disk full...) leaves the frames in the WAL, where
		 * they are safe; the writer's own checkpoints will retry */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Start the checkpointing thread; 0, or -1 (then the writer checkpoints). */
static int ckpt_start(struct store *s)
{
	struct ckpt *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	int ps = page_size(s->db);

	c->every = CKPT_BYTES / ps;
	c->restart = CKPT_RESTART / ps;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->th, NULL, ckpt_main, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	s->ck = c;
	sqlite3_wal_hook(s->db, ckpt_hook, c);
	return 0;
}

void store_ckpt_stop(struct store *s)
{
	struct ckpt *c = s->ck;

	if (!c)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	s->ck = NULL;
}

void store_ckpt_restart(struct store *s)
{
	struct ckpt *c = s->ck;
	int frames;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	frames = c->frames;
	pthread_mutex_unlock(&c->mu);
	if (frames >= c->restart)
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
}

void store_bulk_mode(struct store *s, int on)
{
	/* bulk loading appends: a 16 MB page cache does as well as 64 MB and
	 * leaves room for the import's duplicate set under the 200 MB bound */
	if (on) {
		sqlite3_exec(s->db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);
		if (!s->ck && ckpt_start(s) != 0) {
			char q[64];

			snprintf(q, sizeof(q), "PRAGMA wal_autocheckpoint=%d",
				 CKPT_BYTES / page_size(s->db));
			sqlite3_exec(s->db, q, NULL, NULL, NULL);
		}
	} else {
		store_ckpt_stop(s);
		sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-65536", NULL,
			     NULL, NULL);
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
}
