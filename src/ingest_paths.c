/* ingest_paths — what to import: files, folders (recursive, sorted), zip entries. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ingest_internal.h"
#include "microbeat/progress.h"

/* A list of file paths. */
struct paths {
	char **v;      /* owned strings */
	size_t n, cap; /* used / capacity */
};

static int paths_add(struct paths *p, const char *s)
{
	if (GROW(p->v, p->n + 1, p->cap))
		return -1;
	p->v[p->n] = strdup(s);
	if (!p->v[p->n])
		return -1;
	p->n++;
	return 0;
}

static void paths_release(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* The folders a walk has entered, by device and inode: a folder reached
 * again (a symbolic link loop, or two links to one folder) is not walked
 * again; with two links back to its parent, each file was visited 41 times
 * and the walk never ended (issue 21). Linear search: a walk meets tens to
 * hundreds of folders (a police.uk archive has one a month). Files are not
 * kept: one reached by two names is found unchanged by its SHA-256. */
struct walked {
	struct walked_one {
		dev_t dev;  /* st_dev */
		ino_t ino;  /* st_ino */
		char *path; /* the name it was first reached by (owned) */
	} *v;          /* entries */
	size_t n, cap; /* used / capacity */
};

/* The name st was first reached by, or NULL; else remember it as path.
 * Return 0, or -1 when out of memory. */
static int walked_check(struct walked *s, const struct stat *st, const char *path, const char **first)
{
	*first = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) {
			*first = s->v[i].path;
			return 0;
		}
	if (GROW(s->v, s->n + 1, s->cap))
		return -1;
	s->v[s->n].path = strdup(path);
	if (!s->v[s->n].path)
		return -1;
	s->v[s->n].dev = st->st_dev;
	s->v[s->n].ino = st->st_ino;
	s->n++;
	return 0;
}

static void walked_release(struct walked *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

/* What a walk gathers and what it had to say. */
struct walk {
	struct paths *out; /* the files to import */
	struct walked seen; /* folders entered so far */
	FILE *msg;         /* where skipped names are reported */
	int skipped;       /* files named *.csv or *.zip that will not be read */
	int cannot_open;   /* of those, the ones that could not be opened (exit 4) */
};

/* What kind of thing, not a regular file or a folder, st is. */
static const char *file_kind(const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return "a FIFO (named pipe)";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	return "not a regular file";
}

static int walk_dir(struct walk *w, const char *dir, struct mb_error *err);

/* Print fmt with a and b (two %s) shown escaped. Out of line: the walk
 * recurses once per folder level, and its frames keep no name buffers. */
static void __attribute__((noinline, format(printf, 2, 0)))
say(FILE *msg, const char *fmt, const char *a, const char *b)
{
	char sa[MB_SHOWN_MAX], sb[MB_SHOWN_MAX];

	fprintf(msg, fmt, mb_shown(a, sa, sizeof(sa)), mb_shown(b, sb, sizeof(sb)));
}

/* Add path (stat'ed as st) to the walk: a folder is walked once, a regular
 * .csv or .zip file listed; a FIFO, device or socket is never opened (a FIFO
 * would block the import for ever). Return 0 or -MB_ENOMEM. */
static int walk_add(struct walk *w, const char *path, const struct stat *st, int named,
		    struct mb_error *err)
{
	const char *first;

	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)) {
		if (named || has_ext(path, ".csv") || has_ext(path, ".zip")) {
			say(w->msg, "microbeat: %s: %s, not a regular file; not opened\n", path,
			    file_kind(st));
			w->skipped++;
		}
		return 0;
	}
	if (!S_ISDIR(st->st_mode) && !named && !has_ext(path, ".csv") && !has_ext(path, ".zip")) {
		say(w->msg, "microbeat: %s: not a .csv or .zip file; ignored%s\n", path, "");
		return 0;
	}
	if (!S_ISDIR(st->st_mode))
		return paths_add(w->out, path) ? mb_err(err, MB_ENOMEM, "out of memory") : 0;
	if (walked_check(&w->seen, st, path, &first))
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (first) {
		say(w->msg, "microbeat: %s: folder already walked as '%s' (a symbolic link loop or a"
			    " second link); not walked again\n", path, first);
		return 0;
	}
	return walk_dir(w, path, err);
}

