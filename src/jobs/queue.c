/*
 * queue.c - the job queue: `dandi-jobs run`, `list` and `retry`.
 *
 * A job is claimed with SELECT ... FOR UPDATE SKIP LOCKED on a connection
 * of its own, whose transaction stays open while the work connection
 * (struct job) does the work in its own transactions: two workers never
 * hold the same job, and a worker that dies drops its connection and with
 * it the claim, so the next run picks the job up again. Failures are
 * retried with backoff and end in the visible state 'failed' (with the
 * error), never stuck. So a run holds two connections, whatever it works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "metrics.h"

/* The claim connection's statements. */
/* The claimed row also gets a transaction-level advisory lock (class
 * METRICS_JOB_LOCK, the job's id): a row lock is invisible to other
 * sessions, the advisory lock is in pg_locks, which is how GET /metrics
 * counts the jobs being worked (src/api/metrics.c). Both end with the
 * claim's transaction. The lock's key is 32 bits: a job id past 2^31
 * would be counted as waiting, not running (it only counts). */
enum { CLAIM_ID, CLAIM_KIND, CLAIM_ARGS, CLAIM_ATTEMPTS, CLAIM_MAX_ATTEMPTS, CLAIM_RUNNING, CLAIM_NCOLS };
static const struct db_sql job_claim = { "job_claim", CLAIM_NCOLS,
	"WITH c AS MATERIALIZED (SELECT id, kind, args::text AS args, attempts, max_attempts FROM jobs"
	" WHERE state = 'queued' AND run_after <= now()"
	" ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
	" SELECT id, kind, args, attempts, max_attempts,"
	" pg_advisory_xact_lock(" METRICS_JOB_LOCK ", (id & 2147483647)::int) FROM c" };
static const struct db_sql job_done = { "job_done", 0,
	"UPDATE jobs SET state = 'done', attempts = attempts + 1, last_error = '', modified = now()"
	" WHERE id = $1::bigint" };
/* Backoff: 1, 2, 4, 8 ... minutes. */
static const struct db_sql job_retry = { "job_retry", 0,
	"UPDATE jobs SET attempts = attempts + 1, last_error = $2, modified = now(),"
	" run_after = now() + (interval '1 minute' * (2 ^ least(attempts, 10)))"
	" WHERE id = $1::bigint" };
static const struct db_sql job_failed = { "job_failed", 0,
	"UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = $2, modified = now()"
	" WHERE id = $1::bigint" };
const struct db_sql *const queue_claim_sql[] = { &job_claim, &job_done, &job_retry, &job_failed, NULL };

/* list and retry, on the work connection. */
enum { LIST_ID, LIST_KIND, LIST_STATE, LIST_ATTEMPTS, LIST_MODIFIED, LIST_ARGS, LIST_ERROR, LIST_NCOLS };
static const struct db_sql job_list = { "job_list", LIST_NCOLS,
	"SELECT id, kind, state, attempts, to_char(modified, 'YYYY-MM-DD HH24:MI:SS'), args::text, last_error"
	" FROM jobs WHERE $1::text IS NULL OR state = $1 ORDER BY id" };
enum { REQUEUE_ID, REQUEUE_NCOLS };
static const struct db_sql job_requeue = { "job_requeue", REQUEUE_NCOLS,
	"UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), modified = now()"
	" WHERE id = $1::bigint AND state = 'failed' RETURNING id" };
const struct db_sql *const queue_sql[] = { &job_list, &job_requeue, NULL };

/* A statement on the claim connection; NULL (logged) on failure. */
static PGresult *
claim_query(struct job *job, struct db *claim, const struct db_sql *q, int n, const char *const *params)
{
	PGresult *r = job_query_on(job, claim, q, n, params);

	if (r == NULL)
		log_error("%s", job->err);
	return r;
}

static const struct job_kind *
kind_find(const char *name)
{
	for (const struct job_kind *const *k = job_kinds; *k != NULL; k++)
		if (strcmp((*k)->name, name) == 0)
			return *k;
	return NULL;
}

