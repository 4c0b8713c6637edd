/*
 * gc.c - `dandi-jobs gc`: garbage collection of stale uploads, orphan blobs
 * (and with --assets, orphan assets), a chunk at a time, each deletion
 * recorded in gc_events for 30 days as the original does; then, in a
 * versioned bucket, the object versions nothing needs (gc_versions).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
/* Whether a zarr snapshot (sql/020, taken or being taken) holds this
 * version of zarr/$1/$2. */
enum { REF_HELD, REF_NCOLS };
enum { CUTOFF_EPOCH, CUTOFF_NCOLS };
static const struct db_sql gc_cutoff = { "gc_cutoff", CUTOFF_NCOLS,
	"SELECT floor(extract(epoch FROM now() - $1::interval))::bigint" };
static const struct db_sql gc_version_held = { "gc_version_held", REF_NCOLS,
	"SELECT EXISTS (SELECT 1 FROM zarr_snapshot_entries e JOIN zarr_snapshots s ON s.id = e.snapshot_id"
	" JOIN zarrs z ON z.id = s.zarr_id WHERE z.zarr_id = $1::uuid AND e.key = $2 AND e.version_id = $3)" };
const struct db_sql *const gc_sql[] = { &gc_uploads, &gc_blobs, &gc_assets, &gc_prune, &gc_report,
	&gc_version_held, &gc_cutoff, NULL };

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

/* The versions of one key, newest first, as ListObjectVersions gives them. */
struct vitem {
	char	*version_id;
	bool	 marker, latest;
	time_t	 modified;
};
struct vsweep {
	struct job	*job;
	struct s3	*s3;
	time_t		 cutoff;	/* non-current since before this: past the grace period */
	char		*key;
	struct vitem	*items;
	size_t		 n, cap;
	long		 removed, markers, held;
	bool		 failed;
};

static time_t
s3_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return (time_t)-1;
	return timegm(&tm);
}

/* Whether a snapshot holds this version (keys outside zarr/ never are). */
static int
version_held(struct vsweep *w, const char *key, const char *vid)
{
	char uuid[37];
	const char *rest;

	if (strncmp(key, "zarr/", 5) != 0 || strlen(key) < 5 + 36 + 2 || key[5 + 36] != '/')
		return 0;
	memcpy(uuid, key + 5, 36);
	uuid[36] = '\0';
	if (!is_uuid(uuid))
		return 0;
	rest = key + 5 + 36 + 1;
	const char *p[3] = { uuid, rest, vid };
	struct arena a;
	arena_init(&a);
	PGresult *r = job_query_in(w->job, &a, &gc_version_held, 3, p);
	int held = r == NULL ? -1 : PQgetvalue(r, 0, REF_HELD)[0] == 't';
	arena_reset(&a);
	return held;
}

static void
vremove(struct vsweep *w, const struct vitem *it)
{
	if (s3_delete_version(w->s3, w->key, it->version_id) == S3_ERROR) {
		log_warn("gc: delete of %s version %s failed: %s", w->key, it->version_id, w->s3->err);
		return;
	}
	if (it->marker)
		w->markers++;
	else
		w->removed++;
}

/* One key's versions: a non-current version goes once it has been
 * non-current (since its successor was written) longer than the grace
 * period and no snapshot holds it; a non-current delete marker likewise;
 * a current delete marker once nothing is left under it. The current
 * version stays. */
static void
vgroup(struct vsweep *w)
{
	size_t left = 0;

	for (size_t i = 0; i < w->n; i++) {
		struct vitem *it = &w->items[i];
		if (it->latest || i == 0) {
			left++;
			continue;
		}
		time_t since = w->items[i - 1].modified;
		int held = it->marker ? 0 : version_held(w, w->key, it->version_id);
		if (since == (time_t)-1 || since >= w->cutoff || held != 0) {
			if (held > 0)
				w->held++;
			if (held < 0)
				w->failed = true;
			left++;
			continue;
		}
		vremove(w, it);
	}
	if (w->n > 0 && w->items[0].latest && w->items[0].marker && left == 1 &&
	    w->items[0].modified != (time_t)-1 && w->items[0].modified < w->cutoff)
		vremove(w, &w->items[0]);
	for (size_t i = 0; i < w->n; i++)
		free(w->items[i].version_id);
	w->n = 0;
}

static int
vlisted(void *arg, const struct s3_version *v)
{
	struct vsweep *w = arg;

	if (w->key == NULL || strcmp(w->key, v->key) != 0) {
		vgroup(w);
		free(w->key);
		w->key = xstrdup(v->key);
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->items = xrealloc(w->items, w->cap * sizeof(*w->items));
	}
	w->items[w->n++] = (struct vitem){ xstrdup(v->version_id), v->delete_marker, v->latest,
	    s3_time(v->last_modified) };
	return 0;
}

/* The versions sweep of a versioned bucket (README: "The S3 bucket"):
 * every key's non-current versions and delete markers that nothing needs.
 * 0, or -1. */
static int
gc_versions(struct job *job, const char *grace, long *removed, long *markers, long *held)
{
	struct vsweep w = { .job = job };
	char *km = NULL, *vm = NULL, *status;
	PGresult *r;
	int rc = 0;

	*removed = *markers = *held = 0;
	if (!*job->cfg->s3_endpoint || (w.s3 = job_s3(job)) == NULL)
		return 0;
	if ((status = s3_get_versioning(w.s3)) == NULL) {
		log_error("gc: bucket versioning: %s", w.s3->err);
		return -1;
	}
	bool versioned = *status != '\0';
	free(status);
	if (!versioned)
		return 0;
	const char *pg[1] = { grace };
	if ((r = job_query(job, &gc_cutoff, 1, pg)) == NULL)
		return -1;
	w.cutoff = (time_t)strtoll(PQgetvalue(r, 0, CUTOFF_EPOCH), NULL, 10);
	for (bool more = true; more;) {
		char *nk = NULL, *nv = NULL;
		if (s3_list_versions_page(w.s3, "", km, vm, 1000, vlisted, &w, &more, &nk, &nv) != S3_OK) {
			log_error("gc: list versions: %s", w.s3->err);
			rc = -1;
			break;
		}
		free(km);
		free(vm);
		km = nk, vm = nv;
	}
	if (rc == 0)
		vgroup(&w);
	for (size_t i = 0; i < w.n; i++)
		free(w.items[i].version_id);
	free(w.items);
	free(w.key);
	free(km);
	free(vm);
	*removed = w.removed, *markers = w.markers, *held = w.held;
	return rc == 0 && !w.failed ? 0 : -1;
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
	long vr, vmk, vh;
	int vrc = gc_versions(job, grace, &vr, &vmk, &vh);
	printf("object versions: %ld non-current deleted, %ld delete markers deleted, %ld kept for zarr snapshots%s\n",
	    vr, vmk, vh, vrc != 0 ? " (the sweep failed)" : "");
	return up < 0 || bl < 0 || as < 0 || vrc != 0 ? 1 : 0;
}
