/*
 * job.c - the context of dandi-jobs' work, as a request is the API's: one
 * arena freed after each job (results, strings, parsed JSON go there, so
 * a job frees nothing by hand), one work connection with the statements of
 * every kind and command prepared when it is made, an S3 client made on
 * first use, and the error the job ends with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"

void
job_init(struct job *job, const struct config *cfg)
{
	memset(job, 0, sizeof(*job));
	job->cfg = cfg;
	arena_init(&job->arena);
	db_init(&job->db, cfg->db);
	for (const struct job_kind *const *k = job_kinds; *k != NULL; k++)
		if ((*k)->sql != NULL)
			db_add_table(&job->db, (*k)->sql);
	for (const struct job_cmd *c = job_cmds; c->name != NULL; c++)
		if (c->sql != NULL)
			db_add_table(&job->db, c->sql);
}

void
job_free(struct job *job)
{
	job_reset(job);
	if (job->s3_ready)
		s3_free(&job->s3);
	db_close(&job->db);
}

void
job_reset(struct job *job)
{
	db_rollback(&job->db);
	arena_reset(&job->arena);
	job->args = NULL;
	job->err[0] = '\0';
}

static void
pqclear_cb(void *r)
{
	PQclear(r);
}

static void
jsonput_cb(void *o)
{
	json_object_put(o);
}

static PGresult *
query(struct job *job, struct db *db, struct arena *a, const struct db_sql *q, int n, const char *const *params)
{
	PGresult *r = NULL;
	enum db_status s = db_run(db, &r, q, n, params);

	if (r != NULL)
		arena_defer(a, pqclear_cb, r);
	if (s == DB_OK)
		return r;
	snprintf(job->err, sizeof(job->err), "%s: %s", q->name,
	    r != NULL ? PQresultErrorMessage(r) : s == DB_UNAVAILABLE ? "database unavailable" : "database error");
	return NULL;
}

PGresult *
job_query(struct job *job, const struct db_sql *q, int n, const char *const *params)
{
	return query(job, &job->db, &job->arena, q, n, params);
}

PGresult *
job_query_in(struct job *job, struct arena *a, const struct db_sql *q, int n, const char *const *params)
{
	return query(job, &job->db, a, q, n, params);
}

PGresult *
job_query_on(struct job *job, struct db *db, const struct db_sql *q, int n, const char *const *params)
{
	return query(job, db, &job->arena, q, n, params);
}

int
job_exec(struct job *job, const struct db_sql *q, int n, const char *const *params)
{
	return job_query(job, q, n, params) != NULL ? 0 : -1;
}

int
job_begin(struct job *job)
{
	if (db_begin(&job->db) == DB_OK)
		return 0;
	snprintf(job->err, sizeof(job->err), "database unavailable");
	return -1;
}

int
job_commit(struct job *job)
{
	if (db_commit(&job->db) == DB_OK)
		return 0;
	snprintf(job->err, sizeof(job->err), "commit failed");
	return -1;
}

void
job_rollback(struct job *job)
{
	db_rollback(&job->db);
}

struct s3 *
job_s3(struct job *job)
{
	if (!job->s3_ready) {
		if (s3_init(&job->s3, job->cfg) != 0) {
			snprintf(job->err, sizeof(job->err), "S3 is not configured");
			return NULL;
		}
		job->s3_ready = true;
	}
	return &job->s3;
}

const char *
job_arg(struct job *job, const char *key)
{
	struct json_object *v;

	return job->args != NULL && json_object_object_get_ex(job->args, key, &v) ? json_object_get_string(v) : NULL;
}

struct json_object *
job_json(struct job *job, const char *what, const char *text)
{
	char err[256];
	struct json_object *o = jsonread_str(text, err, sizeof(err));

	if (o != NULL)
		arena_defer(&job->arena, jsonput_cb, o);
	else
		job_fail(job, JOB_GIVE_UP, "%s cannot be read: %s", what, err[0] ? err : "null");
	return o;
}

enum job_result
job_fail(struct job *job, enum job_result result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->err, sizeof(job->err), fmt, ap);
	va_end(ap);
	return result;
}

int
job_exit_err(struct job *job)
{
	fprintf(stderr, "dandi-jobs: %s\n", job->err);
	return 1;
}

const char *
job_rrid(const struct job *job)
{
	return *job->cfg->instance_identifier ? job->cfg->instance_identifier : "RRID:SCR_017571";
}
