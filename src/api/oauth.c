/*
 * oauth.c - the OAuth2 provider the web app signs in through, as the
 * original's django-oauth-toolkit setup: authorization code with PKCE
 * (S256) for the public web client and the clients `dandi-admin oauth-client
 * add` registers (public, or confidential with a secret), access tokens sent as
 * `Authorization: Bearer`, refresh, and revocation (RFC 6749, 7636, 7009).
 * Codes and tokens are stored as sha256 only; a code is used once.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"

#define CODE_SECONDS	"60"
#define TOKEN_SECONDS	36000	/* django-oauth-toolkit's default: 10 hours */

/* A row when registered; a confidential client's secret hash (sql/022). */
enum { OC_ID, OC_CONFIDENTIAL, OC_SECRET, OC_NCOLS };
static const struct db_sql oauth_client = { "oauth_client", OC_NCOLS,
	"SELECT client_id, confidential, coalesce(secret_sha256, '') FROM oauth_clients WHERE client_id = $1" };

enum { OCU_ONE, OCU_NCOLS };	/* unread: a row when registered */
static const struct db_sql oauth_client_uri = { "oauth_client_uri", OCU_NCOLS,
	"SELECT 1 FROM oauth_clients WHERE client_id = $1 AND $2 = ANY (redirect_uris)" };

enum { OUC_COMPLETE, OUC_NCOLS };
static const struct db_sql oauth_user_complete = { "oauth_user_complete", OUC_NCOLS,
	"SELECT status <> 'INCOMPLETE' AND first_name <> '' AND last_name <> '' FROM users"
	" WHERE id = $1::bigint" };

static const struct db_sql oauth_code_insert = { "oauth_code_insert", 0,
	"INSERT INTO oauth_codes (code_sha256, client_id, user_id, redirect_uri, code_challenge, expires)"
	" VALUES ($1, $2, $3::bigint, $4, $5, now() + interval '" CODE_SECONDS " seconds')" };

/* Taking a code deletes it: a second use finds nothing. */
enum { OCT_CLIENT, OCT_USER, OCT_URI, OCT_CHALLENGE, OCT_LIVE, OCT_NCOLS };
static const struct db_sql oauth_code_take = { "oauth_code_take", OCT_NCOLS,
	"WITH old AS (DELETE FROM oauth_codes WHERE expires < now() - interval '1 hour')"
	" DELETE FROM oauth_codes WHERE code_sha256 = $1"
	" RETURNING client_id, user_id, redirect_uri, code_challenge, expires > now()" };

static const struct db_sql oauth_token_insert = { "oauth_token_insert", 0,
	"INSERT INTO oauth_tokens (access_sha256, refresh_sha256, client_id, user_id, expires)"
	" VALUES ($1, $2, $3, $4::bigint, now() + make_interval(secs => $5::int))" };

/* A refresh token is used once: the pair it belongs to is revoked. */
enum { ORT_USER, ORT_NCOLS };
static const struct db_sql oauth_refresh_take = { "oauth_refresh_take", ORT_NCOLS,
	"UPDATE oauth_tokens SET revoked = now()"
	" WHERE refresh_sha256 = $1 AND client_id = $2 AND revoked IS NULL RETURNING user_id" };

static const struct db_sql oauth_token_revoke = { "oauth_token_revoke", 0,
	"UPDATE oauth_tokens SET revoked = now()"
	" WHERE (access_sha256 = $1 OR refresh_sha256 = $1) AND client_id = $2 AND revoked IS NULL" };

enum { OUA_ACTIVE, OUA_NCOLS };
static const struct db_sql oauth_user_active = { "oauth_user_active", OUA_NCOLS,
	"SELECT is_active FROM users WHERE id = $1::bigint" };

const struct db_sql *const oauth_sql[] = {
	&oauth_client, &oauth_client_uri, &oauth_user_complete, &oauth_code_insert,
	&oauth_code_take, &oauth_token_insert, &oauth_refresh_take, &oauth_token_revoke,
	&oauth_user_active, NULL
};

/* RFC 7636: 43-128 characters of [A-Za-z0-9-._~]. */
static bool
pkce_token_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 43 && n <= 128 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n;
}

