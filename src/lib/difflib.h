/*
 * difflib.h - Python's difflib.SequenceMatcher(None, a, b).ratio() and
 * get_close_matches(), as the original's "Did you mean" suggestion computes
 * them: same longest-match search, same tie-breaking, same "popular
 * element" rule (autojunk) for a second sequence of 200 or more items.
 */
#ifndef DANDI_DIFFLIB_H
#define DANDI_DIFFLIB_H

#include <stddef.h>
#include <stdint.h>

/* 2.0 * matches / (la + lb), or 1.0 when both are empty. */
double		 difflib_ratio(const uint32_t *a, size_t la, const uint32_t *b, size_t lb);
/* The same over two UTF-8 strings, compared by code point. */
double		 difflib_ratio_str(const char *a, const char *b);
/* get_close_matches(word, possibilities, n=1, cutoff)[0]: the possibility
 * with the highest ratio >= cutoff (ties: the greatest string), or NULL. */
const char	*difflib_close_match(const char *word, const char *const *possibilities,
		    size_t n, double cutoff);

#endif
