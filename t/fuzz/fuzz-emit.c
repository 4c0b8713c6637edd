/*
 * fuzz-emit - the streaming JSON and YAML writers (src/lib/emit.c) on
 * strings of any bytes: invalid or cut-short UTF-8, NULs, breaks, YAML
 * indicators, long lines to fold. The input is a list of NUL-separated
 * fields, read as key, value, key, value...; the first byte of a key
 * chooses the value's kind (string, list, nested mapping, float, int,
 * bool, null). Checked: no memory error anywhere; the JSON text reads back
 * as the same document; every float's repr reads back as the same double.
 */
#include <math.h>

#include <json-c/json.h>

#include "emit.h"
#include "fuzz.h"

static int
sink(void *ctx, const char *data, size_t len)
{
	buf_append(ctx, data, len);
	return 0;
}

static struct json_object *
value_of(unsigned char kind, const char *s, size_t len, bool *finite)
{
	double d;

	switch (kind % 8) {
	case 1: {
		struct json_object *a = json_object_new_array();
		json_object_array_add(a, json_object_new_string_len(s, (int)len));
		json_object_array_add(a, json_object_new_array());
		return a;
	}
	case 2: {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, s, json_object_new_string_len(s, (int)len));
		json_object_object_add(o, "", json_object_new_object());
		return o;
	}
	case 3:
		d = strtod(s, NULL);
		if (!isfinite(d))
			*finite = false;
		return json_object_new_double(d);
	case 4:
		return json_object_new_int64(strtoll(s, NULL, 10));
	case 5:
		return json_object_new_boolean(len & 1);
	case 6:
		return NULL;
	default:
		return json_object_new_string_len(s, (int)len);
	}
}

static void
write_all(struct json_object *v, bool check_json)
{
	struct emit_out o;
	struct buf out;

	buf_init(&out);
	emit_init(&o, 7, sink, &out);
	emit_json_value(&o, v);
	FUZZ_CHECK(emit_finish(&o) == 0, "json sink failed");
	emit_free(&o);
	if (check_json) {
		struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
		/* With its NUL: a number at the very end is complete there. */
		struct json_object *back = json_tokener_parse_ex(tok, out.data, (int)out.len + 1);
		FUZZ_CHECK(json_tokener_get_error(tok) == json_tokener_success,
		    "our JSON does not parse: %.*s", (int)out.len, out.data);
		FUZZ_CHECK(json_object_equal(back, v), "JSON round trip differs: %.*s",
		    (int)out.len, out.data);
		json_object_put(back);
		json_tokener_free(tok);
	}
	/* As dandiset.yaml, and as an entry of assets.yaml. */
	out.len = 0;
	emit_init(&o, 64, sink, &out);
	emit_yaml_document(&o, v, NULL, NULL);
	emit_yaml_document(&o, v, "- ", "  ");
	FUZZ_CHECK(emit_finish(&o) == 0, "yaml sink failed");
	emit_free(&o);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[32];
	size_t n;
	char *copy = fuzz_split(data, size, '\0', f, 32, &n);
	struct json_object *doc = json_object_new_object();
	bool finite = true;

	/* Field lengths: the last one may hold NULs (up to the input's end). */
	for (size_t i = 0; i + 1 < n; i += 2) {
		size_t vlen = i + 2 == n ? (size_t)(copy + size - f[i + 1]) : strlen(f[i + 1]);
		struct json_object *v = value_of((unsigned char)f[i][0], f[i + 1], vlen, &finite);
		json_object_object_add(doc, f[i], v);
		/* Each value alone is a document too (a bare scalar at the root). */
		bool one_finite = true;
		struct json_object *alone = value_of((unsigned char)f[i][0], f[i + 1], vlen, &one_finite);
		write_all(alone, one_finite);
		json_object_put(alone);
	}
	if (n == 1) {
		struct json_object *s = json_object_new_string_len(f[0], (int)size);
		write_all(s, true);
		json_object_put(s);
	}
	write_all(doc, finite);
	json_object_put(doc);

	/* The float repr (Python's repr()) of any 8 bytes. */
	if (size >= 8) {
		double d;
		char r[32];
		memcpy(&d, data, sizeof(d));
		emit_float_repr(d, r);
		if (isfinite(d))
			FUZZ_CHECK(strtod(r, NULL) == d, "repr %s of %.17g", r, d);
	}
	(void)yaml_resolves_non_string(copy, strlen(copy));
	free(copy);
	return 0;
}
