/*
 * difflib.c - SequenceMatcher.ratio() of Python's difflib (difflib.h).
 *
 * Python builds b2j (where each element of b occurs), drops the "popular"
 * elements when b has 200 or more items (those occurring more than
 * len(b) // 100 + 1 times), then finds matching blocks recursively: the
 * longest common block of the current window (earliest in a, then in b, on
 * ties), extended over equal neighbours (popular ones included, since they
 * are not junk), then the same on both sides of it. Here the block search
 * is the same dynamic programme over a window, without the dictionaries.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "difflib.h"
#include "pyunicode.h"
#include "util.h"

struct matcher {
	const uint32_t	*a, *b;
	const bool	*popular;	/* popular[j]: b[j] is a popular element */
	size_t		*prev, *cur;	/* run lengths ending at b[j - 1], index j */
};

/* find_longest_match(alo, ahi, blo, bhi) */
static void
longest_match(struct matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi,
    size_t *bi, size_t *bj, size_t *bk)
{
	const uint32_t *a = m->a, *b = m->b;
	size_t besti = alo, bestj = blo, bestsize = 0;

	for (size_t j = blo; j <= bhi; j++)
		m->prev[j] = 0;
	for (size_t i = alo; i < ahi; i++) {
		size_t *t;

		m->cur[blo] = 0;	/* nothing ends before the window */
		for (size_t j = blo; j < bhi; j++) {
			size_t k = 0;
			if (a[i] == b[j] && !m->popular[j]) {
				k = m->prev[j] + 1;
				if (k > bestsize) {
					besti = i + 1 - k;
					bestj = j + 1 - k;
					bestsize = k;
				}
			}
			m->cur[j + 1] = k;
		}
		t = m->prev, m->prev = m->cur, m->cur = t;
	}
	/* No junk without isjunk: extend over any equal neighbours. */
	while (besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1])
		besti--, bestj--, bestsize++;
	while (besti + bestsize < ahi && bestj + bestsize < bhi &&
	    a[besti + bestsize] == b[bestj + bestsize])
		bestsize++;
	*bi = besti, *bj = bestj, *bk = bestsize;
}

/* Sum of the sizes of the matching blocks within the window. */
static size_t
matches(struct matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	size_t i, j, k, n;

	longest_match(m, alo, ahi, blo, bhi, &i, &j, &k);
	if (k == 0)
		return 0;
	n = k;
	if (alo < i && blo < j)
		n += matches(m, alo, i, blo, j);
	if (i + k < ahi && j + k < bhi)
		n += matches(m, i + k, ahi, j + k, bhi);
	return n;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

double
difflib_ratio(const uint32_t *a, size_t la, const uint32_t *b, size_t lb)
{
	struct matcher m = { a, b, NULL, NULL, NULL };
	bool *popular = xcalloc(lb + 1, sizeof(bool));
	size_t n;

	if (lb >= 200) {
		/* Occurrences of each element, counted in a sorted copy. */
		uint32_t *sorted = xcalloc(lb, sizeof(uint32_t));
		size_t ntest = lb / 100 + 1;
		memcpy(sorted, b, lb * sizeof(uint32_t));
		qsort(sorted, lb, sizeof(uint32_t), cmp_u32);
		for (size_t j = 0; j < lb; j++) {
			size_t lo = 0, hi = lb, first;
			while (lo < hi) {	/* first index holding b[j] */
				size_t mid = lo + (hi - lo) / 2;
				if (sorted[mid] < b[j])
					lo = mid + 1;
				else
					hi = mid;
			}
			first = lo;
			hi = lb;
			while (lo < hi) {	/* first index past it */
				size_t mid = lo + (hi - lo) / 2;
				if (sorted[mid] <= b[j])
					lo = mid + 1;
				else
					hi = mid;
			}
			popular[j] = lo - first > ntest;
		}
		free(sorted);
	}
	m.popular = popular;
	m.prev = xcalloc(lb + 1, sizeof(size_t));
	m.cur = xcalloc(lb + 1, sizeof(size_t));
	n = la > 0 && lb > 0 ? matches(&m, 0, la, 0, lb) : 0;
	free(m.prev);
	free(m.cur);
	free(popular);
	return la + lb > 0 ? 2.0 * (double)n / (double)(la + lb) : 1.0;
}

/* s as code points (malloc'd), its length in *n. */
static uint32_t *
code_points(const char *s, size_t *n)
{
	uint32_t *v = xcalloc(strlen(s) + 1, sizeof(uint32_t));

	*n = 0;
	while (*s)
		v[(*n)++] = utf8_next(&s);
	return v;
}

double
difflib_ratio_str(const char *a, const char *b)
{
	size_t la, lb;
	uint32_t *va = code_points(a, &la), *vb = code_points(b, &lb);
	double r = difflib_ratio(va, la, vb, lb);

	free(va);
	free(vb);
	return r;
}

const char *
difflib_close_match(const char *word, const char *const *poss, size_t n, double cutoff)
{
	const char *best = NULL;
	double best_r = 0;

	/* Python keeps (ratio, x) pairs and takes the largest: the highest
	 * ratio, then the greatest string (UTF-8 bytes sort as code points). */
	for (size_t i = 0; i < n; i++) {
		double r = difflib_ratio_str(poss[i], word);
		if (r < cutoff)
			continue;
		if (best == NULL || r > best_r || (r == best_r && strcmp(poss[i], best) > 0))
			best = poss[i], best_r = r;
	}
	return best;
}
