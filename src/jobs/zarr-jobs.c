/*
 * zarr-jobs.c - ingest of a zarr archive (the original's
 * ingest_zarr_archive), as a dandi-jobs job kind.
 *
 *  1. Lock the zarr. Uploaded becomes Ingesting (checksum NULL); an
 *     Ingesting zarr (a run that died or failed) resumes from its saved
 *     progress; --force restarts any zarr from scratch.
 *  2. List zarr/<id>/ page by page (ListObjectsV2 with StartAfter = the
 *     last key taken) feeding the streaming checksum tree, which keeps only
 *     the open directories. Every CHECKPOINT_KEYS keys the last key and
 *     the tree go to zarr_ingest_progress, so a run that stops anywhere
 *     resumes there, never from the start.
 *  3. dandi_zarr_ingested(): checksum, file_count, size, Complete; the
 *     drafts' folder sizes, draft and unpublished assets back to Pending.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "s3.h"
#include "util.h"
#include "zarr-jobs.h"
#include "zarrsum.h"

#define CHECKPOINT_KEYS	50000
#define PAGE_KEYS	1000

static const struct db_stmt zstmts[] = {
	{ "zi_lock",
	  "SELECT id, status FROM zarrs WHERE zarr_id = $1::uuid FOR UPDATE" },
	{ "zi_start",
	  "UPDATE zarrs SET status = 'Ingesting', checksum = NULL, modified = now() WHERE id = $1::bigint" },
	{ "zi_forget",
	  "DELETE FROM zarr_ingest_progress WHERE zarr_id = $1::bigint" },
	{ "zi_progress",
	  "SELECT after_key, state FROM zarr_ingest_progress WHERE zarr_id = $1::bigint" },
	{ "zi_save",
	  "INSERT INTO zarr_ingest_progress (zarr_id, after_key, state, leaves) VALUES ($1::bigint, $2, $3, $4::bigint)"
	  " ON CONFLICT (zarr_id) DO UPDATE SET after_key = EXCLUDED.after_key, state = EXCLUDED.state,"
	  "   leaves = EXCLUDED.leaves, modified = now()" },
	{ "zi_done",
	  "SELECT dandi_zarr_ingested($1::bigint, $2, $3::bigint, $4::bigint)" },
	{ "zi_enqueue",
	  "INSERT INTO jobs (kind, args) VALUES ('zarr_ingest',"
	  " jsonb_build_object('key', $1::text, 'zarr', $1::text, 'force', $2::boolean))"
	  " ON CONFLICT DO NOTHING RETURNING id" },
};

static const struct config	*zcfg;
static struct db		 zdb;
static bool			 zdb_ready;
static struct s3		 zs3;
static bool			 zs3_ready;

void
zarr_jobs_init(const struct config *cfg)
{
	zcfg = cfg;
}

void
zarr_jobs_close(void)
{
	if (zdb_ready)
		db_close(&zdb);
	if (zs3_ready)
		s3_free(&zs3);
	zdb_ready = zs3_ready = false;
}

static struct db *
zdb_get(void)
{
	if (!zdb_ready) {
		db_init(&zdb, zcfg->db, zstmts, sizeof(zstmts) / sizeof(zstmts[0]));
		zdb_ready = true;
	}
	return &zdb;
}

static PGresult *
zq(const char *stmt, int n, const char *const *params, char *err, size_t errlen)
{
	return db_query(zdb_get(), stmt, n, params, err, errlen);
}

struct feed {
	struct zarrsum	*tree;
	size_t		 baselen;
	char		*last;		/* last full key taken */
	int64_t		 since_save;
	bool		 failed;
};

static int
feed_key(void *arg, const struct s3_listed *o)
{
	struct feed *f = arg;

	free(f->last);
	f->last = xstrdup(o->key);
	if (strlen(o->key) <= f->baselen)
		return 0;	/* the prefix itself: no file */
	if (zarrsum_add(f->tree, o->key + f->baselen, o->size, o->etag) != 0) {
		f->failed = true;
		return -1;
	}
	f->since_save++;
	return 0;
}

static int
save(const char *zid, struct feed *f, char *err, size_t errlen)
{
	char *state = zarrsum_save(f->tree), leaves[24];
	PGresult *r;

	snprintf(leaves, sizeof(leaves), "%" PRId64, zarrsum_leaves(f->tree));
	const char *p[4] = { zid, f->last ? f->last : "", state, leaves };
	r = zq("zi_save", 4, p, err, errlen);
	free(state);
	if (r == NULL)
		return -1;
	PQclear(r);
	f->since_save = 0;
	return 0;
}

