/*
 * dandi-jobs - the background work of the archive, run by cron or a
 * systemd timer on any number of machines at once.
 *
 *   dandi-jobs [-c config] run [--max N]   work queued jobs, sweep, work what
 *                                          the sweep queued, then exit
 *   dandi-jobs [-c config] list [--state S] print jobs
 *   dandi-jobs [-c config] retry ID        queue a failed job again
 *   dandi-jobs [-c config] gc [--dry-run] [--assets]   garbage collection
 *   dandi-jobs [-c config] mail [--max N]  send the e-mail outbox
 *   dandi-jobs [-c config] stats           record the archive statistics
 *   dandi-jobs [-c config] refresh-search  rebuild the asset search view
 *   dandi-jobs [-c config] validate [--max N] [--batch N]
 *                                          validate Pending drafts and assets
 *   dandi-jobs [-c config] zarr-ingest [--force] ZARR_ID   queue a zarr ingest
 *   dandi-jobs [-c config] verify [--max N] [--older-than INTERVAL] | --report
 *                                          re-verify stored blobs (verify.c)
 *   dandi-jobs [-c config] analytics [--max N] [--all]
 *                                          download counts from S3 access logs
 *   dandi-jobs [-c config] manifests --all | VERSION...  queue manifest rewrites
 *
 * A job is claimed with SELECT ... FOR UPDATE SKIP LOCKED on one
 * connection, whose transaction stays open while a second connection does
 * the work in its own transactions. Two workers never hold the same job;
 * a worker that dies drops its connection and with it the claim, so the
 * next run picks the job up again. Failures are retried with backoff and
 * end in the visible state 'failed' (with the error), never stuck.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "blobsum.h"
#include "config.h"
#include "datacite.h"
#include "dschema.h"
#include "db.h"
#include "doi-jobs.h"
#include "housekeeping.h"
#include "log.h"
#include "manifests.h"
#include "s3.h"
#include "util.h"
#include "verify.h"
#include "vmeta.h"
#include "zarr-jobs.h"

static const struct db_stmt claim_stmts[] = {
	{ "job_claim",
	  "SELECT id, kind, args::text, attempts, max_attempts FROM jobs"
	  " WHERE state = 'queued' AND run_after <= now()"
	  " ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED" },
	{ "job_done",
	  "UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = '', modified = now()"
	  " WHERE id = $1::bigint" },
	/* Backoff: 1, 2, 4, 8 ... minutes. */
	{ "job_retry",
	  "UPDATE jobs SET attempts = attempts + 1, last_error = $2, modified = now(),"
	  " run_after = now() + (interval '1 minute' * (2 ^ least(attempts, 10)))"
	  " WHERE id = $1::bigint" },
	{ "job_fail",
	  "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = $2, modified = now()"
	  " WHERE id = $1::bigint" },
	{ "job_list",
	  "SELECT id, kind, state, attempts, to_char(modified, 'YYYY-MM-DD HH24:MI:SS'), args::text, last_error"
	  " FROM jobs WHERE $1::text IS NULL OR state = $1 ORDER BY id" },
	{ "job_requeue",
	  "UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), modified = now()"
	  " WHERE id = $1::bigint AND state = 'failed' RETURNING id" },
};

