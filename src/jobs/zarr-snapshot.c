/*
 * zarr-snapshot.c - the zarr side of a publish (src/jobs/publish.c): each
 * zarr archive of the draft is frozen as a snapshot, the S3 version id,
 * size and ETag of every key under zarr/<zarr_id>/ (sql/020), which the
 * published version's zarr assets then resolve to while the draft zarr
 * keeps changing. Needs bucket versioning (README: "The S3 bucket").
 *
 *  1. zarr_snapshots_take(), before the publish transaction: for every
 *     zarr of the draft (Complete, its checksum the one its assets
 *     claim), the snapshot of that checksum is reused when Complete, else
 *     taken: ListObjectVersions page by page, the current version of each
 *     key into zarr_snapshot_entries, each page in one transaction with
 *     the listing's next markers and the checksum tree so far, so a run
 *     that stops anywhere resumes at the next page (a page written twice
 *     changes nothing). At the end the entries' own checksum must be the
 *     zarr's: a zarr changed while it was listed is not published.
 *  2. zarr_snapshots_attach(), in the publish transaction: with the zarrs
 *     locked, still Complete at the snapshot's checksum, the new version
 *     maps each to its snapshot (version_zarr_snapshots).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "log.h"
#include "util.h"
#include "zarrsum.h"

#define SNAPSHOT_PAGE	1000	/* versions per ListObjectVersions page and transaction */

/* The draft's zarrs; digest_ok false when one of its published (frozen)
 * assets claims another checksum than the zarr has now. */
enum { ZZ_ID, ZZ_UUID, ZZ_STATUS, ZZ_CHECKSUM, ZZ_DIGEST_OK, ZZ_NCOLS };
static const struct db_sql zs_zarrs = { "zs_zarrs", ZZ_NCOLS,
	"SELECT z.id, z.zarr_id::text, z.status, z.checksum,"
	" bool_and(NOT a.published OR a.metadata->'digest'->>'dandi:dandi-zarr-checksum' IS NOT DISTINCT FROM z.checksum)"
	" FROM asset_versions av JOIN assets a ON a.id = av.asset_id JOIN zarrs z ON z.id = a.zarr_id"
	" WHERE av.version_id = $1::bigint GROUP BY z.id ORDER BY z.id" };
static const struct db_sql zs_create = { "zs_create", 0,
	"INSERT INTO zarr_snapshots (zarr_id, checksum) VALUES ($1::bigint, $2)"
	" ON CONFLICT (zarr_id, checksum) DO NOTHING" };
enum { ZS_ID, ZS_STATUS, ZS_KEY_MARKER, ZS_VERSION_MARKER, ZS_STATE, ZS_NCOLS };
static const struct db_sql zs_get = { "zs_get", ZS_NCOLS,
	"SELECT id, status, key_marker, version_marker, state FROM zarr_snapshots"
	" WHERE zarr_id = $1::bigint AND checksum = $2 FOR UPDATE" };
/* One page: its entries and where the listing goes on. */
static const struct db_sql zs_page = { "zs_page", 0,
	"WITH ins AS (INSERT INTO zarr_snapshot_entries (snapshot_id, key, version_id, size, etag, last_modified)"
	"   SELECT $1::bigint, e.k, e.v, e.s, e.e, e.m"
	"   FROM jsonb_to_recordset($2::jsonb) AS e(k text, v text, s bigint, e text, m timestamptz)"
	"   ON CONFLICT (snapshot_id, key) DO NOTHING)"
	" UPDATE zarr_snapshots SET key_marker = $3, version_marker = $4, state = $5 WHERE id = $1::bigint" };
static const struct db_sql zs_done = { "zs_done", 0,
	"UPDATE zarr_snapshots SET status = 'Complete', file_count = $2::bigint, size = $3::bigint, state = NULL,"
	" key_marker = '', version_marker = '', completed = now() WHERE id = $1::bigint" };
