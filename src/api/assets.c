/*
 * assets.c - the files of a version: list (filters, ordering, lazy count),
 * the folder tree (paths/), one asset's metadata, info and validation, and
 * adding, replacing and removing assets in a draft; the download redirects
 * and the routes of an asset by its id alone (/api/assets/{id}/).
 *
 * Assets are immutable: changing one makes a new asset (new asset_id) that
 * takes the old one's place in the draft, so published versions keep
 * theirs. A write is one call to the database (dandi_asset_write) under
 * a shared lock of the draft: writers to one draft run side by side, the
 * folder tree's unique nodes keep paths apart and folder totals change by
 * appended deltas (sql/016_folder_deltas.sql); publish locks it alone.
 *
 * With group commit on (write_batch, src/lib/groupcommit.h) a write to a
 * draft makes its checks outside a transaction and queues its item; one
 * worker applies the queued items of several workers in one transaction
 * (dandi_asset_write_batch: the lock, the checks again, each item in a
 * subtransaction of its own), and each worker answers its own client from
 * its item's result exactly as a write of its own would.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "groupcommit.h"
#include "metrics.h"
#include "s3.h"

#define DOWNLOAD_TTL	3600	/* seconds a download URL is valid */
/* Every FOLD_EVERY-th asset write of a worker folds its draft's pending
 * folder deltas once it has committed, so that readers never have many
 * to add up; a fold already running for the draft is not waited for. */
#define FOLD_EVERY	64
#define PATHS_FOLD_LOCK_CLASS	"7294017"

