/*
 * sha256.c - job kind "sha256" {blob}, queued when an upload completes
 * (src/api/uploads.c): the sha256 the original computes after each upload
 * (dandi:sha2-256), from the object's bytes streamed from S3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobsum.h"
#include "jobs.h"
#include "log.h"
#include "rangefeed.h"
#include "util.h"

enum { SHA_BLOB_KEY, SHA_BLOB_SIZE, SHA_BLOB_SHA256, SHA_BLOB_NCOLS };
static const struct db_sql sha_blob = { "sha_blob", SHA_BLOB_NCOLS,
	"SELECT blob, size, sha256 FROM blobs WHERE blob_id = $1::uuid" };
static const struct db_sql sha_store = { "sha_store", 0,
	"UPDATE blobs SET sha256 = $2, modified = now() WHERE blob_id = $1::uuid AND sha256 IS NULL" };
static const struct db_sql *const sha256_sql[] = { &sha_blob, &sha_store, NULL };

static enum job_result
sha256_run(struct job *job)
{
	const char *blob = job_arg(job, "blob");
	struct blobsum sum;
	struct s3 *s3;
	PGresult *r;

	if (blob == NULL || !is_uuid(blob))
		return job_fail(job, JOB_GIVE_UP, "sha256 job without a blob id");
	const char *p1[1] = { blob };
	if ((r = job_query(job, &sha_blob, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0 || !PQgetisnull(r, 0, SHA_BLOB_SHA256))
		return JOB_DONE;	/* gone (garbage-collected) or already done */
	const char *key = PQgetvalue(r, 0, SHA_BLOB_KEY);
	int64_t size = strtoll(PQgetvalue(r, 0, SHA_BLOB_SIZE), NULL, 10);
	/* Any failure of any range (an S3 error, another size, a short read)
	 * stores nothing: the job is tried again. */
	const struct rangefeed_opts ro = { job->cfg->blob_read_streams, job->cfg->blob_read_range_size };
	if ((s3 = job_s3(job)) == NULL)
		return JOB_RETRY;
	char err[512];
	if (blobsum_compute(s3, key, size, false, &ro, &sum, err, sizeof(err)) != S3_OK)
		return job_fail(job, JOB_RETRY, "sha256 of %s: %s", key, err);
	if (sum.bytes != size)	/* blobsum_compute says so already; never store a wrong digest */
		return job_fail(job, JOB_RETRY, "read %lld bytes of %s, expected %lld", (long long)sum.bytes, key,
		    (long long)size);
	const char *p2[2] = { blob, sum.sha256 };
	if (job_exec(job, &sha_store, 2, p2) != 0)
		return JOB_RETRY;
	log_info("sha256 of blob %s: %s", blob, sum.sha256);
	return JOB_DONE;
}

const struct job_kind sha256_job = { "sha256", sha256_run, NULL, sha256_sql };
