/*
 * vmeta.c - the version metadata fields the server owns. Clients may send
 * anything; on every save the computed keys are stripped and recomputed
 * from the database, so stored metadata is always self-consistent. Shared
 * by the API (draft saves) and the publish job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "vmeta.h"

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


void
s3_base_url(const struct config *c, char *out, size_t outlen)
{
	const char *ep = c->s3_public_endpoint != NULL && *c->s3_public_endpoint ? c->s3_public_endpoint :
	    c->s3_endpoint != NULL && *c->s3_endpoint ? c->s3_endpoint : "https://s3.amazonaws.com";
	size_t n = strlen(ep);

	while (n > 0 && ep[n - 1] == '/')
		n--;
	/* The addressing style of the S3 client (s3_init): virtual-host on
	 * AWS unless s3_path_style says otherwise. */
	const char *ps = c->s3_path_style != NULL ? c->s3_path_style : "auto";
	bool path_style = strcmp(ps, "true") == 0 ? true : strcmp(ps, "false") == 0 ? false :
	    strstr(c->s3_endpoint != NULL && *c->s3_endpoint ? c->s3_endpoint : ep, "amazonaws.com") == NULL;
	const char *host = strstr(ep, "://");
	if (path_style || host == NULL || (size_t)(host - ep) + 3 > n)
		snprintf(out, outlen, "%.*s/%s/", (int)n, ep, c->s3_bucket);
	else
		snprintf(out, outlen, "%.*s%s.%.*s/", (int)(host - ep) + 3, ep, c->s3_bucket,
		    (int)(n - (size_t)(host - ep) - 3), host + 3);
}
