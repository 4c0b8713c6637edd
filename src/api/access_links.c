/*
 * access_links.c - reviewer access to an embargoed dandiset.
 *
 * Owners make read-only access links (/api/dandisets/{id}/access-links/):
 * a secret token, shown once in the answer to its creation and kept only
 * as its sha256, with a label and an optional expiry; listed with their
 * use (never the token) and revocable, which takes effect at the next
 * request (every request looks the token up: auth.c). What a link's holder
 * may read is the read rule's (perm.c).
 *
 * And the public side of an embargoed dandiset whose owners allow it
 * (/api/dandisets/{id}/access-request/): its title, and a form whose
 * message goes to the owners by e-mail, rate-limited; nothing else of the
 * dandiset is shown.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

#define LABEL_MAX	200
#define MESSAGE_MAX	5000
/* Access requests a client address may send a dandiset per hour, and a
 * dandiset may receive per day: enough for people, too few for a flood
 * of the owners' mailboxes. */
#define REQUESTS_PER_ADDR_HOUR	3
#define REQUESTS_PER_DAY	20

#define LINK_JSON \
	"json_build_object('id', l.id, 'label', l.label, 'created', dandi_ts(l.created)," \
	" 'expires', dandi_ts(l.expires), 'revoked', dandi_ts(l.revoked)," \
	" 'last_used', dandi_ts(l.last_used), 'use_count', l.use_count," \
	" 'active', l.revoked IS NULL AND (l.expires IS NULL OR l.expires > now()))"

enum { ALL_JSON, ALL_NCOLS };
static const struct db_sql access_links_all = { "access_links_all", ALL_NCOLS,
	"SELECT coalesce(json_agg(" LINK_JSON " ORDER BY l.created DESC, l.id DESC), '[]')"
	" FROM access_links l WHERE l.dandiset_id = $1::bigint" };

/* $1 dandiset, $2 token sha256, $3 label, $4 expires or NULL, $5 user */
enum { ALI_JSON, ALI_ID, ALI_NCOLS };
static const struct db_sql access_link_insert = { "access_link_insert", ALI_NCOLS,
	"INSERT INTO access_links AS l (dandiset_id, token_sha256, label, expires, created_by)"
	" VALUES ($1::bigint, $2, $3, $4::timestamptz, $5::bigint)"
	" RETURNING " LINK_JSON ", l.id" };

/* Revoked once: a second DELETE finds it revoked and changes nothing. */
enum { ALR_JSON, ALR_NCOLS };
static const struct db_sql access_link_revoke = { "access_link_revoke", ALR_NCOLS,
	"UPDATE access_links l SET revoked = coalesce(l.revoked, now())"
	" WHERE l.id = $2::bigint AND l.dandiset_id = $1::bigint RETURNING " LINK_JSON };

/* The public teaser: $1 dandiset. */
enum { ARQ_NAME, ARQ_EMBARGO, ARQ_ALLOWED, ARQ_NCOLS };
static const struct db_sql access_request_info = { "access_request_info", ARQ_NCOLS,
	"SELECT v.name, d.embargo_status, d.access_requests"
	" FROM dandisets d JOIN versions v ON v.dandiset_id = d.id AND v.version = 'draft'"
	" WHERE d.id = $1::bigint" };

static const struct db_sql access_request_set = { "access_request_set", 0,
	"UPDATE dandisets SET access_requests = $2::boolean WHERE id = $1::bigint" };

/* The rate limit's counts, the dandiset locked so that two requests at
 * once are counted one after the other: $1 dandiset, $2 address. */
enum { ARC_ADDR, ARC_DAY, ARC_NCOLS };
static const struct db_sql access_request_counts = { "access_request_counts", ARC_NCOLS,
	"SELECT count(*) FILTER (WHERE remote_addr = $2 AND created > now() - interval '1 hour'),"
	" count(*)"
	" FROM (SELECT 1 FROM dandisets WHERE id = $1::bigint FOR NO KEY UPDATE) d,"
	" access_request_log WHERE dandiset_id = $1::bigint AND created > now() - interval '1 day'" };

static const struct db_sql access_request_log_insert = { "access_request_log_insert", 0,
	"INSERT INTO access_request_log (dandiset_id, remote_addr) VALUES ($1::bigint, $2)" };

enum { ARM_VOID, ARM_NCOLS };
static const struct db_sql access_request_mail = { "access_request_mail", ARM_NCOLS,
	"SELECT dandi_mail_access_request($1::bigint, $2, $3, $4, $5)" };

const struct db_sql *const access_links_sql[] = {
	&access_links_all, &access_link_insert, &access_link_revoke, &access_request_info,
	&access_request_set, &access_request_counts, &access_request_log_insert, &access_request_mail,
	NULL
};

static bool
embargoed(const struct dandiset *d)
{
	return strcmp(d->embargo_status, "OPEN") != 0;
}

