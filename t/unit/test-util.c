/* Unit tests of util.c and arena.c. */
#include <stdlib.h>

#include "arena.h"
#include "util.h"
#include "tap.h"

int
main(void)
{
	char		 s[64], id[37];
	int64_t		 v;
	bool		 b;
	struct arena	 a;

	snprintf(s, sizeof(s), "a%%20b+c%%2Fd");
	ok(url_decode(s, true) == 0, "url_decode accepts valid escapes");
	is_str(s, "a b c/d", "url_decode decodes %XX and + in queries");
	snprintf(s, sizeof(s), "a+b");
	url_decode(s, false);
	is_str(s, "a+b", "url_decode keeps + in paths");
	snprintf(s, sizeof(s), "bad%%zz");
	ok(url_decode(s, true) == -1, "url_decode rejects a bad escape");
	snprintf(s, sizeof(s), "bad%%4");
	ok(url_decode(s, true) == -1, "url_decode rejects a truncated escape");

	ok(parse_int64("000123", &v) && v == 123, "parse_int64 zero padded");
	ok(!parse_int64("12a", &v), "parse_int64 rejects trailing junk");
	ok(!parse_int64("", &v), "parse_int64 rejects empty");
	ok(!parse_int64(" 1", &v), "parse_int64 rejects leading space");
	ok(!parse_int64("99999999999999999999", &v), "parse_int64 rejects overflow");

	ok(parse_bool("TRUE", &b) && b, "parse_bool TRUE");
	ok(parse_bool("off", &b) && !b, "parse_bool off");
	ok(!parse_bool("maybe", &b), "parse_bool rejects maybe");

	ok(uuid4(id) == 0 && is_uuid(id), "uuid4 produces a uuid");
	ok(id[14] == '4' && strchr("89ab", id[19]) != NULL, "uuid4 has version and variant bits");
	ok(!is_uuid("not-a-uuid"), "is_uuid rejects junk");
	ok(!is_uuid("0123456789abcdef0123456789abcdef0123"), "is_uuid wants dashes");

	ok(ct_streq("abc", "abc") && !ct_streq("abc", "abd") && !ct_streq("abc", "ab"),
	    "ct_streq compares");

	arena_init(&a);
	char *p = arena_printf(&a, "%s-%d", "x", 42);
	is_str(p, "x-42", "arena_printf formats");
	char *big = arena_alloc(&a, 100000);
	big[99999] = 1;
	char *after = arena_strdup(&a, "still fine");
	is_str(after, "still fine", "arena keeps working after a big allocation");
	ok(a.total >= 100000, "arena counts bytes");
	arena_reset(&a);
	ok(a.head == NULL && a.total == 0, "arena_reset frees everything");

	struct buf bf;
	buf_init(&bf);
	for (int i = 0; i < 1000; i++)
		buf_printf(&bf, "%d,", i);
	ok(bf.len == 3890, "buf grows (len %zu)", bf.len);
	buf_free(&bf);

	/* JSON string literals: what a path or name may hold. */
	static const struct { const char *in, *want; } js[] = {
		{ "plain/path.nwb", "\"plain/path.nwb\"" },
		{ "", "\"\"" },
		{ "quote\" back\\slash", "\"quote\\\" back\\\\slash\"" },
		{ "tab\tnl\ncr\r", "\"tab\\tnl\\ncr\\r\"" },
		{ "\x01\x1f end", "\"\\u0001\\u001f end\"" },
		{ "caf\xc3\xa9 \xe2\x9c\x93", "\"caf\xc3\xa9 \xe2\x9c\x93\"" },
	};
	for (size_t i = 0; i < sizeof(js) / sizeof(js[0]); i++) {
		buf_init(&bf);
		buf_json_string(&bf, js[i].in);
		buf_append(&bf, "", 1);
		is_str(bf.data, js[i].want, "buf_json_string escapes as JSON");
		buf_free(&bf);
	}
	char iso[32];
	ok(ts_iso("2026-12-01 07:57:08.548123", iso) && strcmp(iso, "2026-12-01T07:57:08.548123Z") == 0,
	    "ts_iso: microseconds");
	ok(ts_iso("2026-12-01 07:57:08.5", iso) && strcmp(iso, "2026-12-01T07:57:08.500000Z") == 0,
	    "ts_iso: trimmed fraction padded");
	ok(ts_iso("2026-12-01 07:57:08", iso) && strcmp(iso, "2026-12-01T07:57:08.000000Z") == 0,
	    "ts_iso: whole second");
	ok(!ts_iso("2026-12-01 07:57:08+00", iso), "ts_iso: a zone is refused");
	ok(!ts_iso("2026-12-01T07:57:08", iso), "ts_iso: other forms are refused");
	ok(!ts_iso("2026-12-01 07:57:08.", iso), "ts_iso: empty fraction refused");
	ok(date_valid("2027-02-28") && date_valid("2028-02-29") && date_valid("2026-12-31"), "date_valid: real days");
	ok(!date_valid("2027-02-29") && !date_valid("2027-02-30") && !date_valid("2027-04-31"),
	    "date_valid: days the month does not have");
	ok(!date_valid("2027-13-01") && !date_valid("2027-1-01") && !date_valid("2027-01-01T00:00") &&
	    !date_valid("") && !date_valid("next-year"), "date_valid: other forms");
	char next[11];
	date_next("2026-12-31", next);
	is_str(next, "2027-01-01", "date_next: over a year's end");
	date_next("2028-02-28", next);
	is_str(next, "2028-02-29", "date_next: a leap day");

	char *x = xasprintf("%s/%d", "ab", 42);
	is_str(x, "ab/42", "xasprintf formats");
	free(x);
	char long_text[5000];
	memset(long_text, 'z', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	x = xasprintf("<%s>", long_text);
	ok(strlen(x) == sizeof(long_text) + 1 && x[0] == '<' && x[sizeof(long_text)] == '>' && x[1] == 'z',
	    "xasprintf sizes its memory to the text");
	free(x);
	x = xasprintf("%s", "");
	is_str(x, "", "xasprintf: empty text");
	free(x);
	return done_testing();
}
