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
 *
 * `dandi-jobs zarr-ingest [--force] ZARR_ID` queues one by hand.
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

#define CHECKPOINT_KEYS	50000
#define PAGE_KEYS	1000

enum { LOCK_ID, LOCK_STATUS, LOCK_NCOLS };
static const struct db_sql zi_lock = { "zi_lock", LOCK_NCOLS,
	"SELECT id, status FROM zarrs WHERE zarr_id = $1::uuid FOR UPDATE" };
static const struct db_sql zi_start = { "zi_start", 0,
	"UPDATE zarrs SET status = 'Ingesting', checksum = NULL, modified = now() WHERE id = $1::bigint" };
static const struct db_sql zi_forget = { "zi_forget", 0,
	"DELETE FROM zarr_ingest_progress WHERE zarr_id = $1::bigint" };
enum { PROGRESS_AFTER_KEY, PROGRESS_STATE, PROGRESS_NCOLS };
static const struct db_sql zi_progress = { "zi_progress", PROGRESS_NCOLS,
	"SELECT after_key, state FROM zarr_ingest_progress WHERE zarr_id = $1::bigint" };
static const struct db_sql zi_save = { "zi_save", 0,
	"INSERT INTO zarr_ingest_progress (zarr_id, after_key, state, leaves) VALUES ($1::bigint, $2, $3, $4::bigint)"
	" ON CONFLICT (zarr_id) DO UPDATE SET after_key = EXCLUDED.after_key, state = EXCLUDED.state,"
	"   leaves = EXCLUDED.leaves, modified = now()" };
enum { DONE_STORED, DONE_NCOLS };
static const struct db_sql zi_done = { "zi_done", DONE_NCOLS,
	"SELECT dandi_zarr_ingested($1::bigint, $2, $3::bigint, $4::bigint)" };
enum { ENQUEUED_ID, ENQUEUED_NCOLS };
static const struct db_sql zi_enqueue = { "zi_enqueue", ENQUEUED_NCOLS,
	"SELECT dandi_enqueue('zarr_ingest', $1::text, jsonb_build_object('zarr', $1::text, 'force', $2::boolean))" };
static const struct db_sql *const zarr_sql[] = {
	&zi_lock, &zi_start, &zi_forget, &zi_progress, &zi_save, &zi_done, &zi_enqueue, NULL
};

/* The listing as it is fed to the checksum tree. */
struct feed {
	struct zarrsum	*tree;
	const char	*zid;		/* zarrs.id */
	const char	*base;		/* zarr/<uuid>/ */
	size_t		 baselen;
	char		 last[1100];	/* the last full key taken (S3 keys: at most 1024 bytes) */
	int64_t		 since_save;
	bool		 failed;
};

