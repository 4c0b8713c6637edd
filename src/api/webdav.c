/*
 * webdav.c - GET /api/webdav/assets/atpath/?dandiset_id=&version_id=&path=
 * &children=&metadata=: what dandidav shows at a path of a version, as the
 * original's webdav atpath view. A page of {"type": "folder"|"asset",
 * "resource": ...}: the node at path, then (children=true, folders only)
 * its direct children; at the root (path empty) only the children. The
 * answer comes from the folder tree (asset_paths) and the asset object of
 * asset_json() (assets.c), so it agrees with assets/ and assets/paths/.
 * A zarr asset of a published version has its snapshot's size; its files
 * are /api/zarr/{zarr}/files/?version=<version_id> (zarrs.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

/* The node at $2: is it a file? */
enum { WN_FILE, WN_NCOLS };
static const struct db_sql webdav_node = { "webdav_node", WN_NCOLS,
	"SELECT p.asset_id IS NOT NULL FROM asset_paths p" PATH_DELTAS_JOIN
	" WHERE p.version_id = $1::bigint AND p.path = $2 AND " PATH_LIVE };

/* $1 version, $2 path ('' = root), $3 children, $4 with metadata,
 * $5 api url, $6 s3 base, $7 limit, $8 offset. The page is chosen
 * first (path order, the node before its children as 'x' < 'x/...')
 * and only its rows are read. The children are the range scan of
 * assets.c's asset_path_children. */
enum {
	WD_FOLDER, WD_TOTAL = PAGE_COUNTED_TOTAL, WD_PATH, WD_FILES, WD_SIZE, WD_METADATA,
	WD_ASSET, WD_NCOLS = WD_ASSET + ASSET_JSON_NCOLS,
};
static const struct db_sql webdav_atpath_page = { "webdav_atpath_page", WD_NCOLS,
	"SELECT a.id IS NULL, page.total, p.path, page.files, page.size,"
	" CASE WHEN $4::boolean AND a.id IS NOT NULL THEN dandi_asset_metadata(a, $5, $6) END,"
	" " ASSET_JSON_COLUMNS
	" FROM (SELECT p.id, " PATH_LIVE_FILES " AS files, " PATH_LIVE_SIZE " AS size,"
	"   count(*) OVER () AS total FROM asset_paths p" PATH_DELTAS_JOIN
	"   WHERE p.version_id = $1::bigint AND CASE WHEN $2 = ''"
	"     THEN $3::boolean AND position('/' in p.path) = 0"
	"     ELSE p.path = $2 OR ($3::boolean AND p.path > $2 || '/' AND p.path < $2 || '0'"
	"          AND position('/' in substr(p.path, length($2) + 2)) = 0) END"
	"     AND " PATH_LIVE
	"   ORDER BY p.path LIMIT $7::bigint OFFSET $8::bigint) page"
	" JOIN asset_paths p ON p.id = page.id LEFT JOIN assets a ON a.id = p.asset_id"
	" LEFT JOIN blobs b ON b.id = a.blob_id"
	/* A zarr of a published version: the size of its snapshot. */
	ZARR_IN_VERSION_JOIN("$1::bigint")
	" ORDER BY p.path" };

const struct db_sql *const webdav_sql[] = {
	&webdav_node, &webdav_atpath_page, NULL
};

/* {"type": "folder"|"asset", "resource": ...} of a webdav_atpath_page row. */
static void
webdav_row_json(struct buf *b, PGresult *r, int i, void *ctx)
{
	(void)ctx;
	if (PQgetvalue(r, i, WD_FOLDER)[0] == 't') {
		buf_puts(b, "{\"type\":\"folder\",\"resource\":{\"path\":");
		buf_json_stringn(b, PQgetvalue(r, i, WD_PATH), (size_t)PQgetlength(r, i, WD_PATH));
		buf_printf(b, ",\"total_assets\":%s,\"total_size\":%s}}",
		    PQgetvalue(r, i, WD_FILES), PQgetvalue(r, i, WD_SIZE));
		return;
	}
	buf_puts(b, "{\"type\":\"asset\",\"resource\":");
	asset_json(b, r, i, WD_ASSET, WD_METADATA);
	buf_append(b, "}", 1);
}

