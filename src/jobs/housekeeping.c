/*
 * housekeeping.c - the commands that keep the archive tidy: `mail` (the
 * e-mail outbox), `stats` (the archive statistics), `pending-users-mail`
 * (the admins' daily list of users waiting for approval) and
 * `refresh-search` (the asset search view).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "log.h"
#include "mail.h"
#include "util.h"

/* The outbox: one unsent message at a time, locked while it is sent. */
enum { MAIL_ID, MAIL_TO, MAIL_BCC, MAIL_REPLY_TO, MAIL_SUBJECT, MAIL_BODY, MAIL_CREATED, MAIL_NCOLS };
static const struct db_sql mail_claim = { "mail_claim", MAIL_NCOLS,
	"SELECT id, array_to_string(to_addrs, E'\\n'), array_to_string(bcc_addrs, E'\\n'), reply_to,"
	" subject, body, extract(epoch from created)::bigint FROM emails"
	" WHERE sent IS NULL AND next_try <= now() AND attempts < 10"
	" ORDER BY next_try, id LIMIT 1 FOR UPDATE SKIP LOCKED" };
static const struct db_sql mail_sent = { "mail_sent", 0,
	"UPDATE emails SET sent = now(), attempts = attempts + 1, last_error = '' WHERE id = $1::bigint" };
static const struct db_sql mail_failed = { "mail_failed", 0,
	"UPDATE emails SET attempts = attempts + 1, last_error = $2,"
	" next_try = now() + interval '1 minute' * (2 ^ least(attempts, 10)) WHERE id = $1::bigint" };
enum { STATS_DANDISETS, STATS_PUBLISHED, STATS_USERS, STATS_SIZE, STATS_NCOLS };
static const struct db_sql stats_insert = { "stats_insert", STATS_NCOLS,
	"INSERT INTO app_stats (dandiset_count, published_dandiset_count, user_count, size)"
	" SELECT (SELECT count(*) FROM dandisets),"
	"  (SELECT count(DISTINCT dandiset_id) FROM versions WHERE version <> 'draft'),"
	"  (SELECT count(*) FROM users WHERE status = 'APPROVED'),"
	"  (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(size), 0) FROM zarrs)"
	" RETURNING dandiset_count, published_dandiset_count, user_count, size" };
static const struct db_sql stats_prune = { "stats_prune", 0,
	"DELETE FROM app_stats WHERE timestamp < now() - interval '90 days'"
	" AND id <> (SELECT max(id) FROM app_stats)" };
/* refresh-search: one refresh at a time across machines (a second one
 * would only wait for the first and redo its work); the key is arbitrary
 * but fixed. */
enum { SEARCH_LOCKED, SEARCH_LOCK_NCOLS };
static const struct db_sql search_lock = { "search_lock", SEARCH_LOCK_NCOLS,
	"SELECT pg_try_advisory_xact_lock(7011)" };
enum { TIMEOUT_SET, TIMEOUT_NCOLS };	/* unread */
static const struct db_sql search_timeout = { "search_timeout", TIMEOUT_NCOLS,
	"SELECT set_config('statement_timeout', '175000', true)" };
static const struct db_sql search_refresh = { "search_refresh", 0,
	"REFRESH MATERIALIZED VIEW CONCURRENTLY asset_search" };
/* pending-users-mail: claims today's row (waiting, when another run holds
 * it, for that run's end), then lists and queues. */
enum { PU_DAY, PU_CLAIM_NCOLS };
static const struct db_sql pu_claim = { "pu_claim", PU_CLAIM_NCOLS,
	"INSERT INTO pending_users_mails (day) VALUES ((now() AT TIME ZONE 'UTC')::date)"
	" ON CONFLICT DO NOTHING RETURNING day" };
enum { PU_USERNAME, PU_EMAIL, PU_JOINED, PU_LIST_NCOLS };
static const struct db_sql pu_list = { "pu_list", PU_LIST_NCOLS,
	"SELECT username, email, to_char(date_joined AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')"
	" FROM users WHERE status = 'PENDING' ORDER BY date_joined, id" };
