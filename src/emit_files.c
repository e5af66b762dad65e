/*
 * emit_files — output that appears whole or not at all: one file written
 * beside its final name and renamed into place (emit_open_atomic ...), a
 * command's output folder built in a temporary folder and swapped in
 * (emit_dir_begin ...), and the tables and GeoJSON saved that way. See
 * include/microbeat/emit.h and docs/output.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microbeat/emit.h"

/* ---- atomic files ---------------------------------------------------------- */

int emit_name_ok(const char *name)
{
	size_t n;

	if (!name || !name[0] || name[0] == '.')
		return 0;
	n = strlen(name);
	if (n > 200)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7F)
			return 0;
	}
	return 1;
}

/* Return a newly allocated "a" "b" "c" (any of b, c may be ""), or NULL. */
static char *str_join3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* fsync the folder dir so that a rename inside it is durable. Filesystems
 * that cannot sync a folder (EINVAL) are accepted. */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = -1;
	close(fd);
	return rc;
}

/* Free af's paths and clear it. */
static void af_release(struct emit_file *af)
{
	free(af->tmp_path);
	free(af->final_path);
	memset(af, 0, sizeof(*af));
}

int emit_open_atomic(const char *dir, const char *name, struct emit_file *af,
	struct mb_error *err)
{
	char *base = NULL;
	int fd = -1, rc = 0;

	memset(af, 0, sizeof(*af));
	if (!dir || !emit_name_ok(name))
		return mb_err(err, MB_EUSAGE, "unsafe output file name '%s'", name ? name : "");
	af->final_path = str_join3(dir, "/", name);
	base = str_join3(dir, "/.", name);
	af->tmp_path = base ? str_join3(base, ".tmp", "") : NULL;
	if (!af->final_path || !af->tmp_path) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* O_EXCL|O_NOFOLLOW: never write through a planted symlink; a stale
	 * temporary from a killed run is removed and the open retried once. */
	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST && attempt == 0 && unlink(af->tmp_path) != 0)
			break;
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = mb_err(err, MB_EIO, "cannot create '%s': %s", af->tmp_path, strerror(errno));
		goto cleanup;
	}
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		rc = mb_err(err, MB_EIO, "cannot open '%s': %s", af->tmp_path, strerror(errno));
		close(fd);
		unlink(af->tmp_path);
		goto cleanup;
	}
cleanup:
	free(base);
	if (rc)
		af_release(af);
	return rc;
}

int emit_commit_atomic(struct emit_file *af, struct mb_error *err)
{
	int rc = 0;
	FILE *fp = af->fp;

	af->fp = NULL;
	if (!fp || !af->tmp_path) {
		af_release(af);
		return mb_err(err, MB_EUSAGE, "file is not open");
	}
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		rc = mb_err(err, MB_EIO, "cannot write '%s': %s", af->final_path, strerror(errno));
		fclose(fp);
		goto fail;
	}
	if (fclose(fp) != 0) {
		rc = mb_err(err, MB_EIO, "cannot write '%s': %s", af->final_path, strerror(errno));
		goto fail;
	}
	if (rename(af->tmp_path, af->final_path) != 0) {
		rc = mb_err(err, MB_EIO, "cannot rename '%s' to '%s': %s", af->tmp_path,
			af->final_path, strerror(errno));
		goto fail;
	}
	{
		char *slash = strrchr(af->final_path, '/');

		*slash = '\0';
		if (fsync_dir(af->final_path[0] ? af->final_path : "/") != 0)
			rc = mb_err(err, MB_EIO, "cannot sync folder '%s': %s", af->final_path,
				strerror(errno));
	}
	af_release(af);
	return rc;
fail:
	unlink(af->tmp_path);
	af_release(af);
	return rc;
}

void emit_abort_atomic(struct emit_file *af)
{
	if (!af)
		return;
	if (af->fp)
		fclose(af->fp);
	if (af->tmp_path)
		unlink(af->tmp_path);
	af_release(af);
}