enum { AEP_ONE, AEP_NCOLS };	/* unread: a row when there is one */
static const struct db_sql asset_exact_path = { "asset_exact_path", AEP_NCOLS,
	"SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	" WHERE av.version_id = $1::bigint AND a.path = $2 LIMIT 1" };

/* $1 version, $2 with metadata, $3 api url, $4 s3 base, $5 exact path,
 * $6 LIKE prefix (escaped), $7 zarr only, $8 glob regex, $9 order,
 * $10 limit, $11 offset. The page is chosen first and only its rows
 * are serialised (JSON in the select list of the outer query would be
 * built for every skipped row as well). The columns of the three
 * asset_list statements: the asset object's, its metadata (NULL without
 * $2), the row id (the next page's cursor). */
enum { AL_ASSET, AL_METADATA = AL_ASSET + ASSET_JSON_NCOLS, AL_ROW, AL_NCOLS };
static const struct db_sql asset_list = { "asset_list", AL_NCOLS,
	"SELECT " ASSET_JSON_COLUMNS ","
	" CASE WHEN $2::boolean THEN dandi_asset_metadata(a, $3, $4) END, a.id"
	" FROM (SELECT a.id, row_number() OVER () AS n FROM ("
	"   SELECT a.id FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	"   WHERE av.version_id = $1::bigint"
	"     AND ($5::text IS NULL OR a.path = $5)"
	"     AND ($6::text IS NULL OR upper(a.path) LIKE upper($6) || '%')"
	"     AND (NOT $7::boolean OR a.zarr_id IS NOT NULL)"
	"     AND ($8::text IS NULL OR a.path ~* $8)"
	"   ORDER BY CASE WHEN $9 = 'path' THEN a.path END,"
	"     CASE WHEN $9 = '-path' THEN a.path END DESC,"
	"     CASE WHEN $9 = 'modified' THEN a.modified END,"
	"     CASE WHEN $9 = '-modified' THEN a.modified END DESC,"
	"     CASE WHEN $9 = '-created' THEN a.created END DESC,"
	"     CASE WHEN $9 = '-created' THEN a.id END DESC,"
	"     a.created, a.id"
	"   LIMIT $10::bigint OFFSET $11::bigint) a) page"
	" JOIN assets a ON a.id = page.id"
	" LEFT JOIN blobs b ON b.id = a.blob_id"
	ZARR_IN_VERSION_JOIN("$1::bigint")
	" ORDER BY page.n" };

/* The default order without filters, the dandi client's walk over a
 * whole version: a range of the asset_versions_order index, entered
 * at an offset or, from a next link, right after the cursor row (the
 * same page without skipping rows: a deep page costs no more than
 * the first). $1 version, $2 with metadata, $3 api url, $4 s3 base,
 * $5 limit, $6 offset, $7 cursor time, $8 cursor asset row. */
static const struct db_sql asset_list_created = { "asset_list_created", AL_NCOLS,
	"SELECT " ASSET_JSON_COLUMNS ","
	" CASE WHEN $2::boolean THEN dandi_asset_metadata(a, $3, $4) END, a.id"
	" FROM (SELECT asset_id, asset_created FROM asset_versions WHERE version_id = $1::bigint"
	"       AND ($7::timestamptz IS NULL OR (asset_created, asset_id) > ($7, $8::bigint))"
	"       ORDER BY asset_created, asset_id LIMIT $5::bigint OFFSET $6::bigint) page"
	" JOIN assets a ON a.id = page.asset_id"
	" LEFT JOIN blobs b ON b.id = a.blob_id"
	ZARR_IN_VERSION_JOIN("$1::bigint")
	" ORDER BY page.asset_created, page.asset_id" };

static const struct db_sql asset_list_created_desc = { "asset_list_created_desc", AL_NCOLS,
	"SELECT " ASSET_JSON_COLUMNS ","
	" CASE WHEN $2::boolean THEN dandi_asset_metadata(a, $3, $4) END, a.id"
	" FROM (SELECT asset_id, asset_created FROM asset_versions WHERE version_id = $1::bigint"
	"       AND ($7::timestamptz IS NULL OR (asset_created, asset_id) < ($7, $8::bigint))"
	"       ORDER BY asset_created DESC, asset_id DESC LIMIT $5::bigint OFFSET $6::bigint) page"
	" JOIN assets a ON a.id = page.asset_id"
	" LEFT JOIN blobs b ON b.id = a.blob_id"
	ZARR_IN_VERSION_JOIN("$1::bigint")
	" ORDER BY page.asset_created DESC, page.asset_id DESC" };

enum { CNT_COUNT, CNT_NCOLS };
static const struct db_sql asset_count = { "asset_count", CNT_NCOLS,
	"SELECT count(*) FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	" WHERE av.version_id = $1::bigint"
	"   AND ($2::text IS NULL OR a.path = $2)"
	"   AND ($3::text IS NULL OR upper(a.path) LIKE upper($3) || '%')"
	"   AND (NOT $4::boolean OR a.zarr_id IS NOT NULL)"
	"   AND ($5::text IS NULL OR a.path ~* $5)" };

/* Without filters the count is the version's file total, kept in the
 * folder tree's root nodes: no scan of a million assets. */
static const struct db_sql asset_count_all = { "asset_count_all", CNT_NCOLS,
	"SELECT files FROM dandi_version_totals($1::bigint)" };

enum { APE_ONE, APE_NCOLS };	/* unread: a row when there is one */
static const struct db_sql asset_path_exists = { "asset_path_exists", APE_NCOLS,
	"SELECT 1 FROM asset_paths p" PATH_DELTAS_JOIN
	" WHERE p.version_id = $1::bigint AND p.path = $2 AND " PATH_LIVE };

/* Direct children of $2 ('' = the root), in path order. '/' sorts
 * just before '0' in the C collation: a range scan of the index. */
enum { APC_JSON = PAGE_COUNTED_ITEM, APC_TOTAL = PAGE_COUNTED_TOTAL, APC_NCOLS };
static const struct db_sql asset_path_children = { "asset_path_children", APC_NCOLS,
	"SELECT json_build_object('path', p.path, 'version', p.version_id,"
	" 'aggregate_files', " PATH_LIVE_FILES ", 'aggregate_size', " PATH_LIVE_SIZE ","
	" 'asset', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object("
	"   'asset_id', a.asset_id, 'url', dandi_asset_s3_url(a, $3)) END),"
	" count(*) OVER ()"
	" FROM asset_paths p" PATH_DELTAS_JOIN " LEFT JOIN assets a ON a.id = p.asset_id"
	" WHERE p.version_id = $1::bigint AND CASE WHEN $2 = ''"
	"   THEN position('/' in p.path) = 0"
	"   ELSE p.path > $2 || '/' AND p.path < $2 || '0'"
	"        AND position('/' in substr(p.path, length($2) + 2)) = 0 END"
	"   AND " PATH_LIVE
	" ORDER BY p.path LIMIT $4::bigint OFFSET $5::bigint" };

/* One asset of a version: metadata, validation, internals, info. */
enum {
	AIV_METADATA, AIV_VALIDATION, AIV_ASSET,
	AIV_NCOLS = AIV_ASSET + ASSET_JSON_NCOLS,
};
static const struct db_sql asset_in_version = { "asset_in_version", AIV_NCOLS,
	"SELECT dandi_asset_metadata(a, $3, $4),"
	" json_build_object('status', a.status, 'validation_errors', a.validation_errors),"
	" " ASSET_JSON_COLUMNS
	" FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	" LEFT JOIN blobs b ON b.id = a.blob_id" ZARR_IN_VERSION_JOIN("$1::bigint")
	" WHERE av.version_id = $1::bigint AND a.asset_id = $2::uuid" };

/* A blob the user ($2) may not use is not found: the same answer as an
 * unknown blob_id (sql/functions/15_access.sql). */
enum { ABU_ID, ABU_EMBARGOED, ABU_NCOLS };
static const struct db_sql asset_blob_by_uuid = { "asset_blob_by_uuid", ABU_NCOLS,
	"SELECT id, embargoed FROM blobs b WHERE blob_id = $1::uuid AND dandi_blob_attachable(b, $2::bigint)" };

enum { AZU_ID, AZU_DANDISET, AZU_NCOLS };
static const struct db_sql asset_zarr_by_uuid = { "asset_zarr_by_uuid", AZU_NCOLS,
	"SELECT id, dandiset_id FROM zarrs WHERE zarr_id = $1::uuid" };

/* Every POST and PUT of an asset, in one call (sql/functions/30_assets.sql):
 * $1 version, $2 old asset uuid (PUT), $3 new uuid, $4 path, $5 blob,
 * $6 zarr, $7 stripped metadata, $8 the zarr is the dandiset's. */
enum { AW_RESULT, AW_ASSET, AW_NCOLS };
static const struct db_sql asset_write = { "asset_write", AW_NCOLS,
	"SELECT result, asset FROM dandi_asset_write($1::bigint, $2::uuid, $3::uuid, $4,"
	" $5::bigint, $6::bigint, $7::jsonb, $8::boolean)" };

/* DELETE: $1 version, $2 asset uuid; no row when it is not there, false
 * when a concurrent writer took it out first. */
enum { ARM_PATH, ARM_DONE, ARM_NCOLS };
static const struct db_sql asset_remove = { "asset_remove", ARM_NCOLS,
	"SELECT a.path, dandi_asset_detach($1::bigint, a.id)"
	" FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	" WHERE av.version_id = $1::bigint AND a.asset_id = $2::uuid" };

enum { AFT_MOVED, AFT_NCOLS };	/* unread; NULL when another fold runs */
static const struct db_sql asset_paths_fold_try = { "asset_paths_fold_try", AFT_NCOLS,
	"SELECT CASE WHEN pg_try_advisory_xact_lock(" PATHS_FOLD_LOCK_CLASS ", ($1::bigint % 2147483647)::int)"
	" THEN dandi_asset_paths_fold($1::bigint) END" };

/* A blob uploaded for an embargoed dandiset becomes public once it is
 * used in an open one; dandi-jobs takes the embargoed tag off its S3
 * object (blob_untag). */
enum { ABE_JOB, ABE_NCOLS };	/* unread */
static const struct db_sql asset_blob_unembargo = { "asset_blob_unembargo", ABE_NCOLS,
	"WITH b AS (UPDATE blobs SET embargoed = false, modified = now()"
	"   WHERE id = $1::bigint AND embargoed"
	"   AND (SELECT embargo_status FROM dandisets WHERE id = $2::bigint) = 'OPEN'"
	"   RETURNING blob_id)"
	" SELECT dandi_enqueue('blob_untag', blob_id::text, '{}') FROM b" };

/* The audit details of a write, the metadata and the info answer. */
enum { AAW_AUDIT, AAW_METADATA, AAW_ASSET, AAW_NCOLS = AAW_ASSET + ASSET_JSON_NCOLS };
static const struct db_sql asset_after_write = { "asset_after_write", AAW_NCOLS,
	"SELECT jsonb_build_object("
	"   'path', a.path, 'size', coalesce(b.size, z.size),"
	"   'asset_blob_id', b.blob_id::text, 'zarr_archive_id', z.zarr_id::text,"
	"   'asset_id', a.asset_id::text, 'checksum', coalesce(b.etag, z.checksum),"
	"   'metadata', a.metadata),"
	" dandi_asset_metadata(a, $2, $3), " ASSET_JSON_COLUMNS
	" FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	" WHERE a.id = $1::bigint" };

enum { DN_BLOB, DN_PATH, DN_CONTENT_TYPE, DN_ZARR, DN_NCOLS };
static const struct db_sql download_nested = { "download_nested", DN_NCOLS,
	"SELECT b.blob, a.path, coalesce(a.metadata->>'encodingFormat', 'application/octet-stream'),"
	" a.zarr_id IS NOT NULL"
	" FROM asset_versions av JOIN assets a ON a.id = av.asset_id LEFT JOIN blobs b ON b.id = a.blob_id"
	" WHERE av.version_id = $1::bigint AND a.asset_id = $2::uuid" };

/* Group commit: $1 the items (a JSON array, asset_item_json), $2 api url,
 * $3 s3 base; a row per item, in item order: its result, the asset row,
 * the answer's metadata and the asset object (ASSET_JSON_COLUMNS's). */
enum { AWB_I, AWB_RESULT, AWB_ASSET, AWB_METADATA, AWB_JSON, AWB_NCOLS = AWB_JSON + ASSET_JSON_NCOLS };
static const struct db_sql asset_write_batch = { "asset_write_batch", AWB_NCOLS,
	"SELECT i, result, asset, metadata, asset_uuid, blob_uuid, zarr_uuid, path, size, created, modified"
	" FROM dandi_asset_write_batch($1::jsonb, $2, $3)" };

const struct db_sql *const assets_sql[] = {
	&asset_write_batch,
	&asset_exact_path, &asset_list, &asset_list_created, &asset_list_created_desc,
	&asset_count, &asset_count_all, &asset_path_exists, &asset_path_children,
	&asset_in_version, &asset_blob_by_uuid, &asset_zarr_by_uuid, &asset_write, &asset_remove, &asset_paths_fold_try,
	&asset_blob_unembargo, &asset_after_write, &download_nested, NULL
};

/* Server-owned asset metadata keys: never stored from a client. */
static const char *const computed_asset_keys[] = {
	"id", "access", "path", "identifier", "contentUrl", "contentSize", "digest",
	"datePublished", "publishedBy",
};

/* Where the bytes of an object can be fetched, without a signature:
 * "<endpoint>/<bucket>/" (path style). */
const char *
assets_s3_base(struct request *req)
{
	char buf[1024];

	s3_base_url(req->cfg, buf, sizeof(buf));
	return arena_strdup(&req->arena, buf);
}

static int
query_flag(struct request *req, const char *key, bool *out)
{
	const char *v = query_get(req, key);

	*out = false;
	if (v != NULL && !parse_bool(v, out))
		return resp_field_error(req, key, "Must be a valid boolean."), -1;
	return 0;
}

/* LIKE pattern matching strings that start with s. */
const char *
like_prefix(struct request *req, const char *s)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_append(&b, "\\", 1);
		buf_append(&b, s, 1);
	}
	buf_append(&b, "", 1);
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return out;
}

/* A glob where only '*' is special, as a whole-path regular expression. */
const char *
glob_regex(struct request *req, const char *g)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_puts(&b, "^");
	for (; *g; g++) {
		unsigned char c = (unsigned char)*g;
		if (c == '*')
			buf_puts(&b, ".*");
		else if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')))
			buf_printf(&b, "\\%c", c);
		else
			buf_append(&b, g, 1);
	}
	buf_puts(&b, "$");
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return out;
}

