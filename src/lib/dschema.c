/*
 * dschema.c - the DANDI metadata schemas and metadata validation.
 *
 * The schemas ship with the archive (share/schema/<version>/, installed
 * under schema_dir); nothing is downloaded. Validation follows dandischema
 * validate(obj, schema_key, json_validation=True) as the original calls it:
 *
 *   1. a schemaVersion outside the allowed list is one error, field "";
 *   2. JSON Schema validation (formats asserted) against that version's
 *      published-dandiset.json / published-asset.json: every error, sorted
 *      by message, field = the instance path joined with ".";
 *   3. only when (2) found nothing, the pydantic model rules that the JSON
 *      Schema does not carry (contact person, person names, a publishable
 *      assetsSummary, digests), field = the top-level key, pydantic's
 *      "Value error, ..." messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dschema.h"
#include "jsonread.h"
#include "jsonschema.h"
#include "util.h"

const char *const dschema_input_versions[] = {
	"0.4.4", "0.5.1", "0.5.2", "0.6.0", "0.6.1", "0.6.2", "0.6.3", "0.6.4",
	"0.6.5", "0.6.6", "0.6.7", "0.6.8", "0.6.9", "0.6.10", "0.7.0",
};
const size_t dschema_ninput_versions = sizeof(dschema_input_versions) / sizeof(char *);

const char *const dschema_validation_versions[] = {
	"0.7.0", "0.4.4", "0.5.1", "0.5.2", "0.6.0", "0.6.1", "0.6.2", "0.6.3",
	"0.6.4", "0.6.5", "0.6.6", "0.6.7", "0.6.8", "0.6.9", "0.6.10",
};
const size_t dschema_nvalidation_versions = sizeof(dschema_validation_versions) / sizeof(char *);

static const char *const model_names[DM_N] = {
	"Dandiset", "Asset", "PublishedDandiset", "PublishedAsset",
};
static const char *const model_files[DM_N] = {
	"dandiset.json", "asset.json", "published-dandiset.json", "published-asset.json",
};

bool
dschema_allowed(const char *version)
{
	for (size_t i = 0; version != NULL && i < dschema_nvalidation_versions; i++)
		if (strcmp(version, dschema_validation_versions[i]) == 0)
			return true;
	return false;
}

int
dmodel_parse(const char *name)
{
	for (int i = 0; name != NULL && i < DM_N; i++)
		if (strcmp(name, model_names[i]) == 0)
			return i;
	return -1;
}

const char *
dmodel_name(enum dmodel m)
{
	return model_names[m];
}

/* s with regex metacharacters escaped, appended to b. */
static void
re_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr(".^$*+?()[]{}|\\/", *s) != NULL)
			buf_append(b, "\\", 1);
		buf_append(b, s, 1);
	}
}

static void
set_pattern(struct json_object *schema, const char *prop, const char *pattern)
{
	struct json_object *props, *p;

	if (json_object_object_get_ex(schema, "properties", &props) &&
	    json_object_object_get_ex(props, prop, &p) && json_object_is_type(p, json_type_object))
		json_object_object_add(p, "pattern", json_object_new_string(pattern));
}

/* The original generates the current schema with its instance config
 * (dandischema.conf): the instance name in ids and identifiers, the DOI
 * prefix in DOIs, the web app URL as the default `repository`. The shipped
 * 0.7.0 files are dandischema's output for instance DANDI without a DOI
 * prefix or URL; these are the parts that change with the configuration. */
