/*
 * dandi-jobs.c - what dandi-jobs does, in two tables: the kinds of queued
 * job (`dandi-jobs run` works them; the API and the jobs queue them with
 * dandi_enqueue() in SQL) and the commands, run by cron or systemd timers
 * on any number of machines at once. Each entry lives in its own file;
 * main.c reads the command line.
 */
#include <stddef.h>

#include "jobs.h"

const struct job_kind *const job_kinds[] = {
	&publish_job,
	&sha256_job,
	&unembargo_job,
	&blob_untag_job,
	&zarr_ingest_job,
	&doi_job,
	&doi_delete_job,
	&manifests_job,
	NULL
};

const struct job_cmd job_cmds[] = {
	{ "run", queue_run, queue_sql, "[--max N] [--no-validate]",
	  "work the queued jobs that are due, then the\n"
	  "validation sweep and the jobs it queued\n"
	  "(draft manifests), then exit" },
	{ "list", queue_list, queue_sql, "[--state S]",
	  "print jobs (S: queued, done, failed)" },
	{ "retry", queue_retry, queue_sql, "ID",
	  "queue a failed job again" },
	{ "validate", validate_cmd, validate_sql, "[--max N] [--batch N]",
	  "validate the Pending drafts and ready assets" },
	{ "gc", gc_cmd, gc_sql, "[--dry-run] [--assets] [--grace INTERVAL]",
	  "delete stale uploads and orphan blobs (and assets)" },
	{ "mail", mail_cmd, housekeeping_sql, "[--max N]",
	  "send the queued e-mail (SMTP or the spool directory)" },
	{ "stats", stats_cmd, housekeeping_sql, "",
	  "record the archive statistics (GET /api/stats/)" },
	{ "pending-users-mail", pending_users_mail_cmd, housekeeping_sql, "",
	  "queue the daily mail to admin_email listing the users\n"
	  "waiting for approval (once a day, none when nobody waits)" },
	{ "embargo-ends", embargo_ends_cmd, embargo_ends_sql, "[--today YYYY-MM-DD]",
	  "remind the owners of embargoes ending in 30 and 7 days\n"
	  "(once each per end date) and queue the unembargo of\n"
	  "those whose end date is reached (daily)" },
	{ "refresh-search", refresh_search_cmd, housekeeping_sql, "",
	  "rebuild the asset_search view (GET /api/dandisets/search/)" },
	{ "fold-paths", fold_paths_cmd, housekeeping_sql, "",
	  "move the folder totals' pending changes into the folder\n"
	  "tree and remove emptied folders (run does it too)" },
	{ "zarr-ingest", zarr_ingest_cmd, NULL, "[--force] ZARR_ID",
	  "queue the checksum of a zarr archive again" },
	{ "verify", verify_cmd, verify_sql, "[--max N] [--older-than INTERVAL] | --report [--all]",
	  "read blobs back from S3 and check size, ETag and sha256\n"
	  "(never-verified first, then checks older than INTERVAL,\n"
	  "default 30 days); exit 1 when one fails. --report lists\n"
	  "the blobs whose last check failed (--all: every failed check)" },
	{ "storage-check", storage_check_cmd, storage_sql, "[--no-zarr]",
	  "compare the database with the bucket: blobs without\n"
	  "their object or differing from it (exit 1), objects\n"
	  "and zarr prefixes nothing in the database owns" },
	{ "embargo-tags", embargo_tags_cmd, embargo_tags_sql, "[--check]",
	  "tag every object of embargoed data embargoed=true (a\n"
	  "restore's copy loses tags); --check: report those\n"
	  "without it (exit 1)" },
	{ "analytics", analytics_cmd, analytics_sql, "[--max N] [--all]",
	  "count blob downloads from the S3 access logs of\n"
	  "access_log_bucket/access_log_prefix" },
	{ "manifests", manifests_cmd, NULL, "--all | VERSION...",
	  "queue the rewrite of versions' manifest files\n"
	  "(VERSION: the version's row id or DANDISET/VERSION)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