/* base64url(sha256(verifier)) without padding, as S256 defines. */
static void
pkce_s256(const char *verifier, char out[44])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char b64[64];

	EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)n);	/* 44 chars, one '=' */
	for (int i = 0; i < 43; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[43] = '\0';
}

static char *
qenc(struct request *req, const char *s)
{
	return req_urlencode(req, s);
}

/* Is redirect_uri registered for client? The web app's client also
 * accepts web_url + "/" and "<origin>/" for each of web_app_origins (the
 * app served from other origins too). 1 yes, 0 no, -1 response set. */
static int
redirect_allowed(struct request *req, const char *client, const char *uri)
{
	PGresult *r;

	if (strcmp(client, req->cfg->oauth_client_id) == 0) {
		const char *web = arena_printf(&req->arena, "%s/", req->cfg->web_url);
		size_t n = url_origin_len(uri);
		if (strcmp(uri, web) == 0 ||
		    (n > 0 && strcmp(uri + n, "/") == 0 && web_app_url(req->cfg, uri)))
			return 1;
	}
	const char *params[2] = { client, uri };
	if ((r = req_query(req, &oauth_client_uri, 2, params)) == NULL)
		return -1;
	return PQntuples(r) == 1;
}

/* Back to the client with an error (only once its redirect URI is known
 * to be its own). */
static int
redirect_error(struct request *req, const char *uri, const char *state, const char *error,
    const char *desc)
{
	const char *loc = arena_printf(&req->arena, "%s%serror=%s&error_description=%s%s%s", uri,
	    strchr(uri, '?') ? "&" : "?", error, qenc(req, desc), state ? "&state=" : "",
	    state ? qenc(req, state) : "");
	return resp_redirect(req, 302, loc);
}

/* GET /oauth/authorize/ */
int
oauth_authorize(struct request *req)
{
	const char *client = query_get(req, "client_id"), *uri = query_get(req, "redirect_uri");
	const char *rtype = query_get(req, "response_type"), *state = query_get(req, "state");
	const char *challenge = query_get(req, "code_challenge");
	const char *method = query_get(req, "code_challenge_method");
	char code[65], hash[65];
	PGresult *r;
	int ok;

	/* Until the client and its redirect URI check out, errors are shown
	 * here: redirecting would make this an open redirector. */
	if (client == NULL || *client == '\0' || strlen(client) > 100)
		return html_message(req, 400, "Sign-in error", "Missing client_id parameter.");
	const char *pc[1] = { client };
	if ((r = req_query(req, &oauth_client, 1, pc)) == NULL)
		return 0;
	if (PQntuples(r) != 1)
		return html_message(req, 400, "Sign-in error", "Invalid client_id parameter value.");
	if (uri == NULL || *uri == '\0')
		return html_message(req, 400, "Sign-in error", "Missing redirect_uri parameter.");
	if ((ok = redirect_allowed(req, client, uri)) < 0)
		return 0;
	if (!ok)
		return html_message(req, 400, "Sign-in error", "Mismatching redirect URI.");
	if (state != NULL && strlen(state) > 1000)
		return redirect_error(req, uri, NULL, "invalid_request", "state is too long.");

	if (rtype == NULL || strcmp(rtype, "code") != 0)
		return redirect_error(req, uri, state, "unsupported_response_type",
		    "Only response_type=code is supported.");
	if (challenge == NULL || *challenge == '\0')
		return redirect_error(req, uri, state, "invalid_request", "Code challenge required.");
	if (method == NULL || strcmp(method, "S256") != 0)
		return redirect_error(req, uri, state, "invalid_request",
		    "Transform algorithm not supported: use code_challenge_method=S256.");
	if (!pkce_token_ok(challenge) || strlen(challenge) != 43)
		return redirect_error(req, uri, state, "invalid_request", "Malformed code challenge.");

	/* Who: the session of this browser; first sign in, then answer the
	 * questionnaire, then come back here. */
	if (req->user == NULL || !req->via_session)
		return resp_redirect(req, 302, arena_printf(&req->arena, "/accounts/login/?next=%s",
		    qenc(req, req->uri)));
	const char *pu[1] = { req->user_id_str };
	if ((r = req_query(req, &oauth_user_complete, 1, pu)) == NULL)
		return 0;
	if (PQntuples(r) != 1 || PQgetvalue(r, 0, OUC_COMPLETE)[0] != 't')
		return resp_redirect(req, 302, arena_printf(&req->arena,
		    "/api/users/questionnaire-form/?next=%s", qenc(req, req->uri)));

	/* The web app is trusted (the original skips the consent page). */
	if (secret_new(code) != 0)
		return resp_detail(req, 500, "No randomness.");
	secret_hash(code, hash);
	const char *pi[5] = { hash, client, req->user_id_str, uri, challenge };
	if (req_query(req, &oauth_code_insert, 5, pi) == NULL)
		return 0;
	return resp_redirect(req, 302, arena_printf(&req->arena, "%s%scode=%s%s%s", uri,
	    strchr(uri, '?') ? "&" : "?", code, state ? "&state=" : "", state ? qenc(req, state) : ""));
}

