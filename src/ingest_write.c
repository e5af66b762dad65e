/* ingest_write — the writer (the import's own thread): each file's batches
 * get the store's ids (dimension translation), their snap points and streets
 * interned, and are written in one transaction per file; finish_file claims
 * the file's partitions; the dictionaries are undone after a rollback. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ingest_internal.h"
#include "microbeat/agencymap.h"
#include "microbeat/dict.h"
#include "microbeat/places.h"
#include "microbeat/progress.h"

double ingest_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What a file of each kind (enum file_kind) is called in summaries and imports. */
static const char *const KIND_NAME[] = { "unknown", "street", "outcomes", "stop-and-search",
					 "agency" };

/* Print rejected rows of a batch (up to the per-file limit). */
static void show_rejects(struct ingest_run *run, const char *name, int kind,
			 const struct batch *b, int *shown)
{
	for (size_t i = 0; i < b->rejects.n; i++) {
		/* police.uk outcomes files repeat whole lines routinely: those
		 * duplicates are counted in the file's summary line, not listed */
		if (b->rejects.v[i].duplicate && kind == KIND_OUTCOMES)
			continue;
		if (*shown >= run->o->max_shown)
			return;
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s:%u:%u: %s\n", MB_SHOWN(name), b->rejects.v[i].line,
			b->rejects.v[i].col ? b->rejects.v[i].col : 1, MB_SHOWN(b->rejects.v[i].reason));
		(*shown)++;
	}
}

/* A mapping failure of file f's ids (a bug, not bad data: the file is rolled
 * back and the run stops), naming the file and, when one row is at fault, its
 * line. */
static int internal_error(struct mb_error *err, const struct pfile *f, uint32_t line,
			  const char *what)
{
	if (line)
		return BUG(err, "%s:%u: %s", f->in->name, line, what);
	return BUG(err, "%s: %s", f->in->name, what);
}

/* The store's id of the file's id of kind k (0 stays 0); *bad set when unknown. */
static uint32_t map_id(const struct pfile *f, int k, uint32_t id, int *bad)
{
	if (!id)
		return 0;
	if (id >= f->nmap[k] || !f->map[k][id]) {
		*bad = 1;
		return 0;
	}
	return f->map[k][id];
}

/* The share (0..1, or 2: no limit) of a partition's rows a release may remove. */
static double max_removed_share(const struct ingest_opts *o)
{
	if (o->replace)
		return 2;
	if (o->max_removed == 0)
		return INGEST_MAX_REMOVED / 100;
	return o->max_removed < 0 ? 0 : o->max_removed / 100;
}

/* Record coverage and claim the partitions of a loaded file. Street rows whose
 * Crime ID another import already holds for their month and force become
 * duplicates first (*held of them). -MB_EDATA with err set when a release
 * would remove too much (store_partition_claim). */
static int finish_file(struct ingest_run *run, struct pfile *f, int64_t import_id,
		       struct partition_diff *diff, int64_t *held, struct mb_error *err)
{
	int r, bad = 0;
	char key[64];
	double maxr = max_removed_share(run->o);

	*held = 0;
	/* the sources were mapped to the store's ids with the batches */
	for (size_t i = 0; i < f->nmc; i++)
		f->mc[i].source = map_id(f, DIM_SOURCE, f->mc[i].source, &bad);
	f->source = map_id(f, DIM_SOURCE, f->source, &bad);
	if (bad)
		return internal_error(err, f, 0, "a source without its row");
	if (f->kind == KIND_STREET && f->st.rows_loaded) {
		/* a partition's own earlier release is replaced, not a holder of duplicates */
		int64_t except = 0;

		snprintf(key, sizeof(key), "source:%u", f->source);
		if (!f->multi_month && !f->multi_source &&
		    (r = store_partition_holder(run->s, PART_STREET, key, f->month, &except, err)))
			return r;
		for (size_t i = 0; i < f->nmc; i++) {
			int64_t moved = 0;

			if ((r = store_duplicates_held(run->s, import_id, f->mc[i].source, f->mc[i].month,
						       except, &moved, err)))
				return r;
			f->mc[i].rows -= moved;
			f->st.rows_loaded -= moved;
			f->st.rows_duplicate += moved;
			*held += moved;
		}
	}
	int extract = f->kind == KIND_AGENCY && run->agency->map->extract;

