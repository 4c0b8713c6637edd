/*
 * zarrs.c - zarr archives (/api/zarr/): create, list, detail, finalize,
 * and the files below zarr/<zarr_id>/ in S3 (list, presigned PUTs,
 * delete). The bytes go between the client and S3; the checksum is
 * computed by dandi-jobs (kind zarr_ingest) after finalize.
 *
 * Visibility as the original: a zarr is seen only through a dandiset the
 * user may read (OPEN, owned, or superuser; or the request's access
 * link's: perm.c); anything else is 404. The
 * original lists the files of any zarr to anyone; here an embargoed
 * zarr's files follow the same visibility rule.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "s3.h"
#include "zarrsum.h"

#define ZARR_PREFIX	"zarr/"
#define ZARR_URL_TTL	3600	/* django-storages' querystring_expire */
/* Paths per POST/DELETE of files. The original has no limit of its own
 * (the dandi CLI sends 255 per upload and 100 per delete request). */
#define ZARR_BATCH_MAX	1000
#define INGEST_MSG	"Zarr archive is currently ingesting or has already ingested"
#define NO_PERM		"You do not have permission to perform this action."

/* The read rule ($2 superuser, $3 user id, link the parameter of the
 * access link's dandiset). */
#define VISIBLE(d, link)	SQL_READABLE(d, "$3::bigint", "$2::boolean", link)

/* $1 dandiset or NULL, $4 name or NULL, $5 limit, $6 offset, $7 the link's dandiset */
enum { ZL_JSON = PAGE_COUNTED_ITEM, ZL_TOTAL = PAGE_COUNTED_TOTAL, ZL_NCOLS };
static const struct db_sql zarr_page = { "zarr_page", ZL_NCOLS,
	"SELECT dandi_zarr_json(z), count(*) OVER () FROM zarrs z JOIN dandisets d ON d.id = z.dandiset_id"
	" WHERE " VISIBLE("d", "$7::bigint")
	"   AND ($1::bigint IS NULL OR z.dandiset_id = $1::bigint) AND ($4::text IS NULL OR z.name = $4)"
	" ORDER BY z.created, z.id LIMIT $5::bigint OFFSET $6::bigint" };

/* The zarr through a visible dandiset; FOR UPDATE variant below. */
enum { ZG_JSON, ZG_ID, ZG_DANDISET, ZG_STATUS, ZG_EMBARGO, ZG_OWNER, ZG_NCOLS };
static const struct db_sql zarr_by_id = { "zarr_by_id", ZG_NCOLS,
	"SELECT dandi_zarr_json(z), z.id, z.dandiset_id, z.status, d.embargo_status,"
	" " SQL_OWNS("d.id", "$3::bigint", "$2::boolean")
	" FROM zarrs z JOIN dandisets d ON d.id = z.dandiset_id"
	" WHERE z.zarr_id = $1::uuid AND " VISIBLE("d", "$4::bigint") };

static const struct db_sql zarr_by_id_lock = { "zarr_by_id_lock", ZG_NCOLS,
	"SELECT dandi_zarr_json(z), z.id, z.dandiset_id, z.status, d.embargo_status,"
	" " SQL_OWNS("d.id", "$3::bigint", "$2::boolean")
	" FROM zarrs z JOIN dandisets d ON d.id = z.dandiset_id"
	" WHERE z.zarr_id = $1::uuid AND " VISIBLE("d", "$4::bigint") " FOR UPDATE OF z" };

enum { ZI_JSON, ZI_NCOLS };
static const struct db_sql zarr_insert = { "zarr_insert", ZI_NCOLS,
	"INSERT INTO zarrs (dandiset_id, zarr_id, name) VALUES ($1::bigint, $2::uuid, $3)"
	" RETURNING dandi_zarr_json(zarrs)" };

static const struct db_sql zarr_uploaded = { "zarr_uploaded", 0,
	"UPDATE zarrs SET status = 'Uploaded', modified = now() WHERE id = $1::bigint" };

enum { ZIE_JOB, ZIE_NCOLS };	/* unread */
static const struct db_sql zarr_ingest_enqueue = { "zarr_ingest_enqueue", ZIE_NCOLS,
	"SELECT dandi_enqueue('zarr_ingest', $1::text, jsonb_build_object('zarr', $1::text))" };