/* Add the .csv and .zip files under dir (recursively, sorted). */
static int walk_dir(struct walk *w, const char *dir, struct mb_error *err)
{
	DIR *d = opendir(dir);
	struct paths here = { 0 };
	struct dirent *de;
	int r = 0;

	if (!d) {
		say(w->msg, "microbeat: cannot open folder '%s': %s\n", dir, strerror(errno));
		w->skipped++;
		w->cannot_open++;
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		char *p = malloc(len);

		if (!p) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		snprintf(p, len, "%s/%s", dir, de->d_name);
		if (paths_add(&here, p)) {
			free(p);
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		free(p);
	}
	closedir(d);
	qsort(here.v, here.n, sizeof(*here.v), cmp_str);
	for (size_t i = 0; !r && i < here.n; i++) {
		struct stat st;

		/* stat follows symbolic links: a link to a folder is walked (once) */
		if (stat(here.v[i], &st) != 0) {
			say(w->msg, "microbeat: cannot open '%s': %s\n", here.v[i], strerror(errno));
			w->skipped++;
			w->cannot_open++;
			continue;
		}
		r = walk_add(w, here.v[i], &st, 0, err);
	}
	paths_release(&here);
	return r;
}

/* Import the .csv entries of a zip, each as its own file. */
static int ingest_zip(struct ingest_run *run, const char *path, struct mb_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char shown[MB_SHOWN_MAX];
	int r = 0, rc, bad = 0, csvs = 0, others = 0;

	if (!a)
		return mb_err(err, MB_ENOMEM, "out of memory");
	archive_read_support_format_zip(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		fprintf(run->o->msg, "microbeat: %s: cannot open archive: %s\n",
			mb_shown(path, shown, sizeof(shown)), archive_error_string(a));
		run->sum->files_skipped++;
		archive_read_free(a);
		return -MB_EDATA;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *en = archive_entry_pathname(e);

		if (archive_entry_filetype(e) != AE_IFREG || !en)
			continue;
		if (!has_ext(en, ".csv")) {
			/* an archive inside the archive is not opened: say so, as for
			 * any other file that is not a .csv */
			char shown2[MB_SHOWN_MAX];

			fprintf(run->o->msg, "microbeat: %s:%s: %s; ignored\n",
				mb_shown(path, shown, sizeof(shown)), mb_shown(en, shown2, sizeof(shown2)),
				has_ext(en, ".zip") ? "an archive inside the archive is not opened"
						    : "not a .csv file");
			others++;
			continue;
		}
		csvs++;
		size_t len = strlen(path) + strlen(en) + 2;
		char *name = malloc(len);

		if (!name) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		snprintf(name, len, "%s:%s", path, en);
		struct input in = { .ar = a, .name = name };
		int one = ingest_one(run, &in, name, err);

		free(name);
		if (one == -MB_EDATA || one == -MB_EIO) {
			bad = 1;
			if (one == -MB_EIO)
				break; /* the archive stream is broken: stop reading it */
			continue;
		}
		if (one) {
			r = one;
			break;
		}
	}
	if (!r && rc != ARCHIVE_EOF && rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
		fprintf(run->o->msg, "microbeat: %s: truncated or corrupt archive: %s\n",
			mb_shown(path, shown, sizeof(shown)),
			archive_error_string(a) ? archive_error_string(a) : "read error");
		run->sum->files_skipped++;
		bad = 1;
	} else if (!r && !csvs) {
		/* nothing imported from it is never silent */
		fprintf(run->o->msg, "microbeat: %s: no .csv file in the archive (%d other %s"
				     " ignored); nothing imported from it\n",
			mb_shown(path, shown, sizeof(shown)), others, others == 1 ? "entry" : "entries");
		run->sum->files_skipped++;
		bad = 1;
	}
	archive_read_free(a);
	return r ? r : bad ? -MB_EDATA : 0;
}

/* SHA-256 of the rest of fp; 0 or -1. */
static int sha256_file(FILE *fp, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char buf[1 << 16];
	size_t n;
	unsigned int len = 0;
	int ok;

	if (!c)
		return -1;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		ok = EVP_DigestUpdate(c, buf, n);
	ok = ok && !ferror(fp) && EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/* Open path for reading if it is (still) a regular file: opened without
 * blocking, so a FIFO put in its place since the walk cannot hang the
 * import. Return the stream, or NULL with errno set (EINVAL: not regular). */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e;
	struct stat st;
	FILE *fp;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 || !(fp = fdopen(fd, "rb")))
		goto fail;
	return fp;
fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

/* Import one plain CSV file; *cannot_open counts it when it cannot be opened. */
static int ingest_csv(struct ingest_run *run, const char *path, int64_t size, int *cannot_open,
		      struct mb_error *err)
{
	FILE *fp = open_regular(path);
	char shown[MB_SHOWN_MAX];

	if (!fp) {
		fprintf(run->o->msg, "microbeat: cannot open '%s': %s\n",
			mb_shown(path, shown, sizeof(shown)),
			errno == EINVAL ? "not a regular file" : strerror(errno));
		run->sum->files_skipped++;
		(*cannot_open)++;
		return -MB_EIO;
	}
	struct input in = { .fp = fp, .name = path };
	const char *base = strrchr(path, '/');
	int seen = 0, r;

	/* a file of the same name and size was imported before: hash it first,
	 * so that re-importing a folder skips unchanged files without parsing */
	if ((r = store_import_seen(run->s, base ? base + 1 : path, size, &seen, err)))
		goto cleanup;
	if (seen) {
		uint8_t sha[32];
		int64_t same = 0;

		if (sha256_file(fp, sha) == 0 &&
		    (r = store_import_by_sha(run->s, sha, &same, err)) == 0 && same) {
			run->sum->files_unchanged++;
			if (!run->o->quiet)
				fprintf(run->o->out,
					"%s: unchanged (same SHA-256 as import #%lld): nothing to do\n",
					mb_shown(path, shown, sizeof(shown)), (long long)same);
			progress_add(run->progress, (uint64_t)size);
			goto cleanup;
		}
		if (r)
			goto cleanup;
		rewind(fp);
	}
	r = ingest_one(run, &in, path, err);
cleanup:
	fclose(fp);
	return r;
}

int ingest_paths(struct store *s, const char *const *argv, int n, const struct ingest_opts *o,
		 struct ingest_summary *sum, struct mb_error *err)
{
	struct ingest_run run = { .s = s, .o = o, .sum = sum };
	struct paths files = { 0 };

	pthread_mutex_init(&run.chain_mu, NULL);
	int64_t total = 0, *sizes = NULL;
	int r = 0, data = 0, cannot_open = 0;
	struct walk walk = { .out = &files, .msg = o->msg };

	memset(sum, 0, sizeof(*sum));
	run.source_name = o->source_name;
#ifdef __GLIBC__
	/* one malloc arena for all threads: with an arena a parser thread, the
	 * memory each frees stays in its own arena, and two parses at once took
	 * the peak from ~170 to ~235 MB (docs/performance.md); they allocate
	 * little once their batches are grown, so sharing costs no time */
	mallopt(M_ARENA_MAX, 1);
	/* and what is freed stays for reuse: a file's batches, read buffers and
	 * small dictionaries are freed when it is done and made again for the
	 * next; given back to the kernel (trimmed, or unmapped past the mmap
	 * threshold) they were faulted in again, zeroed, 516 times over (~80 k
	 * page faults an import of the national bench, ~29 k with these) */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
#endif
	for (int i = 0; i < n && !r; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			char shown[MB_SHOWN_MAX];

			fprintf(o->msg, "microbeat: cannot open '%s': %s\n",
				mb_shown(argv[i], shown, sizeof(shown)), strerror(errno));
			walk.skipped++;
			walk.cannot_open++;
			continue;
		}
		r = walk_add(&walk, argv[i], &st, 1, err);
	}
	sum->files_skipped += walk.skipped;
	cannot_open = walk.cannot_open;
	data = walk.skipped > 0;
	walked_release(&walk.seen);
	if (r)
		goto cleanup;
	sizes = calloc(files.n + 1, sizeof(*sizes));
	if (!sizes) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < files.n; i++) {
		struct stat st;

		sizes[i] = stat(files.v[i], &st) == 0 ? st.st_size : 0;
		total += sizes[i];
	}
	if ((r = ingest_agency_open(&run, err)))
		goto cleanup;
	if ((r = dims_reload(&run, err)))
		goto cleanup;
	/* checkpoint the WAL every 64 MB rather than every 4 MB: fewer fsyncs while
	 * many files land; the store checkpoints what is left when it closes */
	store_bulk_mode(s, 1);
	run.progress = progress_new(total, !o->progress);
	run.files = (const char *const *)files.v;
	run.sizes = sizes;
	run.nfiles = files.n;
	/* which files may be parsed ahead: plain CSV files never seen (by name
	 * and size; a seen one is hashed first, and may not need parsing) */
	if (!run.agency && (run.eligible = calloc(files.n ? files.n : 1, 1))) {
		for (size_t i = 0; i < files.n; i++) {
			const char *base = strrchr(files.v[i], '/');
			struct mb_error e = { 0 };
			int seen = 1;

			/* a failure here only means no parse-ahead */
			if (has_ext(files.v[i], ".csv") &&
			    store_import_seen(s, base ? base + 1 : files.v[i], sizes[i], &seen, &e) == 0)
				run.eligible[i] = !seen;
		}
	}
	for (size_t i = 0; i < files.n; i++) {
		int one;

		run.cur = i;
		run.ahead_ok = !has_ext(files.v[i], ".zip");
		if (ingest_ahead_next(&run) == i)
			one = ingest_ahead(&run, err);
		else if (!run.ahead_ok)
			one = ingest_zip(&run, files.v[i], err);
		else
			one = ingest_csv(&run, files.v[i], sizes[i], &cannot_open, err);
		if (one == -MB_EDATA || one == -MB_EIO) {
			/* reported where it happened (once): the run goes on */
			data = 1;
			if (err)
				*err = (struct mb_error){ 0 };
			continue;
		}
		if (one) {
			r = one;
			break;
		}
	}
	ingest_ahead_drop(&run);
	if (getenv("MICROBEAT_TIMING"))
		fprintf(stderr,
			"timing: writer waiting %.2f s, snap points %.2f s, inserts %.2f s, commits"
			" %.2f s; parsers %.2f s CPU\n",
			run.t.wait, run.t.resolve, run.t.write, run.t.commit,
			(double)run.t.parse_ns / 1e9);
	progress_draw(run.progress, 1);
	progress_free(run.progress);
	store_bulk_mode(s, 0);
