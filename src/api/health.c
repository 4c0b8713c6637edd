/*
 * health.c - GET /api/health/: whether this worker can serve, for load
 * balancers and monitors. 200 when it reaches PostgreSQL (with ?deep=1
 * also the S3 bucket), else 503; JSON either way, never cached, and
 * quick: one trivial statement, and one listing of at most one key with a
 * short time limit and no retries. Anyone may ask; the answer says which
 * part is down, never why (that goes to the log).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "s3.h"

enum { HEALTH_ONE, HEALTH_NCOLS };
static const struct db_sql health_db = { "health_db", HEALTH_NCOLS, "SELECT 1" };

const struct db_sql *const health_sql[] = { &health_db, NULL };

#define HEALTH_S3_TIMEOUT_MS	2000

static int
no_key(void *ctx, const struct s3_listed *o)
{
	(void)ctx, (void)o;
	return 0;
}

/* The bucket answers a listing of one key with our credentials. */
static bool
s3_ok(struct request *req)
{
	struct s3 *s3 = api_s3_optional(req);

	if (s3 == NULL) {
		log_warn("health: S3 is not configured");
		return false;
	}
	long timeout = s3->timeout_ms;
	int retries = s3->retries;
	bool truncated = false;
	s3->timeout_ms = HEALTH_S3_TIMEOUT_MS;
	s3->retries = 0;
	int rc = s3_list_page(s3, "", NULL, NULL, 1, no_key, NULL, &truncated, NULL);
	s3->timeout_ms = timeout;
	s3->retries = retries;
	if (rc != S3_OK)
		log_warn("health: S3 bucket listing failed: %s", s3->err);
	return rc == S3_OK;
}

int
health_get(struct request *req)
{
	const char		*deep = query_get(req, "deep");
	bool			 db_up, s3_up = true, with_s3 = deep != NULL && strcmp(deep, "1") == 0;
	struct json_object	*o = json_object_new_object();

	/* A failure's answer (503, or 500) is replaced by this one below. */
	db_up = req_query(req, &health_db, 0, NULL) != NULL;
	if (!db_up)
		log_warn("health: the database is unavailable");
	if (with_s3)
		s3_up = s3_ok(req);

	bool up = db_up && s3_up;
	json_object_object_add(o, "status", json_object_new_string(up ? "ok" : "unavailable"));
	json_object_object_add(o, "database", json_object_new_string(db_up ? "ok" : "unavailable"));
	if (with_s3)
		json_object_object_add(o, "s3", json_object_new_string(s3_up ? "ok" : "unavailable"));
	if (!up) {
		json_object_object_add(o, "detail", json_object_new_string(!db_up ?
		    "The database is unavailable." : "The object store is unavailable."));
		if (req->request_id != NULL)
			json_object_object_add(o, "request_id", json_object_new_string(req->request_id));
	}
	resp_header(req, "Cache-Control", "no-store");
	return resp_json(req, up ? 200 : 503, o);
}
