/*
 * metadata.c - the version metadata fields the server owns. Clients may send
 * anything; on every save the computed keys are stripped and recomputed
 * from the database, so stored metadata is always self-consistent. Also
 * the checks of the {"name", "metadata"} body that create and update share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"

static const char *computed_version_keys[] = {
	"name", "identifier", "version", "id", "url", "assetsSummary", "citation",
	"doi", "dateCreated", "datePublished", "publishedBy", "manifestLocation",
	"releaseNotes",
};

void
metadata_strip_version(struct json_object *md)
{
	struct json_object *access, *first;

	for (size_t i = 0; i < sizeof(computed_version_keys) / sizeof(char *); i++)
		json_object_object_del(md, computed_version_keys[i]);
	/* access[0]'s schemaKey and status are recomputed too. */
	if (json_object_object_get_ex(md, "access", &access) &&
	    json_object_is_type(access, json_type_array) &&
	    json_object_array_length(access) > 0 &&
	    (first = json_object_array_get_idx(access, 0)) != NULL &&
	    json_object_is_type(first, json_type_object)) {
		json_object_object_del(first, "schemaKey");
		json_object_object_del(first, "status");
	}
}

static void
set_str(struct json_object *md, const char *key, const char *val)
{
	json_object_object_add(md, key, json_object_new_string(val));
}

/* access: keep the object entries of a non-empty list (else [{}]) and force
 * the first one to describe the dandiset's embargo state. */
static void
populate_access(const struct version_ctx *v, struct json_object *md)
{
	struct json_object *access = NULL, *kept = json_object_new_array(), *first;

	if (json_object_object_get_ex(md, "access", &access) &&
	    json_object_is_type(access, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(access); i++) {
			struct json_object *e = json_object_array_get_idx(access, i);
			if (json_object_is_type(e, json_type_object))
				json_object_array_add(kept, json_object_get(e));
		}
	}
	if (json_object_array_length(kept) == 0)
		json_object_array_add(kept, json_object_new_object());
	first = json_object_array_get_idx(kept, 0);
	set_str(first, "schemaKey", "AccessRequirements");
	set_str(first, "status", strcmp(v->embargo_status, "EMBARGOED") == 0 ?
	    "dandi:EmbargoedAccess" : "dandi:OpenAccess");
	if (v->embargo_end != NULL && *v->embargo_end)
		set_str(first, "embargoedUntil", v->embargo_end);
	json_object_object_add(md, "access", kept);
}

/* "<A>; <B> (<year>) <name> (Version <v>) [Data set]. DANDI Archive. <url>" */
static void
populate_citation(struct json_object *md, const char *name, const char *version,
    const char *url)
{
	struct json_object	*contrib;
	struct buf		 who, cit;
	char			 year[16];
	time_t			 now = time(NULL);
	struct tm		 tm;
	size_t			 nlen = strlen(name);

	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
	while (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	buf_init(&who);
	buf_init(&cit);
	if (json_object_object_get_ex(md, "contributor", &contrib) &&
	    json_object_is_type(contrib, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(contrib); i++) {
			struct json_object *c = json_object_array_get_idx(contrib, i), *inc, *nm;
			if (!json_object_is_type(c, json_type_object) ||
			    !json_object_object_get_ex(c, "includeInCitation", &inc) ||
			    !json_object_get_boolean(inc) ||
			    !json_object_object_get_ex(c, "name", &nm))
				continue;
			if (who.len > 0)
				buf_puts(&who, "; ");
			buf_puts(&who, json_object_get_string(nm));
		}
	}
	if (who.len > 0)
		buf_printf(&cit, "%s (%s) %.*s (Version %s) [Data set]. DANDI Archive. %s",
		    who.data, year, (int)nlen, name, version, url);
	else
		buf_printf(&cit, "%.*s (%s). (Version %s) [Data set]. DANDI Archive. %s",
		    (int)nlen, name, year, version, url);
	set_str(md, "citation", cit.data);
	buf_free(&who);
	buf_free(&cit);
}

void
metadata_populate_version(const struct config *cfg, const struct version_ctx *v,
    struct json_object *md)
{
	char	id6[8], buf[1024], url[1024];
	struct json_object *schema_version, *tmp, *arr;

	snprintf(id6, sizeof(id6), "%06lld", (long long)v->dandiset_id);
	if (json_object_object_get_ex(md, "schemaVersion", &schema_version) &&
	    json_object_is_type(schema_version, json_type_string)) {
		snprintf(buf, sizeof(buf), "https://raw.githubusercontent.com/dandi/schema/"
		    "master/releases/%s/context.json", json_object_get_string(schema_version));
		set_str(md, "@context", buf);
	}
	arr = json_object_new_array();
	if (strcmp(v->version, "draft") == 0)
		snprintf(buf, sizeof(buf), "%s/api/dandisets/%s/versions/draft/assets/",
		    cfg->api_url, id6);
	else
		snprintf(buf, sizeof(buf), "%s/%s/dandisets/%s/%s/assets.yaml",
		    cfg->s3_endpoint, cfg->s3_bucket, id6, v->version);
	json_object_array_add(arr, json_object_new_string(buf));
	json_object_object_add(md, "manifestLocation", arr);
	set_str(md, "name", v->name);
	snprintf(buf, sizeof(buf), "%s:%s", cfg->instance_name, id6);
	set_str(md, "identifier", buf);
	set_str(md, "version", v->version);
	snprintf(buf, sizeof(buf), "%s:%s/%s", cfg->instance_name, id6, v->version);
	set_str(md, "id", buf);
	set_str(md, "repository", cfg->web_url);
	snprintf(url, sizeof(url), "%s/dandiset/%s/%s", cfg->web_url, id6, v->version);
	set_str(md, "url", url);
	set_str(md, "dateCreated", v->created_iso);
	populate_access(v, md);
	if (!json_object_object_get_ex(md, "assetsSummary", &tmp)) {
		tmp = json_object_new_object();
		set_str(tmp, "schemaKey", "AssetsSummary");
		json_object_object_add(tmp, "numberOfBytes", json_object_new_int(0));
		json_object_object_add(tmp, "numberOfFiles", json_object_new_int(0));
		json_object_object_add(md, "assetsSummary", tmp);
	}
	if (v->doi != NULL && *v->doi) {
		set_str(md, "doi", v->doi);
		snprintf(url, sizeof(url), "https://doi.org/%s", v->doi);
	}
	populate_citation(md, v->name, v->version, url);
}

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
