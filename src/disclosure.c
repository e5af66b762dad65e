/* disclosure — primary and secondary suppression of published count tables. */
#include <stdlib.h>
#include <string.h>

#include "microbeat/disclosure.h"

/* The table being protected. */
struct sdc {
	const int64_t *v;     /* counts, row-major */
	unsigned char *st;    /* state per cell */
	size_t nr, nc;        /* shape */
	int64_t n;            /* threshold */
	unsigned char *seen;  /* BFS marks over nr + nc nodes */
	size_t *queue;        /* BFS queue, nr + nc nodes */
};

/* Candidate order: non-zero before zero, then smaller, then earlier. */
static int better(const struct sdc *s, size_t a, size_t best)
{
	if (best == SIZE_MAX)
		return 1;
	int za = s->v[a] == 0, zb = s->v[best] == 0;
	if (za != zb)
		return zb;
	if (s->v[a] != s->v[best])
		return s->v[a] < s->v[best];
	return a < best;
}

/* Fix rows (by_row) or columns whose suppression is one cell or sums below n.
 * Return 1 when a cell was added. */
static int fix_lines(struct sdc *s, int by_row)
{
	size_t nl = by_row ? s->nr : s->nc, len = by_row ? s->nc : s->nr;
	for (size_t l = 0; l < nl; l++) {
		size_t k = 0, best = SIZE_MAX;
		int64_t sum = 0;
		for (size_t m = 0; m < len; m++) {
			size_t i = by_row ? l * s->nc + m : m * s->nc + l;
			if (s->st[i]) {
				k++;
				sum += s->v[i];
			} else if (better(s, i, best)) {
				best = i;
			}
		}
		if (k == 0 || (k >= 2 && sum >= s->n) || best == SIZE_MAX)
			continue;
		s->st[best] = DISCLOSE_SECONDARY;
		return 1;
	}
	return 0;
}

/* Fix rows (by_row) or columns where a hidden cell is pinned by the bounds
 * an attacker knows: a "<N" cell lies in 1..N-1, an "x" cell is at least 0,
 * and the line's hidden cells sum to its total less its shown cells. A line
 * of seven 1s shown as "<5" beside a total seven more than its shown cells
 * has every one of them 1 (the sum rule alone let it pass). A cell's range
 * within its line is [max(lb, S - sum of the others' ub), min(ub, S - sum of
 * the others' lb)]; when it closes, the line's best non-zero shown cell is
 * hidden too (an "x" has no upper bound, so it gives every cell room; a zero
 * would give none). Return 1 when a cell was added. */
static int fix_bounds(struct sdc *s, int by_row)
{
	size_t nl = by_row ? s->nr : s->nc, len = by_row ? s->nc : s->nr;
	for (size_t l = 0; l < nl; l++) {
		size_t best = SIZE_MAX, unbounded = 0, k = 0;
		int64_t sum = 0, lb = 0, ub = 0;
		for (size_t m = 0; m < len; m++) {
			size_t i = by_row ? l * s->nc + m : m * s->nc + l;
			if (s->st[i] == DISCLOSE_PRIMARY) {
				k++, sum += s->v[i], lb += 1, ub += s->n - 1;
			} else if (s->st[i]) {
				k++, sum += s->v[i], unbounded++;
			} else if (s->v[i] > 0 && better(s, i, best)) {
				best = i;
			}
		}
		if (k == 0 || best == SIZE_MAX)
			continue;
		int pinned = 0;
		for (size_t m = 0; m < len && !pinned; m++) {
			size_t i = by_row ? l * s->nc + m : m * s->nc + l;
			if (!s->st[i])
				continue;
			int prim = s->st[i] == DISCLOSE_PRIMARY;
			int64_t lbi = prim ? 1 : 0, ubi = prim ? s->n - 1 : INT64_MAX;
			/* the others' bounds: unbounded above when another "x" is hidden */
			int others_unb = unbounded > (size_t)!prim;
			int64_t lo = others_unb ? lbi : sum - (ub - (prim ? ubi : 0));
			int64_t hi = sum - (lb - lbi);
			if (lo < lbi)
				lo = lbi;
			if (hi > ubi)
				hi = ubi;
			pinned = lo >= hi;
		}
		if (!pinned)
			continue;
		s->st[best] = DISCLOSE_SECONDARY;
		return 1;
	}
	return 0;
}