	/* coverage counts events (crimes, incidents), not outcome or search rows,
	 * nor an extract's rows (fields of police.uk crimes) */
	for (size_t i = 0; i < f->nmc && (f->kind == KIND_STREET || f->kind == KIND_AGENCY) &&
			   !extract;
	     i++)
		if (f->mc[i].source && f->mc[i].rows &&
		    (r = store_import_month_add(run->s, import_id, f->mc[i].source, f->mc[i].month,
						f->mc[i].rows, err)))
			return r;
	if (f->st.rows_loaded == 0)
		return 0;
	if (f->kind == KIND_AGENCY) {
		/* an agency file is its source's whole record of each month it
		 * covers (docs/methods.md, "Partition") */
		for (size_t i = 0; i < f->nmc; i++) {
			snprintf(key, sizeof(key), "source:%u", f->mc[i].source);
			if ((r = store_partition_claim(run->s, extract ? PART_EXTRACT : PART_AGENCY, key,
						       f->mc[i].month,
						       f->mc[i].source, import_id, maxr, diff, err)))
				return r;
		}
		return 0;
	}
	if (f->multi_month)
		return 0;
	if (f->kind == KIND_STREET || f->kind == KIND_OUTCOMES) {
		if (f->multi_source)
			return 0;
		snprintf(key, sizeof(key), "source:%u", f->source);
	} else if (f->kind == KIND_STOP) {
		/* no force column: the police.uk file name says whose it is */
		if (ingest_name_partition(f->in->name, f->month, key, sizeof(key)))
			return 0;
	} else {
		return 0;
	}
	return store_partition_claim(run->s,
				     f->kind == KIND_STREET	? PART_STREET
				     : f->kind == KIND_OUTCOMES ? PART_OUTCOMES
								: PART_STOP,
				     key, f->month, f->source, import_id, maxr, diff, err);
}

static int ingest_file(struct ingest_run *run, struct pfile *f, const char *path,
		       struct mb_error *err);

/* The lsoa_name dictionary's key of (LSOA id, name) in run->wnorm, its length
 * in *len; NULL on out of memory. */
static const char *lsoa_name_key(struct ingest_run *run, uint32_t lsoa, const char *name,
				 size_t *len)
{
	size_t n = strlen(name);

	if (GROW(run->wnorm, n + 4, run->wncap))
		return NULL;
	memcpy(run->wnorm, &lsoa, 4);
	memcpy(run->wnorm + 4, name, n);
	*len = n + 4;
	return run->wnorm;
}

/* On the writer thread: map the file's ids of batch b (sources, categories,
 * outcomes, LSOAs) to the store's, finding each new row of the file in the
 * dictionaries or writing it (same transaction, before the events), then
 * rewrite the ids of the batch's records. The batch's dimension rows are
 * consumed. Global ids are so given in file order, as one parse at a time
 * would: the same files give the same store however the parses overlap. */
static int dims_translate(struct ingest_run *run, struct pfile *f, struct batch *b,
			  struct mb_error *err)
{
	struct dims *d = &run->dims;
	struct dict *dd[DIM_LOCAL] = { d->source, d->category, d->outcome, d->lsoa, d->lsoa_name };

