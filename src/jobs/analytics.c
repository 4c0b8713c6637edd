/*
 * analytics.c - `dandi-jobs analytics`: download counts of blobs from the
 * S3 server access logs of the archive's bucket (access_log_bucket under
 * access_log_prefix), as the original counted them until 2025, plus
 * ranged (206) reads.
 *
 * Each log object is counted exactly once, whichever host reads it: its
 * processed_s3_logs row is inserted in the transaction that adds its
 * counts to blobs.download_count, so a run killed midway leaves nothing
 * and the log is counted by the next run. A transaction-scoped advisory
 * lock on the name lets a second run skip a log being counted now instead
 * of waiting for it. Blob rows are locked in id order, so runs counting
 * logs that share blobs cannot deadlock.
 *
 * Listing starts after the newest log counted more than two days ago (the
 * original listed after the newest one counted): logs are named by their
 * delivery time, and a log that failed is retried by the runs of the next
 * two days. `--all` lists everything under the prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"
#include "s3log.h"
#include "util.h"

/* Longer lines are not S3 log records (a key is at most 1 KiB). */
#define MAX_LINE	65536
/* Advisory lock class of log names (the other key is hashtext(name)). */
#define LOCK_CLASS	"2105"

enum { WATERMARK_NAME, WATERMARK_NCOLS };
static const struct db_sql an_watermark = { "an_watermark", WATERMARK_NCOLS,
	"SELECT coalesce(max(name), '') FROM processed_s3_logs"
	" WHERE processed_at < now() - interval '2 days' AND starts_with(name, $1)" };
/* Of a listing page (a JSON array of names), those not yet counted. */
enum { UNPROCESSED_NAME, UNPROCESSED_NCOLS };
static const struct db_sql an_unprocessed = { "an_unprocessed", UNPROCESSED_NCOLS,
	"SELECT x FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS l(x, i)"
	" WHERE NOT EXISTS (SELECT 1 FROM processed_s3_logs p WHERE p.name = l.x) ORDER BY i" };
enum { TRY_LOCKED, TRY_NCOLS };
static const struct db_sql an_try_lock = { "an_try_lock", TRY_NCOLS,
	"SELECT pg_try_advisory_xact_lock(" LOCK_CLASS ", hashtext($1))" };
enum { CLAIM_ID, CLAIM_NCOLS };
static const struct db_sql an_claim = { "an_claim", CLAIM_NCOLS,
	"INSERT INTO processed_s3_logs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id" };
/* $1: {"<blob uuid>": downloads, ...}. Returns the downloads of the blobs
 * that exist. */
enum { COUNT_DOWNLOADS, COUNT_NCOLS };
static const struct db_sql an_count = { "an_count", COUNT_NCOLS,
	"WITH c AS (SELECT e.key::uuid AS u, e.value::bigint AS n FROM jsonb_each_text($1::jsonb) e),"
	" l AS (SELECT b.id, c.n FROM blobs b JOIN c ON b.blob_id = c.u ORDER BY b.id FOR NO KEY UPDATE OF b),"
	" up AS (UPDATE blobs b SET download_count = b.download_count + l.n FROM l WHERE b.id = l.id"
	"   RETURNING l.n)"
	" SELECT coalesce(sum(n), 0)::bigint FROM up" };
static const struct db_sql an_done = { "an_done", 0,
	"UPDATE processed_s3_logs SET lines = $2::bigint, skipped = $3::bigint, downloads = $4::bigint"
	" WHERE id = $1::bigint" };
const struct db_sql *const analytics_sql[] = {
	&an_watermark, &an_unprocessed, &an_try_lock, &an_claim, &an_count, &an_done, NULL
};

/* job_query_in for analytics: a failure is said in the log and on stderr. */
static PGresult *
aq(struct job *job, struct arena *a, const struct db_sql *q, int n, const char *const *params)
{
	PGresult *r = job_query_in(job, a, q, n, params);

	if (r == NULL) {
		log_error("analytics: %s", job->err);
		fprintf(stderr, "dandi-jobs analytics: %s\n", job->err);
	}
	return r;
}

/* One log object being read: the current line and the downloads so far. */
struct counting {
	const char	*bucket;	/* lines of other buckets are not ours */
	struct buf	 line;
	bool		 overlong;	/* the current line is being skipped */
	char		(*uuids)[37];	/* one per download */
	size_t		 n, cap;
	long long	 lines, skipped;
};