/* A DRF CharField of the query: surrounding whitespace trimmed; only
 * blanks is "may not be blank", and so is an empty value of a required
 * field (an optional one given empty takes its default, as DRF's
 * get_value for HTML input). NULL when absent or in error. */
static const char *
char_field(struct request *req, struct json_object *errs, const char *key, bool req_field)
{
	const char	*v = query_get(req, key);
	char		*s;
	size_t		 n;

	if (v == NULL || (*v == '\0' && !req_field))
		return NULL;
	while (isspace((unsigned char)*v))
		v++;
	s = arena_strdup(&req->arena, v);
	for (n = strlen(s); n > 0 && isspace((unsigned char)s[n - 1]); n--)
		s[n - 1] = '\0';
	if (*s == '\0') {
		struct json_object *l = json_object_new_array();
		json_object_array_add(l, json_object_new_string("This field may not be blank."));
		json_object_object_add(errs, key, l);
		return NULL;
	}
	return s;
}

/* A DRF BooleanField defaulting to false. */
static bool
bool_field(struct request *req, struct json_object *errs, const char *key)
{
	const char	*v = query_get(req, key);
	bool		 b = false;

	if (v != NULL && *v && !parse_bool(v, &b)) {
		struct json_object *l = json_object_new_array();
		json_object_array_add(l, json_object_new_string("Must be a valid boolean."));
		json_object_object_add(errs, key, l);
	}
	return b;
}

static void
required(struct json_object *errs, const char *key, const char *value)
{
	if (value != NULL || json_object_object_get_ex(errs, key, NULL))
		return;
	struct json_object *l = json_object_new_array();
	json_object_array_add(l, json_object_new_string("This field is required."));
	json_object_object_add(errs, key, l);
}

int
webdav_atpath(struct request *req)
{
	struct json_object *errs = json_object_new_object();
	struct page	 pg;
	char		 limit[24], offset[24], did[24], *path;
	PGresult	*r;
	int64_t		 id = 0;

	/* All field errors at once, in the serializer's field order. */
	const char *ds = char_field(req, errs, "dandiset_id", true);
	required(errs, "dandiset_id", ds);
	/* The original int()s the id unchecked (a 500); a field error here. */
	if (ds != NULL && !parse_int64(ds, &id)) {
		struct json_object *l = json_object_new_array();
		json_object_array_add(l, json_object_new_string("A valid integer is required."));
		json_object_object_add(errs, "dandiset_id", l);
	}
	const char *ver = char_field(req, errs, "version_id", true);
	required(errs, "version_id", ver);
	const char *pp = char_field(req, errs, "path", false);
	bool with_md = bool_field(req, errs, "metadata");
	bool children = bool_field(req, errs, "children");
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);
	if (page_parse(req, &pg) != 0)
		return 0;

	/* The version comes in the query, so it is looked up after the
	 * query's checks (as the original's serializer), by the nested asset
	 * routes' rule (T_ASSETS_VERSION): 404, then owners only for an
	 * embargoed dandiset (anonymous 401, others 403). */
	snprintf(did, sizeof(did), "%lld", (long long)id);
	if (perm_assets_version(req, did, ver) != 0)
		return 0;
	const char *vid = req->version->id;

	/* Folders may be asked for with a trailing slash; files may not. */
	path = arena_strdup(&req->arena, pp != NULL ? pp : "");
	size_t n = strlen(path);
	bool endslash = n > 0 && path[n - 1] == '/';
	for (; n > 0 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	if (*path) {
		const char *pn[2] = { vid, path };
		if ((r = req_query(req, &webdav_node, 2, pn)) == NULL)
			return 0;
		if (PQntuples(r) == 0)
			return resp_detail(req, 404, "Folder or asset not found at %s", path);
		if (endslash && PQgetvalue(r, 0, WN_FILE)[0] == 't')
			return resp_detail(req, 404, "Folder not found at %s", path);
	}

	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[8] = { vid, path, children ? "t" : "f", with_md ? "t" : "f",
	    req->cfg->api_url, assets_s3_base(req), limit, offset };
	if ((r = req_query(req, &webdav_atpath_page, 8, params)) == NULL)
		return 0;
	return page_respond_counted_each(req, &pg, r, webdav_row_json, NULL);
}
