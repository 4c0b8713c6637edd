/* Unit tests of emit.c: the JSON writer (DRF's JSONRenderer output) and
 * the YAML writer (PyYAML's CSafeDumper output). The expected texts were
 * produced by Python (json.dumps / yaml.dump with CSafeDumper). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "tap.h"

/* A sink that keeps everything and counts the calls. */
struct collect {
	struct buf	all;
	int		calls;
	size_t		largest;
};

static int
collect_sink(void *ctx, const char *data, size_t len)
{
	struct collect *c = ctx;

	buf_append(&c->all, data, len);
	c->calls++;
	if (len > c->largest)
		c->largest = len;
	return 0;
}

static int
failing_sink(void *ctx, const char *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return -1;
}

/* YAML of the JSON text in, under the given line prefixes; malloc'd. */
static char *
yaml_of(const char *in, const char *first, const char *rest)
{
	struct json_object *v = json_tokener_parse(in);
	struct collect c = { .calls = 0 };
	struct emit_out o;

	buf_init(&c.all);
	emit_init(&o, 5, collect_sink, &c);
	emit_yaml_document(&o, v, first, rest);
	emit_finish(&o);
	emit_free(&o);
	json_object_put(v);
	buf_append(&c.all, "", 1);
	return c.all.data;
}

static char *
json_of(const char *in)
{
	struct json_object *v = json_tokener_parse(in);
	struct collect c = { .calls = 0 };
	struct emit_out o;

	buf_init(&c.all);
	emit_init(&o, 3, collect_sink, &c);
	emit_json_value(&o, v);
	emit_finish(&o);
	emit_free(&o);
	json_object_put(v);
	buf_append(&c.all, "", 1);
	return c.all.data;
}

static const struct {
	const char	*name, *in, *want;
} yaml_cases[] = {
	{ "implicit types are quoted",
	  "{\"a\": \"yes\", \"b\": \"1.0\", \"c\": \"123\", \"d\": \"null\", \"e\": \"\", \"f\": \"~\", \"g\": \"0.210812.1448\", \"h\": \"2021-01-01T12:00:00+00:00\", \"i\": \"0x1F\", \"j\": \"On\", \"k\": \"12:30\", \"l\": \".inf\", \"m\": \"<<\", \"n\": \"=\"}",
	  "a: 'yes'\nb: '1.0'\nc: '123'\nd: 'null'\ne: ''\nf: '~'\ng: 0.210812.1448\nh: '2021-01-01T12:00:00+00:00'\ni: '0x1F'\nj: 'On'\nk: '12:30'\nl: '.inf'\nm: '<<'\nn: '='\n" },
	{ "indicators and keys",
	  "{\"@context\": \"https://x/context.json\", \"key\": \"- dash\", \"k2\": \"-dash\", \"k3\": \"a: b\", \"k4\": \"a:b\", \"k5\": \"#x\", \"k6\": \"a #b\", \"k7\": \"it's\", \"k8\": \"---\", \"k9\": \"[x]\", \"k10\": \"{y}\", \"k11\": \"a, b\", \"k12\": \"%x\", \"k13\": \"&a\", \"k14\": \"*a\", \"k15\": \"!t\", \"k16\": \"|\", \"k17\": \">\", \"k18\": \"`\"}",
	  "'@context': https://x/context.json\nk10: '{y}'\nk11: a, b\nk12: '%x'\nk13: '&a'\nk14: '*a'\nk15: '!t'\nk16: '|'\nk17: '>'\nk18: '`'\nk2: -dash\nk3: 'a: b'\nk4: a:b\nk5: '#x'\nk6: 'a #b'\nk7: it's\nk8: '---'\nk9: '[x]'\nkey: '- dash'\n" },
	{ "line breaks, tabs, unicode",
	  "{\"multi\": \"line1\\nline2\", \"trail\": \"end\\n\", \"tab\": \"a\\tb\", \"uni\": \"h\\u00e9llo \\u2713 \\u65e5\\u672c\", \"emoji\": \"x\\ud83d\\ude00\", \"sp\": \" lead\", \"tsp\": \"trail \", \"nbsp\": \"\\u00a0\", \"ctl\": \"a\\u0001b\", \"bom\": \"\\ufeffx\", \"q\": \"say \\\"hi\\\" \\\\ back\", \"spbr\": \"a \\nb\"}",
	  "bom: \"\\uFEFFx\"\nctl: \"a\\x01b\"\nemoji: \"x\\U0001F600\"\nmulti: 'line1\n\n  line2'\nnbsp: \xc2""\xa0""\nq: say \"hi\" \\ back\nsp: ' lead'\nspbr: \"a \\nb\"\ntab: \"a\\tb\"\ntrail: 'end\n\n  '\ntsp: 'trail '\nuni: h\xc3""\xa9""llo \xe2""\x9c""\x93"" \xe6""\x97""\xa5""\xe6""\x9c""\xac""\n" },
	{ "nesting and empty collections",
	  "{\"empty_list\": [], \"empty_map\": {}, \"list\": [\"a\", 1, 1.5, true, null, [], {}], \"nested\": {\"z\": {\"y\": [{\"b\": 1, \"a\": 2}]}}, \"seqseq\": [[\"a\", \"b\"], [\"c\"]], \"\\u00e9\": 1, \"Z\": 2}",
	  "Z: 2\nempty_list: []\nempty_map: {}\nlist:\n- a\n- 1\n- 1.5\n- true\n- null\n- []\n- {}\nnested:\n  z:\n    y:\n    - a: 2\n      b: 1\nseqseq:\n- - a\n  - b\n- - c\n\xc3""\xa9"": 1\n" },
	{ "folding and numbers",
	  "{\"long\": \"word word word word word word word word word word word word word word word word word word word word end\", \"longq\": \"it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's \", \"longd\": \"tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t \", \"keykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykey\": \"long key\", \"num\": [0.0, -0.0, 1e-05, 1e+16, 1e+22, 100.0, 0.1, 12345678901234, -3]}",
	  "? keykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykeykey\n: long key\nlong: word word word word word word word word word word word word word word word word\n  word word word word end\nlongd: \"tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t\n  tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t tab\\t \"\nlongq: 'it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s\n  it''s it''s it''s it''s it''s it''s it''s '\nnum:\n- 0.0\n- -0.0\n- 1.0e-05\n- 1.0e+16\n- 1.0e+22\n- 100.0\n- 0.1\n- 12345678901234\n- -3\n" },
};
/* seq */ static const char *seq_in = "{\"b\": [{\"x\": \"multi\\nline\", \"y\": \"x\\u2028y\"}], \"a\": 1}", *seq_want = "- a: 1\n  b:\n  - x: 'multi\n  \n      line'\n    y: 'x\n      y'\n";
/* json */ static const char *json_in = "{\"s\": \"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f \\u00e9\\u2028\\u2029\\ud83d\\ude00\", \"n\": [1.5, 1e-07, 1e+16, 2.0, 0], \"o\": {}, \"l\": [], \"t\": true, \"f\": false, \"z\": null}", *json_want = "{\"s\":\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"" \xc3""\xa9""\\u2028\\u2029\xf0""\x9f""\x98""\x80""\",\"n\":[1.5,1e-07,1e+16,2.0,0],\"o\":{},\"l\":[],\"t\":true,\"f\":false,\"z\":null}";

