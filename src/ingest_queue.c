/* ingest_queue — batches of records, their text arena, and the bounded queue
 * that carries them from a file's parser thread to the writer. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

static void batch_reset(struct batch *b)
{
	b->dims.n = b->events.n = b->rejects.n = b->outcomes.n = b->stops.n = b->extras.n = 0;
	b->arena_used = 0;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->dims.v);
	free(b->events.v);
	free(b->rejects.v);
	free(b->outcomes.v);
	free(b->stops.v);
	free(b->extras.v);
	free(b->arena);
	free(b);
}

/* Copy len bytes + NUL into the batch arena; NULL on OOM. The arena is one
 * block that grows by realloc: records keep offsets into it (OFF) until
 * batch_seal(). */
static char *arena_put(struct batch *b, const char *p, size_t len)
{
	if (b->arena_cap - b->arena_used < len + 1 &&
	    GROW(b->arena, b->arena_used + len + 1, b->arena_cap))
		return NULL;
	char *dst = b->arena + b->arena_used;

	if (len)
		memcpy(dst, p, len);
	dst[len] = '\0';
	b->arena_used += len + 1;
	return dst;
}

const char *astr(struct batch *b, const char *p, size_t len, int *oom)
{
	char *d = arena_put(b, p, len);

	if (!d) {
		*oom = 1;
		return NULL;
	}
	return OFF((size_t)(d - b->arena) + 1);
}

/* The pointer of arena offset off (0 stays NULL). */
static const char *fix(const struct batch *b, const char *off)
{
	return off ? b->arena + UNOFF(off) - 1 : NULL;
}

/* Turn the arena offsets of every record into pointers. */
static void batch_seal(struct batch *b)
{
	for (size_t i = 0; i < b->dims.n; i++) {
		b->dims.v[i].s1 = fix(b, b->dims.v[i].s1);
		b->dims.v[i].s2 = fix(b, b->dims.v[i].s2);
	}
	for (size_t i = 0; i < b->events.n; i++) {
		b->events.v[i].text_id = fix(b, b->events.v[i].text_id);
		b->events.v[i].loc_name = fix(b, b->events.v[i].loc_name);
	}
	for (size_t i = 0; i < b->rejects.n; i++) {
		b->rejects.v[i].reason = fix(b, b->rejects.v[i].reason);
		b->rejects.v[i].raw = fix(b, b->rejects.v[i].raw);
	}
	for (size_t i = 0; i < b->stops.n; i++)
		for (int f = 0; f < STOP_NFIELDS; f++)
			b->stops.v[i].f[f] = fix(b, b->stops.v[i].f[f]);
	for (size_t i = 0; i < b->extras.n; i++) {
		struct rec_extra *x = &b->extras.v[i];

		x->ho_code = fix(b, x->ho_code);
		x->subgroup = fix(b, x->subgroup);
		x->strand = fix(b, x->strand);
		x->street = fix(b, x->street);
		x->parish = fix(b, x->parish);
	}
}

int queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (int i = 0; i < QUEUE_SLOTS; i++) {
		q->spare[i] = calloc(1, sizeof(struct batch));
		if (!q->spare[i])
			return -1;
		q->nspare++;
	}
	return 0;
}

void queue_release(struct queue *q)
{
	for (int i = 0; i < q->nspare; i++)
		batch_free(q->spare[i]);
	for (int i = 0; i < q->count; i++)
		batch_free(q->full[(q->head + i) % QUEUE_SLOTS]);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* Parser: take an empty batch (waits); NULL when the writer aborted. */
struct batch *queue_take_spare(struct queue *q)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->nspare && !q->abort)
		pthread_cond_wait(&q->cv, &q->mu);
	if (!q->abort)
		b = q->spare[--q->nspare];
	pthread_mutex_unlock(&q->mu);
	if (b)
		batch_reset(b);
	return b;
}

/* Parser: hand a filled batch to the writer. */
void queue_push(struct queue *q, struct batch *b)
{
	batch_seal(b);
	pthread_mutex_lock(&q->mu);
	q->full[(q->head + q->count) % QUEUE_SLOTS] = b;
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Writer: next filled batch, or NULL when the parser is done. */
struct batch *queue_pop(struct queue *q)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->count && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->count) {
		b = q->full[q->head];
		q->head = (q->head + 1) % QUEUE_SLOTS;
		q->count--;
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

/* Writer: give a written batch back. */
void queue_return(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	q->spare[q->nspare++] = b;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void queue_set(struct queue *q, int *flag)
{
	pthread_mutex_lock(&q->mu);
	*flag = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