/* GET /api/dandisets/{id}/access-links/: owners (T_DANDISET_OWNER). */
int
access_links_list(struct request *req)
{
	const char *params[1] = { req->dandiset->id };
	PGresult *r = req_query(req, &access_links_all, 1, params);

	return r == NULL ? 0 : resp_raw_json(req, 200, PQgetvalue(r, 0, ALL_JSON));
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "expires": a date (the link then works through that day, UTC) or an ISO
 * 8601 date-time; the text for PostgreSQL, or NULL when invalid. */
static const char *
expires_parse(struct request *req, const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || y < 2000 ||
	    mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return NULL;
	if (s[10] == '\0')
		return arena_printf(&req->arena, "%sT23:59:59.999999Z", s);
	return iso_datetime(req, s);
}

/* POST /api/dandisets/{id}/access-links/ {"label", "expires"}: owners of
 * an embargoed dandiset. The answer has the token and the link's URL,
 * this once. */
int
access_links_create(struct request *req)
{
	struct json_object *body, *v, *errs;
	const char *label = "", *expires = NULL;
	char token[ACCESS_TOKEN_LEN + 1], secret[65], hash[65];

	if (!embargoed(req->dandiset))
		return resp_detail(req, 400, "Access links are for embargoed dandisets only.");
	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", "Invalid data. Expected a dictionary.");
	errs = json_object_new_object();
	if (json_object_object_get_ex(body, "label", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) || json_string_has_nul(v))
			json_object_object_add(errs, "label", json_error_list("Not a valid string."));
		else if (strlen(label = json_object_get_string(v)) > LABEL_MAX)
			json_object_object_add(errs, "label",
			    json_error_list("Ensure this field has no more than 200 characters."));
	}
	if (json_object_object_get_ex(body, "expires", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) || json_string_has_nul(v) ||
		    (expires = expires_parse(req, json_object_get_string(v))) == NULL)
			json_object_object_add(errs, "expires", json_error_list(
			    "Datetime has wrong format. Use a date (YYYY-MM-DD) or an ISO 8601 date-time."));
	}
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);
	if (secret_new(secret) != 0)
		return resp_detail(req, 500, "Could not generate a token.");
	snprintf(token, sizeof(token), ACCESS_TOKEN_PREFIX "%s", secret);
	secret_hash(token, hash);
	const char *params[5] = { req->dandiset->id, hash, label, expires, req->user_id_str };
	PGresult *r = req_query(req, &access_link_insert, 5, params);
	if (r == NULL)
		return 0;
	struct json_object *link = req_json_text(req, PQgetvalue(r, 0, ALI_JSON));
	if (link == NULL)
		return resp_detail(req, 500, "Internal server error.");
	/* An expiry already past makes a link no one can use: said at once. */
	json_object_get(link);
	struct json_object *active;
	if (json_object_object_get_ex(link, "active", &active) && !json_object_get_boolean(active)) {
		json_object_put(link);
		return resp_field_error(req, "expires", "The expiry must be in the future.");
	}
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "link_id", json_object_new_int64(strtoll(PQgetvalue(r, 0, ALI_ID), NULL, 10)));
	json_object_object_add(details, "label", json_object_new_string(label));
	if (expires != NULL)
		json_object_object_add(details, "expires", json_object_new_string(expires));
	if (audit_write(req, req->dandiset->id, "create_access_link", details) != 0 || req_commit(req) != 0) {
		json_object_put(link);
		return 0;
	}
	json_object_object_add(link, "token", json_object_new_string(token));
	json_object_object_add(link, "url", json_object_new_string(arena_printf(&req->arena,
	    "%s/dandiset/%06lld?access=%s", req->cfg->web_url, strtoll(req->dandiset->id, NULL, 10), token)));
	return resp_json(req, 201, link);
}

/* DELETE /api/dandisets/{id}/access-links/{link_id}/: revoked from the
 * next request on (no cache holds a link: auth.c looks it up each time). */
int
access_links_revoke(struct request *req)
{
	const char *params[2] = { req->dandiset->id, req->params[1] };
	PGresult *r = req_query(req, &access_link_revoke, 2, params);

	if (r == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "link_id", json_object_new_int64(strtoll(req->params[1], NULL, 10)));
	if (audit_write(req, req->dandiset->id, "revoke_access_link", details) != 0 || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}

/* The dandiset of the path as the access-request routes see it: 1 with
 * the row, 0 when it is none of the caller's business (404 set), -1. */
static int
request_target(struct request *req, PGresult **out, bool *reader)
{
	struct dandiset d;
	int found = dandiset_find(req, req->params[0], &d);

	if (found < 0)
		return -1;
	const char *params[1] = { req->params[0] };
	PGresult *r = found == 0 ? NULL : req_query(req, &access_request_info, 1, params);
	if (found == 1 && r == NULL)
		return -1;
	*reader = found == 1 && (!embargoed(&d) || d.owner || d.by_link);
	/* Anyone else only learns of an embargoed dandiset whose owners
	 * take requests. */
	if (r == NULL || PQntuples(r) == 0 ||
	    (!*reader && PQgetvalue(r, 0, ARQ_ALLOWED)[0] != 't')) {
		resp_detail(req, 404, "Not found.");
		return 0;
	}
	*out = r;
	return 1;
}

/* GET /api/dandisets/{id}/access-request/: {identifier, name,
 * embargo_status, access_requests}, for the public landing page. */
int
access_request_get(struct request *req)
{
	PGresult *r;
	bool reader;

	if (request_target(req, &r, &reader) != 1)
		return 0;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "identifier", json_object_new_string(arena_printf(&req->arena, "%06lld",
	    strtoll(req->params[0], NULL, 10))));
	json_object_object_add(o, "name", json_object_new_string(PQgetvalue(r, 0, ARQ_NAME)));
	json_object_object_add(o, "embargo_status", json_object_new_string(PQgetvalue(r, 0, ARQ_EMBARGO)));
	json_object_object_add(o, "access_requests", json_object_new_boolean(
	    PQgetvalue(r, 0, ARQ_ALLOWED)[0] == 't' && strcmp(PQgetvalue(r, 0, ARQ_EMBARGO), "OPEN") != 0));
	return resp_json(req, 200, o);
}