cleanup:
	ingest_ahead_drop(&run);
	store_dims_release(&run.dims);
	free(run.wkey);
	free(run.wnorm);
	free(run.lk);
	free(run.nst);
	free(run.nloc);
	free(run.nnames);
	free(run.eligible);
	pthread_mutex_destroy(&run.chain_mu);
	ingest_agency_close(&run);
	paths_release(&files);
	free(sizes);
	if (r)
		return r;
	/* an input that could not be opened at all is an I/O failure (exit 4),
	 * though the others were imported */
	if (cannot_open)
		return -MB_EIO;
	return data || run.any_rejects ? -MB_EDATA : 0;
}

int ingest_stream(struct store *s, FILE *fp, const char *name, const struct ingest_opts *o,
		  struct ingest_summary *sum, struct mb_error *err)
{
	struct ingest_run run = { .s = s, .o = o, .sum = sum };
	struct input in = { .fp = fp, .name = name };
	int r;

	pthread_mutex_init(&run.chain_mu, NULL);
	memset(sum, 0, sizeof(*sum));
	run.source_name = o->source_name;
	if ((r = ingest_agency_open(&run, err)) || (r = dims_reload(&run, err)))
		goto cleanup;
	r = ingest_one(&run, &in, name, err);
	if (!r && run.any_rejects)
		r = -MB_EDATA;
cleanup:
	store_dims_release(&run.dims);
	free(run.wkey);
	free(run.wnorm);
	free(run.lk);
	free(run.nst);
	free(run.nloc);
	free(run.nnames);
	pthread_mutex_destroy(&run.chain_mu);
	ingest_agency_close(&run);
	return r;
}
