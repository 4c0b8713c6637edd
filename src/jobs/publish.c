/*
 * publish.c - job kind "publish" {draft, user}, queued by POST
 * .../versions/draft/publish/ (src/api/publish.c) with the draft locked
 * as Publishing: snapshots the draft's zarr archives (zarr-snapshot.c,
 * resumable), then makes the published version from the draft in one
 * transaction, then the DOI and the manifest files are queued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datacite.h"
#include "jobs.h"
#include "log.h"
#include "vmeta.h"

enum { DRAFT_STATUS, DRAFT_NAME, DRAFT_METADATA, DRAFT_NOTES, DRAFT_CREATED, DRAFT_EMBARGO, DRAFT_DANDISET,
	DRAFT_NCOLS };
static const struct db_sql pub_draft = { "pub_draft", DRAFT_NCOLS,
	"SELECT v.status, v.name, v.metadata::text, v.release_notes, dandi_pyiso(d.created),"
	" d.embargo_status, d.id FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.id = $1::bigint FOR UPDATE OF v" };
enum { DS_STATUS, DS_NCOLS };
static const struct db_sql pub_draft_status = { "pub_draft_status", DS_NCOLS,
	"SELECT status FROM versions WHERE id = $1::bigint" };
enum { STAMP_VERSION, STAMP_NOW, STAMP_PUBLISHED_BY, STAMP_NCOLS };
static const struct db_sql pub_stamp = { "pub_stamp", STAMP_NCOLS,
	"SELECT dandi_next_version($1::bigint, now()), dandi_pyiso(now()),"
	" dandi_published_by(now(), $2, $3)::text" };
enum { INSERT_ID, INSERT_NCOLS };
static const struct db_sql pub_insert = { "pub_insert", INSERT_NCOLS,
	"INSERT INTO versions (dandiset_id, name, metadata, version, status, release_notes)"
	" VALUES ($1::bigint, $2, $3::jsonb, $4, 'Valid', $5) RETURNING id" };
enum { ASSETS_COUNT, ASSETS_NCOLS };	/* assets published (unread) */
static const struct db_sql pub_assets = { "pub_assets", ASSETS_NCOLS,
	"SELECT dandi_publish_assets($1::bigint, $2::bigint, $3, $4, now(), $5, $6)" };
enum { SUMMARY_JSON, SUMMARY_NCOLS };
static const struct db_sql pub_summary = { "pub_summary", SUMMARY_NCOLS,
	"SELECT dandi_assets_summary($1::bigint, false)::text" };
static const struct db_sql pub_save = { "pub_save", 0,
	"UPDATE versions SET metadata = $2::jsonb, doi = $3, modified = now() WHERE id = $1::bigint" };
/* DataCite registration, after this transaction and outside it. */
enum { DOI_QUEUED_ID, DOI_QUEUED_NCOLS };	/* unread */
static const struct db_sql pub_doi_queue = { "pub_doi_queue", DOI_QUEUED_NCOLS,
	"SELECT dandi_enqueue('doi', $1::text, jsonb_build_object('version', $1::bigint, 'doi', $2::text))" };
static const struct db_sql pub_draft_done = { "pub_draft_done", 0,
	"UPDATE versions SET status = 'Published',"
	" metadata = jsonb_set(metadata, '{assetsSummary}', $2::jsonb), modified = now()"
	" WHERE id = $1::bigint" };
static const struct db_sql pub_audit = { "pub_audit", 0,
	"INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)"
	" SELECT $1::bigint, coalesce(u.github_login, u.username), u.email,"
	"  btrim(u.first_name || ' ' || u.last_name), 'publish_dandiset', jsonb_build_object('version', $3::text)"
	" FROM users u WHERE u.id = $2::bigint" };
/* A publish that gave up must not leave the draft Publishing. */
static const struct db_sql pub_unlock = { "pub_unlock", 0,
	"UPDATE versions SET status = 'Pending' WHERE id = $1::bigint AND status = 'Publishing'" };
static const struct db_sql *const publish_sql[] = {
	&pub_draft, &pub_draft_status, &pub_stamp, &pub_insert, &pub_assets, &pub_summary, &pub_save, &pub_doi_queue,
	&pub_draft_done, &pub_audit, &pub_unlock, NULL
};

/* The version being made. */
struct publish {
	const char		*draft, *user;	/* row ids */
	const char		*dandiset;
	const char		*notes;
	const char		*id;		/* the new version's row */
	struct version_ctx	 ctx;
	struct json_object	*md;		/* its metadata */
	char			 doi[256];
};

/* The draft's metadata with the publish stamp, inserted as the new
 * version. JOB_DONE, or the job's end. */