static void
instance_patterns(const struct config *cfg, enum dmodel m, struct json_object *schema)
{
	struct buf b, lower;
	struct json_object *props, *p, *req;
	const char *name = cfg->instance_name != NULL && *cfg->instance_name ? cfg->instance_name : "DANDI";
	bool prefix = cfg->doi_prefix != NULL && *cfg->doi_prefix;

	buf_init(&b);
	buf_init(&lower);
	/* pydantic's AnyHttpUrl adds a "/" to a URL without a path. */
	if (cfg->web_url != NULL && *cfg->web_url &&
	    json_object_object_get_ex(schema, "properties", &props) &&
	    json_object_object_get_ex(props, "repository", &p) && json_object_is_type(p, json_type_object)) {
		const char *host = strstr(cfg->web_url, "://");
		bool bare = host != NULL && strchr(host + 3, '/') == NULL;

		buf_puts(&b, cfg->web_url);
		if (bare)
			buf_puts(&b, "/");
		json_object_object_add(p, "default", json_object_new_string(b.data));
		b.len = 0;
	}
	if (m != DM_DANDISET && m != DM_PUBLISHED_DANDISET) {
		buf_free(&b);
		buf_free(&lower);
		return;
	}
	for (const char *s = name; *s; s++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		buf_append(&lower, &c, 1);
	}
	buf_puts(&b, "^");
	re_escape(&b, name);
	buf_puts(&b, ":\\d{6}$");
	set_pattern(schema, "identifier", b.data);
	b.len = 0;
	if (m == DM_DANDISET) {
		buf_puts(&b, "^(");
		re_escape(&b, name);
		buf_puts(&b, "|");
		re_escape(&b, lower.data);
		buf_puts(&b, "):\\d{6}(/(draft|\\d+\\.\\d+\\.\\d+))$");
		set_pattern(schema, "id", b.data);
	} else {
		buf_puts(&b, "^");
		re_escape(&b, name);
		buf_puts(&b, ":\\d{6}/\\d+\\.\\d+\\.\\d+$");
		set_pattern(schema, "id", b.data);
		/* Without a DOI prefix the DOI may be empty (its default);
		 * with one it is required and has no default. */
		b.len = 0;
		buf_puts(&b, prefix ? "^" : "^(");
		if (prefix)
			re_escape(&b, cfg->doi_prefix);
		else
			buf_puts(&b, "10\\.\\d{4,}");
		buf_puts(&b, "/");
		re_escape(&b, lower.data);
		buf_puts(&b, prefix ? "\\.\\d{6}/\\d+\\.\\d+\\.\\d+$" : "\\.\\d{6}/\\d+\\.\\d+\\.\\d+|)$");
		set_pattern(schema, "doi", b.data);
		if (prefix && json_object_object_get_ex(schema, "properties", &props) &&
		    json_object_object_get_ex(props, "doi", &p) &&
		    json_object_is_type(p, json_type_object) &&
		    json_object_object_get_ex(schema, "required", &req) &&
		    json_object_is_type(req, json_type_array)) {
			struct json_object *sorted = json_object_new_array();
			bool added = false;

			json_object_object_del(p, "default");
			/* "required" is sorted, as pydantic writes it. */
			for (size_t i = 0; i < json_object_array_length(req); i++) {
				struct json_object *k = json_object_array_get_idx(req, i);
				int c = strcmp(json_object_get_string(k), "doi");

				if (c >= 0 && !added) {
					if (c > 0)
						json_object_array_add(sorted, json_object_new_string("doi"));
					added = true;
				}
				json_object_array_add(sorted, json_object_get(k));
			}
			if (!added)
				json_object_array_add(sorted, json_object_new_string("doi"));
			json_object_object_add(schema, "required", sorted);
		}
	}
	buf_free(&b);
	buf_free(&lower);
}

struct json_object *
dschema_load(const struct config *cfg, const char *version, enum dmodel m, char *err, size_t errlen)
{
	char path[4096];
	struct json_object *o;

	if ((int)m < 0 || m >= DM_N || !dschema_allowed(version)) {
		snprintf(err, errlen, "no schema %s for version %s", (int)m >= 0 && m < DM_N ?
		    model_files[m] : "?", version ? version : "(none)");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", cfg->schema_dir, version, model_files[m]);
	if ((o = jsonread_file(path, err, errlen)) == NULL && err[0] != '\0')
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {	/* null too */
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_object_put(o);
		return NULL;
	}
	if (o != NULL && strcmp(version, DANDI_SCHEMA_VERSION) == 0)
		instance_patterns(cfg, m, o);
	return o;
}

/* ------------------------------------------------------------------ */

struct vcache {
	char			 version[16];
	struct js_registry	*reg;
	struct js_schema	*s[DM_N];
	bool			 tried[DM_N];
	char			 err[DM_N][256];
};

struct dvalidator {
	const struct config	*cfg;
	struct vcache		*v;
	size_t			 n;
	pcre2_code		*name_re;	/* dandischema NAME_PATTERN (Unicode \w) */
	pcre2_match_data	*md;
	pcre2_code		*etag_re, *sha_re, *zarr_re;	/* whole-string digests */
	pcre2_match_data	*dmd;
};

/* dandischema.consts.NAME_PATTERN */
#define NAME_PATTERN "^([\\w\\s\\-\\.']+),\\s+([\\w\\s\\-\\.']+)$"

/* re.fullmatch's pattern. */
static pcre2_code *
anchored(const char *src)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &eo, NULL);

	if (re == NULL)
		fatal("dschema: %s does not compile", src);
	return re;
}