/* Works the claimed job and records how it went on the claim connection. */
static void
work(struct job *job, struct db *claim, PGresult *r)
{
	const char *id = PQgetvalue(r, 0, CLAIM_ID), *name = PQgetvalue(r, 0, CLAIM_KIND);
	const struct job_kind *kind = kind_find(name);
	int attempts = atoi(PQgetvalue(r, 0, CLAIM_ATTEMPTS)), max = atoi(PQgetvalue(r, 0, CLAIM_MAX_ATTEMPTS));
	enum job_result rc = JOB_GIVE_UP;

	log_context(NULL, id);	/* every line of the job names it */
	job->args = job_json(job, "the job's arguments", PQgetvalue(r, 0, CLAIM_ARGS));
	if (kind == NULL)
		job_fail(job, rc, "unknown job kind %s", name);
	else if (job->args != NULL)
		rc = kind->run(job);
	/* What the job left open goes before anything else runs. */
	job_rollback(job);

	const char *p2[2] = { id, arena_strdup(&job->arena, job->err) };
	if (rc == JOB_DONE) {
		claim_query(job, claim, &job_done, 1, p2);
	} else if (rc == JOB_RETRY && attempts + 1 < max) {
		log_warn("job %s (%s) failed, will retry: %s", id, name, p2[1]);
		claim_query(job, claim, &job_retry, 2, p2);
	} else {
		log_error("job %s (%s) failed for good: %s", id, name, p2[1]);
		if (kind != NULL && job->args != NULL && kind->gave_up != NULL)
			kind->gave_up(job);
		claim_query(job, claim, &job_failed, 2, p2);
		struct sentry_event ev = {
			.message = arena_printf(&job->arena, "job %s (%s) failed for good: %s", id, name, p2[1]),
			.job_id = id, .job_kind = name,
		};
		(void)sentry_capture(job->sentry, &ev);
	}
	log_context(NULL, NULL);
}

/* Claims and works one job. 1 when one was worked, 0 when none is ready,
 * -1 on a database failure. */
static int
run_one(struct job *job, struct db *claim)
{
	PGresult *r;
	int rc = 1;

	if (db_begin(claim) != DB_OK)
		return -1;
	if ((r = claim_query(job, claim, &job_claim, 0, NULL)) == NULL)
		rc = -1;
	else if (PQntuples(r) == 0)
		rc = 0;
	else
		work(job, claim, r);
	if (rc == 1)
		db_commit(claim);
	else
		db_rollback(claim);
	job_reset(job);
	return rc;
}

/* Jobs until none is ready or max (-1: no limit) are worked: how many,
 * with *failed set on a database failure. */
static long
run_jobs(struct job *job, struct db *claim, long max, bool *failed)
{
	long n = 0;

	for (int got; max < 0 || n < max; n++) {
		if ((got = run_one(job, claim)) <= 0) {
			*failed = got < 0;
			break;
		}
	}
	return n;
}

int
queue_run(struct job *job, int argc, char **argv)
{
	long max = -1, nv = 0, na = 0;
	bool validate = true, failed = false;
	struct db claim;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--no-validate") == 0)
			validate = false;
		else
			return JOB_USAGE;
	}
	db_init(&claim, job->cfg->db);
	db_add_table(&claim, queue_claim_sql);
	long n = run_jobs(job, &claim, max, &failed);
	printf("%ld job(s) worked\n", n);
	/* The folder totals' deltas of the writes since the last run. */
	long folded = paths_fold_all(job);
	if (folded < 0) {
		log_error("%s", job->err);
		failed = true;
	} else if (folded > 0)
		printf("folded %ld folder total change(s)\n", folded);
	/* The cron entry point does the validation sweep too. */
	if (validate && !failed) {
		if (validate_sweep(job, -1, 200, &nv, &na) != 0)
			failed = true;
		printf("validated %ld version(s), %ld asset(s)\n", nv, na);
		/* The jobs the sweep queued (the drafts' manifest files) are
		 * worked now rather than a run later. */
		long after = failed ? 0 : run_jobs(job, &claim, max < 0 ? -1 : max - n, &failed);
		if (after > 0)
			printf("%ld job(s) worked after the sweep\n", after);
	}
	db_close(&claim);
	return failed ? 1 : 0;
}

int
queue_list(struct job *job, int argc, char **argv)
{
	const char *state = argc > 3 && strcmp(argv[2], "--state") == 0 ? argv[3] : NULL;
	const char *p1[1] = { state };
	PGresult *r;

	if ((r = job_query(job, &job_list, 1, p1)) == NULL)
		return job_exit_err(job);
	for (int i = 0; i < PQntuples(r); i++)
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, LIST_ID), PQgetvalue(r, i, LIST_KIND),
		    PQgetvalue(r, i, LIST_STATE), PQgetvalue(r, i, LIST_ATTEMPTS), PQgetvalue(r, i, LIST_MODIFIED),
		    PQgetvalue(r, i, LIST_ARGS), PQgetvalue(r, i, LIST_ERROR));
	return 0;
}

int
queue_retry(struct job *job, int argc, char **argv)
{
	PGresult *r;

	if (argc != 3)
		return JOB_USAGE;
	const char *p1[1] = { argv[2] };
	if ((r = job_query(job, &job_requeue, 1, p1)) == NULL || PQntuples(r) == 0) {
		fprintf(stderr, "dandi-jobs: no failed job %s\n", argv[2]);
		return 1;
	}
	return 0;
}