static void
count_line(struct counting *c, char *line)
{
	struct s3log_record rec;
	const char *u;

	if (*line == '\0')
		return;
	c->lines++;
	if (s3log_parse(line, &rec) != 0) {
		c->skipped++;
		return;
	}
	if (strcmp(rec.bucket, c->bucket) != 0 || strcmp(rec.operation, "REST.GET.OBJECT") != 0 ||
	    (rec.status != 200 && rec.status != 206) || (u = s3log_blob_uuid(rec.key)) == NULL)
		return;
	/* The archive's own reads (sha256, verify) are not downloads. */
	if (rec.user_agent != NULL && strncmp(rec.user_agent, S3_USER_AGENT, strlen(S3_USER_AGENT)) == 0)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->uuids = xrealloc(c->uuids, c->cap * sizeof(*c->uuids));
	}
	memcpy(c->uuids[c->n++], u, 37);
}

static int
log_sink(void *arg, const char *data, size_t len)
{
	struct counting *c = arg;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (!c->overlong) {
			buf_append(&c->line, data, take);
			if (c->line.len > MAX_LINE) {
				c->overlong = true;
				c->line.len = 0;
			}
		}
		if (nl != NULL) {
			if (c->overlong) {
				c->lines++;
				c->skipped++;
			} else {
				buf_append(&c->line, "", 1);
				count_line(c, c->line.data);
			}
			c->line.len = 0;
			c->overlong = false;
			take++;
		}
		data += take;
		len -= take;
	}
	return 0;
}

static int
uuid_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Takes the log for this run in a new transaction: 1 with *id its row,
 * 0 when it is counted already or being counted elsewhere, -1. */