	for (size_t i = 0; i < b->dims.n; i++) {
		struct rec_dim w = b->dims.v[i];
		int k = (int)w.kind, added, r;

		if (k >= DIM_LOCAL)
			return internal_error(err, f, 0, "a parser made a row of an unknown kind");
		/* the file's ids come dense, in order: id is the map's next entry */
		if (f->nmap[k] <= w.id) {
			size_t old = f->nmap[k];

			if (GROW(f->map[k], (size_t)w.id + 1, f->nmap[k]))
				return mb_err(err, MB_ENOMEM, "out of memory");
			memset(f->map[k] + old, 0, (f->nmap[k] - old) * sizeof(*f->map[k]));
		}
		const char *key = w.s1;
		size_t klen = strlen(w.s1);

		if (k == DIM_LSOA_NAME) {
			int bad = 0;

			if (!(w.ref = map_id(f, DIM_LSOA, w.ref, &bad)))
				return internal_error(err, f, 0, "an LSOA name came before its LSOA");
			if (!(key = lsoa_name_key(run, w.ref, w.s1, &klen)))
				return mb_err(err, MB_ENOMEM, "out of memory");
		}
		uint32_t id = dict_get_or_put(dd[k], key, klen, d->next[k], &added);

		if (!id)
			return mb_err(err, MB_ENOMEM, "out of memory");
		f->map[k][w.id] = id;
		if (!added)
			continue;
		d->next[k]++;
		w.id = id;
		if ((r = store_dim_write(run->s, &w, err)))
			return r;
		if (k == DIM_LSOA) {
			/* write_dim wrote its name (empty when named by code only)
			 * as an alias too: the dictionary knows it from now on */
			if (!(key = lsoa_name_key(run, id, w.s2 ? w.s2 : "", &klen)) ||
			    !dict_get_or_put(d->lsoa_name, key, klen, d->next[DIM_LSOA_NAME], &added))
				return mb_err(err, MB_ENOMEM, "out of memory");
			d->next[DIM_LSOA_NAME] += (uint32_t)added;
		}
	}
	b->dims.n = 0;
	/* every id a record carries came with a row in this batch or an earlier one */
	int bad = 0;
	uint32_t line = 0; /* of the first row at fault */

	for (size_t i = 0; i < b->events.n; i++) {
		struct rec_event *e = &b->events.v[i];

		e->source = map_id(f, DIM_SOURCE, e->source, &bad);
		e->falls = map_id(f, DIM_SOURCE, e->falls, &bad);
		e->category = map_id(f, DIM_CATEGORY, e->category, &bad);
		e->outcome = map_id(f, DIM_OUTCOME, e->outcome, &bad);
		e->loc_lsoa = map_id(f, DIM_LSOA, e->loc_lsoa, &bad);
		if (bad && !line)
			line = e->line;
	}
	for (size_t i = 0; i < b->outcomes.n; i++) {
		b->outcomes.v[i].outcome = map_id(f, DIM_OUTCOME, b->outcomes.v[i].outcome, &bad);
		if (bad && !line)
			line = b->outcomes.v[i].line;
	}
	if (bad)
		return internal_error(err, f, line, "a row's id has no dimension row");
	return 0;
}

/* On the writer thread: intern the snap points (and their streets) of batch
 * b's events, writing the new rows at once (same transaction, before the
 * events). The location and street dictionaries and their next ids belong to
 * this thread; the parser never touches them. */
/* One snap-point key of a batch: where it is in run->wkey, and its hash. */
struct loc_key {
	uint64_t h;   /* dict_hash() of the key */
	size_t off;   /* offset in run->wkey */
	uint32_t len; /* its length */
	uint32_t ev;  /* the event's index in the batch */
};

/* Intern the batch's snap points (and streets of new ones) in two passes: the
 * keys and their hashes first, then the lookups, each prefetching the slot of
 * the lookup LOC_AHEAD on and the key of the one LOC_AHEAD / 2 on. The
 * snap-point table is far larger than the caches: a lookup that waits for
 * memory twice (slot, then key) costs ~10x one found in cache. */
#define LOC_AHEAD 16

/* Write the batch's new streets and snap points gathered by resolve_locations. */
static int flush_new_dims(struct ingest_run *run, struct mb_error *err)
{
	int r = 0;

	/* the streets' names were kept as offsets (the buffer may have moved) */
	for (size_t i = 0; i < run->nst_n; i++)
		run->nst[i].s1 = run->nnames + (uintptr_t)run->nst[i].s1;
	if (run->nst_n)
		r = store_dims_write(run->s, DIM_STREET, run->nst, run->nst_n, err);
	if (!r && run->nloc_n)
		r = store_dims_write(run->s, DIM_LOCATION, run->nloc, run->nloc_n, err);
	return r;
}