struct dvalidator *
dvalidator_new(const struct config *cfg)
{
	struct dvalidator *d = xcalloc(1, sizeof(*d));
	int ec;
	PCRE2_SIZE eo;

	d->cfg = cfg;
	d->name_re = pcre2_compile((PCRE2_SPTR)NAME_PATTERN, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
	if (d->name_re == NULL)
		fatal("dschema: NAME_PATTERN does not compile");
	d->md = pcre2_match_data_create_from_pattern(d->name_re, NULL);
	d->etag_re = anchored("[0-9a-f]{32}-\\d{1,5}");
	d->sha_re = anchored("[0-9a-f]{64}");
	d->zarr_re = anchored("[0-9a-f]{32}-[0-9]+--[0-9]+");
	d->dmd = pcre2_match_data_create(4, NULL);
	return d;
}

void
dvalidator_free(struct dvalidator *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		for (int m = 0; m < DM_N; m++)
			if (d->v[i].s[m] != NULL)
				js_schema_free(d->v[i].s[m]);
		js_registry_free(d->v[i].reg);
	}
	free(d->v);
	pcre2_match_data_free(d->md);
	pcre2_code_free(d->name_re);
	pcre2_match_data_free(d->dmd);
	pcre2_code_free(d->etag_re);
	pcre2_code_free(d->sha_re);
	pcre2_code_free(d->zarr_re);
	free(d);
}

static const struct js_schema *
schema_for(struct dvalidator *d, const char *version, enum dmodel m, const char **why)
{
	struct vcache *c = NULL;

	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].version, version) == 0)
			c = &d->v[i];
	if (c == NULL) {
		d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
		c = &d->v[d->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->version, sizeof(c->version), "%s", version);
		c->reg = js_registry_new();
	}
	if (!c->tried[m]) {
		char uri[256];
		struct json_object *doc;

		c->tried[m] = true;
		snprintf(uri, sizeof(uri), "https://schema.dandiarchive.org/%s/%s", version, model_files[m]);
		if ((doc = dschema_load(d->cfg, version, m, c->err[m], sizeof(c->err[m]))) != NULL) {
			if (js_registry_add(c->reg, uri, doc, c->err[m], sizeof(c->err[m])) == 0)
				c->s[m] = js_compile(c->reg, uri, JS_FORMAT_ASSERT, c->err[m], sizeof(c->err[m]));
			json_object_put(doc);
		}
	}
	*why = c->err[m];
	return c->s[m];
}

static void
add_error(struct json_object *errs, const char *field, const char *msg)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_array_add(errs, e);
}

static int
cmp_errors(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
	struct json_object *mx, *my, *fx, *fy;
	int c;

	json_object_object_get_ex(x, "message", &mx);
	json_object_object_get_ex(y, "message", &my);
	if ((c = strcmp(json_object_get_string(mx), json_object_get_string(my))) != 0)
		return c;
	json_object_object_get_ex(x, "field", &fx);
	json_object_object_get_ex(y, "field", &fy);
	return strcmp(json_object_get_string(fx), json_object_get_string(fy));
}

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool
has_role(struct json_object *c, const char *role)
{
	struct json_object *roles = get(c, "roleName");

	if (roles == NULL || !json_object_is_type(roles, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);
		if (json_object_is_type(r, json_type_string) && strcmp(json_object_get_string(r), role) == 0)
			return true;
	}
	return false;
}

static bool
full_match(struct dvalidator *d, pcre2_code *re, const char *s)
{
	return pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, d->dmd, NULL) >= 0;
}

/* PublishedDandiset's model rules (dandischema 0.12). */
static void
dandiset_rules(struct dvalidator *d, struct json_object *doc, struct json_object *errs)
{
	struct json_object *contrib = get(doc, "contributor"), *sum;
	bool item_errors = false, contact = false;

	if (contrib != NULL && json_object_is_type(contrib, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(contrib); i++) {
			struct json_object *c = json_object_array_get_idx(contrib, i);
			const char *key = get_str(c, "schemaKey"), *name = get_str(c, "name");
			if (key != NULL && strcmp(key, "Person") == 0 && name != NULL &&
			    pcre2_match(d->name_re, (PCRE2_SPTR)name, PCRE2_ZERO_TERMINATED, 0, 0, d->md, NULL) < 0) {
				add_error(errs, "contributor", "String should match pattern '" NAME_PATTERN "'");
				item_errors = true;
				continue;
			}
			if (has_role(c, "dcite:ContactPerson")) {
				contact = true;
				struct json_object *email = get(c, "email");
				if (email == NULL || json_object_is_type(email, json_type_null)) {
					add_error(errs, "contributor", "Value error, Contact person must have an email address.");
					item_errors = true;
				}
			}
		}
		if (!item_errors && !contact)
			add_error(errs, "contributor", "Value error, At least one contributor must have role ContactPerson");
	}
	if ((sum = get(doc, "assetsSummary")) != NULL) {
		struct json_object *nb = get(sum, "numberOfBytes"), *nf = get(sum, "numberOfFiles");
		if (nb == NULL || nf == NULL || json_object_get_int64(nb) == 0 || json_object_get_int64(nf) == 0)
			add_error(errs, "assetsSummary",
			    "Value error, A Dandiset containing no files or zero bytes is not publishable");
	}
}