/* Mark in s->seen the nodes reachable from node start over suppressed cells,
 * leaving out the cell skip. Nodes: rows 0..nr-1, columns nr..nr+nc-1. */
static void reach(struct sdc *s, size_t start, size_t skip)
{
	size_t head = 0, tail = 0;
	memset(s->seen, 0, s->nr + s->nc);
	s->seen[start] = 1;
	s->queue[tail++] = start;
	while (head < tail) {
		size_t u = s->queue[head++];
		size_t len = u < s->nr ? s->nc : s->nr;
		for (size_t m = 0; m < len; m++) {
			size_t i = u < s->nr ? u * s->nc + m : m * s->nc + (u - s->nr);
			size_t w = u < s->nr ? s->nr + m : m;
			if (i == skip || !s->st[i] || s->seen[w])
				continue;
			s->seen[w] = 1;
			s->queue[tail++] = w;
		}
	}
}

/* Find the first suppressed cell the margins determine (a bridge) and
 * suppress the best cell joining its two sides. Return 1 when one was added. */
static int fix_bridge(struct sdc *s)
{
	for (size_t i = 0; i < s->nr * s->nc; i++) {
		if (!s->st[i])
			continue;
		size_t r = i / s->nc, c = i % s->nc;
		reach(s, r, i);
		if (s->seen[s->nr + c])
			continue; /* on a cycle: it can move */
		/* seen = side A (with row r); side B holds column c, and every node
		 * unseen in the component; joining any A node to any unseen node
		 * not in A closes a cycle through cell i when that node is in B.
		 * Restrict to B: the nodes reachable from column c without i. */
		unsigned char *a = malloc(s->nr + s->nc);
		if (!a)
			return -1;
		memcpy(a, s->seen, s->nr + s->nc);
		reach(s, s->nr + c, i);
		size_t best = SIZE_MAX;
		for (size_t rr = 0; rr < s->nr; rr++)
			for (size_t cc = 0; cc < s->nc; cc++) {
				size_t j = rr * s->nc + cc;
				if (s->st[j])
					continue;
				int join = (a[rr] && s->seen[s->nr + cc]) ||
					   (s->seen[rr] && a[s->nr + cc]);
				if (join && better(s, j, best))
					best = j;
			}
		free(a);
		if (best == SIZE_MAX)
			continue; /* cannot be joined (no cell left): leave it */
		s->st[best] = DISCLOSE_SECONDARY;
		return 1;
	}
	return 0;
}

int disclosure_suppress(const int64_t *cells, size_t nr, size_t nc, int64_t n,
			unsigned char *state, struct mb_error *err)
{
	struct sdc s = { .v = cells, .st = state, .nr = nr, .nc = nc, .n = n };
	int r = 0;

	if (n < 1)
		return mb_err(err, MB_EUSAGE, "disclosure threshold must be at least 1");
	for (size_t i = 0; i < nr * nc; i++) {
		if (cells[i] < 0)
			return mb_err(err, MB_EUSAGE, "a count to publish is negative");
		state[i] = cells[i] >= 1 && cells[i] < n ? DISCLOSE_PRIMARY : DISCLOSE_SHOWN;
	}
	if (nr == 0 || nc == 0)
		return 0;
	s.seen = malloc(nr + nc);
	s.queue = malloc((nr + nc) * sizeof *s.queue);
	if (!s.seen || !s.queue) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (;;) {
		if (nc > 1 && fix_lines(&s, 1))
			continue;
		if (nr > 1 && fix_lines(&s, 0))
			continue;
		if (nc > 1 && fix_bounds(&s, 1))
			continue;
		if (nr > 1 && fix_bounds(&s, 0))
			continue;
		if (nr > 1 && nc > 1) {
			int b = fix_bridge(&s);
			if (b < 0) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			if (b)
				continue;
		}
		break;
	}
cleanup:
	free(s.seen);
	free(s.queue);
	return r;
}
