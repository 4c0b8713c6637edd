/*
 * metadata.c - the checks of the {"name", "metadata"} body that dandiset
 * create and version update share, and DRF-style helpers for them. The
 * server-owned version fields are in src/lib/vmeta.c (the publish job
 * needs them too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"

/* Python's name for a JSON value's type: DRF error messages use it. */
const char *
metadata_py_type(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:	return "NoneType";
	case json_type_boolean:	return "bool";
	case json_type_double:	return "float";
	case json_type_int:	return "int";
	case json_type_object:	return "dict";
	case json_type_array:	return "list";
	case json_type_string:	return "str";
	}
	return "object";
}

const char *
metadata_utf8_fix(struct request *req, const char *s)
{
	char *fixed;

	if (s == NULL || (fixed = utf8_fix(s)) == NULL)
		return s;
	s = arena_strdup(&req->arena, fixed);
	free(fixed);
	return s;
}

/* Whether any string below o is not UTF-8 (bad) or holds a NUL (nul):
 * PostgreSQL stores neither. */
void
json_scan_text(struct json_object *o, bool *bad, bool *nul)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		size_t len = (size_t)json_object_get_string_len(o);
		if (utf8_chars(s, len) < 0)
			*bad = true;
		if (memchr(s, '\0', len) != NULL)
			*nul = true;
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_scan_text(json_object_array_get_idx(o, i), bad, nul);
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (utf8_chars(key, strlen(key)) < 0)
				*bad = true;
			json_scan_text(val, bad, nul);
		}
		break;
	}
	default:
		break;
	}
}

bool
json_string_has_nul(struct json_object *o)
{
	return json_object_is_type(o, json_type_string) &&
	    strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o);
}

static const char *
name_error(bool present, struct json_object *n)
{
	bool bad = false, nul = false;

	if (!present)
		return "This field is required.";
	if (n == NULL)
		return "This field may not be null.";
	if (!json_object_is_type(n, json_type_string))
		return "Not a valid string.";
	json_scan_text(n, &bad, &nul);
	if (nul)
		return "Null characters are not allowed.";
	if (json_object_get_string_len(n) == 0)
		return "This field may not be blank.";
	/* varchar(300) counts characters, as DRF's max_length does. */
	if (utf8_chars(json_object_get_string(n), (size_t)json_object_get_string_len(n)) > 300)
		return "Ensure this field has no more than 300 characters.";
	return NULL;
}

static const char *
metadata_error(struct request *req, bool present, struct json_object *md)
{
	bool bad = false, nul = false;

	if (!present)
		return "This field is required.";
	if (md == NULL)
		return "This field may not be null.";
	if (!json_object_is_type(md, json_type_object))
		return arena_printf(&req->arena, "Expected a dictionary of items but got type \"%s\".",
		    metadata_py_type(md));
	json_scan_text(md, &bad, &nul);
	return nul ? "Null characters are not allowed." : NULL;
}

static void
add_error(struct json_object *errs, const char *field, const char *msg)
{
	struct json_object *l;

	if (msg == NULL)
		return;
	l = json_object_new_array();
	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, field, l);
}

struct json_object *
metadata_body_parse(struct request *req, const char **name)
{
	struct json_object	*body, *n = NULL, *md = NULL, *errs;
	bool			 bad = false, nul = false, has_n, has_md;

	if ((body = req_json_body(req)) == NULL)
		return NULL;
	if (!json_object_is_type(body, json_type_object)) {
		resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));
		return NULL;
	}
	/* Python refuses to decode such a body at all. */
	json_scan_text(body, &bad, &nul);
	if (bad) {
		resp_detail(req, 400, "JSON parse error - invalid UTF-8 in a string");
		return NULL;
	}
	/* Like a DRF serializer, report every field's error at once. */
	errs = json_object_new_object();
	has_n = json_object_object_get_ex(body, "name", &n);
	has_md = json_object_object_get_ex(body, "metadata", &md);
	add_error(errs, "name", name_error(has_n, n));
	add_error(errs, "metadata", metadata_error(req, has_md, md));
	if (json_object_object_length(errs) > 0) {
		resp_json(req, 400, errs);
		return NULL;
	}
	json_object_put(errs);
	*name = json_object_get_string(n);
	return md;
}
