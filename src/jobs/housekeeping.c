/* housekeeping.c - see housekeeping.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "housekeeping.h"
#include "log.h"
#include "mail.h"
#include "manifests.h"
#include "s3.h"
#include "util.h"

#define UNEMBARGO_BATCH	"1000"

static const struct db_stmt hk_stmts[] = {
	{ "ue_status",
	  "SELECT embargo_status, (SELECT count(*) FROM uploads WHERE dandiset_id = $1::bigint)"
	  " FROM dandisets WHERE id = $1::bigint" },
	{ "ue_lock",
	  "SELECT embargo_status FROM dandisets WHERE id = $1::bigint FOR UPDATE" },
	/* Embargoed blobs of any version of the dandiset, in id order. */
	{ "ue_blobs",
	  "SELECT b.id, b.blob FROM blobs b WHERE b.embargoed AND b.id > $2::bigint AND b.id IN ("
	  "  SELECT a.blob_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	  "  JOIN assets a ON a.id = av.asset_id WHERE v.dandiset_id = $1::bigint)"
	  " ORDER BY b.id LIMIT " UNEMBARGO_BATCH },
	/* The dandiset's zarr archives: their objects carry the tag too. */
	{ "ue_zarrs",
	  "SELECT zarr_id FROM zarrs WHERE dandiset_id = $1::bigint ORDER BY id" },
	{ "ue_open_blobs",
	  "UPDATE blobs SET embargoed = false WHERE embargoed AND id IN ("
	  "  SELECT a.blob_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	  "  JOIN assets a ON a.id = av.asset_id WHERE v.dandiset_id = $1::bigint)" },
	/* Their metadata changes (access): validated again. Published assets
	 * are frozen and stay as they are. */
	{ "ue_assets_pending",
	  "UPDATE assets SET status = 'Pending' WHERE NOT published AND id IN ("
	  "  SELECT av.asset_id FROM versions v JOIN asset_versions av ON av.version_id = v.id"
	  "  WHERE v.dandiset_id = $1::bigint)" },
	{ "ue_open",
	  "UPDATE dandisets SET embargo_status = 'OPEN', embargo_end_date = current_date, modified = now()"
	  " WHERE id = $1::bigint" },
	{ "ue_draft_pending",
	  "UPDATE versions SET status = 'Pending', modified = now()"
	  " WHERE dandiset_id = $1::bigint AND version = 'draft'" },
	{ "ue_audit",
	  "INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)"
	  " SELECT $1::bigint, coalesce(u.github_login, u.username), u.email,"
	  "  btrim(u.first_name || ' ' || u.last_name), 'unembargo_dandiset', '{}'::jsonb"
	  " FROM users u WHERE u.id = $2::bigint" },
	/* $2 subject, $3 body; to every owner with an address. */
	{ "ue_mail_owners",
	  "SELECT dandi_mail(string_agg(u.email, E'\\n'), $2, $3)"
	  " FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
	  " WHERE o.dandiset_id = $1::bigint AND u.email <> ''" },
	{ "ue_name",
	  "SELECT name FROM versions WHERE dandiset_id = $1::bigint AND version = 'draft'" },
	/* blob_untag: only while the blob is still public (it may be gone). */
	{ "untag_blob",
	  "SELECT blob FROM blobs WHERE blob_id = $1::uuid AND NOT embargoed" },
	/* The outbox: one unsent message at a time, locked while it is sent. */
	{ "mail_claim",
	  "SELECT id, array_to_string(to_addrs, E'\\n'), array_to_string(bcc_addrs, E'\\n'), reply_to,"
	  " subject, body, extract(epoch from created)::bigint FROM emails"
	  " WHERE sent IS NULL AND next_try <= now() AND attempts < 10"
	  " ORDER BY next_try, id LIMIT 1 FOR UPDATE SKIP LOCKED" },
	{ "mail_sent",
	  "UPDATE emails SET sent = now(), attempts = attempts + 1, last_error = '' WHERE id = $1::bigint" },
	{ "mail_failed",
	  "UPDATE emails SET attempts = attempts + 1, last_error = $2,"
	  " next_try = now() + interval '1 minute' * (2 ^ least(attempts, 10)) WHERE id = $1::bigint" },
	{ "stats_insert",
	  "INSERT INTO app_stats (dandiset_count, published_dandiset_count, user_count, size)"
	  " SELECT (SELECT count(*) FROM dandisets),"
	  "  (SELECT count(DISTINCT dandiset_id) FROM versions WHERE version <> 'draft'),"
	  "  (SELECT count(*) FROM users WHERE status = 'APPROVED'),"
	  "  (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(size), 0) FROM zarrs)"
	  " RETURNING dandiset_count, published_dandiset_count, user_count, size" },
	/* refresh-search: one refresh at a time across machines (a second
	 * one would only wait for the first and redo its work); the key is
	 * arbitrary but fixed. */
	{ "search_lock", "SELECT pg_try_advisory_xact_lock(7011)" },
	{ "search_timeout", "SELECT set_config('statement_timeout', '175000', true)" },
	{ "search_refresh", "REFRESH MATERIALIZED VIEW CONCURRENTLY asset_search" },
	/* pending-users-mail: claims today's row (waiting, when another run
	 * holds it, for that run's end), then lists and queues. */
	{ "pu_claim",
	  "INSERT INTO pending_users_mails (day) VALUES ((now() AT TIME ZONE 'UTC')::date)"
	  " ON CONFLICT DO NOTHING RETURNING day" },
	{ "pu_list",
	  "SELECT username, email, to_char(date_joined AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')"
	  " FROM users WHERE status = 'PENDING' ORDER BY date_joined, id" },
	/* $1 day, $2 to, $3 subject, $4 body, $5 number of users */
	{ "pu_queue",
	  "WITH m AS (INSERT INTO emails (to_addrs, subject, body) VALUES (ARRAY[$2], $3, $4) RETURNING id)"
	  " UPDATE pending_users_mails SET email_id = (SELECT id FROM m), user_count = $5::int"
	  " WHERE day = $1::date" },
	{ "stats_prune",
	  "DELETE FROM app_stats WHERE timestamp < now() - interval '90 days'"
	  " AND id <> (SELECT max(id) FROM app_stats)" },
};

