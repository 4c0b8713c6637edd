/*
 * unembargo.c - job kinds "unembargo" {dandiset, user}, queued by POST
 * /api/dandisets/{id}/unembargo/, and "blob_untag" {key}, queued when an
 * embargoed blob is used in an open dandiset (src/api/assets.c): the S3
 * objects lose their embargoed tag, so the bucket policy lets anyone read
 * them, and the database follows. `dandi-jobs embargo-ends` (embargo.c)
 * queues unembargo {dandiset, ended} when the embargo's end date is
 * reached: no user, and the audit record says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "util.h"

#define UNEMBARGO_BATCH	"1000"

enum { STATUS_EMBARGO, STATUS_UPLOADS, STATUS_NCOLS };
static const struct db_sql ue_status = { "ue_status", STATUS_NCOLS,
	"SELECT embargo_status, (SELECT count(*) FROM uploads WHERE dandiset_id = $1::bigint)"
	" FROM dandisets WHERE id = $1::bigint" };
enum { LOCK_EMBARGO, LOCK_NCOLS };
static const struct db_sql ue_lock = { "ue_lock", LOCK_NCOLS,
	"SELECT embargo_status FROM dandisets WHERE id = $1::bigint FOR UPDATE" };
/* Embargoed blobs of any version of the dandiset, in id order. */
enum { BLOBS_ID, BLOBS_KEY, BLOBS_NCOLS };
static const struct db_sql ue_blobs = { "ue_blobs", BLOBS_NCOLS,
	"SELECT b.id, b.blob FROM blobs b WHERE b.embargoed AND b.id > $2::bigint AND b.id IN ("
	"  SELECT a.blob_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	"  JOIN assets a ON a.id = av.asset_id WHERE v.dandiset_id = $1::bigint)"
	" ORDER BY b.id LIMIT " UNEMBARGO_BATCH };
/* The dandiset's zarr archives: their objects carry the tag too. */
enum { ZARRS_UUID, ZARRS_NCOLS };
static const struct db_sql ue_zarrs = { "ue_zarrs", ZARRS_NCOLS,
	"SELECT zarr_id FROM zarrs WHERE dandiset_id = $1::bigint ORDER BY id" };
static const struct db_sql ue_open_blobs = { "ue_open_blobs", 0,
	"UPDATE blobs SET embargoed = false WHERE embargoed AND id IN ("
	"  SELECT a.blob_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	"  JOIN assets a ON a.id = av.asset_id WHERE v.dandiset_id = $1::bigint)" };
/* Their metadata changes (access): validated again. Published assets are
 * frozen and stay as they are. */
static const struct db_sql ue_assets_pending = { "ue_assets_pending", 0,
	"UPDATE assets SET status = 'Pending' WHERE NOT published AND id IN ("
	"  SELECT av.asset_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	"  WHERE v.dandiset_id = $1::bigint)" };
static const struct db_sql ue_open = { "ue_open", 0,
	"UPDATE dandisets SET embargo_status = 'OPEN', embargo_end_date = current_date, modified = now()"
	" WHERE id = $1::bigint" };
static const struct db_sql ue_draft_pending = { "ue_draft_pending", 0,
	"UPDATE versions SET status = 'Pending', modified = now()"
	" WHERE dandiset_id = $1::bigint AND version = 'draft'" };
static const struct db_sql ue_audit = { "ue_audit", 0,
	"INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)"
	" SELECT $1::bigint, coalesce(u.github_login, u.username), u.email,"
	"  btrim(u.first_name || ' ' || u.last_name), 'unembargo_dandiset', '{}'::jsonb"
	" FROM users u WHERE u.id = $2::bigint" };
/* The end date's (no user): $2 the date that was reached. */
static const struct db_sql ue_audit_ended = { "ue_audit_ended", 0,
	"INSERT INTO audit_records (dandiset_id, username, record_type, details)"
	" VALUES ($1::bigint, 'dandi-jobs', 'unembargo_dandiset',"
	"  jsonb_build_object('embargo_end_date', $2::text))" };
/* $2 subject, $3 body; to every owner with an address. */
enum { MAIL_ID, MAIL_NCOLS };
static const struct db_sql ue_mail_owners = { "ue_mail_owners", MAIL_NCOLS,
	"SELECT dandi_mail(string_agg(u.email, E'\\n'), $2, $3)"
	" FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
	" WHERE o.dandiset_id = $1::bigint AND u.email <> ''" };
enum { NAME_NAME, NAME_NCOLS };
static const struct db_sql ue_name = { "ue_name", NAME_NCOLS,
	"SELECT name FROM versions WHERE dandiset_id = $1::bigint AND version = 'draft'" };
