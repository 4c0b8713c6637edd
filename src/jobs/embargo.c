/*
 * embargo.c - `dandi-jobs embargo-ends`, daily: the owners of a dandiset
 * whose embargo ends within 30 days are reminded (30 and 7 days before,
 * each once per end date), and a dandiset whose end date is reached is
 * unembargoed by the unembargo job (unembargo.c), queued here. The work
 * is in SQL (sql/functions/65_embargo.sql), one transaction per step;
 * any number of hosts may run it at once.
 */
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "util.h"

/* $1: the day (YYYY-MM-DD), or NULL for today in UTC. */
#define EMBARGO_TODAY	"coalesce($1::date, (now() AT TIME ZONE 'UTC')::date)"

enum { ER_MAILS, ER_NCOLS };
static const struct db_sql embargo_remind = { "embargo_remind", ER_NCOLS,
	"SELECT dandi_embargo_remind(" EMBARGO_TODAY ", $2, $3)" };
enum { ES_DANDISET, ES_ENDED, ES_NCOLS };
static const struct db_sql embargo_start = { "embargo_start", ES_NCOLS,
	"SELECT lpad(ds::text, 6, '0'), ended::text FROM dandi_embargo_ends_start(" EMBARGO_TODAY ")"
	" ORDER BY ds" };
/* Ended but left embargoed: uploads in progress. */
enum { EW_DANDISET, EW_NCOLS };
static const struct db_sql embargo_waiting = { "embargo_waiting", EW_NCOLS,
	"SELECT lpad(id::text, 6, '0') FROM dandisets"
	" WHERE embargo_status = 'EMBARGOED' AND embargo_end_date <= " EMBARGO_TODAY " ORDER BY id" };

const struct db_sql *const embargo_ends_sql[] = { &embargo_remind, &embargo_start, &embargo_waiting, NULL };

int
embargo_ends_cmd(struct job *job, int argc, char **argv)
{
	const char *today = NULL;
	PGresult *r;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--today") == 0 && i + 1 < argc && date_valid(argv[i + 1]))
			today = argv[++i];
		else
			return JOB_USAGE;
	}
	const char *pr[3] = { today, job->cfg->web_url, job->cfg->api_url };
	if (job_begin(job) != 0 || (r = job_query(job, &embargo_remind, 3, pr)) == NULL || job_commit(job) != 0)
		return job_exit_err(job);
	printf("embargo reminders: %s mail(s) queued\n", PQgetvalue(r, 0, ER_MAILS));

	const char *p1[1] = { today };
	if (job_begin(job) != 0 || (r = job_query(job, &embargo_start, 1, p1)) == NULL || job_commit(job) != 0)
		return job_exit_err(job);
	printf("embargo ends: %d dandiset(s) to unembargo", PQntuples(r));
	for (int i = 0; i < PQntuples(r); i++) {
		printf("%s%s (ended %s)", i ? ", " : ": ", PQgetvalue(r, i, ES_DANDISET), PQgetvalue(r, i, ES_ENDED));
		log_info("embargo of dandiset %s ended %s: unembargo queued", PQgetvalue(r, i, ES_DANDISET),
		    PQgetvalue(r, i, ES_ENDED));
	}
	printf("\n");

	if ((r = job_query(job, &embargo_waiting, 1, p1)) == NULL)
		return job_exit_err(job);
	if (PQntuples(r) > 0) {
		printf("embargo ends: %d dandiset(s) wait for their uploads:", PQntuples(r));
		for (int i = 0; i < PQntuples(r); i++)
			printf(" %s", PQgetvalue(r, i, EW_DANDISET));
		printf("\n");
	}
	return 0;
}