static int resolve_locations(struct ingest_run *run, struct batch *b, struct mb_error *err)
{
	struct dims *d = &run->dims;
	size_t n = 0, need = 0;

	/* what an earlier batch gathered is written or, after a failure, dropped */
	run->nst_n = run->nloc_n = run->nnames_used = 0;
	for (size_t i = 0; i < b->events.n; i++)
		if (b->events.v[i].loc_pending)
			need += (size_t)b->events.v[i].loc_len + 20, n++;
	if (!n)
		return 0;
	if (GROW(run->lk, n, run->lkcap) || GROW(run->wkey, need, run->wcap))
		return mb_err(err, MB_ENOMEM, "out of memory");
	n = 0;
	need = 0;
	for (size_t i = 0; i < b->events.n; i++) {
		const struct rec_event *e = &b->events.v[i];

		if (!e->loc_pending)
			continue;
		struct loc_key *k = &run->lk[n++];

		k->off = need;
		k->ev = (uint32_t)i;
		/* the key fits: the buffer was grown above */
		k->len = (uint32_t)store_location_key(run->wkey + need, run->wcap - need, e->loc_lsoa,
						      e->loc_has, e->lon, e->lat, e->loc_name,
						      e->loc_len);
		k->h = dict_hash(run->wkey + need, k->len);
		need += k->len;
	}
	for (size_t j = 0; j < n; j++) {
		if (j + LOC_AHEAD < n)
			dict_prefetch(d->location, run->lk[j + LOC_AHEAD].h);
		if (j + LOC_AHEAD / 2 < n)
			dict_prefetch_key(d->location, run->lk[j + LOC_AHEAD / 2].h);
		const struct loc_key *k = &run->lk[j];
		struct rec_event *e = &b->events.v[k->ev];

		e->loc_pending = 0;
		int added;
		uint32_t id = dict_get_or_put_h(d->location, run->wkey + k->off, k->len, k->h,
						d->next[DIM_LOCATION], &added);

		if (!id)
			return mb_err(err, MB_ENOMEM, "out of memory");
		e->location = id;
		if (!added)
			continue;
		d->next[DIM_LOCATION]++;
		uint32_t street = 0;

		if (e->loc_has && e->loc_len) {
			if (GROW(run->wnorm, (size_t)e->loc_len + 64, run->wncap))
				return mb_err(err, MB_ENOMEM, "out of memory");
			size_t nl = ingest_normalise_name(e->loc_name, e->loc_len, run->wnorm + 4,
							  run->wncap - 4);

			memcpy(run->wnorm, &e->loc_lsoa, 4);
			street = dict_get_or_put(d->street, run->wnorm, nl + 4, d->next[DIM_STREET], &added);
			if (!street)
				return mb_err(err, MB_ENOMEM, "out of memory");
			if (added) {
				size_t at = run->nnames_used;

				/* counted at once: a rollback after a failure below
				 * then forgets the entry (dims_undo) */
				d->next[DIM_STREET]++;
				if (GROW(run->nst, run->nst_n + 1, run->nst_cap) ||
				    GROW(run->nnames, at + nl + 1, run->nnames_cap))
					return mb_err(err, MB_ENOMEM, "out of memory");
				memcpy(run->nnames + at, run->wnorm + 4, nl);
				run->nnames[at + nl] = '\0';
				run->nnames_used = at + nl + 1;
				run->nst[run->nst_n++] = (struct rec_dim){ .kind = DIM_STREET,
									   .id = street,
									   .ref = e->loc_lsoa,
									   .s1 = OFF(at) };
			}
		}
		if (GROW(run->nloc, run->nloc_n + 1, run->nloc_cap))
			return mb_err(err, MB_ENOMEM, "out of memory");
		run->nloc[run->nloc_n++] = (struct rec_dim){ .kind = DIM_LOCATION, .id = id,
							     .ref = e->loc_lsoa, .ref2 = street,
							     .has_coord = e->loc_has, .lon = e->lon,
							     .lat = e->lat, .s1 = e->loc_name };
	}
	return flush_new_dims(run, err);
}