/* $1 day, $2 to, $3 subject, $4 body, $5 number of users */
static const struct db_sql pu_queue = { "pu_queue", 0,
	"WITH m AS (INSERT INTO emails (to_addrs, subject, body) VALUES (ARRAY[$2], $3, $4) RETURNING id)"
	" UPDATE pending_users_mails SET email_id = (SELECT id FROM m), user_count = $5::int"
	" WHERE day = $1::date" };
/* The folder totals' pending deltas of every version, folded
 * (sql/016_folder_deltas.sql): safe beside writers and other hosts. */
enum { FOLD_MOVED, FOLD_NCOLS };
static const struct db_sql paths_fold = { "paths_fold", FOLD_NCOLS,
	"SELECT dandi_asset_paths_fold_all()" };

const struct db_sql *const housekeeping_sql[] = {
	&mail_claim, &mail_sent, &mail_failed, &stats_insert, &stats_prune, &search_lock, &search_timeout,
	&search_refresh, &pu_claim, &pu_list, &pu_queue, &paths_fold, NULL
};

/* Lines of s (changed in place) as a NULL-terminated list in the arena. */
static const char **
lines(struct arena *a, char *s)
{
	size_t n = 1, k = 0;

	for (char *p = s; *p; p++)
		n += *p == '\n';
	const char **v = arena_zalloc(a, (n + 1) * sizeof(*v));
	for (char *save = NULL, *t = strtok_r(s, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		v[k++] = t;
	return v;
}

/* One message: 1 sent, 0 none waiting, -1 failed (recorded, retried). */
static int
mail_one(struct job *job)
{
	char err[512];
	PGresult *r;
	int rc;

	if (job_begin(job) != 0 || (r = job_query(job, &mail_claim, 0, NULL)) == NULL) {
		log_error("%s", job->err);
		return -1;
	}
	if (PQntuples(r) == 0)
		return 0;
	const char *id = PQgetvalue(r, 0, MAIL_ID);
	struct mail m = { .id = id, .from = job->cfg->mail_from,
	    .to = lines(&job->arena, PQgetvalue(r, 0, MAIL_TO)), .bcc = lines(&job->arena, PQgetvalue(r, 0, MAIL_BCC)),
	    .reply_to = PQgetvalue(r, 0, MAIL_REPLY_TO), .subject = PQgetvalue(r, 0, MAIL_SUBJECT),
	    .body = PQgetvalue(r, 0, MAIL_BODY), .date = (time_t)strtoll(PQgetvalue(r, 0, MAIL_CREATED), NULL, 10) };
	const char *p2[2] = { id, err };
	if (mail_deliver(job->cfg, &m, err, sizeof(err)) == 0)
		rc = job_exec(job, &mail_sent, 1, p2) == 0 ? 1 : -1;
	else {
		log_error("mail %s: %s", id, err);
		(void)job_exec(job, &mail_failed, 2, p2);
		rc = -1;
	}
	if (job_commit(job) != 0)
		log_error("%s", job->err);
	return rc;
}

int
mail_cmd(struct job *job, int argc, char **argv)
{
	long max = -1, sent = 0, failed = 0;

	if (argc > 3 && strcmp(argv[2], "--max") == 0)
		max = strtol(argv[3], NULL, 10);
	while (max < 0 || sent + failed < max) {
		int rc = mail_one(job);
		job_reset(job);
		if (rc == 0)
			break;
		if (rc > 0)
			sent++;
		else if (++failed > 20)
			break;	/* the server is down: the next run tries again */
	}
	printf("%ld mail(s) sent, %ld failed\n", sent, failed);
	return failed ? 1 : 0;
}

/* The original's daily send_pending_users_email: one mail to admin_email
 * listing every PENDING user with a link to their approval page; nothing
 * when nobody waits. Once per UTC day whoever runs it (see pu_claim). */
int
pending_users_mail_cmd(struct job *job, int argc, char **argv)
{
	const struct config *cfg = job->cfg;
	PGresult *r;
	struct buf body;

	if (*cfg->admin_email == '\0') {
		printf("no admin_email configured: nothing to send\n");
		return 0;
	}
	if (job_begin(job) != 0 || (r = job_query(job, &pu_claim, 0, NULL)) == NULL)
		return job_exit_err(job);
	if (PQntuples(r) == 0) {
		job_rollback(job);
		printf("pending users: already mailed today\n");
		return 0;
	}
	const char *day = PQgetvalue(r, 0, PU_DAY);
	if ((r = job_query(job, &pu_list, 0, NULL)) == NULL)
		return job_exit_err(job);
	int n = PQntuples(r);
	if (n == 0) {
		/* The claim goes too: someone may register later today. */
		job_rollback(job);
		printf("pending users: none\n");
		return 0;
	}
	buf_init(&body);
	buf_printf(&body, "These new %s users are waiting for approval:\n", cfg->instance_name);
	for (int i = 0; i < n; i++) {
		char *user = s3_uri_encode(PQgetvalue(r, i, PU_USERNAME), false);
		buf_printf(&body, "\nUsername: %s\nE-mail: %s\nJoined: %s\nApprove or reject: %s/dashboard/user/%s/\n",
		    PQgetvalue(r, i, PU_USERNAME), PQgetvalue(r, i, PU_EMAIL), PQgetvalue(r, i, PU_JOINED), cfg->api_url,
		    user);
		free(user);
	}
	const char *count = arena_printf(&job->arena, "%d", n);
	const char *pq[5] = { day, cfg->admin_email, "DANDI: new user registrations to review",
	    arena_strndup(&job->arena, body.data, body.len), count };
	buf_free(&body);
	if (job_exec(job, &pu_queue, 5, pq) != 0 || job_commit(job) != 0)
		return job_exit_err(job);
	printf("pending users: %d, mail queued to %s\n", n, cfg->admin_email);
	return 0;
}

int
stats_cmd(struct job *job, int argc, char **argv)
{
	PGresult *r;

	if ((r = job_query(job, &stats_insert, 0, NULL)) == NULL)
		return job_exit_err(job);
	printf("dandisets %s, published %s, users %s, bytes %s\n", PQgetvalue(r, 0, STATS_DANDISETS),
	    PQgetvalue(r, 0, STATS_PUBLISHED), PQgetvalue(r, 0, STATS_USERS), PQgetvalue(r, 0, STATS_SIZE));
	if (job_exec(job, &stats_prune, 0, NULL) != 0)
		log_warn("%s", job->err);
	return 0;
}

int
refresh_search_cmd(struct job *job, int argc, char **argv)
{
	PGresult *r;

	if (job_begin(job) != 0 || (r = job_query(job, &search_lock, 0, NULL)) == NULL)
		return job_exit_err(job);
	if (strcmp(PQgetvalue(r, 0, SEARCH_LOCKED), "t") != 0) {
		job_rollback(job);
		printf("asset_search: another refresh is running\n");
		return 0;
	}
	/* CONCURRENTLY keeps the view readable during the rebuild; the timeout
	 * (local to this transaction) bounds a runaway refresh below the
	 * 10-minute period. */
	if (job_exec(job, &search_timeout, 0, NULL) != 0 || job_exec(job, &search_refresh, 0, NULL) != 0 ||
	    job_commit(job) != 0)
		return job_exit_err(job);
	printf("asset_search refreshed\n");
	return 0;
}

/* Folds the folder totals' pending deltas; returns the number moved or -1. */
long
paths_fold_all(struct job *job)
{
	PGresult *r = job_query(job, &paths_fold, 0, NULL);

	return r == NULL ? -1 : strtol(PQgetvalue(r, 0, FOLD_MOVED), NULL, 10);
}

int
fold_paths_cmd(struct job *job, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	long n = paths_fold_all(job);

	if (n < 0)
		return job_exit_err(job);
	printf("folded %ld folder total change(s)\n", n);
	return 0;
}
