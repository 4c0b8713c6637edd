/*
 * gc.c - `dandi-jobs gc`: garbage collection of stale uploads, orphan blobs
 * (and with --assets, orphan assets), a chunk at a time, each deletion
 * recorded in gc_events for 30 days as the original does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "log.h"

#define GC_CHUNK	"1000"	/* rows per transaction */

/* A chunk of one class; SKIP LOCKED keeps two collectors on disjoint rows.
 * $1 is the grace period. Each returns the S3 key and multipart upload of
 * what it deleted. */
enum { GC_KEY, GC_MULTIPART, GC_NCOLS };
static const struct db_sql gc_uploads = { "gc_uploads", GC_NCOLS,
	"WITH victims AS (SELECT * FROM uploads WHERE created < now() - $1::interval"
	"   ORDER BY id LIMIT " GC_CHUNK " FOR UPDATE SKIP LOCKED),"
	" ev AS (INSERT INTO gc_events (type) SELECT 'Upload' WHERE EXISTS (SELECT 1 FROM victims) RETURNING id),"
	" rec AS (INSERT INTO gc_event_records (event_id, record)"
	"   SELECT ev.id, jsonb_build_object('model', 'api.upload', 'pk', v.id, 'fields', to_jsonb(v) - 'id')"
	"   FROM ev, victims v),"
	" del AS (DELETE FROM uploads u USING victims v WHERE u.id = v.id RETURNING u.blob, u.multipart_upload_id)"
	" SELECT blob, multipart_upload_id FROM del" };
static const struct db_sql gc_blobs = { "gc_blobs", GC_NCOLS,
	"WITH victims AS (SELECT * FROM blobs b WHERE created < now() - $1::interval"
	"   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)"
	"   ORDER BY id LIMIT " GC_CHUNK " FOR UPDATE SKIP LOCKED),"
	" ev AS (INSERT INTO gc_events (type) SELECT 'AssetBlob' WHERE EXISTS (SELECT 1 FROM victims) RETURNING id),"
	" rec AS (INSERT INTO gc_event_records (event_id, record)"
	"   SELECT ev.id, jsonb_build_object('model', 'api.assetblob', 'pk', v.id, 'fields', to_jsonb(v) - 'id')"
	"   FROM ev, victims v),"
	" del AS (DELETE FROM blobs b USING victims v WHERE b.id = v.id RETURNING b.blob)"
	" SELECT blob, NULL FROM del" };
enum { GC_ASSET_ID, GC_ASSET_NCOLS };	/* unread: counted */
static const struct db_sql gc_assets = { "gc_assets", GC_ASSET_NCOLS,
	"DELETE FROM assets a WHERE a.id IN (SELECT id FROM assets x WHERE NOT x.published"
	"   AND x.modified < now() - $1::interval"
	"   AND NOT EXISTS (SELECT 1 FROM asset_versions av WHERE av.asset_id = x.id)"
	"   ORDER BY id LIMIT " GC_CHUNK " FOR UPDATE SKIP LOCKED) RETURNING a.id" };
static const struct db_sql gc_prune = { "gc_prune", 0,
	"DELETE FROM gc_events WHERE timestamp < now() - interval '30 days'" };
enum { REPORT_UPLOADS, REPORT_UPLOAD_BYTES, REPORT_BLOBS, REPORT_BLOB_BYTES, REPORT_ASSETS, REPORT_NCOLS };
static const struct db_sql gc_report = { "gc_report", REPORT_NCOLS,
	"SELECT (SELECT count(*) FROM uploads WHERE created < now() - $1::interval),"
	" (SELECT coalesce(sum(size), 0) FROM uploads WHERE created < now() - $1::interval),"
	" (SELECT count(*) FROM blobs b WHERE created < now() - $1::interval"
	"   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)),"
	" (SELECT coalesce(sum(size), 0) FROM blobs b WHERE created < now() - $1::interval"
	"   AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)),"
	" (SELECT count(*) FROM assets x WHERE NOT x.published AND x.modified < now() - $1::interval"
	"   AND NOT EXISTS (SELECT 1 FROM asset_versions av WHERE av.asset_id = x.id))" };
const struct db_sql *const gc_sql[] = { &gc_uploads, &gc_blobs, &gc_assets, &gc_prune, &gc_report, NULL };

/* One class of garbage, chunk by chunk, each chunk one transaction; the
 * S3 objects go after the rows are committed gone (never the other way
 * round, so no row ever points at deleted bytes). Returns rows deleted or
 * -1. */
static long
gc_class(struct job *job, const struct db_sql *q, const char *grace, bool s3_objects)
{
	const char *p1[1] = { grace };
	struct arena chunk;
	long total = 0;
	int n = 0;

	arena_init(&chunk);
	do {
		PGresult *r;
		struct s3 *s3;

		arena_reset(&chunk);
		if (job_begin(job) != 0 || (r = job_query_in(job, &chunk, q, 1, p1)) == NULL ||
		    job_commit(job) != 0) {
			log_error("gc: %s", job->err);
			job_rollback(job);
			total = -1;
			break;
		}
		n = PQntuples(r);
		s3 = n > 0 && s3_objects ? job_s3(job) : NULL;
		for (int i = 0; s3 != NULL && i < n; i++) {
			const char *key = PQgetvalue(r, i, GC_KEY);
			if (!PQgetisnull(r, i, GC_MULTIPART))
				(void)s3_abort_multipart(s3, key, PQgetvalue(r, i, GC_MULTIPART));
			if (s3_delete(s3, key) == S3_ERROR)
				log_warn("gc: delete of %s failed: %s", key, s3->err);
		}
		total += n;
	} while (n == atoi(GC_CHUNK));
	arena_reset(&chunk);
	return total;
}

int
gc_cmd(struct job *job, int argc, char **argv)
{
	bool dry = false, assets = false;
	const char *grace = "7 days";
	PGresult *r;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else if (strcmp(argv[i], "--assets") == 0)
			assets = true;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc)
			grace = argv[++i];
		else
			return JOB_USAGE;
	}
	const char *p1[1] = { grace };
	if ((r = job_query(job, &gc_report, 1, p1)) == NULL)
		return job_exit_err(job);
	printf("stale uploads: %s (%s bytes)\norphan blobs: %s (%s bytes)\norphan assets: %s%s\n",
	    PQgetvalue(r, 0, REPORT_UPLOADS), PQgetvalue(r, 0, REPORT_UPLOAD_BYTES), PQgetvalue(r, 0, REPORT_BLOBS),
	    PQgetvalue(r, 0, REPORT_BLOB_BYTES), PQgetvalue(r, 0, REPORT_ASSETS),
	    assets ? "" : " (kept; --assets deletes them)");
	if (dry) {
		printf("dry run: nothing deleted\n");
		return 0;
	}
	long up = gc_class(job, &gc_uploads, grace, true);
	long bl = gc_class(job, &gc_blobs, grace, true);
	long as = assets ? gc_class(job, &gc_assets, grace, false) : 0;
	(void)job_exec(job, &gc_prune, 0, NULL);
	printf("deleted: %ld uploads, %ld blobs, %ld assets\n", up, bl, as);
	return up < 0 || bl < 0 || as < 0 ? 1 : 0;
}