static int
token_error(struct request *req, int status, const char *error, const char *desc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(error));
	if (desc != NULL)
		json_object_object_add(o, "error_description", json_object_new_string(desc));
	resp_header(req, "Cache-Control", "no-store");
	return resp_json(req, status, o);
}

/* A client's credentials at the token endpoints (RFC 6749 2.3.1): HTTP
 * Basic (client_id:client_secret) or the form's client_id and
 * client_secret. Our ids and secrets need no URL-decoding ([A-Za-z0-9._-]
 * ids, hex secrets); one that would cannot match. 0, or -1 when Basic is
 * malformed. */
static int
client_credentials(struct request *req, const char **client, const char **secret)
{
	const char *h = req->authorization;

	*client = form_get(req, "client_id");
	*secret = form_get(req, "client_secret");
	if (h == NULL || strncasecmp(h, "basic ", 6) != 0)
		return 0;
	h += 6;
	while (*h == ' ')
		h++;
	size_t n = strlen(h);
	if (n == 0 || n > 512 || n % 4 != 0)
		return -1;
	unsigned char *raw = arena_alloc(&req->arena, n + 1);
	int len = EVP_DecodeBlock(raw, (const unsigned char *)h, (int)n);
	if (len < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding's zero bytes. */
	for (const char *e = h + n; e > h && e[-1] == '='; e--)
		len--;
	raw[len] = '\0';
	char *colon = strchr((char *)raw, ':');
	if (colon == NULL || strlen((char *)raw) != (size_t)len)
		return -1;
	*colon = '\0';
	if (*client != NULL && strcmp(*client, (char *)raw) != 0)
		return -1;
	*client = (char *)raw;
	*secret = colon + 1;
	return 0;
}

/* The token endpoints' client check: 0 when the request names a
 * registered client and, for a confidential one, gives its secret; else
 * -1 with the 401 answer set. */
static int
client_check(struct request *req, const char **clientp)
{
	const char *client, *secret;
	char hash[65];
	PGresult *r;

	if (client_credentials(req, &client, &secret) != 0)
		return token_error(req, 401, "invalid_client", NULL), -1;
	*clientp = client;
	if (client == NULL || *client == '\0' || strlen(client) > 100)
		return token_error(req, 401, "invalid_client", NULL), -1;
	const char *pc[1] = { client };
	if ((r = req_query(req, &oauth_client, 1, pc)) == NULL)
		return -1;
	if (PQntuples(r) != 1)
		return token_error(req, 401, "invalid_client", NULL), -1;
	if (PQgetvalue(r, 0, OC_CONFIDENTIAL)[0] == 't') {
		if (secret == NULL || *secret == '\0' || strlen(secret) > 256)
			return token_error(req, 401, "invalid_client", "Client authentication failed."), -1;
		secret_hash(secret, hash);
		if (!ct_streq(hash, PQgetvalue(r, 0, OC_SECRET)))
			return token_error(req, 401, "invalid_client", "Client authentication failed."), -1;
	}
	return 0;
}

/* A new access + refresh token pair for user_id, answered as RFC 6749 5.1. */
static int
token_issue(struct request *req, const char *client, const char *user_id)
{
	char access[65], refresh[65], ah[65], rh[65], secs[16];

	if (secret_new(access) != 0 || secret_new(refresh) != 0)
		return resp_detail(req, 500, "No randomness.");
	secret_hash(access, ah);
	secret_hash(refresh, rh);
	snprintf(secs, sizeof(secs), "%d", TOKEN_SECONDS);
	const char *params[5] = { ah, rh, client, user_id, secs };
	if (req_query(req, &oauth_token_insert, 5, params) == NULL || req_commit(req) != 0)
		return 0;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(access));
	json_object_object_add(o, "expires_in", json_object_new_int(TOKEN_SECONDS));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "scope", json_object_new_string("read write"));
	json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
	resp_header(req, "Cache-Control", "no-store");
	resp_header(req, "Pragma", "no-cache");
	return resp_json(req, 200, o);
}

