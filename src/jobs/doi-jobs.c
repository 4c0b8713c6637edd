/*
 * doi-jobs.c - DataCite work: registering the DOI of a published version
 * (kind doi {version}) and deleting the draft DOI of a deleted version
 * (kind doi_delete {doi}). The publish job stores the DOI on the version
 * and in its metadata and, when DataCite is configured, queues a doi job
 * in its own transaction; the HTTP calls here run outside any
 * transaction, never holding a publish or a delete. A failure DataCite
 * may get over (network, 5xx) is retried by the job machinery with
 * backoff; a refusal (4xx) fails the job at once with DataCite's answer in
 * last_error, for an operator to fix and `dandi-jobs retry`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datacite.h"
#include "jobs.h"
#include "log.h"

enum { DV_DOI, DV_METADATA, DV_NCOLS };
static const struct db_sql doi_version = { "doi_version", DV_NCOLS,
	"SELECT doi, metadata::text FROM versions WHERE id = $1::bigint AND version <> 'draft'" };
/* A version deleted while its DOI was being registered: the delete job
 * queued by the DELETE may have asked DataCite before the DOI existed
 * there, so one more is queued to look again (a row when the version is
 * gone; its id NULL when a doi_delete of the DOI is queued already). */
enum { REQUEUED_ID, REQUEUED_NCOLS };
static const struct db_sql doi_gone_requeue = { "doi_gone_requeue", REQUEUED_NCOLS,
	"SELECT dandi_enqueue('doi_delete', $2::text, jsonb_build_object('doi', $2::text))"
	" WHERE NOT EXISTS (SELECT 1 FROM versions WHERE id = $1::bigint)" };
static const struct db_sql *const doi_sql[] = { &doi_version, &doi_gone_requeue, NULL };

/* Each DATACITE_* result is a job_result. */
_Static_assert(DATACITE_OK == JOB_DONE && DATACITE_RETRY == JOB_RETRY && DATACITE_FAIL == JOB_GIVE_UP,
    "datacite results are job results");

static enum job_result
doi_register_run(struct job *job)
{
	const char *version = job_arg(job, "version");
	const struct config *cfg = job->cfg;
	struct json_object *md, *doc;
	PGresult *r;

	if (version == NULL)
		return job_fail(job, JOB_GIVE_UP, "doi job without a version");
	if (!datacite_configured(cfg)) {
		/* Configuration removed since the job was queued. */
		log_info("doi: DataCite is not configured; version %s not registered", version);
		return JOB_DONE;
	}
	const char *p1[1] = { version };
	if ((r = job_query(job, &doi_version, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0 || PQgetisnull(r, 0, DV_DOI)) {
		/* Deleted before its DOI was registered: nothing to describe. */
		log_info("doi: version %s is gone or has no DOI; nothing to register", version);
		return JOB_DONE;
	}
	const char *doi = PQgetvalue(r, 0, DV_DOI);
	if ((md = job_json(job, arena_printf(&job->arena, "version %s: metadata", version),
	    PQgetvalue(r, 0, DV_METADATA))) == NULL)
		return JOB_GIVE_UP;
	if ((doc = datacite_document(cfg, md, datacite_publish(cfg), job->err, sizeof(job->err))) == NULL)
		return JOB_GIVE_UP;
	int rc = datacite_register(cfg, doi,
	    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    job->err, sizeof(job->err));
	json_object_put(doc);
	if (rc != DATACITE_OK)
		return rc;
	log_info("doi: registered %s (%s)", doi, datacite_publish(cfg) ? "findable" : "draft");
	const char *p2[2] = { version, doi };
	if ((r = job_query(job, &doi_gone_requeue, 2, p2)) == NULL)
		log_warn("doi: %s", job->err);
	else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, REQUEUED_ID))
		log_info("doi: version %s was deleted meanwhile; doi_delete queued for %s", version, doi);
	job->err[0] = '\0';	/* registered all the same */
	return JOB_DONE;
}

static enum job_result
doi_delete_run(struct job *job)
{
	const char *doi = job_arg(job, "doi");
	enum datacite_fate fate;
	static const char *const said[] = {
		[DATACITE_DELETED] = "deleted (it was a draft)",
		[DATACITE_KEPT] = "kept (registered or findable DOIs are permanent)",
		[DATACITE_UNKNOWN] = "unknown to DataCite: nothing to delete",
	};
	int rc;

	if (doi == NULL || !*doi)
		return job_fail(job, JOB_GIVE_UP, "doi_delete job without a doi");
	if (!datacite_configured(job->cfg)) {
		log_info("doi: DataCite is not configured; %s left as it is", doi);
		return JOB_DONE;
	}
	rc = datacite_delete_draft(job->cfg, doi, &fate, job->err, sizeof(job->err));
	if (rc == DATACITE_OK)
		log_info("doi: %s %s", doi, said[fate]);
	return rc;
}

const struct job_kind doi_job = { "doi", doi_register_run, NULL, doi_sql };
/* Its statements are the doi kind's. */
const struct job_kind doi_delete_job = { "doi_delete", doi_delete_run, NULL, NULL };