int ingest_one(struct ingest_run *run, struct input *in, const char *path,
	       struct mb_error *err)
{
	struct pfile *f = pfile_new(run, in);

	if (!f)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (run->files && run->ahead_ok && in->fp)
		f->index = run->cur;
	return ingest_file(run, f, path, err);
}

int ingest_ahead(struct ingest_run *run, struct mb_error *err)
{
	FILE *fp;
	struct pfile *f = chain_take(run, &fp);
	int r = ingest_file(run, f, f->own_in.name, err);

	fclose(fp);
	return r;
}

/* Import one input stream as one transaction; f is its parse (started ahead
 * or not yet started) and is freed here. Return 0, -MB_EDATA or -MB_EIO (file
 * skipped or rows rejected: reported) or another error (store failure). */
static int ingest_file(struct ingest_run *run, struct pfile *f, const char *path,
		       struct mb_error *err)
{
	struct input *in = f->in;
	int64_t import_id = 0, same = 0;
	int r = 0, shown = 0, in_tx = 0, input_failed = 0;
	struct partition_diff diff = { 0 };

	if ((r = store_begin(run->s, err)))
		goto cleanup;
	in_tx = 1;
	/* the write lock is ours: no one else commits until we do. Another
	 * process's commit since ours may have added rows: the dictionaries are
	 * read again (parses only hold ids of their file's own) */
	int64_t v;

	if ((r = store_data_version(run->s, &v, err)))
		goto cleanup;
	if ((v != run->data_version || run->dims_dirty) && (r = dims_reload(run, err)))
		goto cleanup;
	if ((r = store_import_create(run->s, path, "pending", run->source_name, &import_id, err)))
		goto cleanup;
	if (!f->started && (r = parse_start(run, f, err)))
		goto cleanup;
	for (;;) {
		double t0 = ingest_now();
		struct batch *b = queue_pop(&f->q);
		double t1 = ingest_now();

		run->t.wait += t1 - t0;
		if (!b)
			break;
		if (!r && !(r = dims_translate(run, f, b, err)) &&
		    !(r = resolve_locations(run, b, err))) {
			double t2 = ingest_now();

			r = store_batch_write(run->s, import_id, b, err);
			run->t.resolve += t2 - t1;
			run->t.write += ingest_now() - t2;
			show_rejects(run, in->name, f->kind, b, &shown);
		}
		progress_draw(run->progress, 0);
		queue_return(&f->q, b);
		if (r)
			queue_set(&f->q, &f->q.abort);
	}
	pthread_join(f->th, NULL);
	f->started = 0;
	hash_join(f);
	/* was this file imported before? */
	if (!r && !f->fatal && !f->oom)
		r = store_import_by_sha(run->s, f->digest, &same, err);
	if (r)
		goto cleanup;
	if (f->oom) {
		r = mb_err(err, MB_ENOMEM, "%s: out of memory", in->name);
		goto cleanup;
	}
	if (f->fatal) {
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s\n", MB_SHOWN(f->perr.msg));
		run->sum->files_skipped++;
		r = f->perr.code == MB_EIO ? -MB_EIO : -MB_EDATA;
		if (r == -MB_EIO)
			mb_err(err, MB_EIO, "%s", f->perr.msg);
		input_failed = 1;
		goto cleanup;
	}
	if (same) {
		store_rollback(run->s);
		in_tx = 0;
		dims_undo(run);
		run->sum->files_unchanged++;
		if (!run->o->quiet)
			fprintf(run->o->out, "%s: unchanged (same SHA-256 as import #%lld): nothing to do\n",
				MB_SHOWN(in->name), (long long)same);
		goto cleanup;
	}
	if (f->cut && !run->o->replace) {
		/* a cut download must not replace (or pass for) the whole file (issue 21 item 1) */
		progress_clear(run->progress);
		fprintf(run->o->msg,
			"microbeat: %s:%u:%u: the file ends mid-row (its last row is cut short and has"
			" no line end: a cut download?); not applied, the store is unchanged: import"
			" the complete file, or use --replace to load it as it is\n",
			in->name, f->rej_line, f->rej_col ? f->rej_col : 1);
		run->sum->files_skipped++;
		r = -MB_EDATA;
		input_failed = 1;
		goto cleanup;
	}
	int64_t held = 0;
	double tc = ingest_now();

