/*
 * verify.c - `dandi-jobs verify`: reads stored blobs back from S3 and
 * checks them against what the archive recorded, oldest check first
 * (never-verified blobs before all others).
 *
 * A blob is claimed by locking its blob_integrity row with FOR UPDATE SKIP
 * LOCKED in a transaction that stays open while the object streams, and
 * the result is written and committed in that same transaction: two
 * verifiers never check one blob at once, and a verifier that dies drops
 * its connection, its lock and its unfinished check, so the next run takes
 * the blob again. The blobs row itself gets only FOR KEY SHARE (what the
 * foreign key of the record takes anyway, taken up front so the garbage
 * collector, which deletes blobs, cannot deadlock with us).
 *
 * Checked: the object exists; its size (HEAD and bytes read); its S3 ETag
 * where it is comparable (a multipart ETag must be the blob's dandi-etag, a
 * plain one the md5 of a single-part blob); the sha256 and the dandi-etag
 * recomputed from the bytes. S3 errors (not answers) are no verdict: the
 * run stops, records nothing for that blob and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "blobsum.h"
#include "jobs.h"
#include "log.h"
#include "rangefeed.h"
#include "util.h"

/* The run's start: blobs checked since are not due again in this run
 * (else --older-than 0 would go round for ever). */
enum { START_NOW, START_NCOLS };
static const struct db_sql vf_start = { "vf_start", START_NCOLS,
	"SELECT now()::text" };
/* $1: how old a check must be to be done again, $2 the run's start.
 * PostgreSQL locks a row's tables in the order of these clauses and keeps
 * a lock it took before skipping the row: the blob goes first, so a blob
 * the collector holds is passed over without leaving its blob_integrity
 * row locked (the collector's cascading delete would wait on it for the
 * whole check of the next blob). A blob row kept KEY SHARE locked by a
 * skip only makes the collector skip it too. */
enum { CLAIM_ROW, CLAIM_UUID, CLAIM_KEY, CLAIM_SIZE, CLAIM_ETAG, CLAIM_SHA256, CLAIM_NCOLS };
static const struct db_sql vf_claim = { "vf_claim", CLAIM_NCOLS,
	"SELECT i.blob_id, b.blob_id, b.blob, b.size, b.etag, b.sha256"
	" FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id"
	" WHERE b.sha256 IS NOT NULL AND (i.checked_at IS NULL OR i.checked_at < $2::timestamptz - $1::interval)"
	" ORDER BY i.checked_at NULLS FIRST, i.blob_id LIMIT 1"
	" FOR KEY SHARE OF b SKIP LOCKED FOR UPDATE OF i SKIP LOCKED" };
static const struct db_sql vf_record = { "vf_record", 0,
	"WITH rec AS (INSERT INTO blob_verifications (blob_id, ok, detail)"
	"   VALUES ($1::bigint, $2::boolean, $3) RETURNING checked_at)"
	" UPDATE blob_integrity SET checked_at = (SELECT checked_at FROM rec), ok = $2::boolean, detail = $3"
	" WHERE blob_id = $1::bigint" };
static const struct db_sql vf_prune = { "vf_prune", 0,
	"DELETE FROM blob_verifications WHERE ok AND checked_at < now() - interval '90 days'" };
/* The failures an admin must look at: blobs whose last check failed (with
 * --all, every failed check ever recorded). */
enum { REPORT_UUID, REPORT_KEY, REPORT_CHECKED, REPORT_DETAIL, REPORT_NCOLS };
static const struct db_sql vf_report = { "vf_report", REPORT_NCOLS,
	"SELECT b.blob_id, b.blob, to_char(i.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), i.detail"
	" FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id WHERE NOT i.ok"
	" ORDER BY i.checked_at, i.blob_id" };
static const struct db_sql vf_report_all = { "vf_report_all", REPORT_NCOLS,
	"SELECT b.blob_id, b.blob, to_char(v.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v.detail"
	" FROM blob_verifications v JOIN blobs b ON b.id = v.blob_id WHERE NOT v.ok"
	" ORDER BY v.checked_at, v.id" };
enum { SUMMARY_BLOBS, SUMMARY_NEVER, SUMMARY_FAILING, SUMMARY_NCOLS };
static const struct db_sql vf_summary = { "vf_summary", SUMMARY_NCOLS,
	"SELECT count(*), count(*) FILTER (WHERE checked_at IS NULL), count(*) FILTER (WHERE NOT ok)"
	" FROM blob_integrity" };