static const struct db_sql zarr_pending = { "zarr_pending", 0,
	"UPDATE zarrs SET checksum = NULL, status = 'Pending', file_count = 0, size = 0, modified = now()"
	" WHERE id = $1::bigint" };

/* A published snapshot of the zarr (sql/020): the one of published
 * version $2 of its dandiset, or snapshot $3 if a published version holds
 * it. $1 zarrs.id. */
enum { ZS_ID, ZS_CHECKSUM, ZS_FILES, ZS_SIZE, ZS_VERSION, ZS_NCOLS };
static const struct db_sql zarr_snapshot_pick = { "zarr_snapshot_pick", ZS_NCOLS,
	"SELECT s.id, s.checksum, s.file_count, s.size, v.version FROM version_zarr_snapshots vzs"
	" JOIN versions v ON v.id = vzs.version_id JOIN zarr_snapshots s ON s.id = vzs.snapshot_id"
	" WHERE vzs.zarr_id = $1::bigint AND ($2::text IS NULL OR v.version = $2)"
	"   AND ($3::bigint IS NULL OR s.id = $3::bigint)"
	" ORDER BY v.id DESC LIMIT 1" };
/* A page of its entries: after $2, from $3 (the prefix) below $4 (the
 * prefix's upper bound in byte order), $5 rows. */
enum { ZE_KEY, ZE_MODIFIED, ZE_ETAG, ZE_SIZE, ZE_VERSION, ZE_NCOLS };
static const struct db_sql zarr_snapshot_files = { "zarr_snapshot_files", ZE_NCOLS,
	"SELECT key, to_char(last_modified AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), etag, size,"
	" version_id FROM zarr_snapshot_entries"
	" WHERE snapshot_id = $1::bigint AND key > $2 AND key >= $3 AND key < $4 AND starts_with(key, $3)"
	" ORDER BY key LIMIT $5::bigint" };
enum { ZK_VERSION, ZK_NCOLS };
static const struct db_sql zarr_snapshot_key = { "zarr_snapshot_key", ZK_NCOLS,
	"SELECT version_id FROM zarr_snapshot_entries WHERE snapshot_id = $1::bigint AND key = $2" };

const struct db_sql *const zarrs_sql[] = {
	&zarr_page, &zarr_by_id, &zarr_by_id_lock, &zarr_insert, &zarr_uploaded,
	&zarr_ingest_enqueue, &zarr_pending, &zarr_snapshot_pick, &zarr_snapshot_files, &zarr_snapshot_key, NULL
};

/* The published snapshot a request names with ?version=0.YYMMDD.HHMM (a
 * published version of the zarr's dandiset) or ?snapshot=N (the id the
 * zarr's detail gives with ?version=): 1 with *snap filled (row of
 * zarr_snapshot_pick), 0 when neither is given (or version=draft: the
 * live zarr), -1 with the answer set (400 for a bad value, 404 when the
 * zarr has no such snapshot). */
static int
zarr_snapshot_selected(struct request *req, PGresult **snap)
{
	const char *ver = query_get(req, "version"), *sn = query_get(req, "snapshot");
	int64_t id = 0;
	char idbuf[24];

	if (ver != NULL && strcmp(ver, "draft") == 0)
		ver = NULL;
	if (ver == NULL && sn == NULL)
		return 0;
	if (ver != NULL && *ver == '\0')
		return resp_field_error(req, "version", "This field may not be blank."), -1;
	if (sn != NULL && (!parse_int64(sn, &id) || id <= 0))
		return resp_field_error(req, "snapshot", "A valid integer is required."), -1;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	const char *p[3] = { req->zarr->id, ver, sn != NULL ? idbuf : NULL };
	PGresult *r = req_query(req, &zarr_snapshot_pick, 3, p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "No published snapshot of this zarr archive matches."), -1;
	*snap = r;
	return 1;
}

static const char *
superuser(struct request *req)
{
	return req->user != NULL && req->user->is_superuser ? "t" : "f";
}

