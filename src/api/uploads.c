/*
 * uploads.c - files go in: blob lookup by digest, multipart upload
 * initialize / complete / validate, a dandiset's pending uploads, and the
 * worker's S3 client. The API only signs and records; the bytes go
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

enum { BL_JSON, BL_NCOLS };
static const struct db_sql blob_by_etag = { "blob_by_etag", BL_NCOLS,
	"SELECT " BLOB_JSON " FROM blobs b WHERE etag = $1" BLOB_USABLE_ORDER };

static const struct db_sql blob_by_sha256 = { "blob_by_sha256", BL_NCOLS,
	"SELECT " BLOB_JSON " FROM blobs b WHERE sha256 = $1" BLOB_USABLE_ORDER };

enum { BEE_ID, BEE_NCOLS };
static const struct db_sql blob_etag_exists = { "blob_etag_exists", BEE_NCOLS,
	"SELECT blob_id FROM blobs b WHERE etag = $1" BLOB_USABLE_ORDER };

enum { BEL_LOCKED, BEL_NCOLS };	/* unread */
static const struct db_sql blob_etag_lock = { "blob_etag_lock", BEL_NCOLS,
	"SELECT pg_advisory_xact_lock(" BLOB_ETAG_LOCK_CLASS ", hashtext($1))" };

static const struct db_sql upload_insert = { "upload_insert", 0,
	"INSERT INTO uploads (dandiset_id, upload_id, blob, etag, multipart_upload_id, size, embargoed)"
	" VALUES ($1::bigint, $2::uuid, $3, $4, $5, $6::bigint, $7::boolean)" };

/* $1 upload, $2 user, $3 superuser */
enum { UG_BLOB, UG_ETAG, UG_SIZE, UG_MULTIPART, UG_EMBARGOED, UG_DANDISET, UG_OWNER, UG_NCOLS };
static const struct db_sql upload_get = { "upload_get", UG_NCOLS,
	"SELECT u.blob, u.etag, u.size, u.multipart_upload_id, u.embargoed, u.dandiset_id,"
	" " SQL_OWNS("u.dandiset_id", "$2::bigint", "$3::boolean")
	" FROM uploads u WHERE u.upload_id = $1::uuid" };

enum { UD_ID, UD_NCOLS };
static const struct db_sql upload_delete = { "upload_delete", UD_NCOLS,
	"DELETE FROM uploads WHERE upload_id = $1::uuid RETURNING upload_id" };

/* For the signed completion URL: the signature is the permission. */
enum { UBI_BLOB, UBI_MULTIPART, UBI_EMBARGOED, UBI_NCOLS };
static const struct db_sql upload_by_id = { "upload_by_id", UBI_NCOLS,
	"SELECT blob, multipart_upload_id, embargoed FROM uploads WHERE upload_id = $1::uuid" };

/* The sha256 of a new blob is computed by dandi-jobs from S3. */
enum { BSE_JOB, BSE_NCOLS };	/* unread */
static const struct db_sql blob_sha256_enqueue = { "blob_sha256_enqueue", BSE_NCOLS,
	"SELECT dandi_enqueue('sha256', $1::text, jsonb_build_object('blob', $1::text))" };

/* The blob takes the upload's id, key and dandiset (for whom an
 * embargoed blob is usable before an asset holds it); a repeated
 * validation of the same upload inserts nothing. */
enum { BFU_JSON, BFU_NCOLS };
static const struct db_sql blob_from_upload = { "blob_from_upload", BFU_NCOLS,
	"INSERT INTO blobs (blob_id, blob, etag, size, embargoed, upload_dandiset_id)"
	" VALUES ($1::uuid, $2, $3, $4::bigint, $5::boolean, $6::bigint) ON CONFLICT (blob_id) DO NOTHING"
	" RETURNING " BLOB_JSON };

enum { UL_JSON = PAGE_COUNTED_ITEM, UL_TOTAL = PAGE_COUNTED_TOTAL, UL_NCOLS };
static const struct db_sql upload_list = { "upload_list", UL_NCOLS,
	"SELECT json_build_object('created', dandi_ts(created), 'blob', blob, 'upload_id', upload_id,"
	" 'etag', etag, 'size', size), count(*) OVER ()"
	" FROM uploads WHERE dandiset_id = $1::bigint ORDER BY created, id"
	" LIMIT $2::bigint OFFSET $3::bigint" };

enum { UAD_BLOB, UAD_MULTIPART, UAD_NCOLS };
static const struct db_sql upload_all_of_dandiset = { "upload_all_of_dandiset", UAD_NCOLS,
	"DELETE FROM uploads WHERE dandiset_id = $1::bigint RETURNING blob, multipart_upload_id" };