/* PublishedAsset's digest rules (BareAsset.digest_check, then
 * PublishedAsset.digest_sha256check). */
static void
asset_rules(struct dvalidator *d, struct json_object *doc, struct json_object *errs)
{
	struct json_object *digest = get(doc, "digest");
	const char *fmt = get_str(doc, "encodingFormat");
	char msg[512];

	if (digest == NULL || !json_object_is_type(digest, json_type_object))
		return;
	const char *etag = get_str(digest, "dandi:dandi-etag");
	const char *zarr = get_str(digest, "dandi:dandi-zarr-checksum");
	const char *sha = get_str(digest, "dandi:sha2-256");
	if (fmt != NULL && strcmp(fmt, "application/x-zarr") == 0) {
		long long size = -1, csize;
		struct json_object *cs = get(doc, "contentSize");
		if (cs != NULL && json_object_is_type(cs, json_type_int))
			size = json_object_get_int64(cs);
		if (get(digest, "dandi:dandi-zarr-checksum") == NULL)
			add_error(errs, "digest", "Value error, A zarr asset must have a zarr checksum.");
		else if (etag != NULL && *etag)
			add_error(errs, "digest", "Value error, Digest cannot have both etag and zarr checksums.");
		else if (zarr == NULL || !full_match(d, d->zarr_re, zarr)) {
			snprintf(msg, sizeof(msg), "Value error, Digest must have an appropriate dandi-zarr-checksum"
			    " value.  Got %s", zarr ? zarr : "None");
			add_error(errs, "digest", msg);
		} else if ((csize = strtoll(strstr(zarr, "--") + 2, NULL, 10)) != size) {
			snprintf(msg, sizeof(msg), "Value error, contentSize %lld is not equal to the checksum size %lld.",
			    size, csize);
			add_error(errs, "digest", msg);
		}
		return;
	}
	if (get(digest, "dandi:dandi-etag") == NULL)
		add_error(errs, "digest", "Value error, A non-zarr asset must have a dandi-etag.");
	else if (zarr != NULL && *zarr)
		add_error(errs, "digest", "Value error, Digest cannot have both etag and zarr checksums.");
	else if (etag == NULL || !full_match(d, d->etag_re, etag)) {
		snprintf(msg, sizeof(msg), "Value error, Digest must have an appropriate dandi-etag value. Got %s",
		    etag ? etag : "None");
		add_error(errs, "digest", msg);
	} else if (get(digest, "dandi:sha2-256") == NULL)
		add_error(errs, "digest", "Value error, A non-zarr asset must have a sha2_256.");
	else if (sha == NULL || !full_match(d, d->sha_re, sha)) {
		snprintf(msg, sizeof(msg), "Value error, Digest must have an appropriate sha2_256 value. Got %s",
		    sha ? sha : "None");
		add_error(errs, "digest", msg);
	}
}

struct json_object *
dvalidate(struct dvalidator *d, enum dmodel m, struct json_object *doc)
{
	struct json_object *errs = json_object_new_array();
	const char *version = get_str(doc, "schemaVersion"), *why = "";
	const struct js_schema *s;

	if (!dschema_allowed(version)) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "Metadata version %s is not allowed. Allowed are: ",
		    version != NULL ? version : "None");
		for (size_t i = 0; i < dschema_nvalidation_versions; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", dschema_validation_versions[i]);
		buf_puts(&b, ".");
		add_error(errs, "", b.data);
		buf_free(&b);
		return errs;
	}
	if ((s = schema_for(d, version, m, &why)) == NULL) {
		/* A broken installation, not bad metadata: say so plainly. */
		add_error(errs, "", why && *why ? why : "schema unavailable");
		return errs;
	}
	struct js_errors je;
	js_errors_init(&je, 1000);
	if (js_validate(s, doc, &je) != 0) {
		for (size_t i = 0; i < je.n; i++) {
			struct buf f;
			buf_init(&f);
			buf_puts(&f, "");
			for (size_t k = 0; je.v[i].path && k < json_object_array_length(je.v[i].path); k++) {
				struct json_object *p = json_object_array_get_idx(je.v[i].path, k);
				buf_printf(&f, "%s%s", k ? "." : "", json_object_get_string(p));
			}
			add_error(errs, f.data, je.v[i].message);
			buf_free(&f);
		}
		js_errors_free(&je);
		json_object_array_sort(errs, cmp_errors);
		return errs;
	}
	js_errors_free(&je);
	if (m == DM_PUBLISHED_DANDISET)
		dandiset_rules(d, doc, errs);
	else if (m == DM_PUBLISHED_ASSET)
		asset_rules(d, doc, errs);
	return errs;
}