static const char *
user_id(struct request *req)
{
	return req->user != NULL ? req->user_id_str : NULL;
}

int
zarr_target(struct request *req, bool lock)
{
	const char *p[4] = { req->params[0], superuser(req), user_id(req), req->link_dandiset };
	PGresult *r = req_query(req, lock ? &zarr_by_id_lock : &zarr_by_id, 4, p);
	struct zarr *z;

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		resp_detail(req, 404, "Not found.");
		return -1;
	}
	z = arena_alloc(&req->arena, sizeof(*z));
	z->json = arena_strdup(&req->arena, PQgetvalue(r, 0, ZG_JSON));
	z->id = arena_strdup(&req->arena, PQgetvalue(r, 0, ZG_ID));
	z->dandiset = arena_strdup(&req->arena, PQgetvalue(r, 0, ZG_DANDISET));
	z->status = arena_strdup(&req->arena, PQgetvalue(r, 0, ZG_STATUS));
	z->embargoed = strcmp(PQgetvalue(r, 0, ZG_EMBARGO), "OPEN") != 0;
	z->owner = PQgetvalue(r, 0, ZG_OWNER)[0] == 't';
	req->zarr = z;
	return 0;
}

/* DandisetIdentifierField: a 6-digit string or an int in 0..999999. */
static bool
dandiset_ident(struct json_object *v, char out[24])
{
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (json_string_has_nul(v) || strlen(s) != 6 || strspn(s, "0123456789") != 6)
			return false;
		snprintf(out, 24, "%lld", strtoll(s, NULL, 10));
		return true;
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean)) {
		int64_t n = json_object_get_int64(v);
		if (n < 0 || n > 999999)
			return false;
		snprintf(out, 24, "%" PRId64, n);
		return true;
	}
	return false;
}

static void
field_err(struct json_object *errs, const char *field, const char *msg)
{
	struct json_object *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, field, l);
}

/* A DRF CharField: strings, and numbers as their text. NULL with the
 * message in *msg otherwise. */
static const char *
char_field(struct json_object *o, const char *key, bool present, const char **msg)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v)) {
		*msg = present ? NULL : "This field is required.";
		return NULL;
	}
	if (v == NULL) {
		*msg = "This field may not be null.";
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)) {
		*msg = "Not a valid string.";
		return NULL;
	}
	const char *s = json_object_get_string(v);
	if (json_object_is_type(v, json_type_string) && strlen(s) != (size_t)json_object_get_string_len(v)) {
		*msg = "Null characters are not allowed.";
		return NULL;
	}
	if (*s == '\0') {
		*msg = "This field may not be blank.";
		return NULL;
	}
	*msg = NULL;
	return s;
}