static const struct db_stmt work_stmts[] = {
	{ "pub_draft",
	  "SELECT v.status, v.name, v.metadata::text, v.release_notes, dandi_pyiso(d.created),"
	  " d.embargo_status, d.id FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	  " WHERE v.id = $1::bigint FOR UPDATE OF v" },
	{ "pub_stamp",
	  "SELECT dandi_next_version($1::bigint, now()), dandi_pyiso(now()),"
	  " dandi_published_by(now(), $2, $3)::text" },
	{ "pub_insert",
	  "INSERT INTO versions (dandiset_id, name, metadata, version, status, release_notes)"
	  " VALUES ($1::bigint, $2, $3::jsonb, $4, 'Valid', $5) RETURNING id" },
	{ "pub_assets",
	  "SELECT dandi_publish_assets($1::bigint, $2::bigint, $3, $4, now(), $5, $6)" },
	{ "pub_summary",
	  "SELECT dandi_assets_summary($1::bigint, false)::text" },
	{ "pub_save",
	  "UPDATE versions SET metadata = $2::jsonb, doi = $3, modified = now() WHERE id = $1::bigint" },
	/* DataCite registration, after this transaction and outside it. */
	{ "pub_doi_queue",
	  "INSERT INTO jobs (kind, args) VALUES ('doi', jsonb_build_object('key', $1::text,"
	  " 'version', $1::bigint, 'doi', $2::text)) ON CONFLICT DO NOTHING" },
	{ "pub_draft_done",
	  "UPDATE versions SET status = 'Published',"
	  " metadata = jsonb_set(metadata, '{assetsSummary}', $2::jsonb), modified = now()"
	  " WHERE id = $1::bigint" },
	{ "pub_audit",
	  "INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)"
	  " SELECT $1::bigint, coalesce(u.github_login, u.username), u.email,"
	  "  btrim(u.first_name || ' ' || u.last_name), 'publish_dandiset', jsonb_build_object('version', $3::text)"
	  " FROM users u WHERE u.id = $2::bigint" },
	{ "sha_blob",
	  "SELECT blob, size, sha256 FROM blobs WHERE blob_id = $1::uuid" },
	{ "sha_store",
	  "UPDATE blobs SET sha256 = $2, modified = now() WHERE blob_id = $1::uuid AND sha256 IS NULL" },
	/* Garbage collection, a chunk at a time; SKIP LOCKED keeps two
	 * collectors on disjoint rows. $1 is the grace period. */
	{ "gc_uploads",
	  "WITH victims AS (SELECT * FROM uploads WHERE created < now() - $1::interval"
	  "   ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED),"
	  " ev AS (INSERT INTO gc_events (type) SELECT 'Upload' WHERE EXISTS (SELECT 1 FROM victims) RETURNING id),"
	  " rec AS (INSERT INTO gc_event_records (event_id, record)"
	  "   SELECT ev.id, jsonb_build_object('model', 'api.upload', 'pk', v.id, 'fields', to_jsonb(v) - 'id')"
	  "   FROM ev, victims v),"
	  " del AS (DELETE FROM uploads u USING victims v WHERE u.id = v.id RETURNING u.blob, u.multipart_upload_id)"
	  " SELECT blob, multipart_upload_id FROM del" },
	{ "gc_blobs",
	  "WITH victims AS (SELECT * FROM blobs b WHERE created < now() - $1::interval"
	  "   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)"
	  "   ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED),"
	  " ev AS (INSERT INTO gc_events (type) SELECT 'AssetBlob' WHERE EXISTS (SELECT 1 FROM victims) RETURNING id),"
	  " rec AS (INSERT INTO gc_event_records (event_id, record)"
	  "   SELECT ev.id, jsonb_build_object('model', 'api.assetblob', 'pk', v.id, 'fields', to_jsonb(v) - 'id')"
	  "   FROM ev, victims v),"
	  " del AS (DELETE FROM blobs b USING victims v WHERE b.id = v.id RETURNING b.blob)"
	  " SELECT blob, NULL FROM del" },
	{ "gc_assets",
	  "DELETE FROM assets a WHERE a.id IN (SELECT id FROM assets x WHERE NOT x.published"
	  "   AND x.modified < now() - $1::interval"
	  "   AND NOT EXISTS (SELECT 1 FROM asset_versions av WHERE av.asset_id = x.id)"
	  "   ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING a.id" },
	{ "gc_prune",
	  "DELETE FROM gc_events WHERE timestamp < now() - interval '30 days'" },
	{ "gc_report",
	  "SELECT (SELECT count(*) FROM uploads WHERE created < now() - $1::interval),"
	  " (SELECT coalesce(sum(size), 0) FROM uploads WHERE created < now() - $1::interval),"
	  " (SELECT count(*) FROM blobs b WHERE created < now() - $1::interval"
	  "   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)),"
	  " (SELECT coalesce(sum(size), 0) FROM blobs b WHERE created < now() - $1::interval"
	  "   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)),"
	  " (SELECT count(*) FROM assets x WHERE NOT x.published AND x.modified < now() - $1::interval"
	  "   AND NOT EXISTS (SELECT 1 FROM asset_versions av WHERE av.asset_id = x.id))" },
	/* Validation sweep (see validate_versions / validate_assets). The
	 * rows of a batch stay locked (FOR UPDATE SKIP LOCKED) until their
	 * results are written in the same transaction: two sweepers never
	 * take the same row, and a change that sets a row back to Pending
	 * waits for the result and then overrides it, never the reverse. */
	{ "val_versions",
	  "SELECT v.id, v.metadata::text, v.release_notes, v.dandiset_id,"
	  " dandi_next_version(v.dandiset_id, now()), dandi_pyiso(now()),"
	  " dandi_published_by(now(), $2, $3)::text,"
	  " EXISTS (SELECT 1 FROM asset_versions av WHERE av.version_id = v.id),"
	  " EXISTS (SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	  "   LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	  "   WHERE av.version_id = v.id AND coalesce(b.size, z.size, 0) > 0)"
	  " FROM versions v WHERE v.status = 'Pending' AND v.version = 'draft'"
	  " LIMIT $1::bigint FOR UPDATE OF v SKIP LOCKED" },
	/* The draft's assetsSummary over its Valid assets is refreshed with
	 * the result, as the original's aggregate task does after a sweep. */
	{ "val_versions_store",
	  "UPDATE versions v SET status = r.status, validation_errors = r.errors, modified = now(),"
	  " metadata = jsonb_set(v.metadata, '{assetsSummary}', dandi_assets_summary(v.id, true))"
	  " FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, status text, errors jsonb)"
	  " WHERE v.id = r.id AND v.status = 'Pending' RETURNING v.id" },
	/* Pending assets that are ready: sha256 known, or the zarr ingested.
	 * The document is the full metadata plus a fresh publish stamp. */
	{ "val_assets",
	  "SELECT a.id, (dandi_asset_metadata(a, $2, $3)::jsonb || jsonb_build_object("
	  "   'publishedBy', dandi_published_by(now(), $4, $5), 'datePublished', dandi_pyiso(now())))::text"
	  " FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	  " WHERE a.status = 'Pending' AND NOT a.published"
	  "   AND (b.sha256 IS NOT NULL OR (z.checksum IS NOT NULL AND z.status = 'Complete'))"
	  " LIMIT $1::bigint FOR UPDATE OF a SKIP LOCKED" },
	{ "val_assets_store",
	  "UPDATE assets a SET status = r.status, validation_errors = r.errors, modified = now()"
	  " FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, status text, errors jsonb)"
	  " WHERE a.id = r.id AND a.status = 'Pending' AND NOT a.published RETURNING a.id" },
	/* As the original, the drafts holding a validated asset are touched;
	 * locks taken in id order so two sweepers cannot deadlock. */
	{ "val_touch_drafts",
	  "WITH l AS (SELECT v.id FROM versions v WHERE v.version = 'draft' AND v.id IN"
	  "   (SELECT av.version_id FROM asset_versions av WHERE av.asset_id = ANY ($1::bigint[]))"
	  "   ORDER BY v.id FOR UPDATE)"
	  " UPDATE versions v SET modified = now() FROM l WHERE v.id = l.id RETURNING v.id" },
	/* Once per sweep, the drafts whose assets it validated get their
	 * assetsSummary over the Valid assets again (the drafts are swept
	 * before the assets, so their own refresh came too early). */
	{ "val_summary_refresh",
	  "UPDATE versions v SET"
	  " metadata = jsonb_set(v.metadata, '{assetsSummary}', dandi_assets_summary(v.id, true))"
	  " WHERE v.id = ANY ($1::bigint[]) AND v.version = 'draft'" },
	/* The manifest files of new versions (after publish) and of the
	 * drafts a sweep validated, written by a "manifests" job. */
	{ "manifests_enqueue", MANIFESTS_ENQUEUE_SQL },
	/* A publish that gave up must not leave the draft Publishing. */
	{ "pub_unlock",
	  "UPDATE versions SET status = 'Pending' WHERE id = $1::bigint AND status = 'Publishing'" },
};

static struct config	cfg;
static struct db	claim_db, work_db;

/* A job handler: 0 done, -1 failed (err says why), -2 failed for good. */
typedef int (*job_fn)(struct json_object *args, char *err, size_t errlen);

static PGresult *
wq(const char *stmt, int n, const char *const *params, char *err, size_t errlen)
{
	return db_query(&work_db, stmt, n, params, err, errlen);
}

static const char *
arg(struct json_object *args, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(args, key, &v) ? json_object_get_string(v) : NULL;
}

/* Makes the published version from a draft locked as Publishing: the
 * draft's metadata with the publish stamp and the server fields, the
 * draft's assets (frozen), its folder tree and a fresh assetsSummary. */
static int
job_publish(struct json_object *args, char *err, size_t errlen)
{
	const char	*draft = arg(args, "draft"), *user = arg(args, "user");
	PGresult	*r;
	char		 s3base[1024], newid[24];
	int		 rc = -1;

	if (draft == NULL || user == NULL) {
		snprintf(err, errlen, "publish job without draft or user");
		return -2;
	}
	if (db_begin(&work_db) != DB_OK) {
		snprintf(err, errlen, "database unavailable");
		return -1;
	}
	const char *p1[1] = { draft };
	if ((r = wq("pub_draft", 1, p1, err, errlen)) == NULL)
		goto out;
	if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 0), "Publishing") != 0) {
		/* Edited (or deleted) since the request: nothing to publish. */
		snprintf(err, errlen, "the draft is no longer Publishing");
		PQclear(r);
		rc = -2;
		goto out;
	}
	char *name = xstrdup(PQgetvalue(r, 0, 1));
	struct json_object *md = json_tokener_parse(PQgetvalue(r, 0, 2));
	char *notes = xstrdup(PQgetvalue(r, 0, 3));
	struct version_ctx ctx = {
		.name = name, .created_iso = xstrdup(PQgetvalue(r, 0, 4)),
		.embargo_status = "OPEN", .embargo_end = NULL, .doi = NULL,
	};
	char *dandiset = xstrdup(PQgetvalue(r, 0, 6));
	ctx.dandiset_id = strtoll(dandiset, NULL, 10);
	PQclear(r);

	const char *p3[3] = { dandiset, cfg.instance_name,
	    *cfg.instance_identifier ? cfg.instance_identifier : "RRID:SCR_017571" };
	char *version = NULL, *now_iso = NULL;
	struct json_object *pub_by = NULL;
	if ((r = wq("pub_stamp", 3, p3, err, errlen)) == NULL)
		goto free_out;
	version = xstrdup(PQgetvalue(r, 0, 0));
	now_iso = xstrdup(PQgetvalue(r, 0, 1));
	pub_by = json_tokener_parse(PQgetvalue(r, 0, 2));
	PQclear(r);
	ctx.version = version;

	json_object_object_add(md, "publishedBy", json_object_get(pub_by));
	json_object_object_add(md, "datePublished", json_object_new_string(now_iso));
	if (*notes)
		json_object_object_add(md, "releaseNotes", json_object_new_string(notes));
	const char *ins[5] = { dandiset, name, json_object_to_json_string_ext(md, JSON_C_TO_STRING_PLAIN),
	    version, notes };
	if ((r = wq("pub_insert", 5, ins, err, errlen)) == NULL)
		goto free_out;
	snprintf(newid, sizeof(newid), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);

	s3_base_url(&cfg, s3base, sizeof(s3base));
	const char *pa[6] = { draft, newid, cfg.api_url, s3base, cfg.instance_name, p3[2] };
	if ((r = wq("pub_assets", 6, pa, err, errlen)) == NULL)
		goto free_out;
	PQclear(r);
	const char *pn[1] = { newid };
	if ((r = wq("pub_summary", 1, pn, err, errlen)) == NULL)
		goto free_out;
	char *summary = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);

	json_object_object_add(md, "assetsSummary", json_tokener_parse(summary));
	/* The DOI is the version's whether or not DataCite is configured,
	 * as the original: metadata doi, and the citation links to it. */
	char doi[256];
	datacite_doi(&cfg, ctx.dandiset_id, version, doi, sizeof(doi));
	ctx.doi = doi;
	metadata_populate_version(&cfg, &ctx, md);
	const char *sv[3] = { newid, json_object_to_json_string_ext(md, JSON_C_TO_STRING_PLAIN), doi };
	const char *dd[2] = { draft, summary };
	const char *au[3] = { dandiset, user, version };
	if ((r = wq("pub_save", 3, sv, err, errlen)) == NULL)
		goto free_summary;
	PQclear(r);
	if (datacite_configured(&cfg)) {
		const char *dq[2] = { newid, doi };
		if ((r = wq("pub_doi_queue", 2, dq, err, errlen)) == NULL)
			goto free_summary;
		PQclear(r);
	}
	if ((r = wq("pub_draft_done", 2, dd, err, errlen)) == NULL)
		goto free_summary;
	PQclear(r);
	if ((r = wq("pub_audit", 3, au, err, errlen)) == NULL)
		goto free_summary;
	PQclear(r);
	/* Queued with the publish, so a published version never lacks its
	 * manifest files for want of a request. */
	char newids[32];
	snprintf(newids, sizeof(newids), "{%s}", newid);
	const char *mf[1] = { newids };
	if (*cfg.s3_endpoint) {
		if ((r = wq("manifests_enqueue", 1, mf, err, errlen)) == NULL)
			goto free_summary;
		PQclear(r);
	}
	if (db_commit(&work_db) != DB_OK) {
		snprintf(err, errlen, "commit failed");
		goto free_summary;
	}
	log_info("published %s version %s", dandiset, version);
	rc = 0;