	struct mb_error ferr = { 0 };

	if ((r = finish_file(run, f, import_id, &diff, &held, &ferr)) == -MB_EDATA) {
		/* refused: reported here, the run goes on */
		progress_clear(run->progress);
		fprintf(run->o->msg, "microbeat: %s: %s\n", in->name, ferr.msg);
		run->sum->files_skipped++;
		input_failed = 1;
		goto cleanup;
	}
	if (r)
		*err = ferr;
	int is_extract = f->kind == KIND_AGENCY && run->agency->map->extract;
	int64_t attached = 0;

	if (!r && is_extract && f->st.rows_loaded)
		r = store_extract_attached(run->s, import_id, &attached, err);
	if (r ||
	    (r = store_import_finish(run->s, import_id, &f->st, f->digest,
				     f->kind == KIND_AGENCY && run->agency->map->extract
					     ? "extract" : KIND_NAME[f->kind], err)) ||
	    (r = store_commit(run->s, err))) {
		goto cleanup;
	}
	in_tx = 0;
	run->t.commit += ingest_now() - tc;
	dims_commit(run);
	run->sum->files_loaded++;
	run->sum->total.rows_read += f->st.rows_read;
	run->sum->total.rows_loaded += f->st.rows_loaded;
	run->sum->total.rows_duplicate += f->st.rows_duplicate;
	run->sum->total.rows_rejected += f->st.rows_rejected;
	run->sum->total.blank_lines += f->st.blank_lines;
	run->sum->total.bytes += f->st.bytes;
	progress_clear(run->progress);
	int64_t listable = f->st.rows_rejected + (f->kind == KIND_OUTCOMES ? 0 : f->st.rows_duplicate);