int emit_subdir(const char *dir, const char *name, char **path, struct mb_error *err)
{
	struct stat st;

	*path = NULL;
	if (!dir || !emit_name_ok(name))
		return mb_err(err, MB_EUSAGE, "unsafe folder name '%s'", name ? name : "");
	*path = str_join3(dir, "/", name);
	if (!*path)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if (mkdir(*path, 0777) == 0)
		return 0;
	if (errno == EEXIST && lstat(*path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	mb_err(err, MB_EIO, "cannot create folder '%s': %s", *path, strerror(errno));
	free(*path);
	*path = NULL;
	return -MB_EIO;
}

/* ---- pack folders ---------------------------------------------------------- */

/* Return a copy of dir without trailing slashes, or NULL (err set) when
 * empty, the root, or ending in "." or "..". */
static char *dir_clean(const char *dir, struct mb_error *err)
{
	size_t n = dir ? strlen(dir) : 0;
	const char *last;
	char *d;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && dir[0] == '/')) {
		mb_err(err, MB_EUSAGE, "bad output folder '%s'", dir ? dir : "");
		return NULL;
	}
	d = strndup(dir, n);
	if (!d) {
		mb_err(err, MB_ENOMEM, "out of memory");
		return NULL;
	}
	last = strrchr(d, '/');
	last = last ? last + 1 : d;
	if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		mb_err(err, MB_EUSAGE, "bad output folder '%s'", dir);
		free(d);
		return NULL;
	}
	return d;
}

/* Remove parent/name and, when it is a folder, everything under it; symlinks
 * are removed, never followed. Return 0, or -1 with errno set. */
static int rm_tree_at(int parent, const char *name)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int fd, rc = 0, saved = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (rm_tree_at(dirfd(d), e->d_name) != 0 && !saved) {
			saved = errno;
			rc = -1;
		}
	}
	if (errno && !saved) {
		saved = errno;
		rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && !saved) {
		saved = errno;
		rc = -1;
	}
	errno = saved;
	return rc;
}

/* Non-zero when dir is a folder holding EMIT_PACK_MARKER. */
static int is_pack(const char *dir)
{
	struct stat st;
	char *m = str_join3(dir, "/", EMIT_PACK_MARKER);
	int ok;

	if (!m)
		return 0;
	ok = lstat(m, &st) == 0 && S_ISREG(st.st_mode);
	free(m);
	return ok;
}

/* Non-zero when dir is a folder with no entries (errors count as not empty). */
static int is_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	for (;;) {
		e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* Make the folders above path (mkdir -p of its parent). 0, or -1 with errno. */
static int make_parents(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -1;
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*q = '/';
	}
	free(p);
	return rc;
}

/* The marker of the pack this process is writing, held open with an
 * exclusive flock until emit_dir_finish: the lock dies with the process, so
 * an unfinished folder whose marker can be locked is a killed run's. */
static int writing_fd = -1;

/* Remove the unfinished folders "<final>.tmp.XXXXXX" of killed runs (their
 * marker not locked by a live writer). Best effort: errors are ignored. */
static void remove_stale(const char *fin)
{
	const char *slash = strrchr(fin, '/');
	char *parent = slash ? strndup(fin, slash == fin ? 1 : (size_t)(slash - fin)) : strdup(".");
	const char *base = slash ? slash + 1 : fin;
	size_t bl = strlen(base);
	DIR *d = parent ? opendir(parent) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, base, bl) != 0 || strncmp(e->d_name + bl, ".tmp.", 5) != 0 ||
		    strlen(e->d_name + bl + 5) != 6)
			continue;
		char *dir = str_join3(parent, "/", e->d_name);
		char *m = dir ? str_join3(dir, "/", EMIT_PACK_MARKER) : NULL;
		int fd = m ? open(m, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (dfd >= 0) {
				rm_tree_at(dfd, e->d_name);
				close(dfd);
			}
		}
		if (fd >= 0)
			close(fd);
		free(m);
		free(dir);
	}
	if (d)
		closedir(d);
	free(parent);
}

int emit_dir_begin(const char *final_dir, char **tmpdir, struct mb_error *err)
{
	char *fin = NULL, *tmp = NULL, *marker = NULL;
	struct stat st;
	int fd, rc = 0;

	*tmpdir = NULL;
	fin = dir_clean(final_dir, err);
	if (!fin)
		return err ? -err->code : -MB_EUSAGE;
	/* say now, not after the work, when the folder could not be replaced */
	if (lstat(fin, &st) == 0 &&
	    (!S_ISDIR(st.st_mode) || (!is_pack(fin) && !is_empty_dir(fin)))) {
		rc = mb_err(err, MB_EUSAGE, "'%s' exists and is not a microbeat output folder: not"
			    " replacing it (give a new or empty folder)", fin);
		goto cleanup;
	}
	if (make_parents(fin) != 0) {
		rc = mb_err(err, MB_EIO, "cannot create the folders above '%s': %s", fin,
			    strerror(errno));
		goto cleanup;
	}
	tmp = str_join3(fin, ".tmp.XXXXXX", "");
	if (!tmp) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!mkdtemp(tmp)) {
		rc = mb_err(err, MB_EIO, "cannot create folder beside '%s': %s", fin,
			strerror(errno));
		goto cleanup;
	}
	marker = str_join3(tmp, "/", EMIT_PACK_MARKER);
	if (!marker) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		rmdir(tmp);
		goto cleanup;
	}
	fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    write(fd, "microbeat assessment pack\n", 26) != 26) {
		rc = mb_err(err, MB_EIO, "cannot create '%s': %s", marker, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(marker);
		rmdir(tmp);
		goto cleanup;
	}
	if (writing_fd >= 0)
		close(writing_fd);
	writing_fd = fd;
	remove_stale(fin); /* ours is locked: kept */
	*tmpdir = tmp;
	tmp = NULL;
cleanup:
	free(fin);
	free(tmp);
	free(marker);
	return rc;
}