static const struct db_sql zs_discard = { "zs_discard", 0,
	"DELETE FROM zarr_snapshots WHERE id = $1::bigint AND status = 'Listing'" };
/* In the publish transaction: the draft's zarrs locked against changes,
 * each with its Complete snapshot at its current checksum (or NULL). */
enum { ZA_UUID, ZA_SNAPSHOT, ZA_NCOLS };
static const struct db_sql zs_attach_check = { "zs_attach_check", ZA_NCOLS,
	"SELECT z.zarr_id::text, s.id FROM zarrs z"
	" LEFT JOIN zarr_snapshots s ON s.zarr_id = z.id AND s.checksum = z.checksum AND s.status = 'Complete'"
	" WHERE z.id IN (SELECT a.zarr_id FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	"   WHERE av.version_id = $1::bigint AND a.zarr_id IS NOT NULL)"
	" ORDER BY z.id FOR SHARE OF z" };
static const struct db_sql zs_attach = { "zs_attach", 0,
	"INSERT INTO version_zarr_snapshots (version_id, zarr_id, snapshot_id)"
	" SELECT $2::bigint, z.id, s.id FROM zarrs z"
	" JOIN zarr_snapshots s ON s.zarr_id = z.id AND s.checksum = z.checksum AND s.status = 'Complete'"
	" WHERE z.id IN (SELECT a.zarr_id FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	"   WHERE av.version_id = $1::bigint AND a.zarr_id IS NOT NULL)" };
const struct db_sql *const zarr_snapshot_sql[] = {
	&zs_zarrs, &zs_create, &zs_get, &zs_page, &zs_done, &zs_discard, &zs_attach_check, &zs_attach, NULL
};

/* One page of the versioned listing as it is read. */
struct snap_page {
	struct zarrsum	*tree;
	const char	*base;		/* zarr/<uuid>/ */
	size_t		 baselen;
	struct buf	 rows;		/* the JSON array of the page's entries */
	size_t		 n;
	bool		 failed;	/* the checksum tree refused a key */
};

static int
snap_version(void *arg, const struct s3_version *v)
{
	struct snap_page *p = arg;

	/* Only what a plain listing shows now: the latest version of keys
	 * that are not deleted. */
	if (!v->latest || v->delete_marker || strlen(v->key) <= p->baselen ||
	    strncmp(v->key, p->base, p->baselen) != 0)
		return 0;
	const char *path = v->key + p->baselen;
	if (zarrsum_add(p->tree, path, v->size, v->etag) != 0) {
		p->failed = true;
		return -1;
	}
	buf_puts(&p->rows, p->n++ ? ",{\"k\":" : "{\"k\":");
	buf_json_string(&p->rows, path);
	buf_puts(&p->rows, ",\"v\":");
	buf_json_string(&p->rows, v->version_id);
	buf_printf(&p->rows, ",\"s\":%" PRId64 ",\"e\":", v->size);
	buf_json_string(&p->rows, v->etag);
	buf_puts(&p->rows, ",\"m\":");
	buf_json_string(&p->rows, v->last_modified);
	buf_puts(&p->rows, "}");
	return 0;
}

static void
zarrsum_free_cb(void *tree)
{
	zarrsum_free(tree);
}