/* The asset object (see api.h). Built here rather than in SQL: a list
 * page is the hottest path of the API, and building its 100 objects in
 * the database made the page cost the database 1.7 (json_build_object)
 * to 2.6 (the former dandi_asset_json) times as much (pgbench). */
void
asset_json(struct buf *b, PGresult *r, int row, int col, int md_col)
{
	char created[32], modified[32];

	if (!ts_iso(PQgetvalue(r, row, col + ASSET_JSON_CREATED), created) ||
	    !ts_iso(PQgetvalue(r, row, col + ASSET_JSON_MODIFIED), modified))
		created[0] = modified[0] = '\0';	/* not reached with DateStyle ISO */
	buf_puts(b, "{\"asset_id\":\"");
	buf_puts(b, PQgetvalue(r, row, col + ASSET_JSON_UUID));
	buf_puts(b, "\",\"blob\":");
	if (PQgetisnull(r, row, col + ASSET_JSON_BLOB))
		buf_puts(b, "null");
	else
		buf_printf(b, "\"%s\"", PQgetvalue(r, row, col + ASSET_JSON_BLOB));
	buf_puts(b, ",\"zarr\":");
	if (PQgetisnull(r, row, col + ASSET_JSON_ZARR))
		buf_puts(b, "null");
	else
		buf_printf(b, "\"%s\"", PQgetvalue(r, row, col + ASSET_JSON_ZARR));
	buf_puts(b, ",\"path\":");
	buf_json_stringn(b, PQgetvalue(r, row, col + ASSET_JSON_PATH),
	    (size_t)PQgetlength(r, row, col + ASSET_JSON_PATH));
	buf_printf(b, ",\"size\":%s,\"created\":\"%s\",\"modified\":\"%s\"",
	    PQgetisnull(r, row, col + ASSET_JSON_SIZE) ? "null" : PQgetvalue(r, row, col + ASSET_JSON_SIZE),
	    created, modified);
	if (md_col >= 0 && !PQgetisnull(r, row, md_col)) {
		buf_puts(b, ",\"metadata\":");
		buf_append(b, PQgetvalue(r, row, md_col), (size_t)PQgetlength(r, row, md_col));
	}
	buf_append(b, "}", 1);
}

/* An asset of a list page: the asset_list statements' columns. */
static void
asset_row_json(struct buf *b, PGresult *r, int i, void *ctx)
{
	(void)ctx;
	asset_json(b, r, i, AL_ASSET, AL_METADATA);
}

/* Answers row 0 of r as an asset object. */
int
asset_json_respond(struct request *req, PGresult *r, int col, int md_col)
{
	req->status = 200;
	req->content_type_out = "application/json";
	req->out.len = 0;
	asset_json(&req->out, r, 0, col, md_col);
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" naming a real instant (the database
 * would refuse 2026-02-30 with an error). */
static bool
iso_utc_valid(const char *c)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	struct tm tm = { 0 }, back;

	for (size_t i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)c[i]) : c[i] != form[i])
			return false;
	tm.tm_year = atoi(c) - 1900;
	tm.tm_mon = atoi(c + 5) - 1;
	tm.tm_mday = atoi(c + 8);
	tm.tm_hour = atoi(c + 11);
	tm.tm_min = atoi(c + 14);
	tm.tm_sec = atoi(c + 17);
	time_t t = timegm(&tm);
	return gmtime_r(&t, &back) != NULL && back.tm_year == atoi(c) - 1900 &&
	    back.tm_mon == atoi(c + 5) - 1 && back.tm_mday == atoi(c + 8) &&
	    back.tm_hour == atoi(c + 11) && back.tm_min == atoi(c + 14) &&
	    back.tm_sec == atoi(c + 17);
}

/* ?cursor= of a next link: "<created, ISO with Z>_<asset row id>", the
 * last row of the page before. -1 with 400 set when malformed. */