int emit_dir_commit(const char *tmpdir, const char *final_dir, struct mb_error *err)
{
	char *fin = NULL, *aside = NULL, *parent = NULL;
	struct stat st;
	int rc = 0;

	fin = dir_clean(final_dir, err);
	if (!fin)
		return err ? -err->code : -MB_EUSAGE;
	if (!tmpdir || !is_pack(tmpdir)) {
		rc = mb_err(err, MB_EUSAGE, "'%s' is not a pack being written", tmpdir ? tmpdir : "");
		goto cleanup;
	}
	if (chmod(tmpdir, 0755) != 0) {
		rc = mb_err(err, MB_EIO, "cannot chmod '%s': %s", tmpdir, strerror(errno));
		goto cleanup;
	}
	if (lstat(fin, &st) != 0) {
		if (errno != ENOENT) {
			rc = mb_err(err, MB_EIO, "cannot inspect '%s': %s", fin, strerror(errno));
			goto cleanup;
		}
		if (rename(tmpdir, fin) != 0) {
			rc = mb_err(err, MB_EIO, "cannot rename '%s' to '%s': %s", tmpdir, fin,
				strerror(errno));
			goto cleanup;
		}
	} else {
		if (!S_ISDIR(st.st_mode) || (!is_pack(fin) && !is_empty_dir(fin))) {
			rc = mb_err(err, MB_EUSAGE, "'%s' exists and is not a microbeat pack: "
				"not replacing it", fin);
			goto cleanup;
		}
		/* Rename the old pack onto an empty placeholder (rename replaces an
		 * empty folder), put the new one in, then delete the old one. */
		aside = str_join3(fin, ".old.XXXXXX", "");
		if (!aside) {
			rc = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!mkdtemp(aside)) {
			rc = mb_err(err, MB_EIO, "cannot create folder beside '%s': %s", fin,
				strerror(errno));
			goto cleanup;
		}
		if (rename(fin, aside) != 0) {
			rc = mb_err(err, MB_EIO, "cannot move '%s' aside: %s", fin, strerror(errno));
			rmdir(aside);
			goto cleanup;
		}
		if (rename(tmpdir, fin) != 0) {
			rc = mb_err(err, MB_EIO, "cannot rename '%s' to '%s': %s", tmpdir, fin,
				strerror(errno));
			rename(aside, fin);
			goto cleanup;
		}
		if (rm_tree_at(AT_FDCWD, aside) != 0) {
			rc = mb_err(err, MB_EIO, "new pack is in '%s' but the old one could not be "
				"removed from '%s': %s", fin, aside, strerror(errno));
			goto cleanup;
		}
	}
	{
		char *slash = strrchr(fin, '/');

		parent = slash ? strndup(fin, slash == fin ? 1 : (size_t)(slash - fin)) : strdup(".");
		if (parent && fsync_dir(parent) != 0)
			rc = mb_err(err, MB_EIO, "cannot sync folder '%s': %s", parent,
				strerror(errno));
	}
cleanup:
	free(fin);
	free(aside);
	free(parent);
	return rc;
}

int emit_dir_finish(int rc, char *tmpdir, const char *final_dir, struct mb_error *err)
{
	if (!rc)
		rc = emit_dir_commit(tmpdir, final_dir, err);
	if (rc && tmpdir && is_pack(tmpdir))
		emit_dir_abort(tmpdir, NULL);
	free(tmpdir);
	if (writing_fd >= 0) {
		close(writing_fd);
		writing_fd = -1;
	}
	return rc;
}

int emit_dir_abort(const char *tmpdir, struct mb_error *err)
{
	if (!tmpdir || !is_pack(tmpdir))
		return mb_err(err, MB_EUSAGE, "'%s' is not a pack being written",
			tmpdir ? tmpdir : "");
	if (rm_tree_at(AT_FDCWD, tmpdir) != 0)
		return mb_err(err, MB_EIO, "cannot remove '%s': %s", tmpdir, strerror(errno));
	return 0;
}