static int
log_claim(struct job *job, struct arena *a, const char *name, const char **id)
{
	const char *p1[1] = { name };
	PGresult *r;

	if (job_begin(job) != 0 || (r = aq(job, a, &an_try_lock, 1, p1)) == NULL)
		return -1;
	if (PQgetvalue(r, 0, TRY_LOCKED)[0] != 't')
		return 0;
	if ((r = aq(job, a, &an_claim, 1, p1)) == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return 0;
	*id = PQgetvalue(r, 0, CLAIM_ID);
	return 1;
}

/* Reads the log's lines into c: 1, 0 when it is gone, -1. */
static int
log_read(struct s3 *logs, const char *name, struct counting *c)
{
	int st = s3_get(logs, name, 0, -1, log_sink, c);

	if (st == S3_NOT_FOUND) {
		log_warn("analytics: %s is gone", name);
		return 0;
	}
	if (st != S3_OK) {
		log_error("analytics: GET %s: %s", name, logs->err);
		fprintf(stderr, "dandi-jobs analytics: GET %s: %s\n", name, logs->err);
		return -1;
	}
	if (c->line.len > 0 || c->overlong)
		log_sink(c, "\n", 1);	/* a last line without its newline */
	return 1;
}

/* Adds the log's downloads to the blobs and commits with its row: 1 or -1. */
static int
log_record(struct job *job, struct arena *a, const char *id, struct counting *c, long long *downloads)
{
	struct buf counts;
	PGresult *r;

	/* Downloads per blob: sorted, then each run of equal uuids once. */
	qsort(c->uuids, c->n, sizeof(*c->uuids), uuid_cmp);
	buf_init(&counts);
	buf_puts(&counts, "{");
	for (size_t i = 0, j; i < c->n; i = j) {
		for (j = i + 1; j < c->n && strcmp(c->uuids[i], c->uuids[j]) == 0; j++)
			;
		buf_printf(&counts, "%s\"%s\":%zu", i ? "," : "", c->uuids[i], j - i);
	}
	buf_puts(&counts, "}");
	const char *p1[1] = { counts.data };
	r = aq(job, a, &an_count, 1, p1);
	buf_free(&counts);
	if (r == NULL)
		return -1;
	*downloads = strtoll(PQgetvalue(r, 0, COUNT_DOWNLOADS), NULL, 10);
	const char *p4[4] = { id, arena_printf(a, "%lld", c->lines), arena_printf(a, "%lld", c->skipped),
	    arena_printf(a, "%lld", *downloads) };
	if (aq(job, a, &an_done, 4, p4) == NULL || job_commit(job) != 0)
		return -1;
	return 1;
}

/* Counts one log object. 1 counted, 0 skipped (counted already, being
 * counted elsewhere, gone), -1 failure (the run stops). *downloads gets
 * the downloads of known blobs counted. */
static int
count_log(struct job *job, struct s3 *logs, const char *bucket, const char *name, long long *downloads)
{
	struct counting c = { .bucket = bucket };
	const char *id = NULL;
	struct arena one;
	int rc;

	arena_init(&one);
	buf_init(&c.line);
	if ((rc = log_claim(job, &one, name, &id)) == 1 && (rc = log_read(logs, name, &c)) == 1)
		rc = log_record(job, &one, id, &c, downloads);
	if (rc != 1)
		job_rollback(job);
	else {
		log_info("analytics: %s: %lld line(s), %lld skipped, %lld download(s)", name, c.lines, c.skipped,
		    *downloads);
		if (c.skipped > 0)
			fprintf(stderr, "dandi-jobs analytics: %s: %lld malformed line(s) skipped\n", name, c.skipped);
	}
	buf_free(&c.line);
	free(c.uuids);
	arena_reset(&one);
	return rc;
}

struct page_names {
	struct buf	json;		/* JSON array of the page's log names */
	int		n;
};

static int
collect_name(void *ctx, const struct s3_listed *o)
{
	struct page_names *p = ctx;

	if (!s3log_is_log_name(o->key))
		return 0;
	buf_puts(&p->json, p->n++ ? "," : "[");
	buf_json_string(&p->json, o->key);
	return 0;
}

/* Counts the logs of one listing page not counted yet: 0, or -1 (the run
 * stops). */
static int
count_page(struct job *job, struct s3 *logs, struct page_names *page, long max, long *counted,
    long long *downloads)
{
	const char *pj[1] = { page->json.data };
	struct arena a;
	PGresult *r;
	int rc = 0;

	arena_init(&a);
	if ((r = aq(job, &a, &an_unprocessed, 1, pj)) == NULL)
		rc = -1;
	for (int i = 0; r != NULL && i < PQntuples(r) && (max < 0 || *counted < max); i++) {
		long long d = 0;
		int got = count_log(job, logs, job->cfg->s3_bucket, PQgetvalue(r, i, UNPROCESSED_NAME), &d);
		if (got < 0) {
			rc = -1;
			break;
		}
		*counted += got;
		*downloads += d;
	}
	arena_reset(&a);
	return rc;
}

int
analytics_cmd(struct job *job, int argc, char **argv)
{
	const struct config *cfg = job->cfg;
	long max = -1, counted = 0;
	long long downloads = 0;
	bool all = false;
	char *token = NULL;
	const char *after = NULL;
	struct s3 logs;
	PGresult *r;
	int rc = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else
			return JOB_USAGE;
	}
	if (*cfg->access_log_bucket == '\0') {
		fprintf(stderr, "dandi-jobs analytics: access_log_bucket is not set\n");
		return 1;
	}
	/* The logs' bucket, with the archive's credentials. */
	if (s3_init(&logs, cfg) != 0) {
		fprintf(stderr, "dandi-jobs analytics: S3 is not configured\n");
		return 1;
	}
	free(logs.bucket);
	logs.bucket = xstrdup(cfg->access_log_bucket);
	const char *p1[1] = { cfg->access_log_prefix };
	if (!all && (r = aq(job, &job->arena, &an_watermark, 1, p1)) == NULL)
		rc = 1;
	else if (!all)
		after = PQgetvalue(r, 0, WATERMARK_NAME);
	for (bool more = true; more && rc == 0 && (max < 0 || counted < max);) {
		struct page_names page = { .n = 0 };
		char *next = NULL;
		buf_init(&page.json);
		if (s3_list_page(&logs, cfg->access_log_prefix, token ? NULL : after, token, 1000, collect_name,
		    &page, &more, &next) != S3_OK) {
			fprintf(stderr, "dandi-jobs analytics: listing %s/%s: %s\n", logs.bucket,
			    cfg->access_log_prefix, logs.err);
			rc = 1;
		}
		free(token);
		token = next;
		if (more && token == NULL)
			more = false;	/* no way on: a server without tokens */
		buf_puts(&page.json, "]");
		if (rc == 0 && page.n > 0 && count_page(job, &logs, &page, max, &counted, &downloads) != 0)
			rc = 1;
		buf_free(&page.json);
	}
	printf("counted %ld log(s): %lld download(s)\n", counted, downloads);
	free(token);
	s3_free(&logs);
	return rc;
}