static const struct db_sql *const unembargo_sql[] = {
	&ue_status, &ue_lock, &ue_blobs, &ue_zarrs, &ue_open_blobs, &ue_assets_pending, &ue_open,
	&ue_draft_pending, &ue_audit, &ue_audit_ended, &ue_mail_owners, &ue_name, NULL
};
/* blob_untag: only while the blob is still public (it may be gone). */
enum { UNTAG_KEY, UNTAG_NCOLS };
static const struct db_sql untag_blob = { "untag_blob", UNTAG_NCOLS,
	"SELECT blob FROM blobs WHERE blob_id = $1::uuid AND NOT embargoed" };
static const struct db_sql *const blob_untag_sql[] = { &untag_blob, NULL };

/* Takes the embargoed tag off an object; one already gone is no error. */
static int
untag(struct job *job, struct s3 *s3, const char *key)
{
	int st = s3_put_tagging(s3, key, NULL);

	if (st == S3_OK || st == S3_NOT_FOUND)
		return 0;
	job_fail(job, JOB_RETRY, "untag %.300s: %s", key, s3->err);
	return -1;
}

struct untag_listed {
	struct job	*job;
	struct s3	*s3;
	long		 n;
};

static int
untag_listed(void *arg, const struct s3_version *o)
{
	struct untag_listed *u = arg;
	int st;

	if (o->delete_marker)
		return 0;	/* no object, no tags */
	/* "null" is the version of an object written before versioning. */
	st = s3_put_tagging_version(u->s3, o->key, o->latest && strcmp(o->version_id, "null") == 0 ? NULL :
	    o->version_id, NULL);
	if (st != S3_OK && st != S3_NOT_FOUND) {
		job_fail(u->job, JOB_RETRY, "untag %.300s version %.100s: %s", o->key, o->version_id, u->s3->err);
		return -1;
	}
	u->n++;
	return 0;
}

/* Every object of a zarr archive loses its embargoed tag (they all got it
 * from the presigned PUT URL): the original's _delete_zarr_object_tags.
 * Every version of every key, not just the current one: in a versioned
 * bucket a published zarr snapshot may name an older version (sql/020).
 * Page by page, so memory stays flat for any number of chunks. */
static int
untag_zarr(struct job *job, struct s3 *s3, const char *uuid, long *n)
{
	struct untag_listed u = { job, s3, 0 };
	char prefix[64], *km = NULL, *vm = NULL;
	bool more = true;
	int rc = 0;

	snprintf(prefix, sizeof(prefix), "zarr/%s/", uuid);
	while (more) {
		char *nk = NULL, *nv = NULL;
		job->err[0] = '\0';
		if (s3_list_versions_page(s3, prefix, km, vm, 1000, untag_listed, &u, &more, &nk, &nv) != S3_OK) {
			if (!*job->err)
				job_fail(job, JOB_RETRY, "%s", s3->err);
			rc = -1;
			break;
		}
		free(km);
		free(vm);
		km = nk, vm = nv;
	}
	free(km);
	free(vm);
	*n += u.n;
	return rc;
}

/* One page of the dandiset's embargoed blobs after *last (which moves on),
 * untagged: how many, or -1. */
static int
untag_blob_page(struct job *job, struct s3 *s3, const char *ds, char last[24])
{
	const char *p2[2] = { ds, last };
	struct arena page;
	PGresult *r;
	int n, i = 0;

	arena_init(&page);
	r = job_query_in(job, &page, &ue_blobs, 2, p2);
	n = r != NULL ? PQntuples(r) : -1;
	while (i < n && untag(job, s3, PQgetvalue(r, i, BLOBS_KEY)) == 0)
		i++;
	if (i < n)
		n = -1;
	else if (n > 0)
		snprintf(last, 24, "%s", PQgetvalue(r, n - 1, BLOBS_ID));
	arena_reset(&page);
	return n;
}

/* The S3 tags of the dandiset's objects: the draft's manifest files, as
 * the original (one never written is skipped; a later rewrite of an OPEN
 * draft is untagged anyway), the blobs in batches, the zarrs' objects.
 * Idempotent: a rerun after a crash tags nothing twice. */
