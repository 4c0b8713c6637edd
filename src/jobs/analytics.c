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

#include "config.h"
#include "db.h"
#include "log.h"
#include "s3.h"
#include "s3log.h"
#include "util.h"
#include "verify.h"

/* Longer lines are not S3 log records (a key is at most 1 KiB). */
#define MAX_LINE	65536
/* Advisory lock class of log names (the other key is hashtext(name)). */
#define LOCK_CLASS	"2105"

static const struct db_stmt an_stmts[] = {
	{ "an_watermark",
	  "SELECT coalesce(max(name), '') FROM processed_s3_logs"
	  " WHERE processed_at < now() - interval '2 days' AND starts_with(name, $1)" },
	/* Of a listing page (a JSON array of names), those not yet counted. */
	{ "an_unprocessed",
	  "SELECT x FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS l(x, i)"
	  " WHERE NOT EXISTS (SELECT 1 FROM processed_s3_logs p WHERE p.name = l.x) ORDER BY i" },
	{ "an_try_lock",
	  "SELECT pg_try_advisory_xact_lock(" LOCK_CLASS ", hashtext($1))" },
	{ "an_claim",
	  "INSERT INTO processed_s3_logs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id" },
	/* $1: {"<blob uuid>": downloads, ...}. Returns the downloads of the
	 * blobs that exist. */
	{ "an_count",
	  "WITH c AS (SELECT e.key::uuid AS u, e.value::bigint AS n FROM jsonb_each_text($1::jsonb) e),"
	  " l AS (SELECT b.id, c.n FROM blobs b JOIN c ON b.blob_id = c.u ORDER BY b.id FOR NO KEY UPDATE OF b),"
	  " up AS (UPDATE blobs b SET download_count = b.download_count + l.n FROM l WHERE b.id = l.id"
	  "   RETURNING l.n)"
	  " SELECT coalesce(sum(n), 0)::bigint FROM up" },
	{ "an_done",
	  "UPDATE processed_s3_logs SET lines = $2::bigint, skipped = $3::bigint, downloads = $4::bigint"
	  " WHERE id = $1::bigint" },
};

static struct db adb;