/* POST /oauth/token/ (form): authorization_code or refresh_token grants. */
int
oauth_token(struct request *req)
{
	PGresult *r;
	char hash[65], s256[44];

	if (request_parse_form(req) != 0)
		return 0;
	const char *grant = form_get(req, "grant_type"), *client;
	if (client_check(req, &client) != 0)
		return 0;
	if (grant == NULL)
		return token_error(req, 400, "invalid_request", "Missing grant type.");

	if (strcmp(grant, "authorization_code") == 0) {
		const char *code = form_get(req, "code"), *uri = form_get(req, "redirect_uri");
		const char *verifier = form_get(req, "code_verifier");
		if (code == NULL || strlen(code) != 64)
			return token_error(req, 400, "invalid_grant", NULL);
		secret_hash(code, hash);
		const char *ph[1] = { hash };
		/* The code is gone after this, right or wrong (RFC 6749 4.1.2). */
		if ((r = req_query(req, &oauth_code_take, 1, ph)) == NULL)
			return 0;
		if (PQntuples(r) != 1 || PQgetvalue(r, 0, OCT_LIVE)[0] != 't' ||
		    strcmp(PQgetvalue(r, 0, OCT_CLIENT), client) != 0 || uri == NULL ||
		    strcmp(PQgetvalue(r, 0, OCT_URI), uri) != 0) {
			req_commit(req);
			return token_error(req, 400, "invalid_grant", NULL);
		}
		if (verifier == NULL || !pkce_token_ok(verifier)) {
			req_commit(req);
			return token_error(req, 400, "invalid_grant", "Code verifier missing or malformed.");
		}
		pkce_s256(verifier, s256);
		if (!ct_streq(s256, PQgetvalue(r, 0, OCT_CHALLENGE))) {
			req_commit(req);
			return token_error(req, 400, "invalid_grant", "Code verifier does not match.");
		}
		const char *uid = arena_strdup(&req->arena, PQgetvalue(r, 0, OCT_USER));
		return token_issue(req, client, uid);
	}
	if (strcmp(grant, "refresh_token") == 0) {
		const char *refresh = form_get(req, "refresh_token");
		if (refresh == NULL || strlen(refresh) != 64)
			return token_error(req, 400, "invalid_grant", NULL);
		secret_hash(refresh, hash);
		const char *ph[2] = { hash, client };
		if ((r = req_query(req, &oauth_refresh_take, 2, ph)) == NULL)
			return 0;
		if (PQntuples(r) != 1)
			return token_error(req, 400, "invalid_grant", NULL);
		const char *uid = arena_strdup(&req->arena, PQgetvalue(r, 0, ORT_USER));
		const char *pu[1] = { uid };
		if ((r = req_query(req, &oauth_user_active, 1, pu)) == NULL)
			return 0;
		if (PQntuples(r) != 1 || PQgetvalue(r, 0, OUA_ACTIVE)[0] != 't')
			return token_error(req, 400, "invalid_grant", NULL);
		return token_issue(req, client, uid);
	}
	return token_error(req, 400, "unsupported_grant_type", NULL);
}

/* POST /oauth/revoke_token/ (form: token, client_id): 200 whether or not
 * the token was live (RFC 7009 2.2). */
int
oauth_revoke(struct request *req)
{
	char hash[65];

	if (request_parse_form(req) != 0)
		return 0;
	const char *token = form_get(req, "token"), *client;
	if (client_check(req, &client) != 0)
		return 0;
	if (token == NULL || *token == '\0')
		return token_error(req, 400, "invalid_request", "Missing token.");
	if (strlen(token) <= 256) {
		secret_hash(token, hash);
		const char *params[2] = { hash, client };
		if (req_query(req, &oauth_token_revoke, 2, params) == NULL)
			return 0;
	}
	return resp_empty(req, 200);
}
