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
#include <unistd.h>

#include "jobs.h"
#include "log.h"

/* The end of a command's run, for GET /metrics (sql/017_job_runs.sql).
 * $1 command, $2 host, $3 start (Unix seconds), $4 seconds, $5 ok. */
static const struct db_sql job_run_record = { "job_run_record", 0,
	"INSERT INTO job_runs AS r (command, host, last_started, last_duration, last_ok,"
	" last_success, success_duration, runs, failures)"
	" VALUES ($1, $2, to_timestamp($3::float8), $4::float8, $5::bool,"
	" CASE WHEN $5::bool THEN clock_timestamp() END, CASE WHEN $5::bool THEN $4::float8 END,"
	" 1, CASE WHEN $5::bool THEN 0 ELSE 1 END)"
	" ON CONFLICT (command, host) DO UPDATE SET last_started = EXCLUDED.last_started,"
	" last_duration = EXCLUDED.last_duration, last_ok = EXCLUDED.last_ok,"
	" last_success = coalesce(EXCLUDED.last_success, r.last_success),"
	" success_duration = coalesce(EXCLUDED.success_duration, r.success_duration),"
	" runs = r.runs + 1, failures = r.failures + EXCLUDED.failures" };
static const struct db_sql *const job_run_sql[] = { &job_run_record, NULL };

void
job_record_run(struct job *job, const char *command, double started, double seconds, bool ok)
{
	char host[256], start[32], secs[32];
	const char *p[5] = { command, host, start, secs, ok ? "true" : "false" };

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(start, sizeof(start), "%.6f", started);
	snprintf(secs, sizeof(secs), "%.6f", seconds < 0 ? 0 : seconds);
	job_reset(job);	/* whatever the command left open */
	if (job_exec(job, &job_run_record, 5, p) != 0)
		log_warn("recording the run of %s: %s", command, job->err);
	job_reset(job);
}

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
	db_add_table(&job->db, job_run_sql);
	db_add_table(&job->db, zarr_snapshot_sql);	/* the publish job's too */
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