free_summary:
	free(summary);
free_out:
	json_object_put(md);
	json_object_put(pub_by);
	free(name);
	free(notes);
	free((char *)ctx.created_iso);
	free(dandiset);
	free(version);
	free(now_iso);
out:
	if (rc != 0)
		db_rollback(&work_db);
	return rc;
}

/* S3, made on first use (publishing never needs it). Without S3 (an
 * archive in a test, say) no manifests job is queued: there is nowhere to
 * write them. */
static struct s3	s3_client;
static bool		s3_ready;

static struct s3 *
s3_get_client(char *err, size_t errlen)
{
	if (!s3_ready) {
		if (s3_init(&s3_client, &cfg) != 0) {
			snprintf(err, errlen, "S3 is not configured");
			return NULL;
		}
		s3_ready = true;
	}
	return &s3_client;
}

/* sha256 of the blob's object, streamed (src/lib/blobsum.c, shared with
 * `dandi-jobs verify`). Computes into hex; 0 ok, -1 error. */
static int
blob_sha256(const char *key, int64_t size, char hex[65], char *err, size_t errlen)
{
	struct s3 *s3 = s3_get_client(err, errlen);
	struct blobsum sum;

	if (s3 == NULL || blobsum_compute(s3, key, size, false, &sum, err, errlen) != S3_OK)
		return -1;
	if (sum.bytes != size) {
		snprintf(err, errlen, "read %lld bytes of %s, expected %lld", (long long)sum.bytes, key,
		    (long long)size);
		return -1;
	}
	memcpy(hex, sum.sha256, 65);
	return 0;
}