const struct db_sql *const verify_sql[] = {
	&vf_start, &vf_claim, &vf_record, &vf_prune, &vf_report, &vf_report_all, &vf_summary, NULL
};

/* job_query for verify: a failure is said in the log and on stderr. */
static PGresult *
vq(struct job *job, const struct db_sql *q, int n, const char *const *params)
{
	PGresult *r = job_query(job, q, n, params);

	if (r == NULL) {
		log_error("verify: %s", job->err);
		fprintf(stderr, "dandi-jobs verify: %s\n", job->err);
	}
	return r;
}

/* Whether S3's ETag agrees with the blob's dandi-etag, where S3 computed
 * it in a way the archive can compare: multipart ("md5-N") must be the
 * dandi-etag itself; a plain md5, for a single-part blob, is that part's
 * md5, so md5(it) "-1" must be the dandi-etag. Anything else (a multi-part
 * blob rewritten in one PUT or copied) says nothing: true. */
static bool
s3_etag_agrees(const char *s3_etag, const char *dandi_etag)
{
	const char *dash = strchr(dandi_etag, '-');
	unsigned char part[16], md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[33], want[48];

	if (strchr(s3_etag, '-') != NULL)
		return strcmp(s3_etag, dandi_etag) == 0;
	if (dash == NULL || strcmp(dash, "-1") != 0 || strlen(s3_etag) != 32)
		return true;
	for (int k = 0; k < 16; k++) {
		unsigned int v;
		if (sscanf(s3_etag + 2 * k, "%2x", &v) != 1)
			return true;
		part[k] = (unsigned char)v;
	}
	if (EVP_Digest(part, sizeof(part), md, &n, EVP_md5(), NULL) != 1)
		return true;
	hex_encode(md, 16, hex);
	snprintf(want, sizeof(want), "%s-1", hex);
	return strcmp(want, dandi_etag) == 0;
}

/* One blob's checks; detail gets what is wrong ("" when all is well).
 * 0: a verdict, -1: S3 failed (no verdict). */
static int
check_blob(struct s3 *s3, const struct rangefeed_opts *ropts, const char *key, int64_t size, const char *etag,
    const char *sha256, struct buf *detail)
{
	struct s3_object obj = { 0 };
	struct blobsum sum;
	char err[512];

	int st = s3_head(s3, key, &obj);
	if (st == S3_NOT_FOUND) {
		buf_printf(detail, "missing: no object %s in S3", key);
		return 0;
	}
	if (st != S3_OK) {
		log_error("verify: HEAD %s: %s", key, s3->err);
		return -1;
	}
	if (obj.size != size) {
		/* Wrong already: reading what may be far more bytes says no more. */
		buf_printf(detail, "size: S3 has %lld bytes, the blob %lld", (long long)obj.size, (long long)size);
		s3_object_free(&obj);
		return 0;
	}
	char s3_etag[256];	/* an md5 and a part count: far less */
	snprintf(s3_etag, sizeof(s3_etag), "%s", obj.etag ? obj.etag : "");
	s3_object_free(&obj);

	st = blobsum_compute(s3, key, size, true, ropts, &sum, err, sizeof(err));
	if (st == S3_NOT_FOUND) {
		buf_printf(detail, "%smissing: no object %s in S3", detail->len ? "; " : "", key);
		return 0;
	}
	if (st != S3_OK) {
		log_error("verify: GET %s: %s", key, err);
		return -1;
	}
	if (size > 0 && *s3_etag && !s3_etag_agrees(s3_etag, etag))
		buf_printf(detail, "%setag: S3 ETag %s does not match the blob's %s", detail->len ? "; " : "",
		    s3_etag, etag);
	if (sum.bytes != size)
		buf_printf(detail, "%sread %lld bytes, the blob has %lld", detail->len ? "; " : "",
		    (long long)sum.bytes, (long long)size);
	if (strcmp(sum.sha256, sha256) != 0)
		buf_printf(detail, "%ssha256: computed %s, the blob %s", detail->len ? "; " : "", sum.sha256, sha256);
	if (*sum.etag && strcmp(sum.etag, etag) != 0)
		buf_printf(detail, "%sdandi-etag: computed %s, the blob %s", detail->len ? "; " : "", sum.etag, etag);
	return 0;
}