static const struct config	*hk_cfg;
static struct db		 hk_db;
static bool			 hk_open;
static struct s3		 hk_s3;
static bool			 hk_s3_ready;

void
hk_init(const struct config *cfg)
{
	hk_cfg = cfg;
	db_init(&hk_db, cfg->db, hk_stmts, sizeof(hk_stmts) / sizeof(hk_stmts[0]));
	hk_open = true;
}

void
hk_close(void)
{
	if (hk_open)
		db_close(&hk_db);
	if (hk_s3_ready)
		s3_free(&hk_s3);
	hk_open = hk_s3_ready = false;
}

static PGresult *
hq(const char *stmt, int n, const char *const *params, char *err, size_t errlen)
{
	return db_query(&hk_db, stmt, n, params, err, errlen);
}

static int
tx(enum db_status st, const char *what, char *err, size_t errlen)
{
	if (st == DB_OK)
		return 0;
	snprintf(err, errlen, "%s failed", what);
	return -1;
}
#define tx_begin(e, n)		tx(db_begin(&hk_db), "BEGIN", e, n)
#define tx_commit(e, n)		tx(db_commit(&hk_db), "COMMIT", e, n)
#define tx_rollback(e, n)	((void)db_rollback(&hk_db), (void)(e), (void)(n))

