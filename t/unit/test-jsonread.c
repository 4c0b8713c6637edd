/* Unit tests of jsonread(), the one JSON parser: the depth limit, the
 * non-finite and out-of-range numbers, NULs in keys, control characters,
 * what follows the value, and the valid edge cases that must still read
 * exactly as json-c reads them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"
#include "tap.h"

/* n nested arrays around 1, as open + "1" + close. */
static char *
nested(int n, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc((size_t)n * (lo + lc) + 2), *p = s;

	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	*p++ = '1';
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

/* Whether text is refused with a message that starts with want. */
static void
refusedn(const char *text, size_t len, const char *want, const char *name)
{
	char err[256];
	struct json_object *o = (struct json_object *)1;
	int rc = jsonread(text, len, &o, err, sizeof(err));

	ok(rc == -1 && o == NULL && strncmp(err, want, strlen(want)) == 0, "%s: refused", name);
	if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
		printf("#   got: rc %d '%s'\n#   expected: '%s...'\n", rc, rc ? err : "", want);
}

static void
refused(const char *text, const char *want, const char *name)
{
	refusedn(text, strlen(text), want, name);
}

/* Reads text and returns its compact JSON (static buffer), or "ERROR: ...". */
static const char *
reads(const char *text)
{
	static char out[4096];
	char err[256];
	struct json_object *o;

	if (jsonread(text, strlen(text), &o, err, sizeof(err)) != 0) {
		snprintf(out, sizeof(out), "ERROR: %s", err);
		return out;
	}
	snprintf(out, sizeof(out), "%s", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null");
	json_object_put(o);
	return out;
}

int
main(void)
{
	char err[256];
	struct json_object *o;
	char *s;

	/* --- depth: JSONREAD_MAX_DEPTH levels read, one more does not ---------- */
	s = nested(JSONREAD_MAX_DEPTH, "[", "]");
	ok(jsonread(s, strlen(s), &o, err, sizeof(err)) == 0 && o != NULL, "%d nested arrays read",
	    JSONREAD_MAX_DEPTH);
	json_object_put(o);
	free(s);
	s = nested(JSONREAD_MAX_DEPTH + 1, "[", "]");
	refused(s, "Nesting deeper than 64 levels: line 1 column 65 (char 64)", "65 nested arrays");
	free(s);
	s = nested(JSONREAD_MAX_DEPTH, "{\"k\":", "}");
	is_int(jsonread(s, strlen(s), &o, err, sizeof(err)), 0, "64 nested objects read");
	json_object_put(o);
	free(s);
	s = nested(JSONREAD_MAX_DEPTH + 1, "{\"k\":", "}");
	refused(s, "Nesting deeper than 64 levels", "65 nested objects");
	free(s);
	/* json-c's own default (32) is what dandi-jobs used to read with. */
	s = nested(60, "{\"a\":[", "]}");
	refused(s, "Nesting deeper than 64 levels", "120 levels of objects and arrays");
	free(s);
	s = nested(32, "{\"a\":[", "]}");
	is_int(jsonread(s, strlen(s), &o, err, sizeof(err)), 0, "64 levels of objects and arrays read");
	json_object_put(o);
	free(s);
	s = malloc(2 * (JSONREAD_MAX_DEPTH + 1) + 1);
	memset(s, '[', JSONREAD_MAX_DEPTH + 1);
	memset(s + JSONREAD_MAX_DEPTH + 1, ']', JSONREAD_MAX_DEPTH + 1);
	s[2 * (JSONREAD_MAX_DEPTH + 1)] = '\0';
	refused(s, "Nesting deeper than 64 levels: line 1 column 65 (char 64)", "65 nested empty arrays");
	s[2 * JSONREAD_MAX_DEPTH + 1] = '\0';
	is_int(jsonread(s + 1, strlen(s + 1), &o, err, sizeof(err)), 0, "64 nested empty arrays read");
	json_object_put(o);
	free(s);
	s = nested(100000, "[", "]");
	refused(s, "Nesting deeper than", "100000 nested arrays: no deep recursion");
	free(s);
	o = jsonread_str("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", NULL, 0);
	ok(o != NULL, "jsonread_str reads 40 levels (json_tokener_parse does not)");
	json_object_put(o);

	/* --- NaN and the infinities, wherever they are ---------------------------- */
	refused("NaN", "Out of range float values are not JSON compliant: 'NaN'", "NaN");
	refused("[1, Infinity]", "Out of range float values are not JSON compliant: 'Infinity'", "Infinity");
	refused("{\"a\": {\"b\": [[-Infinity]]}}", "Out of range float values are not JSON compliant: '-Infinity'",
	    "-Infinity deep in objects and arrays");
	refused("{\"metadata\": {\"x\": [1, 2, {\"y\": NaN}]}}", "Out of range float values are not JSON compliant: 'NaN'",
	    "NaN as a value in a nested object");
	refused("[1e999]", "Out of range float values are not JSON compliant: '1e999'", "1e999 (overflows a double)");
	refused("{\"a\": -1.5E+400}", "Out of range float values are not JSON compliant: '-1.5E+400'", "-1.5E+400");
	refused("1e309", "Out of range float values are not JSON compliant: '1e309'", "1e309 alone");
	s = malloc(1000);
	memset(s, '9', 999);
	s[0] = '[', s[1] = '1', s[2] = '.', s[400] = ']', s[401] = '\0';
	s[350] = 'e', s[351] = '9';
	refused(s, "Out of range float values are not JSON compliant: '1.999999999999999999999999999999...'",
	    "a long overflowing number is shortened in the message");
	free(s);
	/* The spellings json-c's non-strict mode takes stay refused. */
	refused("[nan]", "null expected", "nan");
	refused("[inf]", "unexpected character", "inf");
	refused("[-inf]", "unexpected character", "-inf");
	refused("[-Inf]", "unexpected character", "-Inf");
	refused("[infinity]", "unexpected character", "infinity");
	refused("[-NaN]", "number expected", "-NaN");
	refused("[NAN]", "null expected", "NAN");
	/* Inside strings they are text. */
	is_str(reads("[\"NaN\", \"-Infinity\", \"1e999\"]"), "[\"NaN\",\"-Infinity\",\"1e999\"]", "NaN and Infinity as strings read");
	is_str(reads("{\"NaN\": 1, \"Infinity\": 2}"), "{\"NaN\":1,\"Infinity\":2}", "NaN and Infinity as keys read");

	/* --- integers beyond 64 bits (json-c clamps them) ------------------------- */
	refused("[18446744073709551616]", "Integers must fit in 64 bits: '18446744073709551616'", "2^64");
	refused("{\"a\": -9223372036854775809}", "Integers must fit in 64 bits: '-9223372036854775809'", "-2^63-1");
	refused("[99999999999999999999999]", "Integers must fit in 64 bits", "23 digits");
	is_str(reads("[18446744073709551615, -9223372036854775808, 9223372036854775807, 0, -0]"),
	    "[18446744073709551615,-9223372036854775808,9223372036854775807,0,0]", "the 64-bit bounds read exactly");
	is_str(reads("[1e308, -1.7976931348623157e308, 1e-999, 0.1, 2.5E-3]"),
	    "[1e308,-1.7976931348623157e308,1e-999,0.1,2.5E-3]", "large, small and plain doubles read as written");

	/* --- NUL in keys; in values it is kept for the callers ------------------- */
	refused("{\"a\\u0000b\": 1}", "Null characters are not allowed in an object key: line 1 column 4 (char 3)",
	    "\\u0000 in a key");
	refused("{\"x\": {\"\\u0000\" : 1}}", "Null characters are not allowed in an object key", "\\u0000 key in a nested object");
	refused("[{\"ok\": 1}, {\"a\\u0000\"\n :2}]", "Null characters are not allowed in an object key: line 1 column 16",
	    "\\u0000 key with white space before the colon");
	/* json-c itself stops at a raw NUL in a string. */
	refusedn("{\"a\0b\": 1}", 10, "unexpected end of data", "a raw NUL in a key");
	refusedn("[\"a\0b\"]", 7, "unexpected end of data", "a raw NUL in a value");
	o = NULL;
	ok(jsonread("[\"a\\u0000b\"]", 12, &o, err, sizeof(err)) == 0 &&
	    json_object_get_string_len(json_object_array_get_idx(o, 0)) == 3, "\\u0000 in a value is read, whole");
	json_object_put(o);
	is_str(reads("{\"a\": \"\\u0000\"}"), "{\"a\":\"\\u0000\"}", "\\u0000 as an object's value");
	is_str(reads("{\"a\\\\u0000\": 1}"), "{\"a\\\\u0000\":1}", "an escaped backslash before u0000 is no NUL");
	is_str(reads("{\"\\u00000\": 1, \"\\u0001\": 2}"), "ERROR: Null characters are not allowed in an object key: line 1 column 3 (char 2)",
	    "\\u00000 is a NUL then 0");
	is_str(reads("{\"\\u0001\": 2, \"\\u1000\": 3}"), "{\"\\u0001\":2,\"က\":3}", "other escapes in keys read");

	/* --- control characters, what follows, what is missing ------------------- */
	refused("[\"a\tb\"]", "Invalid control character at: line 1 column 4 (char 3)", "a raw tab in a string");
	refused("{\"k\":\n\"\xc3\xa9\x01\"}", "Invalid control character at: line 2 column 3 (char 8)",
	    "position counted in characters over lines");
	refused("", "Expecting value: line 1 column 1 (char 0)", "empty text");
	refused("  \n ", "Expecting value: line 2 column 2 (char 4)", "white space alone");
	refused("{} x", "unexpected character", "trailing garbage");
	refused("{}{}", "unexpected character", "two documents");
	refusedn("{}\0{}", 5, "Extra data: line 1 column 3 (char 2)", "a NUL byte after the value");
	refused("{\"a\": ", "unexpected end of data", "truncated");
	refused("[1, 2", "unexpected end of data", "truncated array");
	refused("{'a': 1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
	    "a single-quoted key (json-c takes it)");
	refused("{\"a\": 1, 'b': 2}", "Expecting property name enclosed in double quotes: line 1 column 10 (char 9)",
	    "a single-quoted second key");
	refused("{\"a\": 'b'}", "unexpected character", "a single-quoted value");
	/* Numbers json-c takes in strict mode and PostgreSQL does not. */
	refused("[1.]", "Invalid number: line 1 column 2 (char 1)", "1.");
	refused("[0.]", "Invalid number", "0.");
	refused("[1.e5]", "Invalid number", "1.e5");
	refused("{\"a\": -.5}", "Invalid number: line 1 column 7 (char 6)", "-.5");
	refused("[00]", "Invalid number: line 1 column 2 (char 1)", "00");
	refused("[-01]", "Invalid number: line 1 column 2 (char 1)", "-01");
	refused("2.", "Invalid number", "2. alone");
	refused("[1,]", "unexpected character", "trailing comma");
	refused("[01]", "number expected", "leading zero");
	refused("/* c */ 1", "unexpected character", "a comment");
	refused("[tru]", "boolean expected", "a bare word");

	/* --- valid edge cases ------------------------------------------------------ */
	is_str(reads("  {\"a\": [1, 2.5, -3e2, true, false, null, \"\\u00e9\\ud83e\\udde0\"]} \r\n\t"),
	    "{\"a\":[1,2.5,-3e2,true,false,null,\"é🧠\"]}", "every type, escapes, surrounding white space");
	is_str(reads("5"), "5", "a top-level number");
	is_str(reads("-0.5e-3"), "-0.5e-3", "a top-level double");
	is_str(reads("\"x\""), "\"x\"", "a top-level string");
	is_str(reads("true"), "true", "a top-level boolean");
	ok(jsonread("null", 4, &o, err, sizeof(err)) == 0 && o == NULL, "null reads as NULL without an error");
	is_str(reads("{}"), "{}", "an empty object");
	is_str(reads("[]"), "[]", "an empty array");
	is_str(reads("{\"\": \"\"}"), "{\"\":\"\"}", "an empty key");
	is_str(reads("[\"\xe6\x95\xb0\xe6\x8d\xae \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"]"), "[\"数据 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"]",
	    "UTF-8 and the short escapes");
	ok(jsonread_str(NULL, err, sizeof(err)) == NULL, "jsonread_str(NULL) is an error");
	ok(jsonread_str("{\"a\":", NULL, 0) == NULL, "jsonread_str without a message buffer");
	o = jsonread_str("{\"a\": 1}", err, sizeof(err));
	ok(o != NULL && err[0] == '\0', "jsonread_str reads and clears the message");
	json_object_put(o);
	return done_testing();
}