/* Claims, checks and records one blob. 1 checked and ok, 2 checked and
 * failed, 0 none due, -1 database or S3 failure. */
static int
verify_one(struct job *job, struct s3 *s3, const char *older_than, const char *start)
{
	const char *p2[2] = { older_than, start };
	struct buf detail;
	PGresult *r;
	int rc = -1;

	if (job_begin(job) != 0 || (r = vq(job, &vf_claim, 2, p2)) == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return 0;
	const char *uuid = PQgetvalue(r, 0, CLAIM_UUID), *key = PQgetvalue(r, 0, CLAIM_KEY);
	buf_init(&detail);
	buf_puts(&detail, "");
	const struct rangefeed_opts ro = { job->cfg->blob_read_streams, job->cfg->blob_read_range_size };
	if (check_blob(s3, &ro, key, strtoll(PQgetvalue(r, 0, CLAIM_SIZE), NULL, 10), PQgetvalue(r, 0, CLAIM_ETAG),
	    PQgetvalue(r, 0, CLAIM_SHA256), &detail) != 0) {
		fprintf(stderr, "dandi-jobs verify: S3 failed on %s (%s); stopping, nothing recorded\n", key, s3->err);
		buf_free(&detail);
		return -1;
	}
	bool ok = detail.len == 0;
	const char *p3[3] = { PQgetvalue(r, 0, CLAIM_ROW), ok ? "t" : "f", detail.data };
	if (vq(job, &vf_record, 3, p3) != NULL && job_commit(job) == 0) {
		rc = ok ? 1 : 2;
		if (!ok) {
			log_error("verify: blob %s (%s) FAILED: %s", uuid, key, detail.data);
			fprintf(stderr, "dandi-jobs verify: blob %s (%s) FAILED: %s\n", uuid, key, detail.data);
		} else
			log_info("verify: blob %s ok", uuid);
	}
	buf_free(&detail);
	return rc;
}

static int
verify_report(struct job *job, bool all)
{
	PGresult *r = vq(job, all ? &vf_report_all : &vf_report, 0, NULL);

	if (r == NULL)
		return 1;
	int n = PQntuples(r);
	for (int i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\n", PQgetvalue(r, i, REPORT_UUID), PQgetvalue(r, i, REPORT_KEY),
		    PQgetvalue(r, i, REPORT_CHECKED), PQgetvalue(r, i, REPORT_DETAIL));
	if ((r = vq(job, &vf_summary, 0, NULL)) == NULL)
		return 1;
	fprintf(stderr, "%s verifiable blob(s), %s never verified, %s failing\n", PQgetvalue(r, 0, SUMMARY_BLOBS),
	    PQgetvalue(r, 0, SUMMARY_NEVER), PQgetvalue(r, 0, SUMMARY_FAILING));
	/* Failing blobs make the report fail too, for monitoring. */
	return n > 0 ? 1 : 0;
}

int
verify_cmd(struct job *job, int argc, char **argv)
{
	long max = -1, ok = 0, failed = 0;
	const char *older = "30 days";
	bool report = false, all = false;
	char start[64];
	struct s3 *s3;
	PGresult *r;
	int rc = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc)
			older = argv[++i];
		else if (strcmp(argv[i], "--report") == 0)
			report = true;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else
			return JOB_USAGE;
	}
	if (report)
		return verify_report(job, all);
	if ((s3 = job_s3(job)) == NULL) {
		fprintf(stderr, "dandi-jobs verify: S3 is not configured\n");
		return 1;
	}
	if ((r = vq(job, &vf_start, 0, NULL)) == NULL)
		return 1;
	snprintf(start, sizeof(start), "%s", PQgetvalue(r, 0, START_NOW));
	for (long n = 0; max < 0 || n < max; n++) {
		int got = verify_one(job, s3, older, start);
		job_reset(job);		/* each blob's rows and transaction */
		if (got <= 0) {
			if (got < 0)
				rc = 1;
			break;
		}
		if (got == 1)
			ok++;
		else
			failed++;
	}
	(void)vq(job, &vf_prune, 0, NULL);
	printf("verified %ld blob(s): %ld ok, %ld failed\n", ok + failed, ok, failed);
	if (failed > 0) {
		fprintf(stderr, "dandi-jobs verify: %ld blob(s) failed verification; see dandi-jobs verify --report\n",
		    failed);
		rc = 1;
	}
	return rc;
}
