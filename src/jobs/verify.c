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
#include "config.h"
#include "db.h"
#include "log.h"
#include "s3.h"
#include "util.h"
#include "verify.h"

static const struct db_stmt verify_stmts[] = {
	/* The run's start: blobs checked since are not due again in this run
	 * (else --older-than 0 would go round for ever). */
	{ "vf_start",
	  "SELECT now()::text" },
	/* $1: how old a check must be to be done again, $2 the run's start.
	 * PostgreSQL locks a row's tables in the order of these clauses and
	 * keeps a lock it took before skipping the row: the blob goes first,
	 * so a blob the collector holds is passed over without leaving its
	 * blob_integrity row locked (the collector's cascading delete would
	 * wait on it for the whole check of the next blob). A blob row kept
	 * KEY SHARE locked by a skip only makes the collector skip it too. */
	{ "vf_claim",
	  "SELECT i.blob_id, b.blob_id, b.blob, b.size, b.etag, b.sha256"
	  " FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id"
	  " WHERE b.sha256 IS NOT NULL AND (i.checked_at IS NULL OR i.checked_at < $2::timestamptz - $1::interval)"
	  " ORDER BY i.checked_at NULLS FIRST, i.blob_id LIMIT 1"
	  " FOR KEY SHARE OF b SKIP LOCKED FOR UPDATE OF i SKIP LOCKED" },
	{ "vf_record",
	  "WITH rec AS (INSERT INTO blob_verifications (blob_id, ok, detail)"
	  "   VALUES ($1::bigint, $2::boolean, $3) RETURNING checked_at)"
	  " UPDATE blob_integrity SET checked_at = (SELECT checked_at FROM rec), ok = $2::boolean, detail = $3"
	  " WHERE blob_id = $1::bigint" },
	{ "vf_prune",
	  "DELETE FROM blob_verifications WHERE ok AND checked_at < now() - interval '90 days'" },
	/* The failures an admin must look at: blobs whose last check failed
	 * (with --all, every failed check ever recorded). */
	{ "vf_report",
	  "SELECT b.blob_id, b.blob, to_char(i.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), i.detail"
	  " FROM blob_integrity i JOIN blobs b ON b.id = i.blob_id WHERE NOT i.ok"
	  " ORDER BY i.checked_at, i.blob_id" },
	{ "vf_report_all",
	  "SELECT b.blob_id, b.blob, to_char(v.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v.detail"
	  " FROM blob_verifications v JOIN blobs b ON b.id = v.blob_id WHERE NOT v.ok"
	  " ORDER BY v.checked_at, v.id" },
	{ "vf_summary",
	  "SELECT count(*), count(*) FILTER (WHERE checked_at IS NULL), count(*) FILTER (WHERE NOT ok)"
	  " FROM blob_integrity" },
};

static struct db vdb;