const struct db_sql *const uploads_sql[] = {
	&blob_by_etag, &blob_by_sha256, &blob_etag_exists, &blob_etag_lock, &upload_insert, &upload_get,
	&upload_delete, &upload_by_id, &blob_sha256_enqueue, &blob_from_upload, &upload_list,
	&upload_all_of_dandiset, NULL
};

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
		    "This field may not be blank." : json_string_has_nul(*vals[i]) ?
		    "Null characters are not allowed." : NULL;
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
	const struct db_sql *stmt = strcmp(a, "dandi:dandi-etag") == 0 ? &blob_by_etag :
	    strcmp(a, "dandi:sha2-256") == 0 ? &blob_by_sha256 : NULL;
	if (stmt == NULL)
		return resp_string(req, 400, "Unsupported Digest Algorithm. Supported: dandi:dandi-etag, dandi:sha2-256");
	v = metadata_utf8_fix(req, v);
	const char *params[2] = { v, req->user_id_str };
	if ((r = req_query(req, stmt, 2, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	return resp_raw_json(req, 200, PQgetvalue(r, 0, BL_JSON));
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
	if (!json_object_is_type(o, json_type_string) || json_string_has_nul(o))
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

/* POST /api/uploads/initialize/ */
int
uploads_initialize(struct request *req)
{
	struct json_object *body, *ds, *cs, *dg, *alg = NULL, *val = NULL;
	const char	*dandiset = NULL, *etag;
	int64_t		 size = 0;
	PGresult	*r;
	struct s3	*s3;

	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Invalid data. Expected a dictionary, but got %s.", metadata_py_type(body)));

	/* Field errors, all at once, as the serializer reports them. */
	struct json_object *errs = json_object_new_object();
	if (!json_object_object_get_ex(body, "dandiset", &ds))
		json_object_object_add(errs, "dandiset", json_error_list("This field is required."));
	else if ((dandiset = dandiset_field(req, ds)) == NULL)
		json_object_object_add(errs, "dandiset", json_error_list("A valid Dandiset identifier is required."));
	if (!json_object_object_get_ex(body, "contentSize", &cs))
		json_object_object_add(errs, "contentSize", json_error_list("This field is required."));
	else if (!json_object_is_type(cs, json_type_int))
		json_object_object_add(errs, "contentSize", json_error_list("A valid integer is required."));
	else if ((size = json_object_get_int64(cs)) < 1)
		/* As the original: an empty file has no part to upload (its
		 * dandi-etag names 0 parts). */
		json_object_object_add(errs, "contentSize",
		    json_error_list("Ensure this value is greater than or equal to 1."));
	/* digest is optional in the original's serializer but required by
	 * its view (a KeyError there): say so clearly. */
	if (!json_object_object_get_ex(body, "digest", &dg) || dg == NULL)
		json_object_object_add(errs, "digest", json_error_list("This field is required."));
	else if (!json_object_is_type(dg, json_type_object)) {
		struct json_object *de = json_object_new_object();
		json_object_object_add(de, "non_field_errors", json_error_list("Invalid data. Expected a dictionary."));
		json_object_object_add(errs, "digest", de);
	} else {
		struct json_object *de = json_object_new_object();
		if (!json_object_object_get_ex(dg, "algorithm", &alg) || !json_object_is_type(alg, json_type_string))
			json_object_object_add(de, "algorithm", json_error_list("This field is required."));
		else if (json_string_has_nul(alg))
			json_object_object_add(de, "algorithm", json_error_list("Null characters are not allowed."));
		if (!json_object_object_get_ex(dg, "value", &val) || !json_object_is_type(val, json_type_string))
			json_object_object_add(de, "value", json_error_list("This field is required."));
		else if (json_string_has_nul(val))
			json_object_object_add(de, "value", json_error_list("Null characters are not allowed."));
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

	/* The dandiset comes in the body, so it is looked up here, after the
	 * body, as the original's view: one the user may not read is 404
	 * (get_object_or_404 of the visible ones), then owners only. */
	struct dandiset d;
	int found = dandiset_find(req, dandiset, &d);
	if (found < 0)
		return 0;
	if (found == 0 || (strcmp(d.embargo_status, "OPEN") != 0 && !d.owner))
		return resp_detail(req, 404, "Not found.");
	if (!d.owner)
		return resp_string(req, 403, "Action not allowed");
	if (perm_not_unembargoing(req, d.embargo_status) != 0)
		return 0;
	const char *embargo = d.embargo_status;

	/* Only a blob this user may use is offered; else the client uploads
	 * a copy of its own, as for new bytes. */
	const char *pe[2] = { etag, req->user_id_str };
	if ((r = req_query(req, &blob_etag_exists, 2, pe)) == NULL)
		return 0;
	if (PQntuples(r) > 0) {
		resp_header(req, "Location", arena_strdup(&req->arena, PQgetvalue(r, 0, BEE_ID)));
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
	if (req_query(req, &upload_insert, 7, ins) == NULL) {
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

int
upload_target(struct request *req)
{
	const char	*params[3] = { req->params[0], req->user_id_str, superuser_flag(req) };
	PGresult	*r;

	if ((r = req_query(req, &upload_get, 3, params)) == NULL)
		return -1;
	if (PQntuples(r) == 0 ||
	    (PQgetvalue(r, 0, UG_EMBARGOED)[0] == 't' && PQgetvalue(r, 0, UG_OWNER)[0] != 't'))
		return resp_detail(req, 404, "Not found."), -1;
	struct upload *u = arena_alloc(&req->arena, sizeof(*u));
	u->blob = arena_strdup(&req->arena, PQgetvalue(r, 0, UG_BLOB));
	u->etag = arena_strdup(&req->arena, PQgetvalue(r, 0, UG_ETAG));
	u->size = arena_strdup(&req->arena, PQgetvalue(r, 0, UG_SIZE));
	u->multipart_upload_id = arena_strdup(&req->arena, PQgetvalue(r, 0, UG_MULTIPART));
	u->embargoed = PQgetvalue(r, 0, UG_EMBARGOED)[0] == 't';
	u->dandiset = arena_strdup(&req->arena, PQgetvalue(r, 0, UG_DANDISET));
	req->upload = u;
	return 0;
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
	struct s3	*s3;

	if ((body = req_json_body(req)) == NULL)
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
		if (json_string_has_nul(etag) ||
		    (strpbrk(e, "<>&\"") != NULL && !(e[0] == '"' && strchr(e + 1, '"') == e + strlen(e) - 1)))
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

	/* The upload after its parts, as the original's view (its target). */
	if (upload_target(req) != 0 || (s3 = s3_for(req)) == NULL)
		return 0;
	const char *key = req->upload->blob, *mpu = req->upload->multipart_upload_id;
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
	if ((r = req_query(req, &upload_by_id, 1, p1)) == NULL) {
		s3_parts_free(list, n);
		return 0;
	}
	if (PQntuples(r) == 0) {
		s3_parts_free(list, n);
		return resp_detail(req, 404, "Not found.");
	}
	const char *key = arena_strdup(&req->arena, PQgetvalue(r, 0, UBI_BLOB));
	const char *mpu = arena_strdup(&req->arena, PQgetvalue(r, 0, UBI_MULTIPART));
	bool embargoed = PQgetvalue(r, 0, UBI_EMBARGOED)[0] == 't';

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
	struct s3	*s3;
	struct s3_object obj = { 0 };

	if ((s3 = s3_for(req)) == NULL)
		return 0;
	const char *key = req->upload->blob, *etag = req->upload->etag, *size = req->upload->size;
	const char *embargoed = req->upload->embargoed ? "t" : "f";
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

	/* The transaction only now: none stays open across the S3 calls. */
	if (req_begin(req) != 0)
		return 0;
	/* Under the etag's lock: a blob of these bytes that this user may
	 * use (a concurrent identical upload) makes this one redundant (409,
	 * as the original); one hidden from the user does not, and the
	 * upload becomes a blob of its own. */
	const char *pl[1] = { etag }, *pe[2] = { etag, req->user_id_str };
	PGresult *dup;
	if (req_query(req, &blob_etag_lock, 1, pl) == NULL ||
	    (dup = req_query(req, &blob_etag_exists, 2, pe)) == NULL)
		return 0;
	PGresult *b = NULL;
	if (PQntuples(dup) == 0) {
		const char *ins[6] = { req->params[0], key, etag, size, embargoed, req->upload->dandiset };
		if ((b = req_query(req, &blob_from_upload, 6, ins)) == NULL)
			return 0;
	}
	const char *p1[1] = { req->params[0] };
	PGresult *gone = req_query(req, &upload_delete, 1, p1);
	if (gone == NULL)
		return 0;
	bool created = b != NULL && PQntuples(b) == 1;
	/* This request took the upload's row and made no blob of it: nothing
	 * names its object now (a concurrent validation of the same upload
	 * finds the row gone and leaves the object to the blob it made). */
	bool orphaned = !created && PQntuples(gone) == 1;
	const char *json = created ? arena_strdup(&req->arena, PQgetvalue(b, 0, BFU_JSON)) : NULL;
	if (created && req_query(req, &blob_sha256_enqueue, 1, p1) == NULL)
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

/* GET /api/dandisets/{id}/uploads/: owners only, though a GET (its
 * target). */
int
uploads_list(struct request *req)
{
	struct page	 pg;
	char		 limit[24], offset[24];
	PGresult	*r;

	if (page_parse(req, &pg) != 0)
		return 0;
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[3] = { req->params[0], limit, offset };
	if ((r = req_query(req, &upload_list, 3, params)) == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* DELETE /api/dandisets/{id}/uploads/: forget every pending upload and
 * abort them in S3 (best effort: the garbage collector finds leftovers). */
int
uploads_clear(struct request *req)
{
	PGresult *r;

	const char *params[1] = { req->params[0] };
	if ((r = req_query(req, &upload_all_of_dandiset, 1, params)) == NULL || req_commit(req) != 0)
		return 0;
	struct s3 *s3 = PQntuples(r) > 0 ? s3_for(req) : NULL;
	req->status = 0;	/* an unconfigured S3 must not turn this into 503 */
	for (int i = 0; s3 != NULL && i < PQntuples(r); i++)
		if (s3_abort_multipart(s3, PQgetvalue(r, i, UAD_BLOB),
		    PQgetvalue(r, i, UAD_MULTIPART)) == S3_ERROR)
			log_warn("abort of upload %s failed: %s", PQgetvalue(r, i, UAD_MULTIPART), s3->err);
	return resp_empty(req, 204);
}
