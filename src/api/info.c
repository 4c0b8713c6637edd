/*
 * info.c - /api/info/ (what the dandi CLI checks before anything else and
 * what the web app boots from), the landing page and robots.txt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

enum { SL_DANDISETS, SL_PUBLISHED, SL_USERS, SL_SIZE, SL_NCOLS };
static const struct db_sql stats_latest = { "stats_latest", SL_NCOLS,
	"SELECT dandiset_count, published_dandiset_count, user_count, size FROM app_stats"
	" ORDER BY id DESC LIMIT 1" };

/* Without $1 the dandisets anyone may read (OPEN); with it, that one
 * (its permission checked before). */
enum { SD_COUNT, SD_LIST, SD_NCOLS };
static const struct db_sql stats_downloads = { "stats_downloads", SD_NCOLS,
	"SELECT count(*), coalesce(json_agg(json_build_object('identifier', lpad(d.id::text, 6, '0'),"
	"   'download_count', dandi_dandiset_downloads(d.id)) ORDER BY d.id), '[]')"
	" FROM dandisets d WHERE CASE WHEN $1::bigint IS NULL THEN d.embargo_status = 'OPEN'"
	"   ELSE d.id = $1::bigint END" };

const struct db_sql *const info_sql[] = {
	&stats_latest, &stats_downloads, NULL
};

static struct json_object *
str_or_null(const char *s)
{
	return s != NULL && *s ? json_object_new_string(s) : NULL;
}

static struct json_object *
url_obj(const char *url)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "url", json_object_new_string(url));
	return o;
}

int
info_get(struct request *req)
{
	const struct config	*c = req->cfg;
	struct json_object	*o = json_object_new_object();
	struct json_object	*ic = json_object_new_object();
	struct json_object	*lic = json_object_new_array();
	struct json_object	*allowed = json_object_new_array();
	struct json_object	*svc = json_object_new_object();

	json_object_object_add(ic, "instance_name", json_object_new_string(c->instance_name));
	json_object_object_add(ic, "instance_identifier", str_or_null(c->instance_identifier));
	json_object_object_add(ic, "instance_url", str_or_null(c->web_url));
	json_object_object_add(ic, "doi_prefix", str_or_null(c->doi_prefix));
	json_object_array_add(lic, json_object_new_string("spdx:CC0-1.0"));
	json_object_array_add(lic, json_object_new_string("spdx:CC-BY-4.0"));
	json_object_object_add(ic, "licenses", lic);
	json_object_object_add(o, "instance_config", ic);

	json_object_object_add(o, "schema_version", json_object_new_string(DANDI_SCHEMA_VERSION));
	json_object_object_add(o, "schema_url", json_object_new_string(arena_printf(&req->arena,
	    "%s/api/schemas/?model=Dandiset", c->api_url)));
	/* Schema versions accepted as input, as the original (dandischema 0.12). */
	for (size_t i = 0; i < dschema_ninput_versions; i++)
		json_object_array_add(allowed, json_object_new_string(dschema_input_versions[i]));
	json_object_object_add(o, "allowed_schema_versions", allowed);
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));

	json_object_object_add(svc, "api", url_obj(arena_printf(&req->arena, "%s/api", c->api_url)));
	json_object_object_add(svc, "webui", url_obj(c->web_url));
	json_object_object_add(svc, "jupyterhub", url_obj(c->jupyterhub_url));
	json_object_object_add(o, "services", svc);

	json_object_object_add(o, "cli-minimal-version", json_object_new_string("0.74.0"));
	json_object_object_add(o, "cli-requires-python", json_object_new_string(">=3.10"));
	json_object_object_add(o, "cli-bad-versions", json_object_new_array());
	return resp_json(req, 200, o);
}

int
robots_get(struct request *req)
{
	/* Crawlers may read dandiset pages and the first asset page only. */
	static const char robots[] =
	    "User-agent: Googlebot\n"
	    "Allow: /api/dandisets/search\n"
	    "Allow: /api/dandisets/*/\n"
	    "Allow: /api/dandisets/?\n"
	    "Allow: /api/info/\n"
	    "Allow: /api/dandisets/*/versions/*/assets*page_size=1\n"
	    "Disallow: /api/dandisets/*/versions/*/assets\n"
	    "Disallow: /\n"
	    "\n"
	    "User-agent: *\n"
	    "Disallow: /\n";

	req->status = 200;
	req->content_type_out = "text/plain; charset=utf-8";
	buf_puts(&req->out, robots);
	return 0;
}

int
root_get(struct request *req)
{
	req->status = 200;
	req->content_type_out = "text/html; charset=utf-8";
	buf_printf(&req->out,
	    "<!doctype html><html><head><title>DANDI Archive API</title></head>"
	    "<body><h1>DANDI Archive API</h1><p>This is the API server. "
	    "The archive is at <a href=\"%s\">%s</a>; the API root is "
	    "<a href=\"/api/info/\">/api/info/</a>. The API is documented in "
	    "<a href=\"/api/docs/swagger/\">Swagger UI</a> and "
	    "<a href=\"/api/docs/redoc/\">ReDoc</a> (the OpenAPI document: "
	    "<a href=\"/api/docs/?format=openapi\">/api/docs/?format=openapi</a>).</p></body></html>\n",
	    req->cfg->web_url, req->cfg->web_url);
	return 0;
}

/* GET /api/stats/: the latest row `dandi-jobs stats` wrote (zeros before
 * the first run). */
int
stats_get(struct request *req)
{
	PGresult *r;

	if ((r = req_query(req, &stats_latest, 0, NULL)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_raw_json(req, 200, "{\"dandiset_count\":0,\"published_dandiset_count\":0,"
		    "\"user_count\":0,\"size\":0}");
	return resp_raw_json(req, 200, arena_printf(&req->arena, "{\"dandiset_count\":%s,"
	    "\"published_dandiset_count\":%s,\"user_count\":%s,\"size\":%s}", PQgetvalue(r, 0, SL_DANDISETS),
	    PQgetvalue(r, 0, SL_PUBLISHED), PQgetvalue(r, 0, SL_USERS), PQgetvalue(r, 0, SL_SIZE)));
}

/* GET /api/stats/downloads/[?dandiset=ID] (beyond the original): the
 * downloads of each dandiset counted by `dandi-jobs analytics` from the S3
 * access logs, over the blobs of all its versions' assets (each blob once;
 * a blob in two dandisets counts in both). Embargoed dandisets only for
 * their owners, by ?dandiset=. */
int
stats_downloads_get(struct request *req)
{
	const char *ds = query_get(req, "dandiset");
	char did[24];
	PGresult *r;

	if (ds != NULL) {
		if (strlen(ds) != 6 || strspn(ds, "0123456789") != 6)
			return resp_field_error(req, "dandiset", "A valid Dandiset identifier is required.");
		snprintf(did, sizeof(did), "%lld", strtoll(ds, NULL, 10));
		/* From the query, so after its check: the read rule. */
		if (dandiset_visible(req, did) == NULL)
			return 0;
	}
	const char *p1[1] = { ds ? did : NULL };
	if ((r = req_query(req, &stats_downloads, 1, p1)) == NULL)
		return 0;
	return resp_raw_json(req, 200, arena_printf(&req->arena, "{\"count\":%s,\"results\":%s}",
	    PQgetvalue(r, 0, SD_COUNT), PQgetvalue(r, 0, SD_LIST)));
}