/* GET /api/zarr/?dandiset=&name= */
int
zarr_list(struct request *req)
{
	struct page	 pg;
	char		 limit[24], offset[24], did[24];
	const char	*ds = query_get(req, "dandiset"), *name = query_get(req, "name");
	PGresult	*r;

	if (page_parse(req, &pg) != 0)
		return 0;
	if (ds != NULL) {
		if (strlen(ds) != 6 || strspn(ds, "0123456789") != 6)
			return resp_field_error(req, "dandiset", "A valid Dandiset identifier is required.");
		snprintf(did, sizeof(did), "%lld", strtoll(ds, NULL, 10));
	}
	if (name != NULL && *name == '\0')
		return resp_field_error(req, "name", "This field may not be blank.");
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *p[7] = { ds ? did : NULL, superuser(req), user_id(req), name, limit, offset,
	    req->link_dandiset };
	if ((r = req_query(req, &zarr_page, 7, p)) == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* POST /api/zarr/ {"name", "dandiset"} */
int
zarr_create(struct request *req)
{
	struct json_object *body, *errs, *dv = NULL;
	const char *name, *msg;
	char did[24], uuid[37];
	PGresult *r;
	bool hit = false;

	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));
	errs = json_object_new_object();
	name = char_field(body, "name", false, &msg);
	if (msg != NULL)
		field_err(errs, "name", msg);
	else if (utf8_chars(name, strlen(name)) > 512)
		field_err(errs, "name", "Ensure this field has no more than 512 characters.");
	else if (utf8_chars(name, strlen(name)) < 0)
		field_err(errs, "name", "Not a valid string.");
	if (!json_object_object_get_ex(body, "dandiset", &dv))
		field_err(errs, "dandiset", "This field is required.");
	else if (dv == NULL)
		field_err(errs, "dandiset", "This field may not be null.");
	else if (!dandiset_ident(dv, did))
		field_err(errs, "dandiset", "A valid Dandiset identifier is required.");
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);

	/* The dandiset comes in the body, as a field of the original's
	 * serializer: one the user may not read does not exist for it. */
	struct dandiset ds;
	int found = dandiset_find(req, did, &ds);
	if (found < 0)
		return 0;
	if (found == 0 || (strcmp(ds.embargo_status, "OPEN") != 0 && !ds.owner))
		return resp_field_error(req, "dandiset", arena_printf(&req->arena,
		    "Invalid pk \"%s\" - object does not exist.", did));
	if (!ds.owner)
		return resp_detail(req, 403, NO_PERM);
	if (strcmp(ds.embargo_status, "UNEMBARGOING") == 0)
		return resp_string(req, 400, "Cannot add zarr to dandiset during unembargo");
	if (uuid4(uuid) != 0)
		return resp_detail(req, 503, "No randomness available; try again.");
	const char *ins[3] = { did, uuid, name };
	r = req_query_try(req, &zarr_insert, 3, ins, &hit);
	if (hit)
		return resp_field_error(req, "non_field_errors",
		    "The fields dandiset, name must make a unique set.");
	if (r == NULL)
		return 0;
	const char *json = arena_strdup(&req->arena, PQgetvalue(r, 0, ZI_JSON));
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "zarr_id", json_object_new_string(uuid));
	json_object_object_add(d, "name", json_object_new_string(name));
	if (audit_write(req, did, "create_zarr", d) != 0 || req_commit(req) != 0)
		return 0;
	return resp_raw_json(req, 200, json);
}

/* GET /api/zarr/{zarr_id}/[?version=|?snapshot=]: with a selector, the
 * zarr as that published version froze it: the snapshot's checksum, file
 * count and size (status Complete), plus "version" and "snapshot". */
int
zarr_get(struct request *req)
{
	PGresult *snap = NULL;
	int sel = zarr_snapshot_selected(req, &snap);

	if (sel <= 0)
		return sel < 0 ? 0 : resp_raw_json(req, 200, req->zarr->json);
	struct json_object *o = jsonread_str(req->zarr->json, NULL, 0);
	if (o == NULL)
		return resp_detail(req, 500, "Internal server error.");
	json_object_object_add(o, "status", json_object_new_string("Complete"));
	json_object_object_add(o, "checksum", json_object_new_string(PQgetvalue(snap, 0, ZS_CHECKSUM)));
	json_object_object_add(o, "file_count", json_object_new_int64(strtoll(PQgetvalue(snap, 0, ZS_FILES), NULL, 10)));
	json_object_object_add(o, "size", json_object_new_int64(strtoll(PQgetvalue(snap, 0, ZS_SIZE), NULL, 10)));
	json_object_object_add(o, "version", json_object_new_string(PQgetvalue(snap, 0, ZS_VERSION)));
	json_object_object_add(o, "snapshot", json_object_new_int64(strtoll(PQgetvalue(snap, 0, ZS_ID), NULL, 10)));
	return resp_json(req, 200, o);
}

/* DELETE /api/zarr/{zarr_id}/: the original's viewset is read-only plus
 * create, so this is its 405 (after the permission checks it runs
 * first). Files are deleted through .../files/. */
int
zarr_delete(struct request *req)
{
	resp_header(req, "Allow", "GET, HEAD, OPTIONS");
	return resp_detail(req, 405, "Method \"DELETE\" not allowed.");
}

/* A files request that changes the (locked) zarr: not while it is being
 * ingested, then only by an owner, in the original's order for files
 * (finalize asks the owner first). 0, or -1 with the answer set. */
