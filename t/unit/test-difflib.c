/*
 * Unit tests of difflib.c against Python's difflib: every expected ratio was
 * printed by Debian 12's python3 (3.11) with
 *   difflib.SequenceMatcher(None, a, b).ratio()
 * and every suggestion with get_close_matches(word, keys, n=1, cutoff=0.6);
 * the values are compared exactly (both compute 2.0 * M / T in doubles).
 */
#include <stdio.h>
#include <stdlib.h>

#include "difflib.h"
#include "searchq.h"
#include "util.h"
#include "tap.h"

/* s repeated n times (malloc'd), for the long sequences. */
static char *
rep(const char *s, int n)
{
	struct buf b;

	buf_init(&b);
	while (n-- > 0)
		buf_puts(&b, s);
	buf_append(&b, "", 1);
	return b.data;
}

static void
ratio_is(const char *a, const char *b, double want, const char *name)
{
	double got = difflib_ratio_str(a, b);

	ok(got == want, "ratio: %s", name);
	if (got != want)
		printf("#   got %.17g, expected %.17g\n", got, want);
}

int
main(void)
{
	ratio_is("species", "specie", 0.9230769230769231, "a letter missing");
	ratio_is("created_after", "createdafter", 0.96, "underscore missing");
	ratio_is("owner", "own", 0.75, "prefix");
	ratio_is("file_type", "filetype", 0.9411764705882353, "file_type");
	ratio_is("technique", "tech", 0.6153846153846154, "short prefix");
	ratio_is("abcd", "bcda", 0.75, "rotation");
	ratio_is("", "", 1.0, "both empty: 1.0");
	ratio_is("a", "", 0.0, "one empty");
	ratio_is("", "abc", 0.0, "the other empty");
	ratio_is("modified_before", "modfied_befor", 0.9285714285714286, "two letters missing");
	ratio_is("approach", "aproach", 0.9333333333333333, "double letter");
	ratio_is("published_after", "publish", 0.6363636363636364, "published");
	ratio_is("private Thread currentThread;", "private volatile Thread currentThread;",
	    0.8656716417910447, "Python's documentation example");
	ratio_is("qabxcd", "abycdf", 0.6666666666666666, "blocks on both sides of the longest");
	ratio_is("abab", "baba", 0.75, "the earliest longest block wins");
	ratio_is("t\xc3\xa4t\xc3\xa4", "t\xc3\xa4ta", 0.75, "code points, not bytes");

	/* b of 200 items or more: elements occurring more than len/100 + 1
	 * times are "popular" and start no match, but extend one. */
	char *x250 = rep("x", 250), *s120 = rep("s", 120), *e120 = rep("e", 120);
	char *spe = NULL, *a300 = rep("a", 300), *a300b = NULL;
	char *ab150 = rep("ab", 150), *ba110 = rep("ba", 110);
	char *x10 = rep("x", 10), *y10 = rep("y", 10), *x200 = rep("x", 200);
	char *mid = NULL, *tail = NULL;
	if (asprintf(&spe, "%s" "pecies" "%s", s120, e120) < 0 || asprintf(&a300b, "%sb", a300) < 0 ||
	    asprintf(&mid, "%sabcdefghij%s", x10, y10) < 0 || asprintf(&tail, "abcdefghij%s", x200) < 0)
		return 1;
	ratio_is("owner", x250, 0.0, "autojunk: nothing in common");
	ratio_is("species", spe, 0.05533596837944664, "autojunk: popular s and e");
	ratio_is("aaaaaaaaaa", a300b, 0.06430868167202572, "autojunk: a popular element extends the empty match");
	ratio_is(ab150, ba110, 0.0, "autojunk: every element popular");
	ratio_is(mid, tail, 0.08333333333333333, "autojunk: a block among popular neighbours");

	/* The "Did you mean" of the original: get_close_matches(n=1, cutoff=0.6). */
	const char *keys[32];
	for (size_t i = 0; i < searchq_nops; i++)
		keys[i] = searchq_ops[i].key;
	static const char *const cases[][2] = {
		{ "specie", "species" }, { "createdafter", "created_after" }, { "foo", NULL },
		{ "owners", "owner" }, { "file", "file_type" }, { "type", "file_type" },
		{ "date", NULL }, { "modified", "modified_after" }, { "created", "created_after" },
		{ "published", "published_after" }, { "approac", "approach" },
		{ "techniques", "technique" }, { "speci", "species" }, { "ownr", "owner" },
		{ "published_afte", "published_after" }, { "after", NULL },
		{ "before", "created_before" }, { "_", NULL }, { "filetype", "file_type" },
		{ "modifed_after", "modified_after" }, { "create_before", "created_before" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "close match of %s", cases[i][0]);
		is_str(difflib_close_match(cases[i][0], keys, searchq_nops, 0.6), cases[i][1], name);
	}
	is_str(difflib_close_match(x250, keys, searchq_nops, 0.6), NULL, "close match of a long word: none");
	/* Equal ratios: the greatest string, whatever the order. */
	const char *tie1[] = { "ax", "ay" }, *tie2[] = { "ay", "ax" };
	is_str(difflib_close_match("ab", tie1, 2, 0.5), "ay", "tie: the greatest string");
	is_str(difflib_close_match("ab", tie2, 2, 0.5), "ay", "tie: in any order");
	is_str(difflib_close_match("ab", tie1, 2, 0.51), NULL, "below the cutoff: none");

	free(x250), free(s120), free(e120), free(spe), free(a300), free(a300b);
	free(ab150), free(ba110), free(x10), free(y10), free(x200), free(mid), free(tail);
	return done_testing();
}
