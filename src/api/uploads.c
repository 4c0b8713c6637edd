/*
 * uploads.c - files go in: blob lookup by digest, multipart upload
 * initialize / complete / validate, a dandiset's pending uploads, and the
 * download redirects. The API only signs and records; the bytes go
 * between the client and S3 directly.
 *
 * An upload is recorded after S3 has created its multipart upload, and a
 * blob only after S3 shows the object with the declared size and ETag, so
 * a failure anywhere leaves at most an unreferenced upload for the garbage
 * collector, never a blob without bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api.h"
#include "blobsum.h"
#include "s3.h"

#define MAX_PARTS	10000
#define PART_URL_TTL	604800			/* 7 days, as the original */
#define COMPLETE_TTL	86400
#define DOWNLOAD_TTL	3600

/* The blob object of the blob look-ups and of upload validation, over a
 * row of blobs: one definition for the three statements. */
#define BLOB_JSON \
	"json_build_object('blob_id', blob_id, 'etag', etag, 'sha256', sha256, 'size', size)"

/* The blob look-ups see only the blobs the user ($2, NULL when anonymous)
 * may use (dandi_blob_attachable, sql/functions/15_access.sql): an
 * embargoed blob's id is not told to whoever merely knows its digest. Of
 * several blobs with the same bytes (a copy uploaded by someone the
 * embargoed one was hidden from), an open one first. */
#define BLOB_USABLE_ORDER	" AND dandi_blob_attachable(b, $2::bigint) ORDER BY b.embargoed, b.id LIMIT 1"

/* Serialises the uploads of one dandi-etag between the look-up of a blob
 * and the insert of a new one (the etag is not unique: 015). */
#define BLOB_ETAG_LOCK_CLASS	"7294015"