static int
zarr_changeable(struct request *req)
{
	const struct zarr *z = req->zarr;

	if (strcmp(z->status, "Uploaded") == 0 || strcmp(z->status, "Ingesting") == 0)
		return resp_string(req, 400, INGEST_MSG), -1;
	if (!z->owner)
		return resp_detail(req, 403, NO_PERM), -1;
	return 0;
}

/* POST /api/zarr/{zarr_id}/finalize/ */
int
zarr_finalize(struct request *req)
{
	const struct zarr *z = req->zarr;

	if (!z->owner)
		return resp_detail(req, 403, NO_PERM);
	if (strcmp(z->status, "Pending") != 0)
		return resp_string(req, 400, INGEST_MSG);
	const char *p1[1] = { z->id }, *p2[1] = { req->params[0] };
	if (req_query(req, &zarr_uploaded, 1, p1) == NULL || req_query(req, &zarr_ingest_enqueue, 1, p2) == NULL)
		return 0;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "zarr_id", json_object_new_string(req->params[0]));
	if (audit_write(req, z->dandiset, "finalize_zarr", d) != 0 || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}

/* Python's str() of the datetime boto3 makes of an S3 timestamp:
 * "2026-01-02T03:04:05.000Z" -> "2026-01-02 03:04:05+00:00". */
static const char *
py_datetime(struct request *req, const char *s)
{
	int y, mo, d, h, mi, se, n = 0;
	char frac[16] = "";

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
		return s;
	const char *p = s + n;
	if (*p == '.') {
		size_t k = strspn(p + 1, "0123456789");
		char digits[7] = "000000";
		memcpy(digits, p + 1, k > 6 ? 6 : k);
		if (strcmp(digits, "000000") != 0)
			snprintf(frac, sizeof(frac), ".%s", digits);
	}
	return arena_printf(&req->arena, "%04d-%02d-%02d %02d:%02d:%02d%s+00:00", y, mo, d, h, mi, se, frac);
}

struct listing {
	struct request	*req;
	struct buf	*out;
	const char	*base;
	size_t		 n;
	const char	*last;
};

static int
listing_row(void *arg, const struct s3_listed *o)
{
	struct listing *l = arg;
	size_t bl = strlen(l->base);

	if (strncmp(o->key, l->base, bl) != 0)
		return 0;	/* "zarr/<id>" itself: not a file of this zarr */
	buf_puts(l->out, l->n++ ? ",{\"Key\":" : "{\"Key\":");
	buf_json_string(l->out, o->key + bl);
	buf_puts(l->out, ",\"LastModified\":");
	buf_json_string(l->out, py_datetime(l->req, o->last_modified));
	buf_puts(l->out, ",\"ETag\":");
	buf_json_string(l->out, o->etag);
	buf_printf(l->out, ",\"Size\":%" PRId64 "}", o->size);
	l->last = arena_strdup(&l->req->arena, o->key + bl);
	return 0;
}

static char *
strip(struct request *req, const char *s, bool left, bool right)
{
	while (left && *s == '/')
		s++;
	char *c = arena_strdup(&req->arena, s);
	size_t n = strlen(c);
	while (right && n > 0 && c[n - 1] == '/')
		c[--n] = '\0';
	return c;
}

/* zarr_files_get of a published snapshot: the same answers from its
 * entries, and presigned URLs of the version each key had (versionId). */
