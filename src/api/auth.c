/*
 * auth.c - who is asking. The CLI sends `Authorization: token <key>` (the
 * keyword is case-insensitive, as in DRF). Keys are looked up by their
 * sha256 and then compared in constant time. Other schemes (Bearer, used
 * by the web app) are resolved by the identity layer; unknown ones leave the
 * request anonymous, as DRF does when no authenticator claims it. And the
 * CLI's API key itself (/api/auth/token/).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"

/* The user columns every way in selects, in this order (auth_user_set). */
#define USER_COLS "u.id, coalesce(u.github_login, u.username), u.email, u.first_name," \
	" u.last_name, u.is_superuser, u.status, u.is_active"
enum {
	USER_ID, USER_NAME, USER_EMAIL, USER_FIRST_NAME, USER_LAST_NAME, USER_SUPERUSER,
	USER_STATUS, USER_ACTIVE, USER_NCOLS
};

/* The three ways in: what was presented (the key itself, the hashes of
 * an access token and of a session id), then the user. */
enum { AU_SECRET, AU_USER, AU_NCOLS = AU_USER + USER_NCOLS };
static const struct db_sql auth_by_key = { "auth_by_key", AU_NCOLS,
	"SELECT t.key, " USER_COLS
	" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_sha256 = $1" };

static const struct db_sql auth_by_bearer = { "auth_by_bearer", AU_NCOLS,
	"SELECT t.access_sha256, " USER_COLS
	" FROM oauth_tokens t JOIN users u ON u.id = t.user_id"
	" WHERE t.access_sha256 = $1 AND t.revoked IS NULL AND t.expires > now()" };

static const struct db_sql auth_by_session = { "auth_by_session", AU_NCOLS,
	"SELECT s.id_sha256, " USER_COLS
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" WHERE s.id_sha256 = $1 AND s.expires > now()" };

enum { TOK_KEY, TOK_NCOLS };
static const struct db_sql token_of_user = { "token_of_user", TOK_NCOLS,
	"SELECT key FROM api_tokens WHERE user_id = $1::bigint" };

static const struct db_sql token_delete_user = { "token_delete_user", 0,
	"DELETE FROM api_tokens WHERE user_id = $1::bigint" };

enum { TOKI_KEY, TOKI_NCOLS };	/* unread: a row when made */
static const struct db_sql token_insert = { "token_insert", TOKI_NCOLS,
	"INSERT INTO api_tokens (key, key_sha256, user_id) VALUES ($1, $2, $3::bigint)"
	" ON CONFLICT (user_id) DO NOTHING RETURNING key" };

/* An access link by its token's sha256 ($1): live (not revoked, not
 * expired), counted as used and the use audited, in the one statement
 * (autocommitted before any route's transaction: a use is on record even
 * when the request then fails). $2 method, $3 path (no query: the token
 * may be there). */
enum { AL_ID, AL_DANDISET, AL_NCOLS };
static const struct db_sql auth_by_link = { "auth_by_link", AL_NCOLS,
	"WITH l AS (UPDATE access_links SET last_used = now(), use_count = use_count + 1"
	"   WHERE token_sha256 = $1 AND revoked IS NULL AND (expires IS NULL OR expires > now())"
	"   RETURNING id, dandiset_id, label),"
	" a AS (INSERT INTO audit_records (dandiset_id, record_type, details)"
	"   SELECT l.dandiset_id, 'access_link_use', jsonb_build_object('link_id', l.id, 'label', l.label,"
	"     'method', $2::text, 'path', $3::text) FROM l)"
	" SELECT id, dandiset_id FROM l" };

const struct db_sql *const auth_sql[] = {
	&auth_by_key, &auth_by_bearer, &auth_by_session, &token_of_user, &token_delete_user,
	&token_insert, &auth_by_link, NULL
};

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

/* req->user from the USER_COLS of row 0, starting at column c. */
void
auth_user_set(struct request *req, PGresult *r, int c)
{
	struct user *u = arena_zalloc(&req->arena, sizeof(*u));

	parse_int64(PQgetvalue(r, 0, c + USER_ID), &u->id);
	req->user_id_str = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_ID));
	u->username = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_NAME));
	u->email = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_EMAIL));
	u->first_name = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_FIRST_NAME));
	u->last_name = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_LAST_NAME));
	u->is_superuser = strcmp(PQgetvalue(r, 0, c + USER_SUPERUSER), "t") == 0;
	u->status = arena_strdup(&req->arena, PQgetvalue(r, 0, c + USER_STATUS));
	req->user = u;
}

