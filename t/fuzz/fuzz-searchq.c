/*
 * fuzz-searchq - the search text of GET /api/dandisets/?search= (searchq.c:
 * words, quotes, key:value operators, the values' checks) and the "Did you
 * mean" suggestion (difflib.c, Python's SequenceMatcher). The input is the
 * text, made valid UTF-8 as the query parser makes it; for difflib, the
 * text up to its first newline against the rest. Checked: no memory error;
 * a refusal has a message; every word and value is non-empty; a ratio
 * lies in [0, 1], is 1 for equal strings, and a close match is one of the
 * possibilities.
 */
#include "arena.h"
#include "difflib.h"
#include "fuzz.h"
#include "searchq.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_cstr(data, size), *fixed = utf8_fix(raw);
	char *q = fixed != NULL ? fixed : raw;
	struct arena a;
	struct searchq sq;
	const char *err = NULL;

	arena_init(&a);
	if (searchq_parse(&a, q, &sq, &err) != 0 || searchq_check(&a, &sq, &err) != 0)
		FUZZ_CHECK(err != NULL && *err != '\0', "refused without a message");
	else {
		for (size_t i = 0; i < sq.nwords; i++)
			FUZZ_CHECK(sq.words[i] != NULL, "word %zu", i);
		for (size_t i = 0; i < sq.nops; i++)
			FUZZ_CHECK(sq.ops[i].def != NULL && sq.ops[i].value != NULL && *sq.ops[i].value != '\0',
			    "operator %zu", i);
	}

	char *nl = strchr(q, '\n');
	const char *b = "";
	if (nl != NULL) {
		*nl = '\0';
		b = nl + 1;
	}
	double r = difflib_ratio_str(q, b);
	FUZZ_CHECK(r >= 0.0 && r <= 1.0, "ratio %g", r);
	FUZZ_CHECK(difflib_ratio_str(q, q) == 1.0, "ratio of %s with itself", q);
	const char *names[8];
	size_t nn = 0;
	for (size_t i = 0; i < searchq_nops && nn < 7; i++)
		names[nn++] = searchq_ops[i].key;
	names[nn++] = b;
	const char *m = difflib_close_match(q, names, nn, 0.6);
	if (m != NULL) {
		bool found = false;
		for (size_t i = 0; i < nn; i++)
			found = found || m == names[i];
		FUZZ_CHECK(found, "close match %s is no possibility", m);
		FUZZ_CHECK(difflib_ratio_str(m, q) >= 0.6, "close match %s below the cutoff", m);
	}
	arena_reset(&a);
	free(fixed);
	free(raw);
	return 0;
}