int
zarr_job_ingest(struct json_object *args, char *err, size_t errlen)
{
	struct json_object *v;
	const char *uuid = json_object_object_get_ex(args, "zarr", &v) ? json_object_get_string(v) : NULL;
	bool force = json_object_object_get_ex(args, "force", &v) && json_object_get_boolean(v);
	struct db *db = zdb_get();
	PGresult *r;
	char zid[24];
	int rc = -1;

	if (uuid == NULL || !is_uuid(uuid)) {
		snprintf(err, errlen, "zarr_ingest job without a zarr id");
		return -2;
	}
	/* 1. Claim the zarr for ingesting. */
	if (db_begin(db) != DB_OK) {
		snprintf(err, errlen, "database unavailable");
		return -1;
	}
	const char *p1[1] = { uuid };
	if ((r = zq("zi_lock", 1, p1, err, errlen)) == NULL) {
		db_rollback(db);
		return -1;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_rollback(db);
		return 0;	/* gone with its dandiset */
	}
	snprintf(zid, sizeof(zid), "%s", PQgetvalue(r, 0, 0));
	char status[16];
	snprintf(status, sizeof(status), "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	const char *pz[1] = { zid };
	bool fresh = force || strcmp(status, "Uploaded") == 0;
	if (!fresh && strcmp(status, "Ingesting") != 0) {
		db_rollback(db);
		log_info("zarr %s is %s: nothing to ingest", uuid, status);
		return 0;
	}
	if (fresh) {
		if ((r = zq("zi_start", 1, pz, err, errlen)) == NULL) {
			db_rollback(db);
			return -1;
		}
		PQclear(r);
		if ((r = zq("zi_forget", 1, pz, err, errlen)) == NULL) {
			db_rollback(db);
			return -1;
		}
		PQclear(r);
	}
	if (db_commit(db) != DB_OK) {
		snprintf(err, errlen, "commit failed");
		return -1;
	}

	/* 2. Resume or start the tree. */
	struct feed f = { NULL, 0, NULL, 0, false };
	if ((r = zq("zi_progress", 1, pz, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		f.tree = zarrsum_load(PQgetvalue(r, 0, 1));
		f.last = xstrdup(PQgetvalue(r, 0, 0));
		if (f.tree == NULL)
			log_warn("zarr %s: saved progress unreadable, starting over", uuid);
		else
			log_info("zarr %s: resuming after %s (%" PRId64 " files)", uuid, f.last,
			    zarrsum_leaves(f.tree));
	}
	PQclear(r);
	if (f.tree == NULL) {
		free(f.last);
		f.last = NULL;
		f.tree = zarrsum_new();
	}
	if (!zs3_ready) {
		if (s3_init(&zs3, zcfg) != 0) {
			snprintf(err, errlen, "S3 is not configured");
			goto out;
		}
		zs3_ready = true;
	}
	char *base = xmalloc(strlen(uuid) + 8);
	sprintf(base, "zarr/%s/", uuid);
	f.baselen = strlen(base);
	/* A test hook: stop (as if killed) after this many pages. */
	const char *stop_env = getenv("DANDI_ZARR_INGEST_STOP_AFTER_PAGES");
	long stop_after = stop_env ? strtol(stop_env, NULL, 10) : -1, pages = 0;
	time_t t0 = time(NULL);
	for (bool more = true; more;) {
		int st = s3_list_page(&zs3, base, f.last, NULL, PAGE_KEYS, feed_key, &f, &more, NULL);
		if (f.failed) {
			snprintf(err, errlen, "zarr %s: %s", uuid, zarrsum_error(f.tree));
			free(base);
			rc = -2;	/* the listing itself is at fault: no retry helps */
			goto out;
		}
		if (st != S3_OK) {
			snprintf(err, errlen, "list %s: %s", base, zs3.err);
			free(base);
			goto out;
		}
		pages++;
		if (more && (f.since_save >= CHECKPOINT_KEYS || (stop_after >= 0 && pages >= stop_after))) {
			if (save(pz[0], &f, err, errlen) != 0) {
				free(base);
				goto out;
			}
			if (stop_after >= 0 && pages >= stop_after) {
				snprintf(err, errlen, "stopped after %ld pages (test hook)", pages);
				free(base);
				goto out;
			}
		}
	}
	free(base);

	/* 3. The result. */
	char sum[ZARRSUM_LEN], files[24], bytes[24];
	int64_t count = 0, size = 0;
	if (zarrsum_finish(f.tree, sum) != 0) {
		snprintf(err, errlen, "zarr %s: %s", uuid, zarrsum_error(f.tree));
		rc = -2;
		goto out;
	}
	zarrsum_parse(sum, NULL, &count, &size);
	snprintf(files, sizeof(files), "%" PRId64, count);
	snprintf(bytes, sizeof(bytes), "%" PRId64, size);
	const char *pd[4] = { zid, sum, files, bytes };
	if ((r = zq("zi_done", 4, pd, err, errlen)) == NULL)
		goto out;
	bool stored = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (stored)
		log_info("zarr %s: %s (%" PRId64 " files, %" PRId64 " bytes, %ld s)", uuid, sum, count, size,
		    (long)(time(NULL) - t0));
	else
		log_warn("zarr %s changed while ingesting; result %s dropped", uuid, sum);
	rc = 0;
out:
	zarrsum_free(f.tree);
	free(f.last);
	return rc;
}

int
zarr_cmd_ingest(int argc, char **argv)
{
	bool force = false;
	const char *id = NULL;
	char err[512];

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)
			force = true;
		else
			id = argv[i];
	}
	if (id == NULL || !is_uuid(id)) {
		fprintf(stderr, "usage: dandi-jobs zarr-ingest [--force] ZARR_ID\n");
		return 2;
	}
	const char *p[2] = { id, force ? "t" : "f" };
	PGresult *r = zq("zi_enqueue", 2, p, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		return 1;
	}
	printf("%s\n", PQntuples(r) ? "queued" : "already queued");
	PQclear(r);
	return 0;
}