static int
snapshot_files(struct request *req, struct s3 *s3, const char *sid, const char *prefix, const char *after,
    int64_t limit, bool download)
{
	const char *raw_prefix = strip(req, prefix ? prefix : "", true, false);
	char lim[24];
	PGresult *r;

	if (req->head || download) {
		/* As the live view: HEAD names the key with any trailing '/' cut. */
		const char *key = req->head ? strip(req, raw_prefix, false, true) : raw_prefix;
		const char *pk[2] = { sid, key };
		if ((r = req_query(req, &zarr_snapshot_key, 2, pk)) == NULL)
			return 0;
		if (PQntuples(r) == 0)
			return resp_detail(req, 404, "Not found.");
		struct s3_param vp[1] = { { "versionId", PQgetvalue(r, 0, ZK_VERSION) } };
		char *url = s3_presign(s3, req->head ? "HEAD" : "GET",
		    arena_printf(&req->arena, ZARR_PREFIX "%s/%s", req->params[0], key), vp, 1, ZARR_URL_TTL, time(NULL));
		if (url == NULL)
			return resp_detail(req, 500, "Internal server error.");
		const char *u = arena_strdup(&req->arena, url);
		free(url);
		return resp_redirect(req, 302, u);
	}
	const char *pfx = strip(req, raw_prefix, false, true);
	const char *aft = strip(req, strip(req, after ? after : "", true, false), false, true);
	/* Every key with the prefix sorts below prefix + U+10FFFF. */
	const char *upper = arena_printf(&req->arena, "%s\xf4\x8f\xbf\xbf", pfx);
	snprintf(lim, sizeof(lim), "%lld", (long long)limit + 1);
	const char *pl[5] = { sid, aft, pfx, upper, lim };
	if ((r = req_query(req, &zarr_snapshot_files, 5, pl)) == NULL)
		return 0;
	int n = PQntuples(r), shown = n > limit ? (int)limit : n;
	buf_puts(&req->out, "{\"next\":");
	if (n > limit && shown > 0)
		buf_json_string(&req->out, req_url_with(req, "after", PQgetvalue(r, shown - 1, ZE_KEY)));
	else
		buf_puts(&req->out, "null");
	buf_puts(&req->out, ",\"results\":[");
	for (int i = 0; i < shown; i++) {
		buf_puts(&req->out, i ? ",{\"Key\":" : "{\"Key\":");
		buf_json_string(&req->out, PQgetvalue(r, i, ZE_KEY));
		buf_puts(&req->out, ",\"LastModified\":");
		buf_json_string(&req->out, py_datetime(req, PQgetvalue(r, i, ZE_MODIFIED)));
		buf_puts(&req->out, ",\"ETag\":");
		buf_json_string(&req->out, PQgetvalue(r, i, ZE_ETAG));
		buf_printf(&req->out, ",\"Size\":%s,\"VersionId\":", PQgetvalue(r, i, ZE_SIZE));
		buf_json_string(&req->out, PQgetvalue(r, i, ZE_VERSION));
		buf_puts(&req->out, "}");
	}
	buf_puts(&req->out, "]}");
	req->status = 200;
	req->content_type_out = "application/json";
	return 0;
}

/* GET|HEAD /api/zarr/{zarr_id}/files/?prefix=&after=&limit=&download=
 * [&version=|&snapshot=] */