static int
cursor_parse(struct request *req, const char **ts, const char **id)
{
	const char *c = query_get(req, "cursor");
	int64_t n;

	*ts = *id = NULL;
	if (c == NULL)
		return 0;
	const char *us = strrchr(c, '_');
	if (us == NULL || us - c != 27 || !parse_int64(us + 1, &n) || n <= 0 ||
	    !iso_utc_valid(c)) {
		resp_field_error(req, "cursor", "Invalid cursor.");
		return -1;
	}
	*ts = arena_strndup(&req->arena, c, 27);
	*id = us + 1;
	return 0;
}

/* GET /api/dandisets/{id}/versions/{v}/assets/ */
int
assets_list(struct request *req)
{
	const struct version *v = req->version;
	struct page	 pg;
	bool		 with_md, zarr_only;
	const char	*path = query_get(req, "path"), *glob = query_get(req, "glob");
	const char	*order = query_get(req, "order"), *exact = NULL, *prefix = NULL, *re = NULL;
	char		 limit[24], offset[24];
	PGresult	*r;

	if (page_parse(req, &pg) != 0)
		return 0;
	if (query_flag(req, "metadata", &with_md) != 0 || query_flag(req, "zarr", &zarr_only) != 0)
		return 0;
	if (order != NULL && *order && strcmp(order, "created") != 0 && strcmp(order, "-created") != 0 &&
	    strcmp(order, "modified") != 0 && strcmp(order, "-modified") != 0 &&
	    strcmp(order, "path") != 0 && strcmp(order, "-path") != 0)
		return resp_field_error(req, "order", arena_printf(&req->arena,
		    "Select a valid choice. %s is not one of the available choices.", order));
	/* path: an asset at exactly that path wins; else a case-insensitive
	 * prefix. */
	if (path != NULL && *path) {
		const char *p2[2] = { v->id, path };
		if ((r = req_query(req, &asset_exact_path, 2, p2)) == NULL)
			return 0;
		if (PQntuples(r) > 0)
			exact = path;
		else
			prefix = like_prefix(req, path);
	}
	if (glob != NULL)
		re = glob_regex(req, glob);

	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size + 1);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	bool plain = exact == NULL && prefix == NULL && !zarr_only && re == NULL;
	bool by_created = plain && (order == NULL || !*order || strcmp(order, "created") == 0 ||
	    strcmp(order, "-created") == 0);
	/* The clients' walk, without metadata (which changes with a blob's
	 * sha256): a page rendered before may answer (pagecache.c). */
	bool cacheable = by_created && !with_md;
	if (cacheable && pagecache_lookup(req))
		return 0;
	if (by_created) {
		const char *cur_ts = NULL, *cur_id = NULL;
		if (cursor_parse(req, &cur_ts, &cur_id) != 0)
			return 0;
		if (cur_ts != NULL)
			strcpy(offset, "0");
		const char *params[8] = { v->id, with_md ? "t" : "f", req->cfg->api_url,
		    assets_s3_base(req), limit, offset, cur_ts, cur_id };
		r = req_query(req, order != NULL && *order == '-' ? &asset_list_created_desc :
		    &asset_list_created, 8, params);
	} else {
		const char *params[11] = { v->id, with_md ? "t" : "f", req->cfg->api_url,
		    assets_s3_base(req), exact, prefix, zarr_only ? "t" : "f", re, order ? order : "",
		    limit, offset };
		r = req_query(req, &asset_list, 11, params);
	}
	if (r == NULL)
		return 0;
	int rows = PQntuples(r);
	bool more = rows > pg.size;
	if (by_created && more) {
		int last = rows - 2;
		char ts[32];
		if (ts_iso(PQgetvalue(r, last, AL_ASSET + ASSET_JSON_CREATED), ts))
			pg.next_cursor = arena_printf(&req->arena, "%s_%s", ts, PQgetvalue(r, last, AL_ROW));
	}

	/* The count costs a scan: only the first page has it (LazyPagination). */
	int64_t total = -1;
	if (pg.page == 1) {
		PGresult *c;
		if (plain) {
			const char *p1[1] = { v->id };
			c = req_query(req, &asset_count_all, 1, p1);
		} else {
			const char *p5[5] = { v->id, exact, prefix, zarr_only ? "t" : "f", re };
			c = req_query(req, &asset_count, 5, p5);
		}
		if (c == NULL)
			return 0;
		parse_int64(PQgetvalue(c, 0, CNT_COUNT), &total);
	}
	/* The look-ahead row only tells whether there is a next page. */
	page_respond_each(req, &pg, r, more ? rows - 1 : rows, total, more, asset_row_json, NULL);
	if (cacheable)
		pagecache_store(req);
	return 0;
}

/* GET /api/dandisets/{id}/versions/{v}/assets/paths/?path_prefix= */
int
assets_paths(struct request *req)
{
	const struct version *v = req->version;
	struct page	 pg;
	char		*prefix, limit[24], offset[24];
	const char	*pp = query_get(req, "path_prefix");
	PGresult	*r;

	if (page_parse(req, &pg) != 0)
		return 0;
	prefix = arena_strdup(&req->arena, pp != NULL ? pp : "");
	for (size_t n = strlen(prefix); n > 0 && prefix[n - 1] == '/'; n--)
		prefix[n - 1] = '\0';
	if (*prefix) {
		const char *p2[2] = { v->id, prefix };
		if ((r = req_query(req, &asset_path_exists, 2, p2)) == NULL)
			return 0;
		if (PQntuples(r) == 0)
			return resp_detail(req, 404, "Specified path not found.");
	}
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[5] = { v->id, prefix, assets_s3_base(req), limit, offset };
	if ((r = req_query(req, &asset_path_children, 5, params)) == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* The asset of a nested route, in its version; NULL with 404 set. */
static PGresult *
asset_load(struct request *req, const char *version_id)
{
	const char	*params[4] = { version_id, req->params[2], req->cfg->api_url, assets_s3_base(req) };
	PGresult	*r = req_query(req, &asset_in_version, 4, params);

	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 0) {
		resp_detail(req, 404, "Not found.");
		return NULL;
	}
	return r;
}

static int
asset_read(struct request *req, int col)
{
	PGresult *r;

	if ((r = asset_load(req, req->version->id)) == NULL)
		return 0;
	if (col == AIV_ASSET)
		return asset_json_respond(req, r, AIV_ASSET, AIV_METADATA);
	return resp_raw_json(req, 200, PQgetvalue(r, 0, col));
}

/* GET .../assets/{asset_id}/: the full metadata. */
int
assets_get(struct request *req)
{
	return asset_read(req, AIV_METADATA);
}

/* GET .../assets/{asset_id}/info/ */
int
assets_info(struct request *req)
{
	return asset_read(req, AIV_ASSET);
}

/* GET .../assets/{asset_id}/validation/ */
int
assets_validation(struct request *req)
{
	return asset_read(req, AIV_VALIDATION);
}

/* --- writes ------------------------------------------------------------ */

/* Bytes the original's path pattern accepts between separators: ASCII
 * letters and digits, the range A-z's [\]^_`, ( ) , & # + ~ = - and white
 * space. Bytes of non-ASCII characters are accepted too, so that paths in
 * any script work (the original refuses them). */
static bool
path_char(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'z') ||
	    strchr("(),&#+~=- \t\n\v\f\r", c) != NULL || (c >= 0x1c && c <= 0x1f);
}