static PGresult *
aq(const char *stmt, int n, const char *const *params)
{
	char err[1024];
	PGresult *r = db_query(&adb, stmt, n, params, err, sizeof(err));

	if (r == NULL) {
		log_error("analytics: %s", err);
		fprintf(stderr, "dandi-jobs analytics: %s\n", err);
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

/* Counts one log object. 1 counted, 0 skipped (counted already, being
 * counted elsewhere, gone), -1 failure (the run stops). *downloads gets
 * the downloads of known blobs counted. */
static int
count_log(struct s3 *logs, const char *bucket, const char *name, long long *downloads)
{
	PGresult *r;
	const char *p1[1] = { name };
	struct counting c = { .bucket = bucket };
	int rc = -1;

	if (db_begin(&adb) != DB_OK)
		return -1;
	if ((r = aq("an_try_lock", 1, p1)) == NULL)
		goto out;
	bool locked = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!locked) {
		rc = 0;
		goto out;
	}
	if ((r = aq("an_claim", 1, p1)) == NULL)
		goto out;
	if (PQntuples(r) == 0) {
		PQclear(r);
		rc = 0;
		goto out;
	}
	char id[24];
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);

	buf_init(&c.line);
	int st = s3_get(logs, name, 0, -1, log_sink, &c);
	if (st == S3_NOT_FOUND) {
		log_warn("analytics: %s is gone", name);
		rc = 0;
		goto out;
	}
	if (st != S3_OK) {
		log_error("analytics: GET %s: %s", name, logs->err);
		fprintf(stderr, "dandi-jobs analytics: GET %s: %s\n", name, logs->err);
		goto out;
	}
	if (c.line.len > 0 || c.overlong)
		log_sink(&c, "\n", 1);	/* a last line without its newline */

	/* Downloads per blob: sorted, then each run of equal uuids once. */
	qsort(c.uuids, c.n, sizeof(*c.uuids), uuid_cmp);
	struct buf counts;
	buf_init(&counts);
	buf_puts(&counts, "{");
	for (size_t i = 0, j; i < c.n; i = j) {
		for (j = i + 1; j < c.n && strcmp(c.uuids[i], c.uuids[j]) == 0; j++)
			;
		buf_printf(&counts, "%s\"%s\":%zu", i ? "," : "", c.uuids[i], j - i);
	}
	buf_puts(&counts, "}");
	const char *p2[1] = { counts.data };
	r = aq("an_count", 1, p2);
	buf_free(&counts);
	if (r == NULL)
		goto out;
	*downloads = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	char lines[24], skipped[24], dl[24];
	snprintf(lines, sizeof(lines), "%lld", c.lines);
	snprintf(skipped, sizeof(skipped), "%lld", c.skipped);
	snprintf(dl, sizeof(dl), "%lld", *downloads);
	const char *p4[4] = { id, lines, skipped, dl };
	if ((r = aq("an_done", 4, p4)) == NULL)
		goto out;
	PQclear(r);
	if (db_commit(&adb) != DB_OK)
		goto out;
	log_info("analytics: %s: %lld line(s), %lld skipped, %lld download(s)", name, c.lines, c.skipped,
	    *downloads);
	if (c.skipped > 0)
		fprintf(stderr, "dandi-jobs analytics: %s: %lld malformed line(s) skipped\n", name, c.skipped);
	rc = 1;
out:
	if (rc != 1)
		db_rollback(&adb);
	buf_free(&c.line);
	free(c.uuids);
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

int
cmd_analytics(const struct config *cfg, int argc, char **argv)
{
	long max = -1;
	bool all = false;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else
			return fprintf(stderr, "usage: dandi-jobs analytics [--max N] [--all]\n"), 2;
	}
	if (*cfg->access_log_bucket == '\0') {
		fprintf(stderr, "dandi-jobs analytics: access_log_bucket is not set\n");
		return 1;
	}
	struct s3 logs;
	if (s3_init(&logs, cfg) != 0) {
		fprintf(stderr, "dandi-jobs analytics: S3 is not configured\n");
		return 1;
	}
	free(logs.bucket);
	logs.bucket = xstrdup(cfg->access_log_bucket);
	db_init(&adb, cfg->db, an_stmts, sizeof(an_stmts) / sizeof(an_stmts[0]));

	int rc = 0;
	long counted = 0;
	long long downloads = 0;
	char *after = NULL, *token = NULL;
	const char *p1[1] = { cfg->access_log_prefix };
	PGresult *r;
	if (!all) {
		if ((r = aq("an_watermark", 1, p1)) == NULL) {
			rc = 1;
			goto out;
		}
		after = xstrdup(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	for (bool more = true; more && rc == 0 && (max < 0 || counted < max);) {
		struct page_names page = { .n = 0 };
		char *next = NULL;
		buf_init(&page.json);
		if (s3_list_page(&logs, cfg->access_log_prefix, token ? NULL : after, token, 1000, collect_name,
		    &page, &more, &next) != S3_OK) {
			fprintf(stderr, "dandi-jobs analytics: listing %s/%s: %s\n", logs.bucket,
			    cfg->access_log_prefix, logs.err);
			buf_free(&page.json);
			rc = 1;
			break;
		}
		free(token);
		token = next;
		if (more && token == NULL)
			more = false;	/* no way on: a server without tokens */
		if (page.n == 0) {
			buf_free(&page.json);
			continue;
		}
		buf_puts(&page.json, "]");
		const char *pj[1] = { page.json.data };
		r = aq("an_unprocessed", 1, pj);
		buf_free(&page.json);
		if (r == NULL) {
			rc = 1;
			break;
		}
		for (int i = 0; i < PQntuples(r) && (max < 0 || counted < max); i++) {
			long long d = 0;
			int got = count_log(&logs, cfg->s3_bucket, PQgetvalue(r, i, 0), &d);
			if (got < 0) {
				rc = 1;
				break;
			}
			counted += got;
			downloads += d;
		}
		PQclear(r);
	}
out:
	printf("counted %ld log(s): %lld download(s)\n", counted, downloads);
	free(after);
	free(token);
	s3_free(&logs);
	db_close(&adb);
	return rc;
}