/* PUT /api/dandisets/{id}/access-request/ {"access_requests": bool}:
 * the owners' setting. */
int
access_request_put(struct request *req)
{
	struct json_object *body, *v;

	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "access_requests", &v) || !json_object_is_type(v, json_type_boolean))
		return resp_field_error(req, "access_requests", "A boolean is required.");
	bool on = json_object_get_boolean(v);
	const char *params[2] = { req->dandiset->id, on ? "t" : "f" };
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "access_requests", json_object_new_boolean(on));
	if (req_query(req, &access_request_set, 2, params) == NULL) {
		json_object_put(details);
		return 0;
	}
	if (audit_write(req, req->dandiset->id, "access_requests", details) != 0 || req_commit(req) != 0)
		return 0;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "access_requests", json_object_new_boolean(on));
	return resp_json(req, 200, o);
}

/* A required string field of at most max bytes, one line unless
 * multiline; NULL with the error added to errs. */
static const char *
text_field(struct json_object *body, struct json_object *errs, const char *key, size_t max, bool multiline)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(body, key, &v) || v == NULL) {
		json_object_object_add(errs, key, json_error_list("This field is required."));
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) || json_string_has_nul(v)) {
		json_object_object_add(errs, key, json_error_list("Not a valid string."));
		return NULL;
	}
	s = json_object_get_string(v);
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0') {
		json_object_object_add(errs, key, json_error_list("This field may not be blank."));
		return NULL;
	}
	if (strlen(s) > max) {
		json_object_object_add(errs, key, json_error_list("This field is too long."));
		return NULL;
	}
	for (const char *c = s; !multiline && *c; c++)
		if ((unsigned char)*c < 0x20) {
			json_object_object_add(errs, key, json_error_list("This field must be one line."));
			return NULL;
		}
	return s;
}

/* POST /api/dandisets/{id}/access-request/ {"name", "email", "message"}:
 * anyone, when the owners allow it; mailed to the owners (Reply-To: the
 * requester). */
int
access_request_post(struct request *req)
{
	struct json_object *body, *errs;
	PGresult *r;
	bool reader;

	if (request_target(req, &r, &reader) != 1)
		return 0;
	if (strcmp(PQgetvalue(r, 0, ARQ_EMBARGO), "OPEN") == 0 || PQgetvalue(r, 0, ARQ_ALLOWED)[0] != 't')
		return resp_detail(req, 400, "This dandiset takes no access requests.");
	if ((body = req_json_body(req)) == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object))
		return resp_field_error(req, "non_field_errors", "Invalid data. Expected a dictionary.");
	errs = json_object_new_object();
	const char *name = text_field(body, errs, "name", 150, false);
	const char *email = text_field(body, errs, "email", 254, false);
	const char *message = text_field(body, errs, "message", MESSAGE_MAX, true);
	if (email != NULL && (strchr(email, '@') == NULL || strpbrk(email, " <>,;\"") != NULL))
		json_object_object_add(errs, "email", json_error_list("Enter a valid email address."));
	if (json_object_object_length(errs) > 0)
		return resp_json(req, 400, errs);
	json_object_put(errs);

	const char *addr = req->remote_addr ? req->remote_addr : "";
	const char *cp[2] = { req->params[0], addr };
	PGresult *c = req_query(req, &access_request_counts, 2, cp);
	if (c == NULL)
		return 0;
	if (strtoll(PQgetvalue(c, 0, ARC_ADDR), NULL, 10) >= REQUESTS_PER_ADDR_HOUR ||
	    strtoll(PQgetvalue(c, 0, ARC_DAY), NULL, 10) >= REQUESTS_PER_DAY) {
		resp_header(req, "Retry-After", "3600");
		return resp_detail(req, 429, "Too many access requests for this dandiset; try again later.");
	}
	const char *mp[5] = { req->params[0], name, email, message, req->cfg->web_url };
	if (req_query(req, &access_request_log_insert, 2, cp) == NULL ||
	    req_query(req, &access_request_mail, 5, mp) == NULL || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}