/* The original's asset path rule, written out so it cannot backtrack:
 * no leading '/', no empty segment, no '.' or '..' segment, no trailing
 * '/' or '.', a '.' only before a path character. NULL when valid. */
const char *
assets_path_error(const char *p)
{
	size_t n = strlen(p);

	if (*p == '/')
		return "Path must not begin with /";
	if (n == 0 || !path_char((unsigned char)p[n - 1]))
		return "Path improperly formatted";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i], next = (unsigned char)p[i + 1];
		if (c == '.') {
			if (!path_char(next))
				return "Path improperly formatted";
		} else if (c == '/') {
			if (!(path_char(next) || next == '.'))
				return "Path improperly formatted";
		} else if (!path_char(c))
			return "Path improperly formatted";
	}
	return NULL;
}

struct asset_body {
	struct json_object	*metadata;	/* stripped, schemaVersion set */
	const char		*path;
	const char		*metadata_text;
	const char		*blob_uuid;
	const char		*zarr_uuid;
};

static void
json_put_cb(void *o)
{
	json_object_put(o);
}

/* Reads {"metadata": {...,"path"}, "blob_id"|"zarr_id"} as the original's
 * serializer does; -1 with the 400 set. */
static int
asset_body_parse(struct request *req, struct asset_body *b)
{
	struct json_object *body, *md, *blob, *zarr, *path, *copy = NULL;
	bool has_md, has_blob, has_zarr;

	if ((body = req_json_body(req)) == NULL)
		return -1;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body))), -1;
	has_md = json_object_object_get_ex(body, "metadata", &md);
	has_blob = json_object_object_get_ex(body, "blob_id", &blob);
	has_zarr = json_object_object_get_ex(body, "zarr_id", &zarr);

	struct json_object *errs = json_object_new_object();
	if (!has_md)
		json_object_object_add(errs, "metadata", json_error_list("This field is required."));
	else if (md == NULL)
		json_object_object_add(errs, "metadata", json_error_list("This field may not be null."));
	if (has_blob && (blob == NULL || !json_object_is_type(blob, json_type_string) ||
	    json_string_has_nul(blob) || !is_uuid(json_object_get_string(blob))))
		json_object_object_add(errs, "blob_id", json_error_list(blob == NULL ?
		    "This field may not be null." : "Must be a valid UUID."));
	if (has_zarr && (zarr == NULL || !json_object_is_type(zarr, json_type_string) ||
	    json_string_has_nul(zarr) || !is_uuid(json_object_get_string(zarr))))
		json_object_object_add(errs, "zarr_id", json_error_list(zarr == NULL ?
		    "This field may not be null." : "Must be a valid UUID."));
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs), -1;
	json_object_put(errs);

	if (has_blob == has_zarr)
		return resp_field_error(req, "blob_id", "Exactly one of blob_id or zarr_id must be specified."), -1;
	if (!json_object_is_type(md, json_type_object) || !json_object_object_get_ex(md, "path", &path) ||
	    path == NULL || (json_object_is_type(path, json_type_string) && json_object_get_string_len(path) == 0))
		return resp_field_error(req, "metadata", "No path specified in metadata."), -1;
	if (!json_object_is_type(path, json_type_string) ||
	    strlen(json_object_get_string(path)) != (size_t)json_object_get_string_len(path))
		return resp_field_error(req, "non_field_errors", "Path improperly formatted"), -1;
	bool bad = false, nul = false;
	json_scan_text(md, &bad, &nul);
	if (bad)
		return resp_detail(req, 400, "JSON parse error - invalid UTF-8 in a string"), -1;
	if (nul)
		return resp_field_error(req, "metadata", "Null characters are not allowed."), -1;
	b->path = json_object_get_string(path);
	if (utf8_chars(b->path, strlen(b->path)) > 512)
		return resp_field_error(req, "non_field_errors",
		    "Ensure this value has at most 512 characters."), -1;
	const char *perr = assets_path_error(b->path);
	if (perr != NULL)
		return resp_field_error(req, "non_field_errors", perr), -1;
	b->path = arena_strdup(&req->arena, b->path);

	if (json_object_deep_copy(md, &copy, NULL) != 0)
		return resp_detail(req, 500, "Out of memory."), -1;
	arena_defer(&req->arena, json_put_cb, copy);
	for (size_t i = 0; i < sizeof(computed_asset_keys) / sizeof(char *); i++)
		json_object_object_del(copy, computed_asset_keys[i]);
	if (!json_object_object_get_ex(copy, "schemaVersion", NULL))
		json_object_object_add(copy, "schemaVersion", json_object_new_string(DANDI_SCHEMA_VERSION));
	b->metadata = copy;
	b->metadata_text = arena_strdup(&req->arena,
	    json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
	b->blob_uuid = has_blob ? arena_strdup(&req->arena, json_object_get_string(blob)) : NULL;
	b->zarr_uuid = has_zarr ? arena_strdup(&req->arena, json_object_get_string(zarr)) : NULL;
	return 0;
}

/* The internal ids of the blob or zarr named in the body; 404 if unknown,
 * and for an embargoed blob the user may not use (whoever merely learnt
 * its id must not publish or copy its bytes). */
static int
target_load(struct request *req, const struct asset_body *b, const char **blob_id,
    const char **zarr_id, bool *blob_embargoed, const char **zarr_dandiset)
{
	const char *params[2];
	PGresult *r;

	*blob_id = *zarr_id = *zarr_dandiset = NULL;
	*blob_embargoed = false;
	if (b->blob_uuid) {
		params[0] = b->blob_uuid;
		params[1] = req->user_id_str;
		r = req_query(req, &asset_blob_by_uuid, 2, params);
	} else {
		params[0] = b->zarr_uuid;
		r = req_query(req, &asset_zarr_by_uuid, 1, params);
	}
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		resp_detail(req, 404, "Not found.");
		return -1;
	}
	if (b->blob_uuid) {
		*blob_id = arena_strdup(&req->arena, PQgetvalue(r, 0, ABU_ID));
		*blob_embargoed = PQgetvalue(r, 0, ABU_EMBARGOED)[0] == 't';
	} else {
		*zarr_id = arena_strdup(&req->arena, PQgetvalue(r, 0, AZU_ID));
		*zarr_dandiset = arena_strdup(&req->arena, PQgetvalue(r, 0, AZU_DANDISET));
	}
	return 0;
}

/* Python's repr of a list of str, as the original's conflict message
 * prints the paths in the way (paths: a JSON array of strings). */