static int
untag_all(struct job *job, const char *ds, long *blobs, long *zarr_objects)
{
	struct s3 *s3 = job_s3(job);
	const char *p1[1] = { ds };
	char last[24] = "0";
	PGresult *r;
	int n;

	if (s3 == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(manifest_files) / sizeof(manifest_files[0]); i++) {
		char key[512];
		manifest_key(key, sizeof(key), strtoll(ds, NULL, 10), "draft", manifest_files[i]);
		if (untag(job, s3, key) != 0)
			return -1;
	}
	do {
		if ((n = untag_blob_page(job, s3, ds, last)) < 0)
			return -1;
		*blobs += n;
	} while (n == atoi(UNEMBARGO_BATCH));
	if ((r = job_query(job, &ue_zarrs, 1, p1)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		if (untag_zarr(job, s3, PQgetvalue(r, i, ZARRS_UUID), zarr_objects) != 0)
			return -1;
	return 0;
}

/* Every database change, the owners' mail and the audit record, in one
 * transaction. JOB_DONE also when someone else finished it meanwhile.
 * user: who asked, or NULL when the end date `ended` was reached. */
static enum job_result
open_dandiset(struct job *job, const char *ds, const char *user, const char *ended)
{
	const char *p1[1] = { ds };
	PGresult *r;

	if (job_begin(job) != 0 || (r = job_query(job, &ue_lock, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, LOCK_EMBARGO), "UNEMBARGOING") != 0)
		return JOB_DONE;
	if ((r = job_query(job, &ue_name, 1, p1)) == NULL)
		return JOB_RETRY;
	const char *body = arena_printf(&job->arena, "Hello,\n\nDandiset %06d, \"%s\", is no longer embargoed: "
	    "its data is now public.\n\n%s/dandiset/%06d\n", atoi(ds), PQntuples(r) ? PQgetvalue(r, 0, NAME_NAME) : "",
	    job->cfg->web_url, atoi(ds));
	const char *pm[3] = { ds, "Your Dandiset has been unembargoed!", body };
	const char *pa[2] = { ds, user != NULL ? user : ended };
	if (job_exec(job, &ue_open_blobs, 1, p1) || job_exec(job, &ue_assets_pending, 1, p1) ||
	    job_exec(job, &ue_open, 1, p1) || job_exec(job, &ue_draft_pending, 1, p1) ||
	    job_exec(job, &ue_mail_owners, 3, pm) ||
	    job_exec(job, user != NULL ? &ue_audit : &ue_audit_ended, 2, pa) || job_commit(job))
		return JOB_RETRY;
	return JOB_DONE;
}

/* The original's steps (spec model-and-jobs 2.4): the S3 tags first, then
 * the database. */
static enum job_result
unembargo_run(struct job *job)
{
	const char *ds = job_arg(job, "dandiset"), *user = job_arg(job, "user"), *ended = job_arg(job, "ended");
	long blobs = 0, zarr_objects = 0;
	enum job_result rc;
	PGresult *r;

	if (ds == NULL || (user == NULL && ended == NULL))
		return job_fail(job, JOB_GIVE_UP, "unembargo job without dandiset, or user or end date");
	const char *p1[1] = { ds };
	if ((r = job_query(job, &ue_status, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, STATUS_EMBARGO), "UNEMBARGOING") != 0)
		return JOB_DONE;	/* deleted, or done by an earlier run */
	if (strcmp(PQgetvalue(r, 0, STATUS_UPLOADS), "0") != 0)
		return job_fail(job, JOB_RETRY, "dandiset %s has uploads in progress", ds);
	if (untag_all(job, ds, &blobs, &zarr_objects) != 0)
		return JOB_RETRY;
	if ((rc = open_dandiset(job, ds, user, ended)) == JOB_DONE)
		log_info("dandiset %s unembargoed (%ld blob(s), %ld zarr object(s) untagged)", ds, blobs,
		    zarr_objects);
	return rc;
}

/* Given up (after the retries): the owners hear of it, the admin too; the
 * dandiset stays UNEMBARGOING (tags may be gone already) and the failed
 * job waits for `dandi-jobs retry`. */
static void
unembargo_gave_up(struct job *job)
{
	const char *ds = job_arg(job, "dandiset");

	if (ds == NULL)
		return;
	const char *pm[3] = { ds,
	    arena_printf(&job->arena, "DANDI: Unembargo failed for dandiset %06d", atoi(ds)),
	    arena_printf(&job->arena, "Hello,\n\nThe unembargo of Dandiset %06d failed. The archive's "
	    "administrators have been told and will retry it; the dandiset stays read-only until then.\n",
	    atoi(ds)) };
	if (job_exec(job, &ue_mail_owners, 3, pm) != 0)
		log_error("unembargo failure mail: %s", job->err);
}

/* An embargoed blob made public by its use in an open dandiset (POST or
 * PUT of an asset) loses its S3 tag here, as the original's
 * remove_asset_blob_embargoed_tag task does. A rerun is harmless. */
static enum job_result
blob_untag_run(struct job *job)
{
	const char *blob = job_arg(job, "key");
	struct s3 *s3;
	PGresult *r;

	if (blob == NULL)
		return job_fail(job, JOB_GIVE_UP, "blob_untag job without a blob");
	const char *p1[1] = { blob };
	if ((r = job_query(job, &untag_blob, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0)
		return JOB_DONE;	/* deleted meanwhile, or embargoed again */
	const char *key = PQgetvalue(r, 0, UNTAG_KEY);
	if ((s3 = job_s3(job)) == NULL || untag(job, s3, key) != 0)
		return JOB_RETRY;
	log_info("blob %s is public: %s untagged", blob, key);
	return JOB_DONE;
}

const struct job_kind unembargo_job = { "unembargo", unembargo_run, unembargo_gave_up, unembargo_sql };
const struct job_kind blob_untag_job = { "blob_untag", blob_untag_run, NULL, blob_untag_sql };