/* Runs stmt and drops its result: 0 or -1. */
static int
hx(const char *stmt, int n, const char *const *params, char *err, size_t errlen)
{
	PGresult *r = hq(stmt, n, params, err, errlen);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

static const char *
arg(struct json_object *args, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(args, key, &v) ? json_object_get_string(v) : NULL;
}

/* ---------------------------------------------------------------- unembargo */

struct untag {
	long	 n;
	char	*last;		/* the last key taken: the next page starts after it */
	char	 err[640];
};

static int
untag_listed(void *arg, const struct s3_listed *o)
{
	struct untag *u = arg;
	int st = s3_put_tagging(&hk_s3, o->key, NULL);

	free(u->last);
	u->last = xstrdup(o->key);
	if (st != S3_OK && st != S3_NOT_FOUND) {	/* gone meanwhile: nothing to untag */
		snprintf(u->err, sizeof(u->err), "untag %.300s: %s", o->key, hk_s3.err);
		return -1;
	}
	u->n++;
	return 0;
}

/* Every object of a zarr archive loses its embargoed tag (they all got it
 * from the presigned PUT URL): the original's _delete_zarr_object_tags.
 * Page by page, so memory stays flat for any number of chunks. */
static int
untag_zarr(const char *uuid, long *n, char *err, size_t errlen)
{
	struct untag u = { 0, NULL, "" };
	char prefix[64];
	bool more = true;
	int rc = 0;

	snprintf(prefix, sizeof(prefix), "zarr/%s/", uuid);
	while (more && rc == 0) {
		if (s3_list_page(&hk_s3, prefix, u.last, NULL, 1000, untag_listed, &u, &more, NULL) != S3_OK) {
			snprintf(err, errlen, "%s", *u.err ? u.err : hk_s3.err);
			rc = -1;
		}
	}
	free(u.last);
	*n += u.n;
	return rc;
}

/* The original's steps (spec model-and-jobs 2.4): the S3 tags first, in
 * batches (idempotent: a rerun after a crash tags nothing twice), then
 * every database change, the owners' mail and the audit record in one
 * transaction. */
int
job_unembargo(struct json_object *args, char *err, size_t errlen)
{
	const char *ds = arg(args, "dandiset"), *user = arg(args, "user");
	PGresult *r;
	char last[24] = "0";

	if (ds == NULL || user == NULL) {
		snprintf(err, errlen, "unembargo job without dandiset or user");
		return -2;
	}
	const char *p1[1] = { ds };
	if ((r = hq("ue_status", 1, p1, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "UNEMBARGOING") != 0) {
		PQclear(r);	/* deleted, or done by an earlier run */
		return 0;
	}
	if (strcmp(PQgetvalue(r, 0, 1), "0") != 0) {
		PQclear(r);
		snprintf(err, errlen, "dandiset %s has uploads in progress", ds);
		return -1;
	}
	PQclear(r);
	if (!hk_s3_ready) {
		if (s3_init(&hk_s3, hk_cfg) != 0) {
			snprintf(err, errlen, "S3 is not configured");
			return -1;
		}
		hk_s3_ready = true;
	}
	long untagged = 0;
	/* The draft's manifest files, as the original (one never written
	 * is skipped); a later rewrite of an OPEN draft is untagged anyway. */
	for (size_t i = 0; i < sizeof(manifest_files) / sizeof(manifest_files[0]); i++) {
		char key[512];
		manifest_key(key, sizeof(key), strtoll(ds, NULL, 10), "draft", manifest_files[i]);
		int st = s3_put_tagging(&hk_s3, key, NULL);
		if (st != S3_OK && st != S3_NOT_FOUND) {
			snprintf(err, errlen, "untag %s: %s", key, hk_s3.err);
			return -1;
		}
	}
	for (;;) {
		const char *p2[2] = { ds, last };
		if ((r = hq("ue_blobs", 2, p2, err, errlen)) == NULL)
			return -1;
		int n = PQntuples(r);
		for (int i = 0; i < n; i++) {
			int st = s3_put_tagging(&hk_s3, PQgetvalue(r, i, 1), NULL);
			if (st != S3_OK && st != S3_NOT_FOUND) {
				snprintf(err, errlen, "untag %s: %s", PQgetvalue(r, i, 1), hk_s3.err);
				PQclear(r);
				return -1;
			}
			untagged++;
		}
		if (n > 0)
			snprintf(last, sizeof(last), "%s", PQgetvalue(r, n - 1, 0));
		PQclear(r);
		if (n < atoi(UNEMBARGO_BATCH))
			break;
	}
	long zarr_objects = 0;
	if ((r = hq("ue_zarrs", 1, p1, err, errlen)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		if (untag_zarr(PQgetvalue(r, i, 0), &zarr_objects, err, errlen) != 0) {
			PQclear(r);
			return -1;
		}
	}
	PQclear(r);

	if (tx_begin(err, errlen) != 0)
		return -1;
	if ((r = hq("ue_lock", 1, p1, err, errlen)) == NULL)
		goto fail;
	bool still = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "UNEMBARGOING") == 0;
	PQclear(r);
	if (!still) {
		tx_rollback(err, errlen);
		return 0;
	}
	if ((r = hq("ue_name", 1, p1, err, errlen)) == NULL)
		goto fail;
	char *name = xstrdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	char *body = NULL;
	if (asprintf(&body, "Hello,\n\nDandiset %06d, \"%s\", is no longer embargoed: its data is now "
	    "public.\n\n%s/dandiset/%06d\n", atoi(ds), name, hk_cfg->web_url, atoi(ds)) < 0)
		body = NULL;
	free(name);
	const char *pm[3] = { ds, "Your Dandiset has been unembargoed!", body ? body : "" };
	const char *pa[2] = { ds, user };
	int bad = hx("ue_open_blobs", 1, p1, err, errlen) || hx("ue_assets_pending", 1, p1, err, errlen) ||
	    hx("ue_open", 1, p1, err, errlen) || hx("ue_draft_pending", 1, p1, err, errlen) ||
	    hx("ue_mail_owners", 3, pm, err, errlen) || hx("ue_audit", 2, pa, err, errlen);
	free(body);
	if (bad || tx_commit(err, errlen) != 0)
		goto fail;
	log_info("dandiset %s unembargoed (%ld blob(s), %ld zarr object(s) untagged)", ds, untagged, zarr_objects);
	return 0;
fail:
	{
		char e2[64];
		tx_rollback(e2, sizeof(e2));
	}
	return -1;
}

/* ---------------------------------------------------------------- blob_untag */

/* An embargoed blob made public by its use in an open dandiset (POST or
 * PUT of an asset, src/api/assets.c) loses its S3 tag here, so the bucket
 * policy lets anyone read it at its contentUrl, as the original's
 * remove_asset_blob_embargoed_tag task does. A rerun is harmless. */
int
job_blob_untag(struct json_object *args, char *err, size_t errlen)
{
	const char *blob = arg(args, "key");
	PGresult *r;

	if (blob == NULL) {
		snprintf(err, errlen, "blob_untag job without a blob");
		return -2;
	}
	const char *p1[1] = { blob };
	if ((r = hq("untag_blob", 1, p1, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);	/* deleted meanwhile, or embargoed again */
		return 0;
	}
	char *key = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!hk_s3_ready) {
		if (s3_init(&hk_s3, hk_cfg) != 0) {
			free(key);
			snprintf(err, errlen, "S3 is not configured");
			return -1;
		}
		hk_s3_ready = true;
	}
	int st = s3_put_tagging(&hk_s3, key, NULL);
	if (st != S3_OK && st != S3_NOT_FOUND)
		snprintf(err, errlen, "untag %s: %s", key, hk_s3.err);
	else
		log_info("blob %s is public: %s untagged", blob, key);
	free(key);
	return st == S3_ERROR ? -1 : 0;
}

/* Given up (after the retries): the owners hear of it, the admin too; the
 * dandiset stays UNEMBARGOING (tags may be gone already) and the failed
 * job waits for `dandi-jobs retry`. */
void
job_unembargo_gave_up(struct json_object *args)
{
	const char *ds = arg(args, "dandiset");
	char err[256], subject[80], *body = NULL;

	if (ds == NULL)
		return;
	snprintf(subject, sizeof(subject), "DANDI: Unembargo failed for dandiset %06d", atoi(ds));
	if (asprintf(&body, "Hello,\n\nThe unembargo of Dandiset %06d failed. The archive's administrators "
	    "have been told and will retry it; the dandiset stays read-only until then.\n", atoi(ds)) < 0)
		return;
	const char *pm[3] = { ds, subject, body };
	if (hx("ue_mail_owners", 3, pm, err, sizeof(err)) != 0)
		log_error("unembargo failure mail: %s", err);
	free(body);
}

/* --------------------------------------------------------------------- mail */

static const char **
lines(char *s)
{
	size_t n = 1;

	for (char *p = s; *p; p++)
		n += *p == '\n';
	const char **v = xcalloc(n + 1, sizeof(*v));
	size_t k = 0;
	for (char *save = NULL, *t = strtok_r(s, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		v[k++] = t;
	return v;
}

/* One message: 1 sent, 0 none waiting, -1 failed (recorded, retried). */
static int
mail_one(void)
{
	char err[512];
	PGresult *r;

	if (tx_begin(err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if ((r = hq("mail_claim", 0, NULL, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		tx_rollback(err, sizeof(err));
		return -1;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		tx_rollback(err, sizeof(err));
		return 0;
	}
	char *id = xstrdup(PQgetvalue(r, 0, 0));
	char *to = xstrdup(PQgetvalue(r, 0, 1)), *bcc = xstrdup(PQgetvalue(r, 0, 2));
	const char **tov = lines(to), **bccv = lines(bcc);
	struct mail m = { .id = id, .from = hk_cfg->mail_from, .to = tov, .bcc = bccv,
	    .reply_to = PQgetvalue(r, 0, 3), .subject = PQgetvalue(r, 0, 4), .body = PQgetvalue(r, 0, 5),
	    .date = (time_t)strtoll(PQgetvalue(r, 0, 6), NULL, 10) };
	int rc = mail_deliver(hk_cfg, &m, err, sizeof(err));
	PQclear(r);
	const char *p2[2] = { id, err };
	if (rc == 0)
		rc = hx("mail_sent", 1, p2, err, sizeof(err)) == 0 ? 1 : -1;
	else {
		log_error("mail %s: %s", id, err);
		hx("mail_failed", 2, p2, err, sizeof(err));
		rc = -1;
	}
	if (tx_commit(err, sizeof(err)) != 0)
		log_error("%s", err);
	free(tov);
	free(bccv);
	free(to);
	free(bcc);
	free(id);
	return rc;
}

int
cmd_mail(int argc, char **argv)
{
	long max = -1, sent = 0, failed = 0;

	if (argc > 3 && strcmp(argv[2], "--max") == 0)
		max = strtol(argv[3], NULL, 10);
	while (max < 0 || sent + failed < max) {
		int rc = mail_one();
		if (rc == 0)
			break;
		if (rc > 0)
			sent++;
		else if (++failed > 20)
			break;	/* the server is down: the next run tries again */
	}
	printf("%ld mail(s) sent, %ld failed\n", sent, failed);
	return failed ? 1 : 0;
}

/* ------------------------------------------------------- pending users mail */

/* The original's daily send_pending_users_email: one mail to admin_email
 * listing every PENDING user with a link to their approval page; nothing
 * when nobody waits. Once per UTC day whoever runs it (see pu_claim). */
int
cmd_pending_users_mail(void)
{
	char err[512];
	PGresult *r;
	struct buf body;

	if (*hk_cfg->admin_email == '\0') {
		printf("no admin_email configured: nothing to send\n");
		return 0;
	}
	if (tx_begin(err, sizeof(err)) != 0)
		goto fail;
	if ((r = hq("pu_claim", 0, NULL, err, sizeof(err))) == NULL)
		goto fail_tx;
	if (PQntuples(r) == 0) {
		PQclear(r);
		tx_rollback(err, sizeof(err));
		printf("pending users: already mailed today\n");
		return 0;
	}
	char day[16];
	snprintf(day, sizeof(day), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if ((r = hq("pu_list", 0, NULL, err, sizeof(err))) == NULL)
		goto fail_tx;
	int n = PQntuples(r);
	if (n == 0) {
		/* The claim goes too: someone may register later today. */
		PQclear(r);
		tx_rollback(err, sizeof(err));
		printf("pending users: none\n");
		return 0;
	}
	buf_init(&body);
	buf_printf(&body, "These new %s users are waiting for approval:\n", hk_cfg->instance_name);
	for (int i = 0; i < n; i++) {
		char *user = s3_uri_encode(PQgetvalue(r, i, 0), false);
		buf_printf(&body, "\nUsername: %s\nE-mail: %s\nJoined: %s\nApprove or reject: %s/dashboard/user/%s/\n",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), hk_cfg->api_url, user);
		free(user);
	}
	PQclear(r);
	char count[16];
	snprintf(count, sizeof(count), "%d", n);
	buf_append(&body, "", 1);
	const char *pq[5] = { day, hk_cfg->admin_email, "DANDI: new user registrations to review", body.data, count };
	int bad = hx("pu_queue", 5, pq, err, sizeof(err));
	buf_free(&body);
	if (bad)
		goto fail_tx;
	if (tx_commit(err, sizeof(err)) != 0)
		goto fail;
	printf("pending users: %d, mail queued to %s\n", n, hk_cfg->admin_email);
	return 0;
fail_tx:
	tx_rollback(err, sizeof(err));
fail:
	fprintf(stderr, "dandi-jobs: %s\n", err);
	return 1;
}

/* -------------------------------------------------------------------- stats */

int
cmd_stats(void)
{
	char err[512];
	PGresult *r;

	if ((r = hq("stats_insert", 0, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dandi-jobs: %s\n", err);
		return 1;
	}
	printf("dandisets %s, published %s, users %s, bytes %s\n", PQgetvalue(r, 0, 0),
	    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
	PQclear(r);
	if (hx("stats_prune", 0, NULL, err, sizeof(err)) != 0)
		log_warn("%s", err);
	return 0;
}

int
cmd_refresh_search(void)
{
	char err[512];
	PGresult *r;

	if (tx_begin(err, sizeof(err)) != 0)
		goto fail;
	if ((r = hq("search_lock", 0, NULL, err, sizeof(err))) == NULL)
		goto fail_tx;
	bool got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!got) {
		tx_rollback(err, sizeof(err));
		printf("asset_search: another refresh is running\n");
		return 0;
	}
	/* CONCURRENTLY keeps the view readable during the rebuild; the
	 * timeout (local to this transaction) bounds a runaway refresh below
	 * the 10-minute period. */
	if (hx("search_timeout", 0, NULL, err, sizeof(err)) != 0 ||
	    hx("search_refresh", 0, NULL, err, sizeof(err)) != 0)
		goto fail_tx;
	if (tx_commit(err, sizeof(err)) != 0)
		goto fail;
	printf("asset_search refreshed\n");
	return 0;
fail_tx:
	tx_rollback(err, sizeof(err));
fail:
	fprintf(stderr, "dandi-jobs: %s\n", err);
	return 1;
}