static int
feed_key(void *arg, const struct s3_listed *o)
{
	struct feed *f = arg;

	snprintf(f->last, sizeof(f->last), "%s", o->key);
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
save(struct job *job, struct feed *f)
{
	char *state = zarrsum_save(f->tree), leaves[24];

	snprintf(leaves, sizeof(leaves), "%" PRId64, zarrsum_leaves(f->tree));
	const char *p[4] = { f->zid, f->last, state, leaves };
	int rc = job_exec(job, &zi_save, 4, p);
	free(state);
	if (rc == 0)
		f->since_save = 0;
	return rc;
}

static void
zarrsum_free_cb(void *tree)
{
	zarrsum_free(tree);
}

/* 1. Claims the zarr for ingesting: 1 to ingest (zid set), 0 nothing to
 * do, -1 failed. */
static int
claim(struct job *job, const char *uuid, bool force, const char **zid)
{
	PGresult *r;
	const char *p1[1] = { uuid };

	if (job_begin(job) != 0 || (r = job_query(job, &zi_lock, 1, p1)) == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return 0;	/* gone with its dandiset */
	const char *status = PQgetvalue(r, 0, LOCK_STATUS), *pz[1] = { PQgetvalue(r, 0, LOCK_ID) };
	bool fresh = force || strcmp(status, "Uploaded") == 0;
	if (!fresh && strcmp(status, "Ingesting") != 0) {
		log_info("zarr %s is %s: nothing to ingest", uuid, status);
		return 0;
	}
	if (fresh && (job_exec(job, &zi_start, 1, pz) != 0 || job_exec(job, &zi_forget, 1, pz) != 0))
		return -1;
	*zid = pz[0];
	return job_commit(job) == 0 ? 1 : -1;
}

/* 2. The tree from the saved progress, or a new one. */
static int
resume(struct job *job, const char *uuid, struct feed *f)
{
	const char *pz[1] = { f->zid };
	PGresult *r = job_query(job, &zi_progress, 1, pz);

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1 && (f->tree = zarrsum_load(PQgetvalue(r, 0, PROGRESS_STATE))) != NULL) {
		snprintf(f->last, sizeof(f->last), "%s", PQgetvalue(r, 0, PROGRESS_AFTER_KEY));
		log_info("zarr %s: resuming after %s (%" PRId64 " files)", uuid, f->last, zarrsum_leaves(f->tree));
	} else {
		if (PQntuples(r) == 1)
			log_warn("zarr %s: saved progress unreadable, starting over", uuid);
		f->tree = zarrsum_new();
	}
	arena_defer(&job->arena, zarrsum_free_cb, f->tree);
	return 0;
}

/* 2. Lists the zarr page by page into the tree, saving the progress every
 * CHECKPOINT_KEYS keys. */
static enum job_result
list(struct job *job, const char *uuid, struct feed *f)
{
	struct s3 *s3 = job_s3(job);
	/* A test hook: stop (as if killed) after this many pages. */
	const char *stop_env = getenv("DANDI_ZARR_INGEST_STOP_AFTER_PAGES");
	long stop_after = stop_env ? strtol(stop_env, NULL, 10) : -1, pages = 0;

	if (s3 == NULL)
		return JOB_RETRY;
	for (bool more = true; more;) {
		int st = s3_list_page(s3, f->base, *f->last ? f->last : NULL, NULL, PAGE_KEYS, feed_key, f, &more,
		    NULL);
		if (f->failed)	/* the listing itself is at fault: no retry helps */
			return job_fail(job, JOB_GIVE_UP, "zarr %s: %s", uuid, zarrsum_error(f->tree));
		if (st != S3_OK)
			return job_fail(job, JOB_RETRY, "list %s: %s", f->base, s3->err);
		pages++;
		if (!more || (f->since_save < CHECKPOINT_KEYS && (stop_after < 0 || pages < stop_after)))
			continue;
		if (save(job, f) != 0)
			return JOB_RETRY;
		if (stop_after >= 0 && pages >= stop_after)
			return job_fail(job, JOB_RETRY, "stopped after %ld pages (test hook)", pages);
	}
	return JOB_DONE;
}

static enum job_result
zarr_ingest_run(struct job *job)
{
	struct json_object *v;
	const char *uuid = job_arg(job, "zarr");
	bool force = json_object_object_get_ex(job->args, "force", &v) && json_object_get_boolean(v);
	struct feed f = { .last = "" };
	char sum[ZARRSUM_LEN], files[24], bytes[24];
	int64_t count = 0, size = 0;
	time_t t0 = time(NULL);
	enum job_result rc;
	PGresult *r;
	int got;

	if (uuid == NULL || !is_uuid(uuid))
		return job_fail(job, JOB_GIVE_UP, "zarr_ingest job without a zarr id");
	if ((got = claim(job, uuid, force, &f.zid)) <= 0)
		return got == 0 ? JOB_DONE : JOB_RETRY;
	f.base = arena_printf(&job->arena, "zarr/%s/", uuid);
	f.baselen = strlen(f.base);
	if (resume(job, uuid, &f) != 0)
		return JOB_RETRY;
	if ((rc = list(job, uuid, &f)) != JOB_DONE)
		return rc;

	/* 3. The result. */
	if (zarrsum_finish(f.tree, sum) != 0)
		return job_fail(job, JOB_GIVE_UP, "zarr %s: %s", uuid, zarrsum_error(f.tree));
	zarrsum_parse(sum, NULL, &count, &size);
	snprintf(files, sizeof(files), "%" PRId64, count);
	snprintf(bytes, sizeof(bytes), "%" PRId64, size);
	const char *pd[4] = { f.zid, sum, files, bytes };
	if ((r = job_query(job, &zi_done, 4, pd)) == NULL)
		return JOB_RETRY;
	if (PQgetvalue(r, 0, DONE_STORED)[0] == 't')
		log_info("zarr %s: %s (%" PRId64 " files, %" PRId64 " bytes, %ld s)", uuid, sum, count, size,
		    (long)(time(NULL) - t0));
	else
		log_warn("zarr %s changed while ingesting; result %s dropped", uuid, sum);
	return JOB_DONE;
}

int
zarr_ingest_cmd(struct job *job, int argc, char **argv)
{
	bool force = false;
	const char *id = NULL;
	PGresult *r;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)
			force = true;
		else
			id = argv[i];
	}
	if (id == NULL || !is_uuid(id))
		return JOB_USAGE;
	const char *p[2] = { id, force ? "t" : "f" };
	if ((r = job_query(job, &zi_enqueue, 2, p)) == NULL)
		return job_exit_err(job);
	printf("%s\n", !PQgetisnull(r, 0, ENQUEUED_ID) ? "queued" : "already queued");
	return 0;
}

const struct job_kind zarr_ingest_job = { "zarr_ingest", zarr_ingest_run, NULL, zarr_sql };