const struct db_stmt uploads_stmts[] = {
	{ "blob_by_etag",
	  "SELECT " BLOB_JSON " FROM blobs b WHERE etag = $1" BLOB_USABLE_ORDER },
	{ "blob_by_sha256",
	  "SELECT " BLOB_JSON " FROM blobs b WHERE sha256 = $1" BLOB_USABLE_ORDER },
	{ "blob_etag_exists",
	  "SELECT blob_id FROM blobs b WHERE etag = $1" BLOB_USABLE_ORDER },
	{ "blob_etag_lock",
	  "SELECT pg_advisory_xact_lock(" BLOB_ETAG_LOCK_CLASS ", hashtext($1))" },
	/* Visible to the user: open, or owned (superusers see all). */
	{ "upload_dandiset",
	  "SELECT d.embargo_status,"
	  " $2::boolean OR EXISTS (SELECT 1 FROM dandiset_owners o"
	  "   WHERE o.dandiset_id = d.id AND o.user_id = $3::bigint)"
	  " FROM dandisets d WHERE d.id = $1::bigint" },
	{ "upload_insert",
	  "INSERT INTO uploads (dandiset_id, upload_id, blob, etag, multipart_upload_id, size, embargoed)"
	  " VALUES ($1::bigint, $2::uuid, $3, $4, $5, $6::bigint, $7::boolean)" },
	{ "upload_get",
	  "SELECT u.blob, u.etag, u.size, u.multipart_upload_id, u.embargoed, u.dandiset_id,"
	  " $2::boolean OR EXISTS (SELECT 1 FROM dandiset_owners o"
	  "   WHERE o.dandiset_id = u.dandiset_id AND o.user_id = $3::bigint)"
	  " FROM uploads u WHERE u.upload_id = $1::uuid" },
	{ "upload_delete",
	  "DELETE FROM uploads WHERE upload_id = $1::uuid RETURNING upload_id" },
	/* For the signed completion URL: the signature is the permission. */
	{ "upload_by_id",
	  "SELECT blob, multipart_upload_id, embargoed FROM uploads WHERE upload_id = $1::uuid" },
	/* The sha256 of a new blob is computed by dandi-jobs from S3. */
	{ "blob_sha256_enqueue",
	  "SELECT dandi_enqueue('sha256', $1::text, jsonb_build_object('blob', $1::text))" },
	/* The blob takes the upload's id, key and dandiset (for whom an
	 * embargoed blob is usable before an asset holds it); a repeated
	 * validation of the same upload inserts nothing. */
	{ "blob_from_upload",
	  "INSERT INTO blobs (blob_id, blob, etag, size, embargoed, upload_dandiset_id)"
	  " VALUES ($1::uuid, $2, $3, $4::bigint, $5::boolean, $6::bigint) ON CONFLICT (blob_id) DO NOTHING"
	  " RETURNING " BLOB_JSON },
	{ "upload_list",
	  "SELECT json_build_object('created', dandi_ts(created), 'blob', blob, 'upload_id', upload_id,"
	  " 'etag', etag, 'size', size), count(*) OVER ()"
	  " FROM uploads WHERE dandiset_id = $1::bigint ORDER BY created, id"
	  " LIMIT $2::bigint OFFSET $3::bigint" },
	{ "upload_all_of_dandiset",
	  "DELETE FROM uploads WHERE dandiset_id = $1::bigint RETURNING blob, multipart_upload_id" },
	/* Download: the blob of an asset, with what the embargo rule needs. */
	{ "download_asset",
	  "SELECT b.blob, a.path, coalesce(a.metadata->>'encodingFormat', 'application/octet-stream'),"
	  " a.zarr_id IS NOT NULL,"
	  " coalesce(b.embargoed, (SELECT z.dandiset_id IS NOT NULL FROM zarrs z"
	  "   JOIN dandisets d ON d.id = z.dandiset_id WHERE z.id = a.zarr_id AND d.embargo_status <> 'OPEN'), false),"
	  " $2::boolean OR EXISTS (SELECT 1 FROM asset_versions av JOIN versions v ON v.id = av.version_id"
	  "   JOIN dandiset_owners o ON o.dandiset_id = v.dandiset_id"
	  "   WHERE av.asset_id = a.id AND o.user_id = $3::bigint)"
	  " FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id WHERE a.asset_id = $1::uuid" },
	{ "download_nested",
	  "SELECT b.blob, a.path, coalesce(a.metadata->>'encodingFormat', 'application/octet-stream'),"
	  " a.zarr_id IS NOT NULL"
	  " FROM asset_versions av JOIN assets a ON a.id = av.asset_id LEFT JOIN blobs b ON b.id = a.blob_id"
	  " WHERE av.version_id = $1::bigint AND a.asset_id = $2::uuid" },
	/* Columns: enum asset_top_col. */
	{ "asset_top",
	  "SELECT dandi_asset_metadata(a, $4, $5),"
	  " coalesce(b.embargoed, (SELECT d.embargo_status <> 'OPEN' FROM dandisets d"
	  "    WHERE d.id = z.dandiset_id), false),"
	  " $2::boolean OR EXISTS (SELECT 1 FROM asset_versions av JOIN versions v ON v.id = av.version_id"
	  "   JOIN dandiset_owners o ON o.dandiset_id = v.dandiset_id"
	  "   WHERE av.asset_id = a.id AND o.user_id = $3::bigint),"
	  " " ASSET_JSON_COLUMNS
	  " FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	  " WHERE a.asset_id = $1::uuid" },
};
const size_t uploads_nstmts = sizeof(uploads_stmts) / sizeof(uploads_stmts[0]);

/* One S3 client per worker process, made on first use. */
static struct s3	 s3_client;
static bool		 s3_ready;

struct s3 *
api_s3_optional(struct request *req)
{
	if (!s3_ready) {
		if (s3_init(&s3_client, req->cfg) != 0)
			return NULL;
		s3_ready = true;
	}
	return &s3_client;
}

static struct s3 *
s3_for(struct request *req)
{
	struct s3 *s3 = api_s3_optional(req);

	if (s3 == NULL)
		resp_detail(req, 503, "The object store is not configured.");
	return s3;
}

struct s3 *
api_s3(struct request *req)
{
	return s3_for(req);
}

void
uploads_shutdown(void)
{
	if (s3_ready)
		s3_free(&s3_client);
	s3_ready = false;
}

static int
s3_failed(struct request *req, struct s3 *s3, const char *what)
{
	log_error("s3 %s failed: %s", what, s3->err);
	return resp_detail(req, 502, "The object store failed (%s); try again.", what);
}

static const char *
superuser_flag(struct request *req)
{
	return req->user != NULL && req->user->is_superuser ? "t" : "f";
}

/* POST /api/blobs/digest/: no permission needed, as in the original; an
 * embargoed blob is found only by those who may use it (404 for others). */
int
blobs_digest(struct request *req)
{
	struct json_object *body, *alg, *val;
	PGresult *r;

	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));
	struct json_object *errs = json_object_new_object();
	const char *names[2] = { "algorithm", "value" };
	struct json_object **vals[2] = { &alg, &val };
	for (int i = 0; i < 2; i++) {
		bool has = json_object_object_get_ex(body, names[i], vals[i]);
		const char *msg = !has ? "This field is required." : *vals[i] == NULL ?
		    "This field may not be null." : !json_object_is_type(*vals[i], json_type_string) ?
		    "Not a valid string." : json_object_get_string_len(*vals[i]) == 0 ?
		    "This field may not be blank." : NULL;
		if (msg != NULL) {
			struct json_object *l = json_object_new_array();
			json_object_array_add(l, json_object_new_string(msg));
			json_object_object_add(errs, names[i], l);
		}
	}
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);

	const char *a = json_object_get_string(alg), *v = json_object_get_string(val);
	const char *stmt = strcmp(a, "dandi:dandi-etag") == 0 ? "blob_by_etag" :
	    strcmp(a, "dandi:sha2-256") == 0 ? "blob_by_sha256" : NULL;
	if (stmt == NULL)
		return resp_string(req, 400, "Unsupported Digest Algorithm. Supported: dandi:dandi-etag, dandi:sha2-256");
	v = metadata_utf8_fix(req, v);
	const char *params[2] = { v, req->user_id_str };
	if ((r = req_query(req, stmt, 2, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	return resp_raw_json(req, 200, PQgetvalue(r, 0, 0));
}

/* A dandiset identifier as the original's DandisetIdentifierField takes
 * it: "000123" or 123. */
static const char *
dandiset_field(struct request *req, struct json_object *o)
{
	if (json_object_is_type(o, json_type_int)) {
		int64_t n = json_object_get_int64(o);
		if (n < 0 || n > 999999)
			return NULL;
		return arena_printf(&req->arena, "%06" PRId64, n);
	}
	if (!json_object_is_type(o, json_type_string))
		return NULL;
	const char *s = json_object_get_string(o);
	if (strlen(s) != 6 || strspn(s, "0123456789") != 6)
		return NULL;
	return s;
}

static bool
etag_valid(const char *s)
{
	size_t n = strlen(s), dash;

	if (n < 34 || n > 38 || strspn(s, "0123456789abcdef") != 32 || s[32] != '-')
		return false;
	dash = strspn(s + 33, "0123456789");
	return dash >= 1 && dash <= 5 && 33 + dash == n;
}

static struct json_object *
error_list(const char *msg)
{
	struct json_object *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	return l;
}

/* POST /api/uploads/initialize/ */
int
uploads_initialize(struct request *req)
{
	struct json_object *body, *ds, *cs, *dg, *alg = NULL, *val = NULL;
	const char	*dandiset = NULL, *etag;
	int64_t		 size = 0;
	PGresult	*r;
	struct s3	*s3;

	if (perm_require_approved(req) != 0 || (body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));

	/* Field errors, all at once, as the serializer reports them. */
	struct json_object *errs = json_object_new_object();
	if (!json_object_object_get_ex(body, "dandiset", &ds))
		json_object_object_add(errs, "dandiset", error_list("This field is required."));
	else if ((dandiset = dandiset_field(req, ds)) == NULL)
		json_object_object_add(errs, "dandiset", error_list("A valid Dandiset identifier is required."));
	if (!json_object_object_get_ex(body, "contentSize", &cs))
		json_object_object_add(errs, "contentSize", error_list("This field is required."));
	else if (!json_object_is_type(cs, json_type_int))
		json_object_object_add(errs, "contentSize", error_list("A valid integer is required."));
	else if ((size = json_object_get_int64(cs)) < 1)
		/* As the original: an empty file has no part to upload (its
		 * dandi-etag names 0 parts). */
		json_object_object_add(errs, "contentSize",
		    error_list("Ensure this value is greater than or equal to 1."));
	/* digest is optional in the original's serializer but required by
	 * its view (a KeyError there): say so clearly. */
	if (!json_object_object_get_ex(body, "digest", &dg) || dg == NULL)
		json_object_object_add(errs, "digest", error_list("This field is required."));
	else if (!json_object_is_type(dg, json_type_object))
		json_object_object_add(errs, "digest", json_tokener_parse(
		    "{\"non_field_errors\": [\"Invalid data. Expected a dictionary.\"]}"));
	else {
		struct json_object *de = json_object_new_object();
		if (!json_object_object_get_ex(dg, "algorithm", &alg) || !json_object_is_type(alg, json_type_string))
			json_object_object_add(de, "algorithm", error_list("This field is required."));
		if (!json_object_object_get_ex(dg, "value", &val) || !json_object_is_type(val, json_type_string))
			json_object_object_add(de, "value", error_list("This field is required."));
		if (json_object_object_length(de) > 0)
			json_object_object_add(errs, "digest", de);
		else
			json_object_put(de);
	}
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);

	if (strcmp(json_object_get_string(alg), "dandi:dandi-etag") != 0)
		return resp_list_error(req, 400, "Unsupported Digest Type");
	etag = json_object_get_string(val);
	if (!etag_valid(etag))
		return resp_field_error(req, "digest", "Not a valid dandi-etag for this size.");
	int64_t part_size = 0, nparts = 0, last = 0;
	if (dandi_part_plan(size, &part_size, &nparts, &last) != 0)
		return resp_field_error(req, "contentSize", "File is larger than the S3 maximum object size.");
	/* The part count is in the etag: a mismatch can never validate. */
	int64_t declared = strtoll(strchr(etag, '-') + 1, NULL, 10);
	if (declared != nparts)
		return resp_field_error(req, "digest", arena_printf(&req->arena,
		    "The dandi-etag names %" PRId64 " parts; a file of this size has %" PRId64 ".",
		    declared, nparts));

	const char *p3[3] = { dandiset, superuser_flag(req), req->user_id_str };
	if ((r = req_query(req, "upload_dandiset", 3, p3)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	const char *embargo = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
	bool owner = PQgetvalue(r, 0, 1)[0] == 't';
	if (strcmp(embargo, "OPEN") != 0 && !owner)
		return resp_detail(req, 404, "Not found.");
	if (!owner)
		return resp_string(req, 403, "Action not allowed");
	if (strcmp(embargo, "UNEMBARGOING") == 0)
		return resp_string(req, 400, "Dandiset modification not allowed during unembargo");

	/* Only a blob this user may use is offered; else the client uploads
	 * a copy of its own, as for new bytes. */
	const char *pe[2] = { etag, req->user_id_str };
	if ((r = req_query(req, "blob_etag_exists", 2, pe)) == NULL)
		return 0;
	if (PQntuples(r) > 0) {
		resp_header(req, "Location", arena_strdup(&req->arena, PQgetvalue(r, 0, 0)));
		return resp_string(req, 409, "Blob already exists.");
	}

	if ((s3 = s3_for(req)) == NULL)
		return 0;
	char uuid[37];
	if (uuid4(uuid) != 0)
		return resp_detail(req, 500, "No randomness.");
	const char *key = arena_printf(&req->arena, "blobs/%.3s/%.3s/%s", uuid, uuid + 3, uuid);
	bool embargoed = strcmp(embargo, "EMBARGOED") == 0;
	char *mpu = NULL;
	if (s3_create_multipart(s3, key, "application/octet-stream", embargoed ? "embargoed=true" : NULL,
	    &mpu) != S3_OK)
		return s3_failed(req, s3, "CreateMultipartUpload");
	const char *mpu_id = arena_strdup(&req->arena, mpu);
	free(mpu);

	char sz[24];
	snprintf(sz, sizeof(sz), "%" PRId64, size);
	const char *ins[7] = { dandiset, uuid, key, etag, mpu_id, sz, embargoed ? "t" : "f" };
	if (req_query(req, "upload_insert", 7, ins) == NULL) {
		(void)s3_abort_multipart(s3, key, mpu_id);
		return 0;
	}

	/* One part per presigned PUT. */
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "{\"upload_id\":\"%s\",\"parts\":[", uuid);
	time_t now = time(NULL);
	for (int64_t i = 1; i <= nparts; i++) {
		char num[24];
		snprintf(num, sizeof(num), "%" PRId64, i);
		struct s3_param qp[2] = { { "partNumber", num }, { "uploadId", mpu_id } };
		char *url = s3_presign(s3, "PUT", key, qp, 2, PART_URL_TTL, now);
		struct json_object *u = json_object_new_string(url ? url : "");
		buf_printf(&b, "%s{\"part_number\":%" PRId64 ",\"size\":%" PRId64 ",\"upload_url\":%s}",
		    i > 1 ? "," : "", i, i == nparts ? last : part_size,
		    json_object_to_json_string_ext(u, JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(u);
		free(url);
	}
	buf_puts(&b, "]}");
	int rc = resp_raw_json(req, 200, b.data);
	buf_free(&b);
	return rc;
}

/* The upload named in the path, if the user may touch it: any approved
 * user for an open one (as the original), owners for an embargoed one. */
static PGresult *
upload_load(struct request *req)
{
	const char	*params[3] = { req->params[0], superuser_flag(req), req->user_id_str };
	PGresult	*r;

	if (perm_require_approved(req) != 0)
		return NULL;
	if ((r = req_query(req, "upload_get", 3, params)) == NULL)
		return NULL;
	if (PQntuples(r) == 0 || (PQgetvalue(r, 0, 4)[0] == 't' && PQgetvalue(r, 0, 6)[0] != 't')) {
		resp_detail(req, 404, "Not found.");
		return NULL;
	}
	return r;
}

/* The signature of the archive's completion URL of an upload: an HMAC
 * under a key derived from the S3 secret (the credential a presigned S3
 * URL would rest on), over the upload id and the expiry. */
static void
complete_signature(const struct s3 *s3, const char *upload_id, const char *expires, char out[65])
{
	unsigned char	 key[32], mac[32];
	unsigned int	 n = sizeof(key);
	static const char purpose[] = "dandi-archive upload completion";

	HMAC(EVP_sha256(), s3->secret_key, (int)strlen(s3->secret_key), (const unsigned char *)purpose,
	    sizeof(purpose) - 1, key, &n);
	char m[128];	/* a UUID, a newline, at most 18 digits */
	snprintf(m, sizeof(m), "%s\n%s", upload_id, expires);
	n = sizeof(mac);
	HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)m, strlen(m), mac, &n);
	hex_encode(mac, sizeof(mac), out);
}

/* POST /api/uploads/{upload_id}/complete/: the URL that completes the
 * multipart upload and its body (CompleteMultipartUpload XML), which the
 * client POSTs there: the archive's own s3-complete URL, or a presigned S3
 * one (s3_multipart_complete). */
int
uploads_complete(struct request *req)
{
	struct json_object *body, *parts;
	PGresult	*r;
	struct s3	*s3;

	if (perm_require_approved(req) != 0 || (body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));
	if (!json_object_object_get_ex(body, "parts", &parts) || parts == NULL)
		return resp_field_error(req, "parts", "This field is required.");
	if (!json_object_is_type(parts, json_type_array))
		return resp_field_error(req, "parts", arena_printf(&req->arena,
		    "Expected a list of items but got type \"%s\".", metadata_py_type(parts)));
	size_t n = json_object_array_length(parts);
	if (n == 0)
		return resp_field_error(req, "parts", "This list may not be empty.");
	if (n > MAX_PARTS)
		return resp_field_error(req, "parts", "Too many parts.");

	struct s3_part *list = arena_alloc(&req->arena, n * sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(parts, i), *num, *etag, *sz;
		if (!json_object_is_type(p, json_type_object) ||
		    !json_object_object_get_ex(p, "part_number", &num) || !json_object_is_type(num, json_type_int) ||
		    json_object_get_int64(num) < 1 || json_object_get_int64(num) > MAX_PARTS ||
		    !json_object_object_get_ex(p, "etag", &etag) || !json_object_is_type(etag, json_type_string) ||
		    json_object_get_string_len(etag) == 0 || json_object_get_string_len(etag) > 64 ||
		    !json_object_object_get_ex(p, "size", &sz) || !json_object_is_type(sz, json_type_int) ||
		    json_object_get_int64(sz) < 1)
			return resp_field_error(req, "parts", arena_printf(&req->arena,
			    "Part %zu needs part_number (1..10000), size and etag.", i + 1));
		const char *e = json_object_get_string(etag);
		if (strpbrk(e, "<>&\"") != NULL && !(e[0] == '"' && strchr(e + 1, '"') == e + strlen(e) - 1))
			return resp_field_error(req, "parts", "An etag holds characters it cannot have.");
		list[i].number = (int)json_object_get_int64(num);
		list[i].etag = arena_strdup(&req->arena, e);
	}
	/* S3 wants the parts in order. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && list[j - 1].number > list[j].number; j--) {
			struct s3_part t = list[j];
			list[j] = list[j - 1];
			list[j - 1] = t;
		}

	if ((r = upload_load(req)) == NULL || (s3 = s3_for(req)) == NULL)
		return 0;
	const char *key = PQgetvalue(r, 0, 0), *mpu = PQgetvalue(r, 0, 3);
	char *url;
	if (strcmp(req->cfg->s3_multipart_complete, "s3") == 0) {
		struct s3_param qp[1] = { { "uploadId", mpu } };
		url = s3_presign(s3, "POST", key, qp, 1, COMPLETE_TTL, time(NULL));
	} else {
		char expires[24], sig[65];
		snprintf(expires, sizeof(expires), "%lld", (long long)time(NULL) + COMPLETE_TTL);
		complete_signature(s3, req->params[0], expires, sig);
		url = xstrdup(arena_printf(&req->arena, "%s/api/uploads/%s/s3-complete/?expires=%s&signature=%s",
		    req->cfg->api_url, req->params[0], expires, sig));
	}
	char *xml = s3_complete_body(list, n);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "complete_url", json_object_new_string(url ? url : ""));
	json_object_object_add(o, "body", json_object_new_string(xml ? xml : ""));
	free(url);
	free(xml);
	return resp_json(req, 200, o);
}

/* POST /api/uploads/{upload_id}/s3-complete/?expires=&signature=: what a
 * presigned CompleteMultipartUpload would do, done by the archive: the
 * client (dandi-cli, the web app) POSTs the body /complete/ gave it, with
 * no credentials but the URL's signature. The archive completes the upload
 * with S3 and answers S3's XML with the object's ETag, taken from a HEAD
 * when S3 leaves it out (radosgw 16 answers an empty one, which the dandi
 * client refuses). A repeated POST after a lost answer finds the object
 * complete and answers the same. */
int
uploads_s3_complete(struct request *req)
{
	const char	*expires = query_get(req, "expires"), *sig = query_get(req, "signature");
	PGresult	*r;
	struct s3	*s3;
	char		 want[65], err[160];

	if ((s3 = s3_for(req)) == NULL)
		return 0;
	if (expires == NULL || sig == NULL || strspn(expires, "0123456789") != strlen(expires) ||
	    *expires == '\0' || strlen(expires) > 18)
		return resp_detail(req, 403, "This completion URL is not signed.");
	complete_signature(s3, req->params[0], expires, want);
	if (!ct_streq(want, sig))
		return resp_detail(req, 403, "The signature of this completion URL does not match.");
	if (strtoll(expires, NULL, 10) < (long long)time(NULL))
		return resp_detail(req, 403, "This completion URL has expired; ask /complete/ for a new one.");

	/* The parts go to S3 as the client listed them, read and rewritten
	 * (never passed through unread). */
	struct s3_part *list;
	size_t n;
	if (s3_complete_body_parse(req->body ? req->body : "", req->body ? req->body_len : 0, &list, &n,
	    err, sizeof(err)) != 0)
		return resp_detail(req, 400, "%s", err);

	const char *p1[1] = { req->params[0] };
	if ((r = req_query(req, "upload_by_id", 1, p1)) == NULL) {
		s3_parts_free(list, n);
		return 0;
	}
	if (PQntuples(r) == 0) {
		s3_parts_free(list, n);
		return resp_detail(req, 404, "Not found.");
	}
	const char *key = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
	const char *mpu = arena_strdup(&req->arena, PQgetvalue(r, 0, 1));
	bool embargoed = PQgetvalue(r, 0, 2)[0] == 't';

	char *etag = NULL;
	int st = s3_complete_multipart(s3, key, mpu, list, n, &etag);
	s3_parts_free(list, n);
	if (st == S3_NOT_FOUND) {
		/* NoSuchUpload: completed by an earlier POST whose answer was
		 * lost, or aborted. The object tells which. */
		struct s3_object obj = { 0 };
		int hs = s3_head(s3, key, &obj);
		if (hs == S3_OK)
			etag = obj.etag ? xstrdup(obj.etag) : NULL;
		s3_object_free(&obj);
		if (hs == S3_NOT_FOUND)
			return resp_detail(req, 404, "The upload is no longer in progress (aborted or expired).");
		if (hs != S3_OK)
			return s3_failed(req, s3, "HeadObject");
	} else if (st != S3_OK) {
		/* S3 refused what the client sent (InvalidPart, EntityTooSmall,
		 * InvalidPartOrder...): the client's error, in S3's words. */
		if (s3->status >= 400 && s3->status < 500)
			return resp_detail(req, 400, "The object store refused to complete the upload: %s.",
			    *s3->code ? s3->code : "error");
		free(etag);
		return s3_failed(req, s3, "CompleteMultipartUpload");
	}
	/* radosgw 16 drops the tag given at CreateMultipartUpload: tag the
	 * object now, so an embargoed object is untagged (readable under the
	 * public-read bucket policy) only between these two calls. */
	if (embargoed && s3_put_tagging(s3, key, "embargoed=true") != S3_OK) {
		free(etag);
		return s3_failed(req, s3, "PutObjectTagging");
	}
	char *xml = s3_complete_result(s3, key, etag != NULL && *etag ? etag : NULL);
	free(etag);
	req->status = 200;
	req->content_type_out = "application/xml";
	req->out.len = 0;
	buf_puts(&req->out, xml);
	free(xml);
	return 0;
}

/* POST /api/uploads/{upload_id}/validate/: the object must exist with the
 * declared size and ETag; then it becomes a blob and the upload goes. */
int
uploads_validate(struct request *req)
{
	PGresult	*r;
	struct s3	*s3;
	struct s3_object obj = { 0 };

	if ((r = upload_load(req)) == NULL || (s3 = s3_for(req)) == NULL)
		return 0;
	const char *key = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
	const char *etag = arena_strdup(&req->arena, PQgetvalue(r, 0, 1));
	const char *size = arena_strdup(&req->arena, PQgetvalue(r, 0, 2));
	const char *embargoed = PQgetvalue(r, 0, 4)[0] == 't' ? "t" : "f";
	const char *dandiset = arena_strdup(&req->arena, PQgetvalue(r, 0, 5));
	int64_t want = strtoll(size, NULL, 10);

	int st = s3_head(s3, key, &obj);
	if (st == S3_NOT_FOUND)
		return resp_list_error(req, 400, "Object does not exist.");
	if (st != S3_OK)
		return s3_failed(req, s3, "HeadObject");
	const char *actual = arena_strdup(&req->arena, obj.etag ? obj.etag : "");
	int64_t got = obj.size;
	s3_object_free(&obj);
	if (got != want)
		return resp_list_error(req, 400, arena_printf(&req->arena,
		    "Size %" PRId64 " does not match actual size %" PRId64 ".", want, got));
	/* Zero bytes have no multipart ETag worth comparing: the size is
	 * the whole content. */
	if (want > 0 && strcmp(etag, actual) != 0)
		return resp_list_error(req, 400, arena_printf(&req->arena,
		    "ETag %s does not match actual ETag %s.", etag, actual));

	/* The tag sent with CreateMultipartUpload is not kept by every S3
	 * service (radosgw 16 drops it): set it on the object itself, before
	 * the blob exists, so an embargoed blob is never untagged. */
	if (*embargoed == 't' && s3_put_tagging(s3, key, "embargoed=true") != S3_OK)
		return s3_failed(req, s3, "PutObjectTagging");

	/* Under the etag's lock: a blob of these bytes that this user may
	 * use (a concurrent identical upload) makes this one redundant (409,
	 * as the original); one hidden from the user does not, and the
	 * upload becomes a blob of its own. */
	if (req_begin(req) != 0)
		return 0;
	const char *pl[1] = { etag }, *pe[2] = { etag, req->user_id_str };
	PGresult *dup;
	if (req_query(req, "blob_etag_lock", 1, pl) == NULL ||
	    (dup = req_query(req, "blob_etag_exists", 2, pe)) == NULL)
		return 0;
	PGresult *b = NULL;
	if (PQntuples(dup) == 0) {
		const char *ins[6] = { req->params[0], key, etag, size, embargoed, dandiset };
		if ((b = req_query(req, "blob_from_upload", 6, ins)) == NULL)
			return 0;
	}
	const char *p1[1] = { req->params[0] };
	PGresult *gone = req_query(req, "upload_delete", 1, p1);
	if (gone == NULL)
		return 0;
	bool created = b != NULL && PQntuples(b) == 1;
	/* This request took the upload's row and made no blob of it: nothing
	 * names its object now (a concurrent validation of the same upload
	 * finds the row gone and leaves the object to the blob it made). */
	bool orphaned = !created && PQntuples(gone) == 1;
	const char *json = created ? arena_strdup(&req->arena, PQgetvalue(b, 0, 0)) : NULL;
	if (created && req_query(req, "blob_sha256_enqueue", 1, p1) == NULL)
		return 0;
	if (req_commit(req) != 0)
		return 0;
	if (!created) {
		if (orphaned && s3_delete(s3, key) == S3_ERROR)
			log_warn("delete of redundant upload object %s failed: %s", key, s3->err);
		return resp_string(req, 409, "An identical blob has already been uploaded.");
	}
	return resp_raw_json(req, 200, json);
}

/* GET /api/dandisets/{id}/uploads/: owners only, though a GET. */
int
uploads_list(struct request *req)
{
	struct page	 pg;
	char		 limit[24], offset[24];
	PGresult	*r;

	if (page_parse(req, &pg) != 0 || dandiset_visible(req, req->params[0]) == NULL ||
	    perm_require_auth(req) != 0)
		return 0;
	if (!perm_is_owner(req, req->params[0]))
		return req->status ? 0 : resp_detail(req, 403, "You do not have permission to perform this action.");
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[3] = { req->params[0], limit, offset };
	if ((r = req_query(req, "upload_list", 3, params)) == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* DELETE /api/dandisets/{id}/uploads/: forget every pending upload and
 * abort them in S3 (best effort: the garbage collector finds leftovers). */
int
uploads_clear(struct request *req)
{
	PGresult *r;

	if (perm_require_approved(req) != 0 || dandiset_visible(req, req->params[0]) == NULL)
		return 0;
	if (!perm_is_owner(req, req->params[0]))
		return req->status ? 0 : resp_detail(req, 403, "You do not have permission to perform this action.");
	const char *params[1] = { req->params[0] };
	if (req_begin(req) != 0 || (r = req_query(req, "upload_all_of_dandiset", 1, params)) == NULL ||
	    req_commit(req) != 0)
		return 0;
	struct s3 *s3 = PQntuples(r) > 0 ? s3_for(req) : NULL;
	req->status = 0;	/* an unconfigured S3 must not turn this into 503 */
	for (int i = 0; s3 != NULL && i < PQntuples(r); i++)
		if (s3_abort_multipart(s3, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)) == S3_ERROR)
			log_warn("abort of upload %s failed: %s", PQgetvalue(r, i, 1), s3->err);
	return resp_empty(req, 204);
}

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
	if ((s3 = s3_for(req)) == NULL)
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

/* GET|HEAD /api/assets/{asset_id}/download/: embargoed bytes need an owner
 * of a dandiset that holds the asset (or a superuser). */
int
assets_download(struct request *req)
{
	const char	*params[3] = { req->params[0], superuser_flag(req), req->user_id_str };
	PGresult	*r = req_query(req, "download_asset", 3, params);

	if (r == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (PQgetvalue(r, 0, 4)[0] == 't') {
		if (perm_require_auth(req) != 0)
			return 0;
		if (PQgetvalue(r, 0, 5)[0] != 't')
			return resp_detail(req, 403, "You do not have permission to perform this action.");
	}
	return download_respond(req, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
	    PQgetvalue(r, 0, 3)[0] == 't');
}

/* GET .../versions/{v}/assets/{asset_id}/download/: the dandiset's rule. */
int
assets_download_nested(struct request *req)
{
	const char	*p2[2] = { req->params[0], req->params[1] };
	PGresult	*r = req_query(req, "asset_version", 2, p2);

	if (r == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	const char *vid = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
	if (perm_read_dandiset(req, req->params[0], PQgetvalue(r, 0, 2)) != 0)
		return 0;
	const char *p[2] = { vid, req->params[2] };
	if ((r = req_query(req, "download_nested", 2, p)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	return download_respond(req, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
	    PQgetvalue(r, 0, 3)[0] == 't');
}

enum asset_top_col {
	ATOP_METADATA, ATOP_EMBARGOED, ATOP_ALLOWED, ATOP_ASSET,
};

/* GET /api/assets/{asset_id}/ and .../info/: any asset, embargo rule of
 * its bytes. */
static int
asset_top(struct request *req, bool info)
{
	const char *params[5] = { req->params[0], superuser_flag(req), req->user_id_str,
	    req->cfg->api_url, assets_s3_base(req) };
	PGresult *r = req_query(req, "asset_top", 5, params);

	if (r == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (PQgetvalue(r, 0, ATOP_EMBARGOED)[0] == 't') {
		if (perm_require_auth(req) != 0)
			return 0;
		if (PQgetvalue(r, 0, ATOP_ALLOWED)[0] != 't')
			return resp_detail(req, 403, "You do not have permission to perform this action.");
	}
	if (!info)
		return resp_raw_json(req, 200, PQgetvalue(r, 0, ATOP_METADATA));
	return asset_json_respond(req, r, ATOP_ASSET, ATOP_METADATA);
}

int
assets_top_get(struct request *req)
{
	return asset_top(req, false);
}

int
assets_top_info(struct request *req)
{
	return asset_top(req, true);
}
