/* assess_html — report.md to one self-contained report.html (libcmark-gfm). */
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/assess.h"
#include "microbeat/emit.h"
#include "microbeat/util.h"

/* The page's only style: readable on screen and on paper. */
static const char CSS[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
	"max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}"
	"h1{border-bottom:3px solid #1d4e89;padding-bottom:.3rem}"
	"h2{border-bottom:1px solid #ccc;margin-top:2.2rem;color:#1d4e89}"
	"table{border-collapse:collapse;margin:1rem 0;font-size:.85rem;display:block;overflow-x:auto}"
	"th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}"
	"th{background:#eef2f7;text-align:left}tr:nth-child(even) td{background:#fafafa}"
	"svg{max-width:100%;height:auto;display:block;margin:1rem 0}"
	"pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:.8rem}"
	"code{font-size:.9em}"
	"@media print{body{max-width:none}h2{page-break-before:always}}";

/* Read the whole file at path; NULL on failure. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (GROW(buf, len + 65536 + 1, cap)) {
			free(buf);
			fclose(f);
			return NULL;
		}
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	*n = len;
	return buf;
}

/* Write the SVG text s (n bytes) inline: no XML declaration or doctype, and
 * every id="X", href="#X" and url(#X) (either quote) prefixed with "cK-" so that two charts'
 * ids never collide. */
static int put_svg(const char *s, size_t n, unsigned k, FILE *f)
{
	const char *p = strstr(s, "<svg");
	if (!p)
		return -1;
	const char *end = s + n;
	char pre[16];
	snprintf(pre, sizeof pre, "c%u-", k);
	static const char *const pats[] = { "id=\"", "id='", "href=\"#", "href='#", "url(#" };
	/* each pattern's next place, found again only once passed: searching for
	 * every pattern from every match scanned the rest of the chart each time
	 * (a map of 24,709 points took minutes) */
	const char *next[ARRAY_SIZE(pats)];
	for (size_t i = 0; i < ARRAY_SIZE(pats); i++)
		next[i] = strstr(p, pats[i]);
	while (p < end) {
		const char *best = NULL;
		size_t blen = 0;
		for (size_t i = 0; i < ARRAY_SIZE(pats); i++) {
			if (next[i] && next[i] < p)
				next[i] = strstr(p, pats[i]);
			const char *q = next[i];
			if (q && (!best || q < best)) {
				best = q;
				blen = strlen(pats[i]);
			}
		}
		if (!best || best >= end) {
			if (fwrite(p, 1, (size_t)(end - p), f) != (size_t)(end - p))
				return -1;
			break;
		}
		if (fwrite(p, 1, (size_t)(best - p) + blen, f) != (size_t)(best - p) + blen ||
		    fputs(pre, f) == EOF)
			return -1;
		p = best + blen;
	}
	return 0;
}

/* Is rel a safe relative path to an .svg inside the pack? */
static int svg_path_ok(const char *rel)
{
	size_t n = strlen(rel);
	if (n < 5 || rel[0] == '/' || strstr(rel, "..") || strcmp(rel + n - 4, ".svg") != 0)
		return 0;
	for (const char *p = rel; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

int assess_render_html(const char *md, size_t len, const char *title, const char *pack_dir,
		       FILE *f, struct mb_error *err)
{
	int r = 0;
	char *html = NULL;
	cmark_parser *ps = NULL;
	cmark_node *doc = NULL;
	unsigned k = 0;

	cmark_gfm_core_extensions_ensure_registered();
	ps = cmark_parser_new(CMARK_OPT_DEFAULT);
	cmark_syntax_extension *table = cmark_find_syntax_extension("table");
	if (!ps || !table || !cmark_parser_attach_syntax_extension(ps, table)) {
		r = mb_err(err, MB_ENOMEM, "cannot set up the Markdown renderer");
		goto cleanup;
	}
	cmark_parser_feed(ps, md, len);
	doc = cmark_parser_finish(ps);
	if (!doc) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	html = cmark_render_html(doc, CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(ps));
	/* the tree is done with: a national pack's 25k-row tables are ~90 MB of
	 * nodes, not to be held while the charts are inlined */
	cmark_node_free(doc);
	doc = NULL;
	cmark_parser_free(ps);
	ps = NULL;
	if (!html) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
		  f) == EOF ||
	    emit_html_escape(title, f, err) ||
	    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", CSS) < 0) {
		r = mb_err(err, MB_EIO, "error writing report.html: %s", strerror(errno));
		goto cleanup;
	}
	/* cmark writes an image as <img src="URL" alt="TEXT" />: swap each one
	 * for the chart itself */
	const char *p = html;
	for (;;) {
		const char *img = strstr(p, "<img src=\"");
		if (!img) {
			if (fputs(p, f) == EOF)
				r = mb_err(err, MB_EIO, "error writing report.html");
			break;
		}
		const char *src = img + 10, *q = strchr(src, '"');
		const char *close = q ? strstr(q, "/>") : NULL;
		if (!q || !close) {
			r = mb_err(err, MB_EDATA, "report.html: malformed image");
			break;
		}
		char rel[512];
		size_t rl = (size_t)(q - src);
		if (rl >= sizeof rel) {
			r = mb_err(err, MB_EDATA, "report.html: image path too long");
			break;
		}
		memcpy(rel, src, rl);
		rel[rl] = 0;
		if (!svg_path_ok(rel)) {
			r = mb_err(err, MB_EDATA, "report.html: image '%s' is not a chart in the pack",
				   rel);
			break;
		}
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", pack_dir, rel);
		size_t n = 0;
		char *svg = slurp(path, &n);
		if (!svg) {
			r = mb_err(err, MB_EIO, "%s: cannot read the chart", path);
			break;
		}
		fwrite(p, 1, (size_t)(img - p), f);
		int w = put_svg(svg, n, k++, f);
		free(svg);
		if (w) {
			r = mb_err(err, MB_EDATA, "%s: not an SVG chart", path);
			break;
		}
		p = close + 2;
	}
	if (!r && (fputs("</body>\n</html>\n", f) == EOF || fflush(f) || ferror(f)))
		r = mb_err(err, MB_EIO, "error writing report.html: %s", strerror(errno));
cleanup:
	if (html)
		free(html); /* cmark's default allocator is malloc */
	if (doc)
		cmark_node_free(doc);
	if (ps)
		cmark_parser_free(ps);
	return r;
}