int
zarr_files_get(struct request *req)
{
	struct s3	*s3;
	const char	*prefix = query_get(req, "prefix"), *after = query_get(req, "after");
	const char	*lim = query_get(req, "limit"), *dl = query_get(req, "download");
	int64_t		 limit = 1000;
	bool		 download = false;
	struct json_object *errs;

	errs = json_object_new_object();
	if (after != NULL && *after == '\0')
		field_err(errs, "after", "This field may not be blank.");
	if (prefix != NULL) {
		const char *e = *prefix == '\0' ? "This field may not be blank." : zarrsum_path_error(prefix, true);
		if (e != NULL)
			field_err(errs, "prefix", e);
	}
	if (lim != NULL) {
		if (!parse_int64(lim, &limit))
			field_err(errs, "limit", "A valid integer is required.");
		else if (limit < 0)
			field_err(errs, "limit", "Ensure this value is greater than or equal to 0.");
		else if (limit > 1000)
			field_err(errs, "limit", "Ensure this value is less than or equal to 1000.");
	}
	if (dl != NULL && !parse_bool(dl, &download))
		field_err(errs, "download", "Must be a valid boolean.");
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);
	PGresult *snap = NULL;
	int sel = zarr_snapshot_selected(req, &snap);
	if (sel < 0)
		return 0;
	if ((s3 = api_s3(req)) == NULL)
		return 0;
	if (sel > 0)
		return snapshot_files(req, s3, PQgetvalue(snap, 0, ZS_ID), prefix, after, limit, download);

	const char *base = arena_printf(&req->arena, ZARR_PREFIX "%s/", req->params[0]);
	const char *raw_prefix = strip(req, prefix ? prefix : "", true, false);
	const char *full_prefix = strip(req, arena_printf(&req->arena, "%s%s", base, raw_prefix), false, true);
	const char *raw_after = strip(req, after ? after : "", true, false);
	const char *full_after = *raw_after ?
	    strip(req, arena_printf(&req->arena, "%s%s", base, raw_after), false, true) : "";

	if (req->head || download) {
		const char *key = req->head ? full_prefix : arena_printf(&req->arena, "%s%s", base, raw_prefix);
		char *url = s3_presign(s3, req->head ? "HEAD" : "GET", key, NULL, 0, ZARR_URL_TTL, time(NULL));
		if (url == NULL)
			return resp_detail(req, 500, "Internal server error.");
		const char *u = arena_strdup(&req->arena, url);
		free(url);
		return resp_redirect(req, 302, u);
	}

	struct buf page;
	buf_init(&page);
	struct listing l = { req, &page, base, 0, NULL };
	bool truncated = false;
	int rc = s3_list_page(s3, full_prefix, full_after, NULL, (int)limit, listing_row, &l, &truncated, NULL);
	if (rc != S3_OK) {
		buf_free(&page);
		log_error("s3 list %s failed: %s", full_prefix, s3->err);
		return resp_detail(req, 502, "The object store failed (list); try again.");
	}
	buf_puts(&req->out, "{\"next\":");
	if (truncated && l.last != NULL)
		buf_json_string(&req->out, req_url_with(req, "after", l.last));
	else
		buf_puts(&req->out, "null");
	buf_puts(&req->out, ",\"results\":[");
	if (page.len > 0)
		buf_append(&req->out, page.data, page.len);
	buf_puts(&req->out, "]}");
	buf_free(&page);
	req->status = 200;
	req->content_type_out = "application/json";
	return 0;
}

/* The batch of a POST or DELETE of files: a list of {"path"[, "base64md5"]}
 * validated as DRF's ListSerializer does (errors per item, in order).
 * Returns the array, or NULL with the 400 response set. */
static struct json_object *
batch_parse(struct request *req, bool with_md5)
{
	struct json_object *body = req_json_body(req);

	if (body == NULL)
		return NULL;
	if (!json_object_is_type(body, json_type_array)) {
		resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Expected a list of items but got type \"%s\".", metadata_py_type(body)));
		return NULL;
	}
	size_t n = json_object_array_length(body);
	if (n > ZARR_BATCH_MAX) {
		resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Ensure this field has no more than %d elements.", ZARR_BATCH_MAX));
		return NULL;
	}
	struct json_object *all = json_object_new_array();
	bool bad = false;
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(body, i), *e = json_object_new_object();
		const char *msg;
		if (it == NULL || !json_object_is_type(it, json_type_object)) {
			field_err(e, "non_field_errors", arena_printf(&req->arena,
			    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(it)));
		} else {
			const char *path = char_field(it, "path", false, &msg);
			if (msg == NULL)
				msg = zarrsum_path_error(path, false);
			if (msg != NULL)
				field_err(e, "path", msg);
			if (with_md5) {
				const char *md5 = char_field(it, "base64md5", false, &msg);
				if (msg == NULL && (strlen(md5) != 24 || md5[22] != '=' || md5[23] != '=' ||
				    strspn(md5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 22))
					msg = "Not a base64-encoded MD5 digest.";
				if (msg != NULL)
					field_err(e, "base64md5", msg);
			}
		}
		if (json_object_object_length(e) > 0)
			bad = true;
		json_object_array_add(all, e);
	}
	if (bad) {
		resp_json(req, 400, all);
		return NULL;
	}
	json_object_put(all);
	return body;
}

static const char *
item_str(struct json_object *it, const char *key)
{
	struct json_object *v;

	json_object_object_get_ex(it, key, &v);
	return json_object_get_string(v);
}

/* Files changed: the zarr is Pending again, as the original's mark_pending. */
static int
mark_pending(struct request *req, const struct zarr *z)
{
	const char *p[1] = { z->id };

	return req_query(req, &zarr_pending, 1, p) == NULL ? -1 : 0;
}