/* Takes (or finishes) the snapshot of one zarr at checksum. */
static enum job_result
snapshot_one(struct job *job, struct s3 *s3, const char *zid, const char *uuid, const char *checksum)
{
	/* A test hook: stop (as if killed) after this many pages. */
	const char *stop_env = getenv("DANDI_ZARR_SNAPSHOT_STOP_AFTER_PAGES");
	long stop_after = stop_env ? strtol(stop_env, NULL, 10) : -1, pages = 0;
	/* and a smaller page, so that a test's few keys take several */
	const char *page_env = getenv("DANDI_ZARR_SNAPSHOT_PAGE_KEYS");
	int page_keys = page_env && atoi(page_env) > 0 ? atoi(page_env) : SNAPSHOT_PAGE;
	const char *pz[2] = { zid, checksum };
	struct snap_page p = { .base = arena_printf(&job->arena, "zarr/%s/", uuid) };
	char key_marker[2100], version_marker[1100];	/* S3 keys: at most 1024 bytes */
	time_t t0 = time(NULL);
	PGresult *r;

	p.baselen = strlen(p.base);
	if (job_begin(job) != 0 || job_exec(job, &zs_create, 2, pz) != 0 || (r = job_query(job, &zs_get, 2, pz)) == NULL)
		return JOB_RETRY;
	const char *sid = PQgetvalue(r, 0, ZS_ID);
	if (strcmp(PQgetvalue(r, 0, ZS_STATUS), "Complete") == 0) {
		log_info("zarr %s: snapshot %s of %s reused", uuid, sid, checksum);
		return job_commit(job) == 0 ? JOB_DONE : JOB_RETRY;
	}
	snprintf(key_marker, sizeof(key_marker), "%s", PQgetvalue(r, 0, ZS_KEY_MARKER));
	snprintf(version_marker, sizeof(version_marker), "%s", PQgetvalue(r, 0, ZS_VERSION_MARKER));
	if (!PQgetisnull(r, 0, ZS_STATE) && *key_marker) {
		if ((p.tree = zarrsum_load(PQgetvalue(r, 0, ZS_STATE))) == NULL)
			return job_fail(job, JOB_GIVE_UP, "zarr %s: snapshot %s: saved state unreadable", uuid, sid);
		log_info("zarr %s: snapshot %s resumed after %s (%" PRId64 " keys)", uuid, sid, key_marker,
		    zarrsum_leaves(p.tree));
	} else
		p.tree = zarrsum_new();
	arena_defer(&job->arena, zarrsum_free_cb, p.tree);
	if (job_commit(job) != 0)
		return JOB_RETRY;

	for (bool more = true; more;) {
		char *nk = NULL, *nv = NULL;
		buf_init(&p.rows);
		buf_puts(&p.rows, "[");
		p.n = 0;
		int st = s3_list_versions_page(s3, p.base, key_marker, version_marker, page_keys, snap_version, &p,
		    &more, &nk, &nv);
		buf_puts(&p.rows, "]");
		if (p.failed) {
			buf_free(&p.rows);
			free(nk);
			free(nv);
			return job_fail(job, JOB_GIVE_UP, "zarr %s: %s", uuid, zarrsum_error(p.tree));
		}
		if (st != S3_OK) {
			buf_free(&p.rows);
			return job_fail(job, JOB_RETRY, "zarr %s: list versions: %s", uuid, s3->err);
		}
		char *state = zarrsum_save(p.tree);
		const char *pp[5] = { sid, p.rows.data, more && nk ? nk : "", more && nv ? nv : "", state };
		struct arena pa;	/* the page's result, freed with it: flat memory */
		arena_init(&pa);
		int rc = job_begin(job) == 0 && job_query_in(job, &pa, &zs_page, 5, pp) != NULL &&
		    job_commit(job) == 0 ? 0 : -1;
		arena_reset(&pa);
		free(state);
		buf_free(&p.rows);
		snprintf(key_marker, sizeof(key_marker), "%s", more && nk ? nk : "");
		snprintf(version_marker, sizeof(version_marker), "%s", more && nv ? nv : "");
		free(nk);
		free(nv);
		if (rc != 0)
			return JOB_RETRY;
		pages++;
		if (more && stop_after >= 0 && pages >= stop_after)
			return job_fail(job, JOB_RETRY, "snapshot stopped after %ld pages (test hook)", pages);
	}

	/* The entries must add up to the checksum the assets claim. */
	char sum[ZARRSUM_LEN], files[24], bytes[24];
	int64_t count = 0, size = 0;
	const char *pd[1] = { sid };
	if (zarrsum_finish(p.tree, sum) != 0)
		return job_fail(job, JOB_GIVE_UP, "zarr %s: %s", uuid, zarrsum_error(p.tree));
	if (strcmp(sum, checksum) != 0) {
		(void)job_exec(job, &zs_discard, 1, pd);
		return job_fail(job, JOB_GIVE_UP, "zarr %s changed while its snapshot was taken (%s, not %s):"
		    " publish again once it is Complete", uuid, sum, checksum);
	}
	zarrsum_parse(sum, NULL, &count, &size);
	snprintf(files, sizeof(files), "%" PRId64, count);
	snprintf(bytes, sizeof(bytes), "%" PRId64, size);
	const char *pc[3] = { sid, files, bytes };
	if (job_exec(job, &zs_done, 3, pc) != 0)
		return JOB_RETRY;
	log_info("zarr %s: snapshot %s taken: %" PRId64 " keys, %" PRId64 " bytes, %ld s", uuid, sid, count, size,
	    (long)(time(NULL) - t0));
	return JOB_DONE;
}