/* The sha256 the original computes after each upload (dandi:sha2-256). */
static int
job_sha256(struct json_object *args, char *err, size_t errlen)
{
	const char *blob = arg(args, "blob");
	char hex[65];
	PGresult *r;

	if (blob == NULL || !is_uuid(blob)) {
		snprintf(err, errlen, "sha256 job without a blob id");
		return -2;
	}
	const char *p1[1] = { blob };
	if ((r = wq("sha_blob", 1, p1, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) == 0 || !PQgetisnull(r, 0, 2)) {
		PQclear(r);	/* gone (garbage-collected) or already done */
		return 0;
	}
	char *key = xstrdup(PQgetvalue(r, 0, 0));
	int64_t size = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	int rc = blob_sha256(key, size, hex, err, errlen);
	free(key);
	if (rc != 0)
		return -1;
	const char *p2[2] = { blob, hex };
	if ((r = wq("sha_store", 2, p2, err, errlen)) == NULL)
		return -1;
	PQclear(r);
	log_info("sha256 of blob %s: %s", blob, hex);
	return 0;
}

/* What to undo when a job gives up, so nothing stays stuck. */
static void
job_publish_gave_up(struct json_object *args)
{
	const char *draft = arg(args, "draft");
	char err[256];
	PGresult *r;

	if (draft == NULL)
		return;
	const char *p1[1] = { draft };
	if ((r = wq("pub_unlock", 1, p1, err, sizeof(err))) != NULL)
		PQclear(r);
}

static const struct {
	const char	*kind;
	job_fn		 run;
	void		(*gave_up)(struct json_object *);
} kinds[] = {
	{ "publish", job_publish, job_publish_gave_up },
	{ "sha256", job_sha256, NULL },
	{ "unembargo", job_unembargo, job_unembargo_gave_up },
	{ "blob_untag", job_blob_untag, NULL },
	{ "zarr_ingest", zarr_job_ingest, NULL },
	{ "doi", doi_job_register, NULL },
	{ "doi_delete", doi_job_delete, NULL },
	{ "manifests", manifests_job, NULL },
};

static int
cq(const char *stmt, int n, const char *const *params, PGresult **out)
{
	PGresult *r = NULL;

	if (db_exec(&claim_db, &r, stmt, n, params) != DB_OK) {
		log_error("%s: %s", stmt, r ? PQresultErrorMessage(r) : "database unavailable");
		if (r != NULL)
			PQclear(r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* Claims and works one job. 1 when one was worked, 0 when none is ready,
 * -1 on a database failure. */
static int
run_one(void)
{
	PGresult	*r;
	char		 err[1024] = "", id[24];
	int		 rc = -2;

	if (db_begin(&claim_db) != DB_OK)
		return -1;
	if (cq("job_claim", 0, NULL, &r) != 0) {
		db_rollback(&claim_db);
		return -1;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_rollback(&claim_db);
		return 0;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	char *kind = xstrdup(PQgetvalue(r, 0, 1));
	struct json_object *args = json_tokener_parse(PQgetvalue(r, 0, 2));
	int attempts = atoi(PQgetvalue(r, 0, 3)), max = atoi(PQgetvalue(r, 0, 4));
	PQclear(r);

	size_t k;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kinds[k].kind, kind) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		snprintf(err, sizeof(err), "unknown job kind %s", kind);
	else if (args == NULL)
		snprintf(err, sizeof(err), "job arguments are not JSON");
	else
		rc = kinds[k].run(args, err, sizeof(err));

	const char *p2[2] = { id, err };
	if (rc == 0) {
		cq("job_done", 1, p2, NULL);
	} else if (rc == -1 && attempts + 1 < max) {
		log_warn("job %s (%s) failed, will retry: %s", id, kind, err);
		cq("job_retry", 2, p2, NULL);
	} else {
		log_error("job %s (%s) failed for good: %s", id, kind, err);
		if (k < sizeof(kinds) / sizeof(kinds[0]) && args != NULL && kinds[k].gave_up != NULL)
			kinds[k].gave_up(args);
		cq("job_fail", 2, p2, NULL);
	}
	db_commit(&claim_db);
	json_object_put(args);
	free(kind);
	return 1;
}

/* One class of garbage, chunk by chunk, each chunk one transaction; the
 * S3 objects go after the rows are committed gone (never the other way
 * round, so no row ever points at deleted bytes). Returns rows deleted or
 * -1. */
static long
gc_class(const char *stmt, const char *grace, bool s3_objects)
{
	long total = 0;
	char err[512];

	for (;;) {
		PGresult *r;
		const char *p1[1] = { grace };

		if (db_begin(&work_db) != DB_OK)
			return -1;
		if ((r = wq(stmt, 1, p1, err, sizeof(err))) == NULL) {
			log_error("gc: %s", err);
			db_rollback(&work_db);
			return -1;
		}
		if (db_commit(&work_db) != DB_OK) {
			PQclear(r);
			return -1;
		}
		int n = PQntuples(r);
		struct s3 *s3 = n > 0 && s3_objects ? s3_get_client(err, sizeof(err)) : NULL;
		for (int i = 0; s3 != NULL && i < n; i++) {
			const char *key = PQgetvalue(r, i, 0);
			if (!PQgetisnull(r, i, 1))
				(void)s3_abort_multipart(s3, key, PQgetvalue(r, i, 1));
			if (s3_delete(s3, key) == S3_ERROR)
				log_warn("gc: delete of %s failed: %s", key, s3->err);
		}
		PQclear(r);
		total += n;
		if (n < 1000)
			return total;
	}
}

static int
cmd_gc(int argc, char **argv)
{
	bool dry = false, assets = false;
	const char *grace = "7 days";
	char err[512];
	PGresult *r;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else if (strcmp(argv[i], "--assets") == 0)
			assets = true;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc)
			grace = argv[++i];
		else
			return fprintf(stderr, "usage: dandi-jobs gc [--dry-run] [--assets] [--grace INTERVAL]\n"), 2;
	}
	const char *p1[1] = { grace };
	if ((r = wq("gc_report", 1, p1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		return 1;
	}
	printf("stale uploads: %s (%s bytes)\norphan blobs: %s (%s bytes)\norphan assets: %s%s\n",
	    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
	    PQgetvalue(r, 0, 4), assets ? "" : " (kept; --assets deletes them)");
	PQclear(r);
	if (dry) {
		printf("dry run: nothing deleted\n");
		return 0;
	}
	long up = gc_class("gc_uploads", grace, true);
	long bl = gc_class("gc_blobs", grace, true);
	long as = assets ? gc_class("gc_assets", grace, false) : 0;
	if ((r = wq("gc_prune", 0, NULL, err, sizeof(err))) != NULL)
		PQclear(r);
	printf("deleted: %ld uploads, %ld blobs, %ld assets\n", up, bl, as);
	return up < 0 || bl < 0 || as < 0 ? 1 : 0;
}

/* ---- validation ------------------------------------------------------ */

static struct dvalidator *validator;

static const char *
rrid(void)
{
	return *cfg.instance_identifier ? cfg.instance_identifier : "RRID:SCR_017571";
}

static void
result_add(struct json_object *results, const char *id, struct json_object *errs)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "id", json_object_new_int64(strtoll(id, NULL, 10)));
	json_object_object_add(r, "status", json_object_new_string(
	    json_object_array_length(errs) == 0 ? "Valid" : "Invalid"));
	json_object_object_add(r, "errors", errs);
	json_object_array_add(results, r);
}

/* The document the original validates for a draft: its metadata as if
 * published now (publish stamp, release notes, the next version's id and
 * url, a dummy DOI) with an assetsSummary that only says whether there
 * are files and bytes. */
static struct json_object *
version_document(PGresult *r, int i)
{
	struct json_object *md = json_tokener_parse(PQgetvalue(r, i, 1));
	char id6[16], buf[1024];
	const char *next = PQgetvalue(r, i, 4);

	if (md == NULL || !json_object_is_type(md, json_type_object)) {
		json_object_put(md);
		md = json_object_new_object();
	}
	snprintf(id6, sizeof(id6), "%06lld", strtoll(PQgetvalue(r, i, 3), NULL, 10));

	json_object_object_add(md, "publishedBy", json_tokener_parse(PQgetvalue(r, i, 6)));
	json_object_object_add(md, "datePublished", json_object_new_string(PQgetvalue(r, i, 5)));
	if (*PQgetvalue(r, i, 2))
		json_object_object_add(md, "releaseNotes", json_object_new_string(PQgetvalue(r, i, 2)));
	snprintf(buf, sizeof(buf), "%s:%s/%s", cfg.instance_name, id6, next);
	json_object_object_add(md, "id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%s/dandiset/%s/%s", cfg.web_url, id6, next);
	json_object_object_add(md, "url", json_object_new_string(buf));
	datacite_doi(&cfg, 123456, "0.123456.1234", buf, sizeof(buf));
	json_object_object_add(md, "doi", json_object_new_string(buf));
	struct json_object *sum = json_object_new_object();
	json_object_object_add(sum, "schemaKey", json_object_new_string("AssetsSummary"));
	json_object_object_add(sum, "numberOfBytes", json_object_new_int(PQgetvalue(r, i, 8)[0] == 't'));
	json_object_object_add(sum, "numberOfFiles", json_object_new_int(PQgetvalue(r, i, 7)[0] == 't'));
	json_object_object_add(md, "assetsSummary", sum);
	return md;
}

/* One batch of one kind in one transaction. Returns the rows taken (and
 * adds the rows written to *written), or -1 on a database error. */
static long
validate_batch(bool assets, long batch, long *written, struct buf *drafts, struct buf *validated)
{
	char err[1024], lim[24], s3base[1024];
	PGresult *r;
	long n;

	snprintf(lim, sizeof(lim), "%ld", batch);
	if (db_begin(&work_db) != DB_OK)
		return -1;
	if (assets) {
		s3_base_url(&cfg, s3base, sizeof(s3base));
		const char *p[5] = { lim, cfg.api_url, s3base, cfg.instance_name, rrid() };
		r = wq("val_assets", 5, p, err, sizeof(err));
	} else {
		const char *p[3] = { lim, cfg.instance_name, rrid() };
		r = wq("val_versions", 3, p, err, sizeof(err));
	}
	if (r == NULL) {
		log_error("validate: %s", err);
		db_rollback(&work_db);
		return -1;
	}
	n = PQntuples(r);
	struct json_object *results = json_object_new_array();
	struct buf ids;
	buf_init(&ids);
	buf_puts(&ids, "{");
	for (int i = 0; i < n; i++) {
		struct json_object *doc = assets ? json_tokener_parse(PQgetvalue(r, i, 1)) : version_document(r, i);
		struct json_object *errs = dvalidate(validator,
		    assets ? DM_PUBLISHED_ASSET : DM_PUBLISHED_DANDISET, doc);
		result_add(results, PQgetvalue(r, i, 0), errs);
		buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
		json_object_put(doc);
	}
	buf_puts(&ids, "}");
	PQclear(r);
	long rc = n;
	if (n > 0) {
		const char *p[1] = { json_object_to_json_string_ext(results, JSON_C_TO_STRING_PLAIN) };
		if ((r = wq(assets ? "val_assets_store" : "val_versions_store", 1, p, err, sizeof(err))) == NULL) {
			log_error("validate: %s", err);
			rc = -1;
		} else {
			*written += PQntuples(r);
			/* Drafts whose metadata was validated: their manifests. */
			for (int i = 0; !assets && i < PQntuples(r); i++)
				buf_printf(validated, "%s%s", validated->len ? "," : "", PQgetvalue(r, i, 0));
			PQclear(r);
		}
	}
	if (rc >= 0 && db_commit(&work_db) != DB_OK)
		rc = -1;
	else if (rc < 0)
		db_rollback(&work_db);
	if (rc > 0 && assets) {
		const char *p[1] = { ids.data };
		if ((r = wq("val_touch_drafts", 1, p, err, sizeof(err))) != NULL) {
			for (int i = 0; i < PQntuples(r); i++)
				buf_printf(drafts, "%s%s", drafts->len ? "," : "", PQgetvalue(r, i, 0));
			PQclear(r);
		} else
			log_warn("validate: %s", err);
	}
	buf_free(&ids);
	json_object_put(results);
	return rc;
}

/* Sweeps the Pending drafts, then the Pending ready assets, batch by
 * batch, until none is left or max rows (of each kind; -1: no limit) are
 * done. 0 ok, -1 on a database error. */
static int
validate_sweep(long max, long batch, long *nversions, long *nassets)
{
	struct buf drafts, validated;
	int rc = 0;

	if (validator == NULL)
		validator = dvalidator_new(&cfg);
	buf_init(&drafts);
	buf_init(&validated);
	for (int kind = 0; kind < 2 && rc == 0; kind++) {
		long *count = kind ? nassets : nversions, taken = 0;
		for (;;) {
			long want = batch;
			if (max >= 0 && max - taken < want)
				want = max - taken;
			if (want <= 0)
				break;
			long got = validate_batch(kind == 1, want, count, &drafts, &validated);
			if (got < 0) {
				rc = -1;
				break;
			}
			taken += got;
			if (got < want)
				break;
		}
	}
	if (drafts.len > 0) {
		char err[1024];
		struct buf ids;
		buf_init(&ids);
		buf_printf(&ids, "{%s}", drafts.data);
		const char *p[1] = { ids.data };
		PGresult *r = wq("val_summary_refresh", 1, p, err, sizeof(err));
		if (r != NULL)
			PQclear(r);
		else
			log_warn("validate: %s", err);
		buf_free(&ids);
	}
	/* As the original's sweep, the drafts it validated (metadata or
	 * assets) get their manifest files rewritten, after their
	 * assetsSummary is current. Queued last: a request for a draft whose
	 * manifests job is running waits for that run to end. */
	if ((drafts.len > 0 || validated.len > 0) && *cfg.s3_endpoint) {
		char err[1024];
		struct buf ids;
		buf_init(&ids);
		buf_printf(&ids, "{%s%s%s}", drafts.len ? drafts.data : "",
		    drafts.len && validated.len ? "," : "", validated.len ? validated.data : "");
		const char *p[1] = { ids.data };
		PGresult *r = wq("manifests_enqueue", 1, p, err, sizeof(err));
		if (r != NULL)
			PQclear(r);
		else
			log_warn("validate: %s", err);
		buf_free(&ids);
	}
	buf_free(&drafts);
	buf_free(&validated);
	return rc;
}

static int
cmd_validate(int argc, char **argv)
{
	long max = -1, batch = 200, nv = 0, na = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc && (batch = strtol(argv[++i], NULL, 10)) > 0)
			;
		else
			return fprintf(stderr, "usage: dandi-jobs validate [--max N] [--batch N]\n"), 2;
	}
	int rc = validate_sweep(max, batch, &nv, &na);
	printf("validated %ld version(s), %ld asset(s)\n", nv, na);
	return rc == 0 ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dandi-jobs [-c config] command\n"
	    "  run [--max N] [--no-validate]\n"
	    "                       work the queued jobs that are due, then the\n"
	    "                       validation sweep and the jobs it queued\n"
	    "                       (draft manifests), then exit\n"
	    "  list [--state S]     print jobs (S: queued, done, failed)\n"
	    "  retry ID             queue a failed job again\n"
	    "  validate [--max N] [--batch N]\n"
	    "                       validate the Pending drafts and ready assets\n"
	    "  gc [--dry-run] [--assets] [--grace INTERVAL]\n"
	    "                       delete stale uploads and orphan blobs (and assets)\n"
	    "  mail [--max N]       send the queued e-mail (SMTP or the spool directory)\n"
	    "  stats                record the archive statistics (GET /api/stats/)\n"
	    "  pending-users-mail   queue the daily mail to admin_email listing the users\n"
	    "                       waiting for approval (once a day, none when nobody waits)\n"
	    "  refresh-search       rebuild the asset_search view (GET /api/dandisets/search/)\n"
	    "  zarr-ingest [--force] ZARR_ID\n"
	    "                       queue the checksum of a zarr archive again\n"
	    "  verify [--max N] [--older-than INTERVAL]\n"
	    "                       read blobs back from S3 and check size, ETag and sha256\n"
	    "                       (never-verified first, then checks older than INTERVAL,\n"
	    "                       default 30 days); exit 1 when one fails\n"
	    "  verify --report [--all]\n"
	    "                       list the blobs whose last check failed (--all: every\n"
	    "                       failed check)\n"
	    "  analytics [--max N] [--all]\n"
	    "                       count blob downloads from the S3 access logs of\n"
	    "                       access_log_bucket/access_log_prefix\n"
	    "  manifests --all | VERSION...\n"
	    "                       queue the rewrite of versions' manifest files\n"
	    "                       (VERSION: the version's row id or DANDISET/VERSION)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*cfgpath = DANDI_CONFIG_DEFAULT;
	int		 explicit_cfg = 0;
	char		 err[512];

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cfgpath = argv[2];
		explicit_cfg = 1;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	if (config_load(&cfg, cfgpath, explicit_cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		return 1;
	}
	log_open(*cfg.log_file ? cfg.log_file : NULL, "dandi-jobs", LOG_INFO);
	zarr_jobs_init(&cfg);
	doi_jobs_init(&cfg);
	manifests_init(&cfg);
	db_init(&claim_db, cfg.db, claim_stmts, sizeof(claim_stmts) / sizeof(claim_stmts[0]));
	db_init(&work_db, cfg.db, work_stmts, sizeof(work_stmts) / sizeof(work_stmts[0]));
	hk_init(&cfg);
	int rc = 0;
	const char *cmd = argv[1];

	if (strcmp(cmd, "run") == 0) {
		long max = -1;
		bool validate = true;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
				max = strtol(argv[++i], NULL, 10);
			else if (strcmp(argv[i], "--no-validate") == 0)
				validate = false;
			else
				usage();
		}
		long n = 0;
		for (int got; max < 0 || n < max; n++) {
			if ((got = run_one()) <= 0) {
				rc = got < 0 ? 1 : 0;
				break;
			}
		}
		printf("%ld job(s) worked\n", n);
		/* The cron entry point does the validation sweep too. */
		long nv = 0, na = 0;
		if (validate && rc == 0) {
			if (validate_sweep(-1, 200, &nv, &na) != 0)
				rc = 1;
			printf("validated %ld version(s), %ld asset(s)\n", nv, na);
			/* The jobs the sweep queued (the drafts' manifest files)
			 * are worked now rather than a run later. */
			long after = 0;
			for (int got; rc == 0 && (max < 0 || n + after < max); after++) {
				if ((got = run_one()) <= 0) {
					rc = got < 0 ? 1 : 0;
					break;
				}
			}
			if (after > 0)
				printf("%ld job(s) worked after the sweep\n", after);
		}
	} else if (strcmp(cmd, "list") == 0) {
		const char *state = argc > 3 && strcmp(argv[2], "--state") == 0 ? argv[3] : NULL;
		const char *p1[1] = { state };
		PGresult *r;
		if (cq("job_list", 1, p1, &r) != 0)
			rc = 1;
		else {
			for (int i = 0; i < PQntuples(r); i++)
				printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
				    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
				    PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
			PQclear(r);
		}
	} else if (strcmp(cmd, "validate") == 0) {
		rc = cmd_validate(argc, argv);
	} else if (strcmp(cmd, "manifests") == 0) {
		rc = manifests_cmd(argc, argv);
	} else if (strcmp(cmd, "zarr-ingest") == 0) {
		rc = zarr_cmd_ingest(argc, argv);
	} else if (strcmp(cmd, "gc") == 0) {
		rc = cmd_gc(argc, argv);
	} else if (strcmp(cmd, "mail") == 0) {
		rc = cmd_mail(argc, argv);
	} else if (strcmp(cmd, "stats") == 0) {
		rc = cmd_stats();
	} else if (strcmp(cmd, "pending-users-mail") == 0) {
		rc = cmd_pending_users_mail();
	} else if (strcmp(cmd, "refresh-search") == 0) {
		rc = cmd_refresh_search();
	} else if (strcmp(cmd, "verify") == 0) {
		rc = cmd_verify(&cfg, argc, argv);
	} else if (strcmp(cmd, "analytics") == 0) {
		rc = cmd_analytics(&cfg, argc, argv);
	} else if (strcmp(cmd, "retry") == 0 && argc > 2) {
		const char *p1[1] = { argv[2] };
		PGresult *r = NULL;
		if (cq("job_requeue", 1, p1, &r) != 0 || PQntuples(r) == 0) {
			fprintf(stderr, "dandi-jobs: no failed job %s\n", argv[2]);
			rc = 1;
		}
		if (r != NULL)
			PQclear(r);
	} else
		usage();
	if (s3_ready)
		s3_free(&s3_client);
	hk_close();
	dvalidator_free(validator);
	zarr_jobs_close();
	doi_jobs_close();
	manifests_close();
	db_close(&claim_db);
	db_close(&work_db);
	config_free(&cfg);
	return rc;
}
