/*
 * test-openapi: share/openapi/openapi.json against the route table of
 * src/api/routes.c, matched by the router dandi-api uses. Every operation
 * of the document, with its path parameters replaced by their examples,
 * must reach a route of the same method that captures those values, and
 * every route must be reached by some operation. The document must also
 * hang together: every $ref resolves, the path parameters are declared
 * (and required), examples match their patterns, operationIds are unique,
 * security schemes and tags exist. (t/12-docs.t validates it against the
 * OpenAPI 3.0 schema and real answers against it.)
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/api/api.h"
#include "tap.h"

static struct json_object *doc;

/* The value a local reference ("#/a/b~1c") points at, or NULL. */
static struct json_object *
pointer(const char *ref)
{
	struct json_object *o = doc;
	char tok[256];

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	for (const char *p = ref + 2; o != NULL; ) {
		size_t n = 0;
		for (; *p && *p != '/'; p++) {
			char c = *p;
			if (c == '~' && (p[1] == '0' || p[1] == '1'))
				c = *++p == '0' ? '~' : '/';
			if (n + 1 < sizeof(tok))
				tok[n++] = c;
		}
		tok[n] = '\0';
		if (json_object_is_type(o, json_type_object)) {
			if (!json_object_object_get_ex(o, tok, &o))
				return NULL;
		} else if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(tok, &end, 10);
			if (*end || i < 0 || (size_t)i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
		} else
			return NULL;
		if (*p == '\0')
			return o;
		p++;
	}
	return NULL;
}

/* o itself, or what its $ref points at. */
static struct json_object *
deref(struct json_object *o)
{
	struct json_object *r;

	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "$ref", &r))
		return pointer(json_object_get_string(r));
	return o;
}

static const char *
str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int nrefs, badrefs;

/* Every "$ref" below o; where is o's own place ("#/paths/..."), extended
 * in place while walking. */
static void
check_refs(struct json_object *o, char *where, size_t cap)
{
	size_t len = strlen(where);

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			snprintf(where + len, cap - len, "/%zu", i);
			check_refs(json_object_array_get_idx(o, i), where, cap);
		}
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			if (strcmp(k, "$ref") == 0 && json_object_is_type(v, json_type_string)) {
				nrefs++;
				if (pointer(json_object_get_string(v)) == NULL) {
					badrefs++;
					ok(0, "$ref %s at %s resolves", json_object_get_string(v), where);
				}
				continue;
			}
			snprintf(where + len, cap - len, "/%s", k);
			check_refs(v, where, cap);
		}
	}
	where[len] = '\0';
}

static bool
pattern_matches(const char *pattern, const char *s)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);

	if (re == NULL)
		return false;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

/* The path parameter called name: the operation's, else the path item's. */
static struct json_object *
path_param(struct json_object *item, struct json_object *op, const char *name)
{
	struct json_object *lists[2] = { NULL, NULL }, *l;

	if (json_object_object_get_ex(op, "parameters", &l))
		lists[0] = l;
	if (json_object_object_get_ex(item, "parameters", &l))
		lists[1] = l;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; lists[k] != NULL && i < json_object_array_length(lists[k]); i++) {
			struct json_object *p = deref(json_object_array_get_idx(lists[k], i));
			const char *in = str(p, "in"), *n = str(p, "name");
			if (in != NULL && n != NULL && strcmp(in, "path") == 0 && strcmp(n, name) == 0)
				return p;
		}
	return NULL;
}

/* Every declared path parameter appears in the template. */
static void
check_declared(const char *tpl, const char *method, struct json_object *list)
{
	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
		struct json_object *p = deref(json_object_array_get_idx(list, i));
		const char *in = str(p, "in"), *n = str(p, "name");
		if (in == NULL || strcmp(in, "path") != 0 || n == NULL)
			continue;
		char brace[300];
		snprintf(brace, sizeof(brace), "{%s}", n);
		if (strstr(tpl, brace) == NULL)
			ok(0, "%s %s: path parameter %s is in the path", method, tpl, n);
	}
}