static PGresult *
vq(const char *stmt, int n, const char *const *params)
{
	char err[1024];
	PGresult *r = db_query(&vdb, stmt, n, params, err, sizeof(err));

	if (r == NULL) {
		log_error("verify: %s", err);
		fprintf(stderr, "dandi-jobs verify: %s\n", err);
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
check_blob(struct s3 *s3, const char *key, int64_t size, const char *etag, const char *sha256,
    struct buf *detail)
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
	char *s3_etag = xstrdup(obj.etag ? obj.etag : "");
	s3_object_free(&obj);

	st = blobsum_compute(s3, key, size, true, &sum, err, sizeof(err));
	if (st == S3_NOT_FOUND) {
		buf_printf(detail, "%smissing: no object %s in S3", detail->len ? "; " : "", key);
		free(s3_etag);
		return 0;
	}
	if (st != S3_OK) {
		log_error("verify: GET %s: %s", key, err);
		free(s3_etag);
		return -1;
	}
	if (size > 0 && *s3_etag && !s3_etag_agrees(s3_etag, etag))
		buf_printf(detail, "%setag: S3 ETag %s does not match the blob's %s", detail->len ? "; " : "",
		    s3_etag, etag);
	free(s3_etag);
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
verify_one(struct s3 *s3, const char *older_than, const char *start)
{
	PGresult *r;
	const char *p2[2] = { older_than, start };

	if (db_begin(&vdb) != DB_OK)
		return -1;
	if ((r = vq("vf_claim", 2, p2)) == NULL) {
		db_rollback(&vdb);
		return -1;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_rollback(&vdb);
		return 0;
	}
	char *id = xstrdup(PQgetvalue(r, 0, 0)), *uuid = xstrdup(PQgetvalue(r, 0, 1));
	char *key = xstrdup(PQgetvalue(r, 0, 2)), *etag = xstrdup(PQgetvalue(r, 0, 4));
	char *sha = xstrdup(PQgetvalue(r, 0, 5));
	int64_t size = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);

	struct buf detail;
	buf_init(&detail);
	buf_puts(&detail, "");
	int rc = -1;
	if (check_blob(s3, key, size, etag, sha, &detail) == 0) {
		bool ok = detail.len == 0;
		const char *p3[3] = { id, ok ? "t" : "f", detail.data };
		if ((r = vq("vf_record", 3, p3)) != NULL) {
			PQclear(r);
			if (db_commit(&vdb) == DB_OK) {
				rc = ok ? 1 : 2;
				if (!ok) {
					log_error("verify: blob %s (%s) FAILED: %s", uuid, key, detail.data);
					fprintf(stderr, "dandi-jobs verify: blob %s (%s) FAILED: %s\n", uuid, key, detail.data);
				} else
					log_info("verify: blob %s ok", uuid);
			}
		}
	} else
		fprintf(stderr, "dandi-jobs verify: S3 failed on %s (%s); stopping, nothing recorded\n", key, s3->err);
	if (rc < 0)
		db_rollback(&vdb);
	buf_free(&detail);
	free(id);
	free(uuid);
	free(key);
	free(etag);
	free(sha);
	return rc;
}

static int
verify_report(bool all)
{
	PGresult *r = vq(all ? "vf_report_all" : "vf_report", 0, NULL);

	if (r == NULL)
		return 1;
	int n = PQntuples(r);
	for (int i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		    PQgetvalue(r, i, 3));
	PQclear(r);
	if ((r = vq("vf_summary", 0, NULL)) == NULL)
		return 1;
	fprintf(stderr, "%s verifiable blob(s), %s never verified, %s failing\n", PQgetvalue(r, 0, 0),
	    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
	/* Failing blobs make the report fail too, for monitoring. */
	return n > 0 ? 1 : 0;
}

int
cmd_verify(const struct config *cfg, int argc, char **argv)
{
	long max = -1;
	const char *older = "30 days";
	bool report = false, all = false;
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
			return fprintf(stderr, "usage: dandi-jobs verify [--max N] [--older-than INTERVAL]\n"
			    "       dandi-jobs verify --report [--all]\n"), 2;
	}
	db_init(&vdb, cfg->db, verify_stmts, sizeof(verify_stmts) / sizeof(verify_stmts[0]));
	if (report) {
		rc = verify_report(all);
		db_close(&vdb);
		return rc;
	}
	struct s3 s3;
	if (s3_init(&s3, cfg) != 0) {
		fprintf(stderr, "dandi-jobs verify: S3 is not configured\n");
		db_close(&vdb);
		return 1;
	}
	long ok = 0, failed = 0;
	PGresult *r = vq("vf_start", 0, NULL);
	char *start = r != NULL ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
	if (r != NULL)
		PQclear(r);
	else
		rc = 1;
	for (long n = 0; start != NULL && (max < 0 || n < max); n++) {
		int got = verify_one(&s3, older, start);
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
	free(start);
	if ((r = vq("vf_prune", 0, NULL)) != NULL)
		PQclear(r);
	printf("verified %ld blob(s): %ld ok, %ld failed\n", ok + failed, ok, failed);
	if (failed > 0) {
		fprintf(stderr, "dandi-jobs verify: %ld blob(s) failed verification; see dandi-jobs verify --report\n",
		    failed);
		rc = 1;
	}
	s3_free(&s3);
	db_close(&vdb);
	return rc;
}