static int	auth_user(struct request *);

static int
auth_token(struct request *req, const char *key)
{
	char		 hash[65];
	const char	*params[1] = { hash };
	PGresult	*r;

	sha256_hex(key, hash);
	if ((r = req_query(req, &auth_by_key, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || !ct_streq(PQgetvalue(r, 0, AU_SECRET), key)) {
		resp_detail(req, 401, "Invalid token.");
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, AU_USER + USER_ACTIVE), "t") != 0) {
		resp_detail(req, 401, "User inactive or deleted.");
		return -1;
	}
	auth_user_set(req, r, AU_USER);
	return 0;
}

/* An OAuth access token: found by its sha256 (the database holds nothing
 * else of it), live and of an active user, or the request stays
 * anonymous. */
static int
auth_bearer(struct request *req, const char *token)
{
	char		 hash[65];
	const char	*params[1] = { hash };
	PGresult	*r;

	if (strlen(token) > 256)
		return 0;
	sha256_hex(token, hash);
	if ((r = req_query(req, &auth_by_bearer, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, AU_USER + USER_ACTIVE), "t") == 0)
		auth_user_set(req, r, AU_USER);
	return 0;
}

bool
access_token_form(const char *s)
{
	return strncmp(s, ACCESS_TOKEN_PREFIX, sizeof(ACCESS_TOKEN_PREFIX) - 1) == 0;
}

/* A presented access link's token: the link-holder actor when it is live
 * (req->link_dandiset, req->link_id; as_key: sent as the API key), else
 * 401 with msg. */
