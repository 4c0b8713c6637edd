/*
 * metrics.c - GET /metrics: the pool's counters (src/lib/metrics.c, summed
 * over the workers' slots) and the state of the background work read from
 * the database at each scrape, in Prometheus's text format. Only addresses
 * of metrics_allow may scrape (nginx's location says the same). When the
 * database is down the counters still answer, with dandi_db_up 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "groupcommit.h"
#include "metrics.h"

/* The database's part, one row per series: family (an index of families
 * below), two label values, the value; ordered by family. */
enum { MS_FAMILY, MS_L1, MS_L2, MS_VALUE, MS_NCOLS };
static const struct db_sql metrics_state = { "metrics_state", MS_NCOLS,
	"WITH claimed AS MATERIALIZED ("
	"  SELECT j.id, j.kind FROM pg_locks l JOIN jobs j ON j.id = l.objid::bigint"
	"  WHERE l.locktype = 'advisory' AND l.classid = " METRICS_JOB_LOCK "::oid AND l.objsubid = 2"
	"  AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
	"  AND j.state = 'queued'),"
	" running AS (SELECT kind, count(*) AS n FROM claimed GROUP BY kind),"
	/* Waiting: queued and not being worked; the age counts from when it
	 * became due (its run_after: queued, or the end of its backoff). */
	" q AS (SELECT kind, count(*) AS n,"
	"  max(extract(epoch FROM now() - run_after)) FILTER (WHERE run_after <= now()) AS age"
	"  FROM jobs WHERE state = 'queued' AND id NOT IN (SELECT id FROM claimed) GROUP BY kind),"
	" f AS (SELECT kind, count(*) AS n FROM jobs WHERE state = 'failed' GROUP BY kind),"
	" kinds AS (SELECT kind FROM job_kinds UNION SELECT kind FROM q UNION SELECT kind FROM running"
	"  UNION SELECT kind FROM f)"
	" SELECT 0, k.kind::text, s.state, (CASE s.state WHEN 'queued' THEN coalesce(q.n, 0)"
	"   WHEN 'running' THEN coalesce(r.n, 0) ELSE coalesce(f.n, 0) END)::float8"
	"  FROM kinds k CROSS JOIN (VALUES ('queued'), ('running'), ('failed')) s (state)"
	"  LEFT JOIN q USING (kind) LEFT JOIN running r USING (kind) LEFT JOIN f USING (kind)"
	" UNION ALL SELECT 1, k.kind, '', coalesce(q.age, 0)::float8 FROM kinds k LEFT JOIN q USING (kind)"
	" UNION ALL SELECT 2, command, host, extract(epoch FROM last_success)::float8 FROM job_runs"
	"  WHERE last_success IS NOT NULL"
	" UNION ALL SELECT 3, command, host, success_duration FROM job_runs WHERE last_success IS NOT NULL"
	" UNION ALL SELECT 4, command, host, extract(epoch FROM last_started)::float8 FROM job_runs"
	" UNION ALL SELECT 5, command, host, CASE WHEN last_ok THEN 1 ELSE 0 END FROM job_runs"
	" UNION ALL SELECT 6, command, host, last_duration FROM job_runs"
	" UNION ALL SELECT 7, command, host, runs FROM job_runs"
	" UNION ALL SELECT 8, command, host, failures FROM job_runs"
	" UNION ALL SELECT 9, '', '', count(*) FROM blob_integrity WHERE NOT ok"
	" UNION ALL SELECT 10, 'asset', '', count(*) FROM assets WHERE status = 'Pending' AND NOT published"
	" UNION ALL SELECT 10, 'draft', '', count(*) FROM versions WHERE status = 'Pending' AND version = 'draft'"
	" UNION ALL SELECT 11, '', '', count(*) FROM uploads"
	" ORDER BY 1, 2, 3" };

const struct db_sql *const metrics_sql[] = { &metrics_state, NULL };