enum job_result
zarr_snapshots_take(struct job *job, const char *draft)
{
	const char *p1[1] = { draft };
	struct s3 *s3 = NULL;
	enum job_result rc;
	PGresult *r;

	if ((r = job_query(job, &zs_zarrs, 1, p1)) == NULL)
		return JOB_RETRY;
	int n = PQntuples(r);
	if (n == 0)
		return JOB_DONE;
	for (int i = 0; i < n; i++) {
		const char *uuid = PQgetvalue(r, i, ZZ_UUID);
		if (strcmp(PQgetvalue(r, i, ZZ_STATUS), "Complete") != 0)
			return job_fail(job, JOB_GIVE_UP, "zarr %s is %s, not Complete", uuid, PQgetvalue(r, i, ZZ_STATUS));
		if (PQgetvalue(r, i, ZZ_DIGEST_OK)[0] != 't')
			return job_fail(job, JOB_GIVE_UP, "zarr %s has changed since its asset was made", uuid);
	}
	if ((s3 = job_s3(job)) == NULL)
		return JOB_RETRY;
	char *vs = s3_get_versioning(s3);
	if (vs == NULL)
		return job_fail(job, JOB_RETRY, "bucket versioning: %s", s3->err);
	bool on = strcmp(vs, "Enabled") == 0;
	free(vs);
	if (!on)
		return job_fail(job, JOB_GIVE_UP, "bucket versioning is not Enabled: zarr archives cannot be published");
	/* The rows are read before the loop's transactions replace r. */
	char **ids = arena_alloc(&job->arena, sizeof(char *) * (size_t)n * 3);
	for (int i = 0; i < n; i++) {
		ids[3 * i] = arena_strdup(&job->arena, PQgetvalue(r, i, ZZ_ID));
		ids[3 * i + 1] = arena_strdup(&job->arena, PQgetvalue(r, i, ZZ_UUID));
		ids[3 * i + 2] = arena_strdup(&job->arena, PQgetvalue(r, i, ZZ_CHECKSUM));
	}
	for (int i = 0; i < n; i++)
		if ((rc = snapshot_one(job, s3, ids[3 * i], ids[3 * i + 1], ids[3 * i + 2])) != JOB_DONE)
			return rc;
	return JOB_DONE;
}

enum job_result
zarr_snapshots_attach(struct job *job, const char *draft, const char *version)
{
	const char *p1[1] = { draft }, *p2[2] = { draft, version };
	PGresult *r;

	if ((r = job_query(job, &zs_attach_check, 1, p1)) == NULL)
		return JOB_RETRY;
	for (int i = 0; i < PQntuples(r); i++)
		if (PQgetisnull(r, i, ZA_SNAPSHOT))
			return job_fail(job, JOB_GIVE_UP, "zarr %s changed during the publish",
			    PQgetvalue(r, i, ZA_UUID));
	if (PQntuples(r) > 0 && job_exec(job, &zs_attach, 2, p2) != 0)
		return JOB_RETRY;
	return JOB_DONE;
}