static int
auth_link(struct request *req, const char *token, bool as_key, const char *msg)
{
	char		 hash[65];
	PGresult	*r;

	if (!access_token_form(token) || strlen(token) != ACCESS_TOKEN_LEN) {
		resp_detail(req, 401, "%s", msg);
		return -1;
	}
	sha256_hex(token, hash);
	const char *params[3] = { hash, req->method, req->path };
	if ((r = req_query(req, &auth_by_link, 3, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		resp_detail(req, 401, "%s", msg);
		return -1;
	}
	req->link_id = arena_strdup(&req->arena, PQgetvalue(r, 0, AL_ID));
	req->link_dandiset = arena_strdup(&req->arena, PQgetvalue(r, 0, AL_DANDISET));
	req->link_key = as_key ? token : NULL;
	return 0;
}

/* The session cookie of the server-rendered pages. Unsafe API calls made
 * with it need the CSRF token in X-CSRFToken, as Django's. */
static int
auth_session(struct request *req)
{
	const char *sid = cookie_get(req, SESSION_COOKIE);
	char hash[65];
	PGresult *r;

	if (sid == NULL || strlen(sid) != 64)
		return 0;
	sha256_hex(sid, hash);
	const char *params[1] = { hash };
	if ((r = req_query(req, &auth_by_session, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, AU_USER + USER_ACTIVE), "t") != 0)
		return 0;
	auth_user_set(req, r, AU_USER);
	req->via_session = true;
	bool safe = strcmp(req->method, "GET") == 0 || req->head ||
	    strcmp(req->method, "OPTIONS") == 0;
	/* The questionnaire is an HTML form: it checks its form field. */
	if (!safe && strncmp(req->path, "/api/", 5) == 0 &&
	    strncmp(req->path, "/api/users/questionnaire-form", 29) != 0) {
		const char *want = cookie_get(req, CSRF_COOKIE);
		if (req->csrf_header == NULL || want == NULL) {
			resp_detail(req, 403, "CSRF Failed: CSRF token missing.");
			return -1;
		}
		if (strlen(want) != 64 || !ct_streq(req->csrf_header, want)) {
			resp_detail(req, 403, "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect.");
			return -1;
		}
	}
	return 0;
}

/* Who is asking: a user (API key, Bearer token or session), and/or the
 * holder of an access link. The link's carriers: X-Dandi-Access, the
 * query's access=, or `Authorization: token <link token>` (how the dandi
 * client sends its API key: then there is no user). */
int
auth_request(struct request *req)
{
	const char *carried = req->access_header;

	if (carried == NULL || *carried == '\0')
		carried = query_get(req, "access");
	if (auth_user(req) != 0)
		return -1;
	if (req->link_id == NULL && carried != NULL && *carried != '\0')
		return auth_link(req, carried, false, "Invalid or expired access link.");
	return 0;
}

static int
auth_user(struct request *req)
{
	const char *h = req->authorization, *sp;

	if (h == NULL || *h == '\0')
		return auth_session(req);
	if ((sp = strchr(h, ' ')) == NULL)
		sp = h + strlen(h);
	if ((size_t)(sp - h) == 6 && strncasecmp(h, "bearer", 6) == 0) {
		while (*sp == ' ')
			sp++;
		return auth_bearer(req, sp);
	}
	if ((size_t)(sp - h) != 5 || strncasecmp(h, "token", 5) != 0)
		return 0;
	while (*sp == ' ')
		sp++;
	if (*sp == '\0') {
		resp_detail(req, 401, "Invalid token header. No credentials provided.");
		return -1;
	}
	if (strchr(sp, ' ') != NULL) {
		resp_detail(req, 401, "Invalid token header. Token string should not contain spaces.");
		return -1;
	}
	/* Keys are 40 hex digits; anything else cannot match, and must not
	 * reach the database or the log unbounded. */
	if (strlen(sp) > 256) {
		resp_detail(req, 401, "Invalid token.");
		return -1;
	}
	if (access_token_form(sp))
		return auth_link(req, sp, true, "Invalid token.");
	return auth_token(req, sp);
}

/* Inserts a fresh key for the user; NULL with the response set on error. */
static const char *
token_create(struct request *req)
{
	char		 key[41], hash[65];
	PGresult	*r;

	if (api_key_new(key, hash) != 0) {
		resp_detail(req, 500, "Could not generate a key.");
		return NULL;
	}
	const char *params[3] = { key, hash, req->user_id_str };
	if ((r = req_query(req, &token_insert, 3, params)) == NULL)
		return NULL;
	if (PQntuples(r) == 1)
		return arena_strdup(&req->arena, key);
	/* A concurrent request made one first: that one is the key. */
	const char *p1[1] = { req->user_id_str };
	if ((r = req_query(req, &token_of_user, 1, p1)) == NULL)
		return NULL;
	if (PQntuples(r) != 1) {
		resp_detail(req, 500, "Could not store the key.");
		return NULL;
	}
	return arena_strdup(&req->arena, PQgetvalue(r, 0, TOK_KEY));
}

/* GET /api/auth/token/: the user's key as a JSON string. Every user has
 * one in the original (made at sign-up); here it is made on first ask.
 * The holder of an access link who sent it as the key (the dandi client
 * checks a key here before it uses it) gets that same token back: the
 * client's check passes and it learns nothing new. Everyone else: the
 * route's rule, APPROVED. */
int
auth_token_get(struct request *req)
{
	const char	*params[1];
	const char	*key;
	PGresult	*r;

	if (req->link_key != NULL)
		return resp_string(req, 200, "%s", req->link_key);
	if (perm_access(req, APPROVED) != 0)
		return 0;

	params[0] = req->user_id_str;
	if ((r = req_query(req, &token_of_user, 1, params)) == NULL)
		return 0;
	if (PQntuples(r) == 1)
		return resp_string(req, 200, "%s", PQgetvalue(r, 0, TOK_KEY));
	if ((key = token_create(req)) == NULL)
		return 0;
	return resp_string(req, 200, "%s", key);
}

/* POST /api/auth/token/: a new key; the old one stops working at once. */
int
auth_token_rotate(struct request *req)
{
	const char	*params[1];
	const char	*key;

	params[0] = req->user_id_str;
	if (req_query(req, &token_delete_user, 1, params) == NULL ||
	    (key = token_create(req)) == NULL || req_commit(req) != 0)
		return 0;
	return resp_string(req, 200, "%s", key);
}