/* The families of metrics_state, by index: name, type, labels, help. */
static const struct {
	const char	*name, *type, *l1, *l2, *help;
} families[] = {
	{ "dandi_jobs", "gauge", "kind", "state",
	  "Queued jobs by kind: waiting (queued), being worked (running), failed for good (failed)." },
	{ "dandi_jobs_oldest_queued_age_seconds", "gauge", "kind", NULL,
	  "How long the oldest job of the kind that is due has waited for a worker (0: none)." },
	{ "dandi_job_command_last_success_timestamp_seconds", "gauge", "command", "host",
	  "When the last successful run of a dandi-jobs command on a host ended (Unix time)." },
	{ "dandi_job_command_last_success_duration_seconds", "gauge", "command", "host",
	  "How long the last successful run of a dandi-jobs command on a host took." },
	{ "dandi_job_command_last_run_timestamp_seconds", "gauge", "command", "host",
	  "When the last run of a dandi-jobs command on a host started (Unix time)." },
	{ "dandi_job_command_last_run_ok", "gauge", "command", "host",
	  "Whether the last run of a dandi-jobs command on a host succeeded (1) or failed (0)." },
	{ "dandi_job_command_last_run_duration_seconds", "gauge", "command", "host",
	  "How long the last run of a dandi-jobs command on a host took." },
	{ "dandi_job_command_runs_total", "counter", "command", "host",
	  "Runs of a dandi-jobs command on a host." },
	{ "dandi_job_command_failures_total", "counter", "command", "host",
	  "Failed runs of a dandi-jobs command on a host." },
	{ "dandi_blobs_verify_failed", "gauge", NULL, NULL,
	  "Blobs whose last verification (dandi-jobs verify) failed." },
	{ "dandi_validation_pending", "gauge", "object", NULL,
	  "Unpublished assets and drafts waiting for validation (status Pending)." },
	{ "dandi_uploads_active", "gauge", NULL, NULL,
	  "Uploads initialized and not yet completed or cleared." },
};
#define NFAMILIES	(sizeof(families) / sizeof(families[0]))

static void
label(struct buf *b, const char *name, const char *value, bool first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	metrics_label_value(b, value);
	buf_puts(b, "\"");
}

/* The database's part; false when it could not be read. */
static bool
state_render(struct request *req, struct buf *b)
{
	PGresult *r = req_query_quiet(req, &metrics_state, 0, NULL);
	int last = -1;

	if (r == NULL)
		return false;
	for (int i = 0; i < PQntuples(r); i++) {
		int f = atoi(PQgetvalue(r, i, MS_FAMILY));
		if (f < 0 || (size_t)f >= NFAMILIES)
			continue;
		if (f != last)
			buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
			    families[f].name, families[f].type);
		last = f;
		buf_puts(b, families[f].name);
		if (families[f].l1 != NULL) {
			buf_puts(b, "{");
			label(b, families[f].l1, PQgetvalue(r, i, MS_L1), true);
			if (families[f].l2 != NULL)
				label(b, families[f].l2, PQgetvalue(r, i, MS_L2), false);
			buf_puts(b, "}");
		}
		buf_printf(b, " %s\n", PQgetvalue(r, i, MS_VALUE));
	}
	return true;
}

int
metrics_get(struct request *req)
{
	const struct config *cfg = req->cfg;

	if (!cfg->metrics || !metrics_on())
		return resp_detail(req, 404, "Not found.");
	if (!metrics_allowed(cfg->metrics_allow, req->remote_addr))
		return resp_detail(req, 403, "Metrics are not available to this address.");
	req->status = 200;
	/* The text exposition format, version 0.0.4. */
	req->content_type_out = "text/plain; version=0.0.4; charset=utf-8";
	metrics_render(&req->out, api_routes, api_nroutes);
	gc_metrics_render(&req->out);
	bool up = state_render(req, &req->out);
	buf_puts(&req->out, "# HELP dandi_db_up Whether the scrape could read the database's state (1) or not (0).\n"
	    "# TYPE dandi_db_up gauge\n");
	buf_printf(&req->out, "dandi_db_up %d\n", up ? 1 : 0);
	resp_header(req, "Cache-Control", "no-store");
	return 0;
}