static struct json_object *
paths_of(struct json_object *batch)
{
	struct json_object *l = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(batch); i++)
		json_object_array_add(l, json_object_new_string(item_str(json_object_array_get_idx(batch, i), "path")));
	return l;
}

/* POST /api/zarr/{zarr_id}/files/ [{"path", "base64md5"}] -> [url] */
int
zarr_files_post(struct request *req)
{
	const struct zarr *z = req->zarr;
	struct json_object *batch, *urls, *d;
	struct s3 *s3;

	if (zarr_changeable(req) != 0)
		return 0;
	if ((batch = batch_parse(req, true)) == NULL || (s3 = api_s3(req)) == NULL)
		return 0;
	urls = json_object_new_array();
	time_t now = time(NULL);
	for (size_t i = 0; i < json_object_array_length(batch); i++) {
		struct json_object *it = json_object_array_get_idx(batch, i);
		const char *key = arena_printf(&req->arena, ZARR_PREFIX "%s/%s", req->params[0], item_str(it, "path"));
		struct s3_param h[2] = { { "content-md5", item_str(it, "base64md5") },
		    { "x-amz-tagging", "embargoed=true" } };
		char *url = s3_presign_headers(s3, "PUT", key, NULL, 0, h, z->embargoed ? 2 : 1, ZARR_URL_TTL, now);
		if (url == NULL) {
			json_object_put(urls);
			return resp_detail(req, 500, "Internal server error.");
		}
		json_object_array_add(urls, json_object_new_string(url));
		free(url);
	}
	if (mark_pending(req, z) != 0) {
		json_object_put(urls);
		return 0;
	}
	d = json_object_new_object();
	json_object_object_add(d, "zarr_id", json_object_new_string(req->params[0]));
	json_object_object_add(d, "paths", paths_of(batch));
	if (audit_write(req, z->dandiset, "upload_zarr_chunks", d) != 0 || req_commit(req) != 0) {
		json_object_put(urls);
		return 0;
	}
	log_info("presigned %zu URLs to upload to zarr archive %s", json_object_array_length(batch),
	    req->params[0]);
	return resp_json(req, 200, urls);
}

/* DELETE /api/zarr/{zarr_id}/files/ [{"path"}]: all exist or nothing goes. */
int
zarr_files_delete(struct request *req)
{
	const struct zarr *z = req->zarr;
	struct json_object *batch, *d;
	struct s3 *s3;
	struct s3_object o;

	if (zarr_changeable(req) != 0)
		return 0;
	if ((batch = batch_parse(req, false)) == NULL || (s3 = api_s3(req)) == NULL)
		return 0;
	size_t n = json_object_array_length(batch);
	for (size_t i = 0; i < n; i++) {
		const char *key = arena_printf(&req->arena, ZARR_PREFIX "%s/%s", req->params[0],
		    item_str(json_object_array_get_idx(batch, i), "path"));
		memset(&o, 0, sizeof(o));
		int rc = s3_head(s3, key, &o);
		s3_object_free(&o);
		if (rc == S3_NOT_FOUND)
			return resp_list_error(req, 400, arena_printf(&req->arena, "File %s does not exist.", key));
		if (rc != S3_OK) {
			log_error("s3 head %s failed: %s", key, s3->err);
			return resp_detail(req, 502, "The object store failed (head); try again.");
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *key = arena_printf(&req->arena, ZARR_PREFIX "%s/%s", req->params[0],
		    item_str(json_object_array_get_idx(batch, i), "path"));
		if (s3_delete(s3, key) == S3_ERROR) {
			/* Some may be gone already: the zarr is Pending either way. */
			log_error("s3 delete %s failed: %s", key, s3->err);
			if (mark_pending(req, z) == 0)
				req_commit(req);
			return resp_detail(req, 502, "The object store failed (delete); try again.");
		}
	}
	if (mark_pending(req, z) != 0)
		return 0;
	d = json_object_new_object();
	json_object_object_add(d, "zarr_id", json_object_new_string(req->params[0]));
	json_object_object_add(d, "paths", paths_of(batch));
	if (audit_write(req, z->dandiset, "delete_zarr_chunks", d) != 0 || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}