/* YAML of one string document (or, as_key, of {s: 1}) with bytes as
 * given, compared byte for byte with want. */
static void
yaml_bytes_is(const char *bytes, size_t len, bool as_key, const char *want, const char *name)
{
	struct json_object *v;
	struct collect c = { .calls = 0 };
	struct emit_out o;

	if (as_key) {
		char key[64];
		memcpy(key, bytes, len);
		key[len] = '\0';
		v = json_object_new_object();
		json_object_object_add(v, key, json_object_new_int(1));
	} else
		v = json_object_new_string_len(bytes, (int)len);
	buf_init(&c.all);
	emit_init(&o, 5, collect_sink, &c);
	emit_yaml_document(&o, v, "", "");
	emit_finish(&o);
	emit_free(&o);
	json_object_put(v);
	bool same = c.all.len == strlen(want) && memcmp(c.all.data, want, c.all.len) == 0;
	ok(same, "%s", name);
	if (!same) {
		printf("#   got %zu bytes:", c.all.len);
		for (size_t i = 0; i < c.all.len; i++)
			printf(" %02x", (unsigned char)c.all.data[i]);
		printf("\n#   expected: '%s'\n", want);
	}
	buf_free(&c.all);
}

int
main(void)
{
	char *s, r[32];

	/* ---- a last UTF-8 sequence cut short (not from PostgreSQL, which
	 * stores only valid UTF-8; found by t/fuzz/fuzz-emit): nothing past
	 * the string's end is read, the cut bytes are escaped one by one ---- */
	yaml_bytes_is("ab\xe2\x82", 4, false, "\"ab\\xE2\\x82\"\n", "a plain string cut in a 3-byte sequence");
	yaml_bytes_is("\x01""a\xe2\x82", 4, false, "\"\\x01a\\xE2\\x82\"\n",
	    "a double-quoted string cut in a 3-byte sequence");
	yaml_bytes_is("\x01""a\xf0", 3, false, "\"\\x01a\\xF0\"\n", "a lone 4-byte lead at the end");
	yaml_bytes_is(" a\xc3", 3, false, "\" a\\xC3\"\n", "a single-quotable string cut in a 2-byte sequence");
	yaml_bytes_is("k\xf0\x9f", 3, true, "\"k\\xF0\\x9F\": 1\n", "a key cut in a 4-byte sequence");

	/* ---- YAML documents ---- */
	for (size_t i = 0; i < sizeof(yaml_cases) / sizeof(yaml_cases[0]); i++) {
		s = yaml_of(yaml_cases[i].in, "", "");
		is_str(s, yaml_cases[i].want, yaml_cases[i].name);
		free(s);
	}
	s = yaml_of(seq_in, "- ", "  ");
	is_str(s, seq_want, "an assets.yaml entry: \"- \" then two spaces on every line, LS a line end");
	free(s);
	s = yaml_of("{}", "", "");
	is_str(s, "{}\n", "an empty document");
	free(s);

	/* ---- the resolver ---- */
	ok(yaml_resolves_non_string("", 0), "'' reads as null");
	ok(yaml_resolves_non_string("NO", 2), "NO reads as a bool");
	ok(yaml_resolves_non_string("-1_000", 6), "-1_000 reads as an int");
	ok(yaml_resolves_non_string("1:20", 4), "1:20 reads as a sexagesimal int");
	ok(yaml_resolves_non_string("2001-12-14 21:59:43.10 -5", 25), "a spaced timestamp");
	ok(!yaml_resolves_non_string("\n", 1), "a lone newline is a string (no resolver for its first char)");
	ok(!yaml_resolves_non_string("1e5", 3), "1e5 is a string in YAML 1.1 (no dot)");
	ok(!yaml_resolves_non_string("nulll", 5), "nulll is a string");

	/* ---- float repr ---- */
	emit_float_repr(0.1, r);
	is_str(r, "0.1", "repr(0.1)");
	emit_float_repr(1e16, r);
	is_str(r, "1e+16", "repr(1e16)");
	emit_float_repr(1e15, r);
	is_str(r, "1000000000000000.0", "repr(1e15)");
	emit_float_repr(0.0001, r);
	is_str(r, "0.0001", "repr(0.0001)");
	emit_float_repr(0.00001, r);
	is_str(r, "1e-05", "repr(1e-05)");
	emit_float_repr(-2.5e-300, r);
	is_str(r, "-2.5e-300", "repr(-2.5e-300)");
	emit_float_repr(1.0 / 3, r);
	is_str(r, "0.3333333333333333", "repr(1/3)");

	/* ---- JSON ---- */
	s = json_of(json_in);
	is_str(s, json_want, "JSON: compact, UTF-8 kept, control characters and U+2028/9 escaped");
	free(s);
	s = json_of("{\"b\": 1, \"a\": {\"d\": [], \"c\": [1, {\"x\": null}]}}");
	is_str(s, "{\"b\":1,\"a\":{\"d\":[],\"c\":[1,{\"x\":null}]}}", "JSON keeps the key order and nesting");
	free(s);

	/* The streaming writer: a collection document fed item by item. */
	struct collect c = { .calls = 0 };
	struct emit_out o;
	struct json_writer w;
	buf_init(&c.all);
	emit_init(&o, 64, collect_sink, &c);
	jw_init(&w, &o);
	jw_begin_object(&w);
	jw_key(&w, "id");
	jw_string(&w, "DANDI:000001/draft");
	jw_key(&w, "hasMember");
	jw_begin_array(&w);
	for (int i = 0; i < 1000; i++) {
		char m[32];
		snprintf(m, sizeof(m), "dandiasset:%04d", i);
		jw_string(&w, m);
	}
	jw_end(&w);
	jw_key(&w, "empty");
	jw_begin_object(&w);
	jw_end(&w);
	jw_key(&w, "v");
	struct json_object *v = json_tokener_parse("[true,{\"k\":\"\\u2029\"}]");
	jw_value(&w, v);
	json_object_put(v);
	jw_end(&w);
	ok(emit_finish(&o) == 0, "the stream finishes");
	buf_append(&c.all, "", 1);
	ok(strncmp(c.all.data, "{\"id\":\"DANDI:000001/draft\",\"hasMember\":[\"dandiasset:0000\",\"dandiasset:0001\",", 75) == 0,
	    "streamed members are comma-separated");
	ok(strstr(c.all.data, "\"dandiasset:0999\"],\"empty\":{},\"v\":[true,{\"k\":\"\\u2029\"}]}") != NULL,
	    "containers close in order");
	ok(c.calls > 100 && c.largest < 64 + 64, "the sink got it in flush-sized pieces (%d calls, largest %zu)",
	    c.calls, c.largest);
	struct json_object *back = json_tokener_parse(c.all.data);
	ok(back != NULL && json_object_array_length(json_object_object_get(back, "hasMember")) == 1000,
	    "the streamed document parses back with its 1000 members");
	json_object_put(back);
	is_int(o.total, strlen(c.all.data), "total counts what the sink got");
	emit_free(&o);
	buf_free(&c.all);

	/* A sink that fails stops the output and is reported. */
	emit_init(&o, 4, failing_sink, NULL);
	emit_puts(&o, "0123456789");
	emit_puts(&o, "more");
	ok(emit_finish(&o) == -1 && o.total == 0, "a failing sink makes emit_finish fail");
	emit_free(&o);

	return done_testing();
}