static const char *
py_list_repr(struct request *req, const char *paths)
{
	struct json_object *a = jsonread_str(paths, NULL, 0);
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_puts(&b, "[");
	for (size_t i = 0; a != NULL && i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));
		char q = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ? '"' : '\'';
		if (i > 0)
			buf_puts(&b, ", ");
		buf_append(&b, &q, 1);
		for (; *s; s++) {
			if (*s == '\\' || *s == q)
				buf_append(&b, "\\", 1);
			if (*s == '\n')
				buf_puts(&b, "\\n");
			else if (*s == '\t')
				buf_puts(&b, "\\t");
			else if (*s == '\r')
				buf_puts(&b, "\\r");
			else
				buf_append(&b, s, 1);
		}
		buf_append(&b, &q, 1);
	}
	buf_puts(&b, "]");
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	json_object_put(a);
	return out;
}

/* After a committed write: now and then the draft's fold (FOLD_EVERY).
 * A failure only leaves the deltas to the next one. */
static void
asset_fold_sometimes(struct request *req)
{
	static unsigned writes;
	const char *params[1] = { req->version->id };

	/* A failure set a 500 that the caller's answer replaces. */
	if (++writes % FOLD_EVERY == 0 && req_query(req, &asset_paths_fold_try, 1, params) == NULL)
		log_warn("folding the folder totals of version %s failed", req->version->id);
}

/* Answers with the asset's info and writes the audit record. */
static int
asset_written(struct request *req, const char *asset_id, const char *record_type)
{
	const char	*params[3] = { asset_id, req->cfg->api_url, assets_s3_base(req) };
	PGresult	*r;

	if ((r = req_query(req, &asset_after_write, 3, params)) == NULL)
		return 0;
	if (audit_write_raw(req, req->params[0], record_type, PQgetvalue(r, 0, AAW_AUDIT)) != 0)
		return 0;
	if (req_commit(req) != 0)
		return 0;
	asset_fold_sometimes(req);
	return asset_json_respond(req, r, AAW_ASSET, AAW_METADATA);
}

/* --- group commit ------------------------------------------------------ */

/* An item's answer: what dandi_asset_write_batch said of it. */
struct item_answer {
	int		 failed;	/* 0, or the status of a batch that failed whole */
	const char	*result;
	const char	*asset;		/* the asset row ('added', 'unchanged') */
	const char	*body;		/* the 200 answer; NULL: read it again */
	size_t		 body_len;
};

/* An item the batch undid, to be written alone: it waited too long for
 * another batch (dandi_asset_write_batch), or its result (a refusal:
 * nothing was written) did not fit the queue's answer. */
#define RESULT_RETRY	"retry"

/* The queue item of a write (dandi_asset_batch_item's fields): op post,
 * put (b and old) or delete (old). */
static const char *
asset_item_json(struct request *req, const char *op, const char *old, const char *uuid,
    const struct asset_body *b, const char *blob_id, const char *zarr_id, bool zarr_ok, bool blob_emb,
    size_t *len)
{
	const struct user	*u = req->user;
	struct buf		 j;
	const char		*out;

	buf_init(&j);
	buf_printf(&j, "{\"op\":\"%s\",\"v\":%s,\"d\":%lld,\"u\":%s,\"su\":%s,\"un\":", op,
	    req->version->id, strtoll(req->params[0], NULL, 10), req->user_id_str,
	    u->is_superuser ? "true" : "false");
	buf_json_string(&j, u->username);
	buf_puts(&j, ",\"ue\":");
	buf_json_string(&j, u->email);
	buf_puts(&j, ",\"uf\":");
	buf_json_string(&j, arena_printf(&req->arena, "%s %s", u->first_name, u->last_name));
	buf_puts(&j, ",\"old\":");
	if (old != NULL)
		buf_json_string(&j, old);
	else
		buf_puts(&j, "null");
	if (b != NULL) {
		buf_printf(&j, ",\"new\":\"%s\",\"path\":", uuid);
		buf_json_string(&j, b->path);
		buf_printf(&j, ",\"blob\":%s,\"zarr\":%s,\"zok\":%s,\"unemb\":%s,\"md\":",
		    blob_id ? blob_id : "null", zarr_id ? zarr_id : "null", zarr_ok ? "true" : "false",
		    blob_emb ? "true" : "false");
		buf_puts(&j, b->metadata_text);
	}
	buf_puts(&j, "}");
	*len = j.len;
	out = arena_strdup(&req->arena, j.data);
	buf_free(&j);
	return out;
}

/* Test hook (t/77-group-commit.t): the first leader of a batch of two or
 * more writes its pid to this file and sleeps before its commit, to be
 * killed there. */