int table_save_csv(const struct table *t, const char *dir, const char *name, struct mb_error *err)
{
	struct emit_file af;
	int r;

	if ((r = emit_open_atomic(dir, name, &af, err)))
		return r;
	if ((r = table_write_csv(t, af.fp, err))) {
		emit_abort_atomic(&af);
		return r;
	}
	return emit_commit_atomic(&af, err);
}

int emit_json_save(struct json_t *v, const char *dir, const char *name, struct mb_error *err)
{
	struct emit_file af;
	int r;

	if ((r = emit_open_atomic(dir, name, &af, err))) {
		json_decref(v);
		return r;
	}
	if (json_dumpf(v, af.fp, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0 || fputc('\n', af.fp) == EOF) {
		emit_abort_atomic(&af);
		json_decref(v);
		return mb_err(err, MB_EIO, "%s/%s: write error", dir, name);
	}
	json_decref(v);
	return emit_commit_atomic(&af, err);
}

/* A FeatureCollection's text before its features, and after them (none, or some). */
#define FEATURES_HEAD "{\n \"type\": \"FeatureCollection\",\n \"features\": ["
#define FEATURES_TAIL(n) ((n) ? "\n ]\n}\n" : "]\n}\n")

int emit_features_open(const char *dir, const char *name, struct emit_features *ef,
		       struct mb_error *err)
{
	int r;

	memset(ef, 0, sizeof(*ef));
	if ((r = emit_open_atomic(dir, name, &ef->af, err)))
		return r;
	fputs(FEATURES_HEAD, ef->af.fp);
	return 0;
}

int emit_features_open_mem(struct emit_features *ef, struct mb_error *err)
{
	memset(ef, 0, sizeof(*ef));
	if (!(ef->af.fp = open_memstream(&ef->buf, &ef->len)))
		return mb_err(err, MB_ENOMEM, "out of memory");
	fputs(FEATURES_HEAD, ef->af.fp);
	return 0;
}

int emit_features_save(struct emit_features *ef, const char *dir, const char *name,
		       struct mb_error *err)
{
	struct emit_file af;
	FILE *mem = ef->af.fp;
	int r, bad;

	ef->af.fp = NULL;
	if (!mem) {
		emit_features_discard(ef);
		return mb_err(err, MB_EUSAGE, "no features being built");
	}
	fputs(FEATURES_TAIL(ef->n), mem);
	bad = ferror(mem);
	/* buf and len are final once the stream is closed */
	if (fclose(mem) != 0 || bad) {
		emit_features_discard(ef);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	if ((r = emit_open_atomic(dir, name, &af, err))) {
		emit_features_discard(ef);
		return r;
	}
	fwrite(ef->buf, 1, ef->len, af.fp); /* a short write leaves the stream's error set */
	emit_features_discard(ef);
	return emit_commit_atomic(&af, err);
}

void emit_features_discard(struct emit_features *ef)
{
	if (ef->af.fp)
		fclose(ef->af.fp);
	ef->af.fp = NULL;
	free(ef->buf);
	ef->buf = NULL;
	ef->len = 0;
}

int emit_features_add(struct emit_features *ef, struct json_t *f, struct mb_error *err)
{
	/* the feature as jansson dumps it alone, each line moved in to its depth
	 * in the collection (a newline in JSON text is always this layout's:
	 * strings escape theirs) */
	char *txt = f ? json_dumps(f, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;

	size_t len, lines = 0, o = 0;
	char *out;

	json_decref(f);
	if (!txt)
		return mb_err(err, MB_ENOMEM, "out of memory");
	len = strlen(txt);
	for (const char *t = txt; (t = strchr(t, '\n')); t++)
		lines++;
	/* the feature moved in whole, then one write (a write a line cost more
	 * than jansson's dump: 0.1 s of a national list's 25k features) */
	if (!(out = malloc(len + 2 * lines + 1))) {
		free(txt);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < len; i++) {
		out[o++] = txt[i];
		if (txt[i] == '\n') {
			out[o++] = ' ';
			out[o++] = ' ';
		}
	}
	fputs(ef->n++ ? ",\n  " : "\n  ", ef->af.fp);
	fwrite(out, 1, o, ef->af.fp);
	free(out);
	free(txt);
	return 0;
}

int emit_features_close(struct emit_features *ef, struct mb_error *err)
{
	fputs(FEATURES_TAIL(ef->n), ef->af.fp);
	return emit_commit_atomic(&ef->af, err);
}
