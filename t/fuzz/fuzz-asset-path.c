/*
 * fuzz-asset-path - the rules for paths that clients name: an asset's
 * path (assets_path_error, the original's pattern written out), the ?glob=
 * and ?path= filters of the asset list as the regular expression and the
 * LIKE pattern sent to PostgreSQL (glob_regex, like_prefix), a zarr
 * entry's path (zarrsum_path_error). The input is one path. Checked: no
 * memory error; the glob's expression compiles and matches the glob
 * itself with every '*' taken as nothing, and as "x/y"; the LIKE pattern
 * has every % _ and \ escaped; an accepted asset path has no empty, "."
 * or ".." segment and neither starts nor ends with "/".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "api.h"
#include "fuzz.h"
#include "zarrsum.h"

static struct config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	fuzz_config(&cfg);
	return 0;
}

/* glob with each '*' replaced by with. malloc'd. */
static char *
star_as(const char *glob, const char *with)
{
	struct buf b;

	buf_init(&b);
	for (const char *p = glob; *p; p++)
		if (*p == '*')
			buf_puts(&b, with);
		else
			buf_append(&b, p, 1);
	buf_append(&b, "", 1);
	return b.data;
}

/* Workspace of the DFA matcher: 3 ints per active state, and a pattern
 * of an input of libFuzzer's 4096 bytes has at most ~8200 states. */
static int dfa_ws[3 * 8192 * 2];

static void
check_glob(struct request *req, const char *glob)
{
	const char *re = glob_regex(req, glob);
	int ec;
	PCRE2_SIZE eo;
	/* PostgreSQL's ~ on text: '.' matches a newline too; bytes as they are. */
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_DOTALL, &ec, &eo, NULL);

	FUZZ_CHECK(code != NULL, "glob %s gives a bad expression %s (error %d at %zu)", glob, re, ec, (size_t)eo);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	const char *withs[] = { "", "x/y" };
	for (size_t i = 0; i < 2; i++) {
		char *s = star_as(glob, withs[i]);
		/* The DFA matcher, as PostgreSQL's engine, does not backtrack: a
		 * glob of many '*' takes polynomial time, not the backtracking
		 * matcher's exponential one, and every input gets an answer
		 * (0: matched, with no room for the match's offsets). */
		int rc = pcre2_dfa_match(code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL, dfa_ws,
		    sizeof(dfa_ws) / sizeof(dfa_ws[0]));
		FUZZ_CHECK(rc >= 0, "glob %s (expression %s) does not match %s (%d)", glob, re, s, rc);
		free(s);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
}

static void
check_like(struct request *req, const char *s)
{
	const char *like = like_prefix(req, s);
	size_t k = 0;

	/* Reading the pattern back (\ escapes the next character) gives s. */
	for (const char *p = like; *p; p++) {
		if (*p == '%' || *p == '_')
			FUZZ_CHECK(false, "unescaped %c in %s (of %s)", *p, like, s);
		if (*p == '\\') {
			p++;
			FUZZ_CHECK(*p != '\0', "dangling escape in %s", like);
		}
		FUZZ_CHECK(s[k] == *p, "LIKE pattern %s does not spell %s", like, s);
		k++;
	}
	FUZZ_CHECK(s[k] == '\0', "LIKE pattern %s is short of %s", like, s);
}

static void
check_asset_path(const char *p)
{
	if (assets_path_error(p) != NULL)
		return;
	size_t n = strlen(p);
	FUZZ_CHECK(n > 0 && p[0] != '/' && p[n - 1] != '/', "accepted %s", p);
	FUZZ_CHECK(strstr(p, "//") == NULL, "accepted an empty segment in %s", p);
	/* Segments "." and "..". */
	for (const char *s = p; s != NULL; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL) {
		size_t len = strcspn(s, "/");
		FUZZ_CHECK(!(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.'),
		    "accepted a dot segment in %s", p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	char *s = fuzz_cstr(data, size);

	request_init(&req, &cfg, NULL);
	check_asset_path(s);
	check_glob(&req, s);
	check_like(&req, s);
	const char *zerr = zarrsum_path_error(s, false);
	if (zerr == NULL) {
		FUZZ_CHECK(*s != '\0' && *s != '/', "zarr path %s accepted", s);
		FUZZ_CHECK(strstr(s, "//") == NULL, "zarr path %s with an empty segment accepted", s);
	}
	(void)zarrsum_path_error(s, true);
	request_finish(&req);
	free(s);
	return 0;
}