static void
asset_batch_test_hold(int n)
{
	const char *path = getenv("DANDI_TEST_GC_LEADER_HOLD");
	int fd;

	if (path == NULL || n < 2 || (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		return;
	dprintf(fd, "%ld\n", (long)getpid());
	close(fd);
	sleep(30);
}

/* Applies n items in one transaction on this worker's connection (as a
 * leader, or alone); ans[k] gets item k's answer (in req's arena). */
static void
asset_batch_apply(struct request *req, const char *const *items, const size_t *lens, int n,
    struct item_answer *ans)
{
	struct buf	 j;
	PGresult	*r = NULL;
	int		 failed = 0;

	buf_init(&j);
	buf_puts(&j, "[");
	for (int k = 0; k < n; k++) {
		if (k > 0)
			buf_puts(&j, ",");
		buf_append(&j, items[k], lens[k]);
	}
	buf_append(&j, "]", 2);
	const char *params[3] = { j.data, req->cfg->api_url, assets_s3_base(req) };
	if (req_begin(req) != 0 || (r = req_query(req, &asset_write_batch, 3, params)) == NULL)
		failed = req->status;
	else {
		asset_batch_test_hold(n);
		if (PQntuples(r) != n) {
			log_error("asset_write_batch: %d rows for %d items", PQntuples(r), n);
			failed = 500;
		} else if (req_commit(req) != 0)
			failed = req->status;
	}
	buf_free(&j);
	if (failed != 0) {
		db_rollback(req->db);
		if (failed != 503)
			failed = 500;
	}
	for (int k = 0; k < n; k++) {
		struct item_answer *a = &ans[k];
		memset(a, 0, sizeof(*a));
		a->failed = failed;
		if (failed)
			continue;
		a->result = PQgetvalue(r, k, AWB_RESULT);
		a->asset = PQgetvalue(r, k, AWB_ASSET);
		if (strcmp(a->result, "added") == 0 || strcmp(a->result, "unchanged") == 0) {
			struct buf b;
			buf_init(&b);
			asset_json(&b, r, k, AWB_JSON, AWB_METADATA);
			a->body = arena_strdup(&req->arena, b.data);
			a->body_len = b.len;
			buf_free(&b);
		}
	}
	/* Each item is answered from its answer, this worker's too. */
	req->status = 0;
	req->out.len = 0;
	req->content_type_out = NULL;
}

/* The leader: applies its batch and posts every item's answer. */
static void
asset_batch_lead(struct request *req, const struct gc_batch *batch)
{
	const char		*items[GC_BATCH_MAX];
	size_t			 lens[GC_BATCH_MAX];
	struct item_answer	 ans[GC_BATCH_MAX];
	struct gc_answer	*g = arena_alloc(&req->arena, sizeof(*g));

	for (int k = 0; k < batch->n; k++)
		items[k] = gc_item(batch, k, &lens[k]);
	asset_batch_apply(req, items, lens, batch->n, ans);
	for (int k = 0; k < batch->n; k++) {
		const struct item_answer *a = &ans[k];
		size_t rl = a->result ? strlen(a->result) : 0;
		g->failed = a->failed;
		snprintf(g->asset, sizeof(g->asset), "%s", a->asset ? a->asset : "");
		if (rl > GC_ANSWER_MAX) {
			memcpy(g->data, RESULT_RETRY, sizeof(RESULT_RETRY) - 1);
			g->result_len = sizeof(RESULT_RETRY) - 1;
		} else {
			memcpy(g->data, a->result ? a->result : "", rl);
			g->result_len = (uint32_t)rl;
		}
		g->body_len = 0;
		if (a->body != NULL && g->result_len + a->body_len <= GC_ANSWER_MAX) {
			memcpy(g->data + g->result_len, a->body, a->body_len);
			g->body_len = (uint32_t)a->body_len;
		}
		gc_post(batch, k, g);
	}
}

/* Answers a write that dandi_asset_write or dandi_asset_batch_item
 * refused (result r; b NULL: a DELETE): 1 when it did, 0 when r is no
 * refusal. */
static int
asset_refusal(struct request *req, const struct asset_body *b, const char *r)
{
	if (strcmp(r, "missing") == 0 || strcmp(r, "notfound") == 0)
		resp_detail(req, 404, "Not found.");
	else if (strcmp(r, "forbidden") == 0)
		resp_empty(req, 403);
	else if (strcmp(r, "unembargoing") == 0)
		perm_not_unembargoing(req, "UNEMBARGOING");
	else if (strcmp(r, "zarr") == 0)
		resp_string(req, 400, "The zarr archive belongs to a different dandiset");
	else if (strcmp(r, "exists") == 0)
		resp_string(req, 409, "An asset with that path already exists");
	else if (r[0] == '[' && b != NULL)
		resp_string(req, 409, "Path of new asset \"%s\" conflicts with existing assets: %s",
		    b->path, py_list_repr(req, r));
	else
		return 0;
	return 1;
}

/* Answers the write from its item's answer, as asset_write_one and
 * assets_delete answer their own (b NULL: a DELETE). */
static int
asset_item_respond(struct request *req, const struct asset_body *b, const struct item_answer *a)
{
	const char *r = a->result;

	if (a->failed == 503) {
		metrics_db_unavailable_answer();
		return resp_detail(req, 503, "The database is unavailable; try again shortly.");
	}
	if (a->failed != 0)
		return resp_detail(req, 500, "Internal server error.");
	if (asset_refusal(req, b, r))
		return 0;
	if (strcmp(r, "deleted") == 0) {
		asset_fold_sometimes(req);
		return resp_empty(req, 204);
	}
	if (strcmp(r, "added") == 0 || strcmp(r, "unchanged") == 0) {
		if (strcmp(r, "added") == 0)
			asset_fold_sometimes(req);
		if (a->body == NULL) {
			/* Too long for the queue: the asset is immutable, read it. */
			const char *p3[3] = { a->asset, req->cfg->api_url, assets_s3_base(req) };
			PGresult *q = req_query(req, &asset_after_write, 3, p3);
			return q == NULL ? 0 : asset_json_respond(req, q, AAW_ASSET, AAW_METADATA);
		}
		req->status = 200;
		req->content_type_out = "application/json";
		req->out.len = 0;
		buf_append(&req->out, a->body, a->body_len);
		return 0;
	}
	log_error("asset write: %s", strncmp(r, "error:", 6) == 0 ? r + 6 : r);
	return resp_detail(req, 500, "Internal server error.");
}

/* A write of a draft with group commit on: queued, or alone when it
 * cannot be (too large; the slot still held) or the batch gave it back
 * (RESULT_RETRY). */
static int
asset_write_grouped(struct request *req, const struct asset_body *b, const char *item, size_t len)
{
	struct gc_batch		batch;
	struct item_answer	own;

	switch (gc_submit(item, len, req->cfg->write_batch, req->cfg->write_batch_wait_us, &batch)) {
	case GC_FAILED:
		log_error("asset write: the group commit's leader died; the write may or may not be done");
		return resp_detail(req, 503, "The database is unavailable; try again shortly.");
	case GC_LEAD:
		asset_batch_lead(req, &batch);
		/* FALLTHROUGH */
	case GC_DONE: {
		const struct gc_answer *g = gc_own_answer();
		own.failed = g->failed;
		own.result = arena_printf(&req->arena, "%.*s", (int)g->result_len, g->data);
		own.asset = arena_strdup(&req->arena, g->asset);
		own.body = NULL;
		own.body_len = g->body_len;
		if (g->body_len > 0) {
			char *body = arena_alloc(&req->arena, g->body_len + 1);
			memcpy(body, g->data + g->result_len, g->body_len);
			body[g->body_len] = '\0';
			own.body = body;
		}
		gc_release();
		if (own.failed != 0 || strcmp(own.result, RESULT_RETRY) != 0)
			return asset_item_respond(req, b, &own);
		gc_count_retry();
		break;
	}
	case GC_ALONE:
		break;
	}
	asset_batch_apply(req, &item, &len, 1, &own);
	return asset_item_respond(req, b, &own);
}

/* The new asset of a POST (old NULL) or PUT, in one call to the database;
 * answers every refusal (404, 400, 409) and the unchanged PUT itself. */
static int
asset_write_one(struct request *req, const struct asset_body *b, const char *old, const char *record_type)
{
	const char	*blob_id, *zarr_id, *zarr_ds;
	bool		 blob_emb;
	char		 uuid[37];
	PGresult	*r;

	if (target_load(req, b, &blob_id, &zarr_id, &blob_emb, &zarr_ds) != 0 ||
	    (old == NULL && perm_draft_only(req) != 0))
		return 0;
	if (uuid4(uuid) != 0)
		return resp_detail(req, 500, "No randomness.");
	bool zarr_ok = zarr_ds == NULL || strtoll(zarr_ds, NULL, 10) == strtoll(req->params[0], NULL, 10);
	if (req->group_commit) {
		size_t len;
		const char *item = asset_item_json(req, old ? "put" : "post", old, uuid, b, blob_id, zarr_id,
		    zarr_ok, blob_emb, &len);
		return asset_write_grouped(req, b, item, len);
	}
	const char *params[8] = { req->version->id, old, uuid, b->path, blob_id, zarr_id, b->metadata_text,
	    zarr_ok ? "t" : "f" };
	if ((r = req_query(req, &asset_write, 8, params)) == NULL)
		return 0;
	const char *result = PQgetvalue(r, 0, AW_RESULT);
	const char *id = arena_strdup(&req->arena, PQgetvalue(r, 0, AW_ASSET));
	if (asset_refusal(req, b, result))
		return 0;
	if (strcmp(result, "unchanged") == 0) {
		const char *p3[3] = { id, req->cfg->api_url, assets_s3_base(req) };
		if ((r = req_query(req, &asset_after_write, 3, p3)) == NULL)
			return 0;
		return asset_json_respond(req, r, AAW_ASSET, AAW_METADATA);
	}
	if (strcmp(result, "added") != 0) {
		log_error("asset write: %s", result);
		return resp_detail(req, 500, "Internal server error.");
	}
	if (blob_emb) {
		const char *un[2] = { blob_id, req->params[0] };
		if (req_query(req, &asset_blob_unembargo, 2, un) == NULL)
			return 0;
	}
	return asset_written(req, id, record_type);
}

/* POST /api/dandisets/{id}/versions/{v}/assets/: the version is locked
 * (shared: the target); the draft is checked after the body and its blob
 * or zarr, where the original's add_asset_to_version service does. */
int
assets_create(struct request *req)
{
	struct asset_body b;

	if (asset_body_parse(req, &b) != 0)
		return 0;
	return asset_write_one(req, &b, NULL, "add_asset");
}

/* PUT .../assets/{asset_id}/: a new asset replaces the old one in the
 * draft, unless nothing changed (then the same asset comes back). The
 * new path must be free once the old asset is out of the tree (the
 * original checks only for an equal path; a file/folder clash would
 * corrupt the tree). */
int
assets_update(struct request *req)
{
	struct asset_body b;

	if (asset_body_parse(req, &b) != 0)
		return 0;
	return asset_write_one(req, &b, req->params[2], "update_asset");
}

/* DELETE .../assets/{asset_id}/: out of the draft; the row stays for the
 * published versions that have it. The draft is checked after the asset's
 * look-up, where the original's remove_asset_from_version service does
 * (a refusal rolls the removal back). */
int
assets_delete(struct request *req)
{
	const char	*params[2] = { req->version->id, req->params[2] };
	PGresult	*r;

	if (req->group_commit) {
		size_t len;
		const char *item = asset_item_json(req, "delete", req->params[2], NULL, NULL, NULL, NULL,
		    false, false, &len);
		return asset_write_grouped(req, NULL, item, len);
	}
	if ((r = req_query(req, &asset_remove, 2, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (perm_draft_only(req) != 0)
		return 0;
	if (PQgetvalue(r, 0, ARM_DONE)[0] != 't')
		return resp_detail(req, 404, "Not found.");
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "path", json_object_new_string(PQgetvalue(r, 0, ARM_PATH)));
	json_object_object_add(details, "asset_id", json_object_new_string(req->params[2]));
	if (audit_write(req, req->params[0], "remove_asset", details) != 0 || req_commit(req) != 0)
		return 0;
	asset_fold_sometimes(req);
	return resp_empty(req, 204);
}

/* --- downloads and the asset by its id alone ------------------------------ */

/* The redirect (or, for inline video, a player page) to a presigned GET. */
static int
download_respond(struct request *req, const char *key, const char *path, const char *ctype, bool zarr)
{
	const char	*cd = query_get(req, "content_disposition");
	struct s3	*s3;

	if (zarr)
		return resp_string(req, 400, "Unable to provide download link for zarr assets. "
		    "Please browse the zarr files directly to do so.");
	if (cd == NULL || *cd == '\0')
		cd = "attachment";
	if (strcmp(cd, "attachment") != 0 && strcmp(cd, "inline") != 0)
		return resp_field_error(req, "content_disposition", arena_printf(&req->arena,
		    "\"%s\" is not a valid choice.", cd));
	if ((s3 = api_s3(req)) == NULL)
		return 0;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	/* The name goes inside a quoted header value: keep it one. */
	struct buf nb;
	buf_init(&nb);
	for (const char *c = base; *c; c++)
		if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
			buf_append(&nb, c, 1);
	buf_append(&nb, "", 1);
	const char *disp = arena_printf(&req->arena, "%s; filename=\"%s\"", cd, nb.data);
	buf_free(&nb);
	struct s3_param qp[2] = { { "response-content-disposition", disp }, { "response-content-type", ctype } };
	bool inline_ = strcmp(cd, "inline") == 0;
	char *url = s3_presign(s3, "GET", key, qp, inline_ ? 2 : 1, DOWNLOAD_TTL, time(NULL));
	if (url == NULL)
		return resp_detail(req, 500, "Could not sign the download URL.");
	const char *u = arena_strdup(&req->arena, url);
	free(url);
	if (inline_ && strncmp(ctype, "video/", 6) == 0) {
		const char *html = arena_printf(&req->arena,
		    "<video autoplay muted controls>\n    <source src=\"%s\">\n</video>\n", u);
		req->status = 200;
		req->content_type_out = "text/html; charset=utf-8";
		req->out.len = 0;
		buf_puts(&req->out, html);
		return 0;
	}
	resp_header(req, "Location", u);
	return resp_empty(req, 302);
}

/* GET|HEAD /api/assets/{asset_id}/download/ (T_ASSET: embargoed bytes
 * need an owner of a dandiset that holds the asset, or a superuser). */
int
assets_download(struct request *req)
{
	const struct asset *a = req->asset;

	return download_respond(req, a->blob, a->path, a->content_type, a->zarr);
}

/* GET .../versions/{v}/assets/{asset_id}/download/: the dandiset's rule. */
int
assets_download_nested(struct request *req)
{
	const char	*p[2] = { req->version->id, req->params[2] };
	PGresult	*r = req_query(req, &download_nested, 2, p);

	if (r == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	return download_respond(req, PQgetvalue(r, 0, DN_BLOB), PQgetvalue(r, 0, DN_PATH),
	    PQgetvalue(r, 0, DN_CONTENT_TYPE), PQgetvalue(r, 0, DN_ZARR)[0] == 't');
}

/* GET /api/assets/{asset_id}/ and .../info/: any asset, by the embargo
 * rule of its bytes (T_ASSET, which brings both objects: WITH_JSON). */
int
assets_top_get(struct request *req)
{
	return resp_raw_json(req, 200, req->asset->metadata);
}

int
assets_top_info(struct request *req)
{
	return resp_raw_json(req, 200, req->asset->info);
}