static enum job_result
version_insert(struct job *job, struct publish *p, PGresult *draft)
{
	const struct config *cfg = job->cfg;
	PGresult *r;

	if ((p->md = job_json(job, "the draft's metadata", PQgetvalue(draft, 0, DRAFT_METADATA))) == NULL)
		return JOB_GIVE_UP;
	if (!json_object_is_type(p->md, json_type_object))
		return job_fail(job, JOB_GIVE_UP, "the draft's metadata is not a JSON object");
	p->ctx.name = PQgetvalue(draft, 0, DRAFT_NAME);
	p->ctx.created_iso = PQgetvalue(draft, 0, DRAFT_CREATED);
	p->ctx.embargo_status = "OPEN";
	p->dandiset = PQgetvalue(draft, 0, DRAFT_DANDISET);
	p->ctx.dandiset_id = strtoll(p->dandiset, NULL, 10);
	p->notes = PQgetvalue(draft, 0, DRAFT_NOTES);

	const char *p3[3] = { p->dandiset, cfg->instance_name, job_rrid(job) };
	if ((r = job_query(job, &pub_stamp, 3, p3)) == NULL)
		return JOB_RETRY;
	p->ctx.version = PQgetvalue(r, 0, STAMP_VERSION);
	json_object_object_add(p->md, "publishedBy", jsonread_str(PQgetvalue(r, 0, STAMP_PUBLISHED_BY), NULL, 0));
	json_object_object_add(p->md, "datePublished", json_object_new_string(PQgetvalue(r, 0, STAMP_NOW)));
	if (*p->notes)
		json_object_object_add(p->md, "releaseNotes", json_object_new_string(p->notes));
	const char *ins[5] = { p->dandiset, p->ctx.name, json_object_to_json_string_ext(p->md, JSON_C_TO_STRING_PLAIN),
	    p->ctx.version, p->notes };
	if ((r = job_query(job, &pub_insert, 5, ins)) == NULL)
		return JOB_RETRY;
	p->id = PQgetvalue(r, 0, INSERT_ID);
	return JOB_DONE;
}

/* The draft's assets (frozen) and folder tree, its assetsSummary, the
 * server's metadata fields and the DOI. */
static int
version_fill(struct job *job, struct publish *p, const char **summary)
{
	const struct config *cfg = job->cfg;
	char s3base[1024];
	PGresult *r;

	s3_base_url(cfg, s3base, sizeof(s3base));
	const char *pa[6] = { p->draft, p->id, cfg->api_url, s3base, cfg->instance_name, job_rrid(job) };
	const char *pn[1] = { p->id };
	if (job_exec(job, &pub_assets, 6, pa) != 0 || (r = job_query(job, &pub_summary, 1, pn)) == NULL)
		return -1;
	*summary = PQgetvalue(r, 0, SUMMARY_JSON);
	json_object_object_add(p->md, "assetsSummary", jsonread_str(*summary, NULL, 0));
	/* The DOI is the version's whether or not DataCite is configured,
	 * as the original: metadata doi, and the citation links to it. */
	datacite_doi(cfg, p->ctx.dandiset_id, p->ctx.version, p->doi, sizeof(p->doi));
	p->ctx.doi = p->doi;
	metadata_populate_version(cfg, &p->ctx, p->md);
	const char *sv[3] = { p->id, json_object_to_json_string_ext(p->md, JSON_C_TO_STRING_PLAIN), p->doi };
	return job_exec(job, &pub_save, 3, sv);
}

/* Makes the published version from a draft locked as Publishing: the
 * draft's metadata with the publish stamp and the server fields, the
 * draft's assets (frozen), its folder tree and a fresh assetsSummary. */
static enum job_result
publish_run(struct job *job)
{
	struct publish p = { .draft = job_arg(job, "draft"), .user = job_arg(job, "user") };
	const char *summary;
	enum job_result rc;
	PGresult *r;

	if (p.draft == NULL || p.user == NULL)
		return job_fail(job, JOB_GIVE_UP, "publish job without draft or user");
	const char *p1[1] = { p.draft };
	/* The zarr archives first, each snapshot in transactions of its own
	 * (resumable); the draft stays locked as Publishing meanwhile. */
	if ((r = job_query(job, &pub_draft_status, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, DS_STATUS), "Publishing") != 0)
		return job_fail(job, JOB_GIVE_UP, "the draft is no longer Publishing");
	if ((rc = zarr_snapshots_take(job, p.draft)) != JOB_DONE)
		return rc;
	if (job_begin(job) != 0 || (r = job_query(job, &pub_draft, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, DRAFT_STATUS), "Publishing") != 0)
		/* Edited (or deleted) since the request: nothing to publish. */
		return job_fail(job, JOB_GIVE_UP, "the draft is no longer Publishing");
	if ((rc = version_insert(job, &p, r)) != JOB_DONE ||
	    (rc = zarr_snapshots_attach(job, p.draft, p.id)) != JOB_DONE)
		return rc;
	if (version_fill(job, &p, &summary) != 0)
		return JOB_RETRY;
	const char *dq[2] = { p.id, p.doi };
	if (datacite_configured(job->cfg) && job_exec(job, &pub_doi_queue, 2, dq) != 0)
		return JOB_RETRY;
	const char *dd[2] = { p.draft, summary };
	const char *au[3] = { p.dandiset, p.user, p.ctx.version };
	if (job_exec(job, &pub_draft_done, 2, dd) != 0 || job_exec(job, &pub_audit, 3, au) != 0)
		return JOB_RETRY;
	/* Queued with the publish, so a published version never lacks its
	 * manifest files for want of a request (without S3 there is nowhere
	 * to write them). */
	const char *mf[1] = { arena_printf(&job->arena, "{%s}", p.id) };
	if (*job->cfg->s3_endpoint && job_exec(job, &manifests_enqueue, 1, mf) != 0)
		return JOB_RETRY;
	if (job_commit(job) != 0)
		return JOB_RETRY;
	log_info("published %s version %s", p.dandiset, p.ctx.version);
	return JOB_DONE;
}

static void
publish_gave_up(struct job *job)
{
	const char *p1[1] = { job_arg(job, "draft") };

	if (p1[0] != NULL)
		job_exec(job, &pub_unlock, 1, p1);
}

const struct job_kind publish_job = { "publish", publish_run, publish_gave_up, publish_sql };