int
main(void)
{
	const char	*srcdir = getenv("srcdir");
	char		 file[4096], err[256], allow[64];
	struct json_object *paths = NULL, *tags = NULL, *schemes = NULL, *comps = NULL;	/* when a check fails */

	snprintf(file, sizeof(file), "%s/share/openapi/openapi.json", srcdir && *srcdir ? srcdir : ".");
	doc = json_object_from_file(file);
	ok(doc != NULL && json_object_is_type(doc, json_type_object), "%s is a JSON object", file);
	if (doc == NULL)
		return done_testing();
	ok(str(doc, "openapi") != NULL && strncmp(str(doc, "openapi"), "3.0.", 4) == 0,
	    "openapi is 3.0.x (what the validator of t/12-docs.t knows)");
	ok(json_object_object_get_ex(doc, "paths", &paths) && json_object_is_type(paths, json_type_object),
	    "paths is an object");
	ok(json_object_object_get_ex(doc, "components", &comps) &&
	    json_object_object_get_ex(comps, "securitySchemes", &schemes), "security schemes are declared");
	if (!json_object_object_get_ex(doc, "tags", &tags))
		tags = NULL;

	char where[2048] = "#";
	check_refs(doc, where, sizeof(where));
	ok(badrefs == 0 && nrefs > 50, "every $ref resolves (%d of %d)", nrefs - badrefs, nrefs);

	struct router *router = router_new(api_routes, api_nroutes, err, sizeof(err));
	ok(router != NULL, "the route table compiles: %s", router ? "yes" : err);
	if (router == NULL)
		return done_testing();
	bool *covered = calloc(api_nroutes, sizeof(bool));
	struct json_object *opids = json_object_new_object();
	int nops = 0;

	json_object_object_foreach(paths, tpl, item) {
		static const char *methods[] = { "get", "put", "post", "delete", "patch", "head",
		    "options", "trace" };
		struct json_object *plist = NULL;

		json_object_object_get_ex(item, "parameters", &plist);
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			struct json_object *op, *v, *olist = NULL;
			char sample[1024], meth[16];
			const char *values[ROUTE_MAX_PARAMS + 1];
			int nvalues = 0;
			bool good = true;

			if (!json_object_object_get_ex(item, methods[m], &op))
				continue;
			nops++;
			for (size_t i = 0; methods[m][i] && i < sizeof(meth) - 1; i++)
				meth[i] = (char)toupper((unsigned char)methods[m][i]), meth[i + 1] = '\0';

			const char *id = str(op, "operationId");
			if (id == NULL || json_object_object_get_ex(opids, id, &v)) {
				ok(0, "%s %s: operationId %s is given and unique", meth, tpl, id ? id : "(none)");
				good = false;
			} else
				json_object_object_add(opids, id, NULL);
			if (!json_object_object_get_ex(op, "responses", &v) || json_object_object_length(v) == 0) {
				ok(0, "%s %s: has responses", meth, tpl);
				good = false;
			}
			if (json_object_object_get_ex(op, "tags", &v))
				for (size_t i = 0; i < json_object_array_length(v); i++) {
					const char *t = json_object_get_string(json_object_array_get_idx(v, i));
					bool found = false;
					for (size_t j = 0; tags != NULL && j < json_object_array_length(tags); j++) {
						const char *n = str(json_object_array_get_idx(tags, j), "name");
						found = found || (n != NULL && strcmp(n, t) == 0);
					}
					if (!found) {
						ok(0, "%s %s: tag %s is declared", meth, tpl, t);
						good = false;
					}
				}
			if (json_object_object_get_ex(op, "security", &v))
				for (size_t i = 0; i < json_object_array_length(v); i++) {
					json_object_object_foreach(json_object_array_get_idx(v, i), scheme, unused) {
						(void)unused;
						if (!json_object_object_get_ex(schemes, scheme, NULL)) {
							ok(0, "%s %s: security scheme %s is declared", meth, tpl, scheme);
							good = false;
						}
					}
				}
			json_object_object_get_ex(op, "parameters", &olist);
			check_declared(tpl, meth, plist);
			check_declared(tpl, meth, olist);

			/* The sample path: every {name} by its parameter's example. */
			size_t n = 0;
			for (const char *p = tpl; *p && n < sizeof(sample) - 1; ) {
				if (*p != '{') {
					sample[n++] = *p++;
					continue;
				}
				const char *end = strchr(p, '}');
				if (end == NULL)
					break;
				char name[256];
				snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
				p = end + 1;
				struct json_object *prm = path_param(item, op, name), *req_flag, *schema = NULL;
				const char *ex = NULL, *pat = NULL;
				if (prm != NULL && json_object_object_get_ex(prm, "schema", &schema))
					schema = deref(schema);
				if (schema != NULL) {
					struct json_object *e;
					if (json_object_object_get_ex(schema, "example", &e))
						ex = json_object_get_string(e);
					pat = str(schema, "pattern");
				}
				if (prm == NULL || !json_object_object_get_ex(prm, "required", &req_flag) ||
				    !json_object_get_boolean(req_flag)) {
					ok(0, "%s %s: path parameter %s is declared and required", meth, tpl, name);
					good = false;
					continue;
				}
				if (ex == NULL || (pat != NULL && !pattern_matches(pat, ex))) {
					ok(0, "%s %s: %s has an example matching its pattern", meth, tpl, name);
					good = false;
					continue;
				}
				if (nvalues < ROUTE_MAX_PARAMS)
					values[nvalues++] = ex;
				n += (size_t)snprintf(sample + n, sizeof(sample) - n, "%s", ex);
			}
			sample[n < sizeof(sample) ? n : sizeof(sample) - 1] = '\0';

			/* The router must serve it, as this method, capturing the
			 * examples in order. */
			struct request req;
			const struct route *rt = NULL;
			request_init(&req, NULL, NULL);
			req.method = meth;
			req.path = sample;
			enum route_result rr = router_match(router, &req, &rt, allow, sizeof(allow));
			if (rr != ROUTE_FOUND || strcmp(rt->method, meth) != 0) {
				ok(0, "%s %s (%s) is served by a route", meth, tpl, sample);
				good = false;
			} else {
				covered[rt - api_routes] = true;
				for (int i = 0; i < nvalues; i++)
					if (req.params[i] == NULL || strcmp(req.params[i], values[i]) != 0) {
						ok(0, "%s %s: the route captures %s as parameter %d", meth, tpl,
						    values[i], i + 1);
						good = false;
					}
				if (nvalues < ROUTE_MAX_PARAMS && req.params[nvalues] != NULL) {
					ok(0, "%s %s: the route captures no more than the path's parameters",
					    meth, tpl);
					good = false;
				}
			}
			request_finish(&req);
			if (good)
				ok(1, "%s %s", meth, tpl);
		}
	}
	ok(nops >= (int)api_nroutes, "%d operations for %zu routes", nops, api_nroutes);
	for (size_t i = 0; i < api_nroutes; i++)
		ok(covered[i], "route %s %s is documented", api_routes[i].method, api_routes[i].pattern);

	free(covered);
	json_object_put(opids);
	router_free(router);
	json_object_put(doc);
	return done_testing();
}
