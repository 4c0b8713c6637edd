/*
 * doi-jobs.c - see doi-jobs.h. The publish job stores the DOI on the
 * version and in its metadata and, when DataCite is configured, queues a
 * doi job in its own transaction; this file then talks to DataCite. A
 * failure DataCite may get over (network, 5xx) is retried by the job
 * machinery with backoff; a refusal (4xx) fails the job at once with
 * DataCite's answer in last_error, for an operator to fix and
 * `dandi-jobs retry`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datacite.h"
#include "db.h"
#include "doi-jobs.h"
#include "log.h"
#include "util.h"

static const struct db_stmt doi_stmts[] = {
	{ "doi_version",
	  "SELECT doi, metadata::text FROM versions WHERE id = $1::bigint AND version <> 'draft'" },
	/* A version deleted while its DOI was being registered: the delete
	 * job queued by the DELETE may have asked DataCite before the DOI
	 * existed there, so one more is queued to look again. */
	{ "doi_gone_requeue",
	  "INSERT INTO jobs (kind, args) SELECT 'doi_delete', jsonb_build_object('key', $2::text, 'doi', $2::text)"
	  " WHERE NOT EXISTS (SELECT 1 FROM versions WHERE id = $1::bigint)"
	  " ON CONFLICT DO NOTHING RETURNING id" },
};

static const struct config	*dcfg;
static struct db		 ddb;
static bool			 ddb_open;

void
doi_jobs_init(const struct config *cfg)
{
	dcfg = cfg;
	/* Connects on first use only: most runs have no DOI work. */
	db_init(&ddb, cfg->db, doi_stmts, sizeof(doi_stmts) / sizeof(doi_stmts[0]));
	ddb_open = true;
}

void
doi_jobs_close(void)
{
	if (ddb_open)
		db_close(&ddb);
	ddb_open = false;
}

static const char *
arg_str(struct json_object *args, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(args, key, &v) ? json_object_get_string(v) : NULL;
}

int
doi_job_register(struct json_object *args, char *err, size_t errlen)
{
	const char *version = arg_str(args, "version");
	PGresult *r = NULL;
	int rc;

	if (version == NULL) {
		snprintf(err, errlen, "doi job without a version");
		return -2;
	}
	if (!datacite_configured(dcfg)) {
		/* Configuration removed since the job was queued. */
		log_info("doi: DataCite is not configured; version %s not registered", version);
		return 0;
	}
	const char *p1[1] = { version };
	if ((r = db_query(&ddb, "doi_version", 1, p1, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
		/* Deleted before its DOI was registered: nothing to describe. */
		log_info("doi: version %s is gone or has no DOI; nothing to register", version);
		PQclear(r);
		return 0;
	}
	char *doi = xstrdup(PQgetvalue(r, 0, 0));
	struct json_object *md = json_tokener_parse(PQgetvalue(r, 0, 1));
	PQclear(r);
	struct json_object *doc = md != NULL ?
	    datacite_document(dcfg, md, datacite_publish(dcfg), err, errlen) : NULL;
	if (doc == NULL) {
		if (md == NULL)
			snprintf(err, errlen, "version %s: metadata is not JSON", version);
		rc = -2;
	} else {
		rc = datacite_register(dcfg, doi,
		    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		    err, errlen);
		if (rc == DATACITE_OK) {
			log_info("doi: registered %s (%s)", doi, datacite_publish(dcfg) ? "findable" : "draft");
			const char *p2[2] = { version, doi };
			if (db_exec(&ddb, &r, "doi_gone_requeue", 2, p2) != DB_OK)
				log_warn("doi: doi_gone_requeue: %s", r ? PQresultErrorMessage(r) : "database unavailable");
			else if (PQntuples(r) > 0)
				log_info("doi: version %s was deleted meanwhile; doi_delete queued for %s", version, doi);
			if (r != NULL)
				PQclear(r);
		}
	}
	json_object_put(doc);
	json_object_put(md);
	free(doi);
	return rc;
}

int
doi_job_delete(struct json_object *args, char *err, size_t errlen)
{
	const char *doi = arg_str(args, "doi");
	enum datacite_fate fate;
	static const char *const said[] = {
		[DATACITE_DELETED] = "deleted (it was a draft)",
		[DATACITE_KEPT] = "kept (registered or findable DOIs are permanent)",
		[DATACITE_UNKNOWN] = "unknown to DataCite: nothing to delete",
	};
	int rc;

	if (doi == NULL || !*doi) {
		snprintf(err, errlen, "doi_delete job without a doi");
		return -2;
	}
	if (!datacite_configured(dcfg)) {
		log_info("doi: DataCite is not configured; %s left as it is", doi);
		return 0;
	}
	rc = datacite_delete_draft(dcfg, doi, &fate, err, errlen);
	if (rc == DATACITE_OK)
		log_info("doi: %s %s", doi, said[fate]);
	return rc;
}