	if (shown < listable)
		fprintf(run->o->msg,
			"microbeat: %s: %lld more rejected or duplicate rows not shown"
			" (microbeat rejects --import %lld)\n",
			MB_SHOWN(in->name), (long long)(listable - shown), (long long)import_id);
	if (!run->o->quiet) {
		fprintf(run->o->out,
			"%s: import #%lld, %s: %lld rows read = %lld loaded + %lld duplicate + %lld"
			" rejected",
			MB_SHOWN(in->name), (long long)import_id, KIND_NAME[f->kind], (long long)f->st.rows_read,
			(long long)f->st.rows_loaded, (long long)f->st.rows_duplicate,
			(long long)f->st.rows_rejected);
		if (f->st.blank_lines)
			fprintf(run->o->out, " (%lld blank lines skipped)", (long long)f->st.blank_lines);
		fputc('\n', run->o->out);
		if (held)
			fprintf(run->o->out,
				"%s: %lld rows counted as duplicate: their Crime IDs are already held for"
				" their month and force by other imports (microbeat rejects --import %lld)\n",
				in->name, (long long)held, (long long)import_id);
		if (is_extract && f->st.rows_loaded)
			fprintf(run->o->out,
				"%s: force extract: %lld rows attach to police.uk crimes held (same Crime"
				" ID and month), %lld match none held yet (kept: they attach when that"
				" crime is loaded)\n",
				MB_SHOWN(in->name), (long long)attached,
				(long long)(f->st.rows_loaded - attached));
		if (diff.replaced_import && is_extract) {
			fprintf(run->o->out,
				"%s: replaces %lld month(s) of this extract held by earlier imports (import"
				" #%lld first): %lld rows added, %lld removed, %lld changed, %lld unchanged"
				" by Crime ID\n",
				MB_SHOWN(in->name), (long long)diff.months, (long long)diff.replaced_import,
				(long long)diff.added, (long long)diff.removed, (long long)diff.changed,
				(long long)diff.unchanged);
		} else if (diff.replaced_import && f->kind == KIND_AGENCY) {
			fprintf(run->o->out,
				"%s: replaces %lld month(s) of this source held by earlier imports (import #%lld"
				" first): %lld events added, %lld removed, %lld changed, %lld unchanged by"
				" id; rows without id: %lld before, %lld now\n",
				in->name, (long long)diff.months, (long long)diff.replaced_import,
				(long long)diff.added, (long long)diff.removed, (long long)diff.changed,
				(long long)diff.unchanged, (long long)diff.noid_before,
				(long long)diff.noid_after);
		} else if (diff.replaced_import) {
			fprintf(run->o->out,
				"%s: replaces import #%lld for this partition: %lld crimes added, %lld"
				" removed, %lld changed, %lld unchanged",
				MB_SHOWN(in->name), (long long)diff.replaced_import, (long long)diff.added,
				(long long)diff.removed, (long long)diff.changed, (long long)diff.unchanged);
			if (f->kind == KIND_STREET)
				fprintf(run->o->out, "; rows without Crime ID: %lld before, %lld now",
					(long long)diff.noid_before, (long long)diff.noid_after);
			fputc('\n', run->o->out);
		}
	}
	/* duplicates are recognised, not lost: they do not fail the run */
	if (f->st.rows_rejected)
		run->any_rejects = 1;
	r = 0;
cleanup:
	if (in_tx) {
		/* parses ahead go on: they hold no id of the store's */
		pfile_drop(f);
		f = NULL;
		store_rollback(run->s);
		dims_undo(run);
	}
	pfile_drop(f);
	/* -MB_EIO and -MB_EDATA mean "this input was skipped, go on"; the store
	 * failing to write (disk full, I/O error) stops the run as a store error */
	if (r == -MB_EIO && !input_failed)
		r = -MB_EDB;
	return r;
}

void dims_undo(struct ingest_run *run)
{
	struct dict *d[7] = { run->dims.source, run->dims.category, run->dims.outcome,
			      run->dims.lsoa, run->dims.lsoa_name, run->dims.street,
			      run->dims.location };

	for (int i = 0; i < 7; i++) {
		if (run->dims.next[i] == run->saved_next[i])
			continue;
		if (dict_truncate(d[i], run->saved_next[i] - 1) == 0)
			run->dims.next[i] = run->saved_next[i];
		else
			run->dims_dirty = 1;
	}
}

void dims_commit(struct ingest_run *run)
{
	memcpy(run->saved_next, run->dims.next, sizeof(run->saved_next));
}

int dims_reload(struct ingest_run *run, struct mb_error *err)
{
	int r;

	store_dims_release(&run->dims);
	memset(&run->dims, 0, sizeof(run->dims));
	if ((r = store_data_version(run->s, &run->data_version, err)) ||
	    (r = store_dims_load(run->s, &run->dims, err)))
		return r;
	dims_commit(run);
	run->dims_dirty = 0;
	return 0;
}

/* Does name end in ".csv" (any case), after at least one other character? */
static int is_csv_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

int ingest_name_partition(const char *name, int32_t month, char *out, size_t cap)
{
	const char *base = strrchr(name, '/');
	const char *colon = strrchr(name, ':');

	if (colon && (!base || colon > base))
		base = colon;
	base = base ? base + 1 : name;
	int32_t m;
	size_t n = strlen(base);

	if (n < 13 || month_parse(base, 7, &m) || m != month || base[7] != '-' ||
	    !is_csv_name(base))
		return -1;
	const char *force = base + 8, *dash = strrchr(base, '-');

	/* YYYY-MM-<force>-stop-and-search.csv: the force ends before "-stop" */
	const char *stop = strstr(force, "-stop-and-search.csv");

	if (stop)
		dash = stop;
	if (!dash || dash <= force)
		return -1;
	snprintf(out, cap, "file:%.*s", (int)(dash - force), force);
	return 0;
}
