/*
 * accounts.c - signing in with a browser: local accounts (e-mail and
 * password, scrypt), sign-up, sign-out, the new-user questionnaire, the
 * staff page that approves or rejects users, and sign-in through an
 * optional upstream OAuth2 provider (GitHub or any server with an
 * authorize/token/user endpoint). Pages are plain HTML forms; every POST
 * checks the CSRF token; failed sign-ins are counted in the database per
 * (account, client address) and per client address, so the limit holds
 * across all app servers, and each further failure makes that address
 * wait longer (never the account's owner elsewhere).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "httpc.h"
#include "passwd.h"
#include "s3.h"
#include "throttle.h"

/* Sign-in throttling (README, "Security and reliability"). Failures of
 * one account from one address, in the last day (a success from there
 * forgets them): 5 free, then 2 s, doubling to 15 minutes. Failures from
 * one address on any accounts, in the last hour: 30 free, then 2 s,
 * doubling to a minute (an address may be a whole NAT). No limit per
 * account alone: whoever guesses elsewhere cannot lock its owner out. */
static const struct throttle_rule fail_pair = { 5, 2, 900 };
static const struct throttle_rule fail_address = { 30, 2, 60 };
#define FAIL_PAIR_WINDOW	"1 day"
#define FAIL_ADDRESS_WINDOW	"1 hour"
/* Attempts of one account from one address take turns (an advisory lock
 * in their transaction), so parallel guesses cannot all pass the count. */
#define SIGNIN_LOCK_CLASS	"7294016"

enum { ABL_ID, ABL_HASH, ABL_ACTIVE, ABL_NCOLS };
static const struct db_sql acct_by_login = { "acct_by_login", ABL_NCOLS,
	"SELECT id, password_hash, is_active FROM users"
	" WHERE lower(username) = lower($1) OR lower(email) = lower($1)"
	" ORDER BY lower(username) = lower($1) DESC, id LIMIT 1" };

/* The account is the login as typed, in lower case: not the user it
 * names, which would tell a guesser whose e-mail a username has (the
 * two spellings of an account count apart, 5 free failures each). */
enum { ASL_LOCKED, ASL_NCOLS };	/* unread */
static const struct db_sql acct_signin_lock = { "acct_signin_lock", ASL_NCOLS,
	"SELECT pg_advisory_xact_lock(" SIGNIN_LOCK_CLASS ", hashtext(lower($1) || ' ' || $2))" };

/* $1 login, $2 address. Seconds are the database's, the one clock every
 * app server shares. */
enum { AF_PAIR, AF_PAIR_AGO, AF_ADDRESS, AF_ADDRESS_AGO, AF_NCOLS };
static const struct db_sql acct_fail_counts = { "acct_fail_counts", AF_NCOLS,
	"SELECT count(*) FILTER (WHERE account = lower($1)),"
	" coalesce(extract(epoch FROM now() - max(at) FILTER (WHERE account = lower($1))), 0)::float8,"
	" count(*) FILTER (WHERE at > now() - interval '" FAIL_ADDRESS_WINDOW "'),"
	" coalesce(extract(epoch FROM now() - max(at)), 0)::float8"
	" FROM login_failures WHERE address = $2 AND at > now() - interval '" FAIL_PAIR_WINDOW "'" };

/* Stamped when the attempt ends (the password check takes a while): the
 * wait runs from the answer, not from the request. */
static const struct db_sql acct_fail_add = { "acct_fail_add", 0,
	"WITH old AS (DELETE FROM login_failures WHERE at < now() - interval '" FAIL_PAIR_WINDOW "')"
	" INSERT INTO login_failures (account, address, at) VALUES (lower($1), $2, clock_timestamp())" };

/* A success forgets that address's failures on the account only: the
 * owner signing in elsewhere does not reset a guesser's count. */
static const struct db_sql acct_fail_clear = { "acct_fail_clear", 0,
	"DELETE FROM login_failures WHERE account = lower($1) AND address = $2" };

enum { AET_ONE, AET_NCOLS };	/* unread: a row when taken */
static const struct db_sql acct_email_taken = { "acct_email_taken", AET_NCOLS,
	"SELECT 1 FROM users WHERE lower(email) = lower($1)" };

/* $1 username, $2 email, $3 first, $4 last, $5 status, $6 hash, $7 github login */
enum { AI_ID, AI_NCOLS };
static const struct db_sql acct_insert = { "acct_insert", AI_NCOLS,
	"INSERT INTO users (username, email, first_name, last_name, status, password_hash, github_login)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id" };

enum { AUT_ONE, AUT_NCOLS };	/* unread: a row when taken */
static const struct db_sql acct_username_taken = { "acct_username_taken", AUT_NCOLS,
	"SELECT 1 FROM users WHERE lower(username) = lower($1)" };

enum { AQ_STATUS, AQ_NCOLS };
static const struct db_sql acct_questionnaire = { "acct_questionnaire", AQ_NCOLS,
	"UPDATE users SET first_name = $2, last_name = $3, questionnaire_form = $4::jsonb,"
	" status = CASE WHEN status = 'INCOMPLETE' THEN $5 ELSE status END, modified = now()"
	" WHERE id = $1::bigint RETURNING status" };

enum { ASF_STAFF, ASF_NCOLS };
static const struct db_sql acct_staff = { "acct_staff", ASF_NCOLS,
	"SELECT is_staff OR is_superuser FROM users WHERE id = $1::bigint" };

enum { AP_USERNAME, AP_EMAIL, AP_FIRST_NAME, AP_LAST_NAME, AP_STATUS, AP_JOINED, AP_NCOLS };
static const struct db_sql acct_pending = { "acct_pending", AP_NCOLS,
	"SELECT username, email, first_name, last_name, status, to_char(date_joined, 'YYYY-MM-DD')"
	" FROM users WHERE status = ANY (string_to_array($1, ',')) ORDER BY date_joined DESC LIMIT 500" };

/* The data dashboard, as the original's DashboardView: assets in no
 * version, blobs no asset uses, every upload row, and the assets of
 * some version that are not Valid. */
enum { DC_ORPHAN_ASSETS, DC_ORPHAN_BLOBS, DC_UPLOADS, DC_NON_VALID, DC_NCOLS };
static const struct db_sql dash_counts = { "dash_counts", DC_NCOLS,
	"SELECT (SELECT count(*) FROM assets a WHERE NOT EXISTS"
	"          (SELECT 1 FROM asset_versions av WHERE av.asset_id = a.id)),"
	"       (SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id)),"
	"       (SELECT count(*) FROM uploads),"
	"       (SELECT count(*) FROM assets a WHERE a.status <> 'Valid' AND EXISTS"
	"          (SELECT 1 FROM asset_versions av WHERE av.asset_id = a.id))" };

enum { DU_ID, DU_UPLOAD_ID, DU_SIZE, DU_BLOB, DU_ETAG, DU_CREATED, DU_NCOLS };
static const struct db_sql dash_uploads = { "dash_uploads", DU_NCOLS,
	"SELECT id, upload_id, size, blob, coalesce(etag, ''),"
	" to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
	" FROM uploads ORDER BY created, id LIMIT 10" };

enum {
	DNV_ID, DNV_ASSET_ID, DNV_PATH, DNV_STATUS, DNV_ERRORS, DNV_BLOB_ID, DNV_SIZE,
	DNV_SHA256, DNV_VERSIONS, DNV_CREATED, DNV_MODIFIED, DNV_METADATA, DNV_NCOLS,
};
static const struct db_sql dash_non_valid = { "dash_non_valid", DNV_NCOLS,
	"SELECT a.id, a.asset_id, a.path, a.status, a.validation_errors::text,"
	" coalesce(b.blob_id::text, ''), coalesce(b.size, z.size), coalesce(b.sha256, ''),"
	" (SELECT string_agg(lpad(v.dandiset_id::text, 6, '0') || '/' || v.version, ', ' ORDER BY v.id)"
	"    FROM asset_versions av JOIN versions v ON v.id = av.version_id WHERE av.asset_id = a.id),"
	" to_char(a.created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
	" to_char(a.modified AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), a.metadata::text"
	" FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	" WHERE a.status <> 'Valid' AND EXISTS (SELECT 1 FROM asset_versions av WHERE av.asset_id = a.id)"
	" ORDER BY a.created, a.id LIMIT 10" };

enum {
	AUS_USERNAME, AUS_EMAIL, AUS_FIRST_NAME, AUS_LAST_NAME, AUS_STATUS, AUS_REJECTION,
	AUS_QUESTIONNAIRE, AUS_JOINED, AUS_NCOLS,
};
static const struct db_sql acct_user = { "acct_user", AUS_NCOLS,
	"SELECT username, email, first_name, last_name, status, rejection_reason,"
	" coalesce(questionnaire_form::text, '{}'), to_char(date_joined, 'YYYY-MM-DD HH24:MI')"
	" FROM users WHERE username = $1" };

enum { ASS_ID, ASS_EMAIL, ASS_NAME, ASS_NCOLS };
static const struct db_sql acct_set_status = { "acct_set_status", ASS_NCOLS,
	"UPDATE users SET status = $2::text, rejection_reason = $3, is_active = $2::text <> 'REJECTED',"
	" modified = now() WHERE username = $1"
	" RETURNING id, email, coalesce(nullif(trim(first_name || ' ' || last_name), ''), username)" };

static const struct db_sql acct_state_insert = { "acct_state_insert", 0,
	"INSERT INTO upstream_states (state_sha256, next_url, expires)"
	" VALUES ($1, $2, now() + interval '10 minutes')" };

enum { AST_NEXT, AST_NCOLS };
static const struct db_sql acct_state_take = { "acct_state_take", AST_NCOLS,
	"WITH old AS (DELETE FROM upstream_states WHERE expires < now())"
	" DELETE FROM upstream_states WHERE state_sha256 = $1 AND expires > now() RETURNING next_url" };

enum { ASU_ID, ASU_ACTIVE, ASU_NCOLS };
static const struct db_sql acct_social_user = { "acct_social_user", ASU_NCOLS,
	"SELECT u.id, u.is_active FROM social_accounts s JOIN users u ON u.id = s.user_id"
	" WHERE s.provider = $1 AND s.uid = $2" };

static const struct db_sql acct_social_insert = { "acct_social_insert", 0,
	"INSERT INTO social_accounts (provider, uid, user_id, login, extra_data)"
	" VALUES ($1, $2, $3::bigint, $4, $5::jsonb)" };

const struct db_sql *const accounts_sql[] = {
	&acct_by_login, &acct_signin_lock, &acct_fail_counts, &acct_fail_add, &acct_fail_clear, &acct_email_taken,
	&acct_insert, &acct_username_taken, &acct_questionnaire, &acct_staff, &acct_pending,
	&dash_counts, &dash_uploads, &dash_non_valid, &acct_user, &acct_set_status,
	&acct_state_insert, &acct_state_take, &acct_social_user, &acct_social_insert, NULL
};

static void
json_put_cb(void *o)
{
	json_object_put(o);
}

static bool
utf8_ok(const char *s)
{
	return s != NULL && utf8_chars(s, strlen(s)) >= 0;
}

static const char *
next_or_home(struct request *req, const char *next)
{
	const char *n = safe_next(req, next);

	return n != NULL ? n : arena_printf(&req->arena, "%s/", req->cfg->web_url);
}

static void
hidden(struct request *req, const char *name, const char *value)
{
	buf_puts(&req->out, "<input type=\"hidden\" name=\"");
	html_text(req, name);
	buf_puts(&req->out, "\" value=\"");
	html_text(req, value);
	buf_puts(&req->out, "\">");
}

static void
form_open(struct request *req, const char *action, const char *next)
{
	buf_puts(&req->out, "<form method=\"post\" action=\"");
	html_text(req, action);
	buf_puts(&req->out, "\">");
	hidden(req, "csrfmiddlewaretoken", csrf_token(req));
	if (next != NULL)
		hidden(req, "next", next);
}

static void
field(struct request *req, const char *type, const char *name, const char *label,
    const char *value, const char *extra)
{
	struct buf *b = &req->out;

	buf_printf(b, "<label for=\"id_%s\">", name);
	html_text(req, label);
	buf_printf(b, "</label><input type=\"%s\" name=\"%s\" id=\"id_%s\"", type, name, name);
	if (value != NULL && strcmp(type, "password") != 0) {
		buf_puts(b, " value=\"");
		html_text(req, value);
		buf_puts(b, "\"");
	}
	buf_printf(b, " required%s%s>", extra ? " " : "", extra ? extra : "");
}

static void
error_line(struct request *req, const char *msg)
{
	if (msg == NULL)
		return;
	buf_puts(&req->out, "<p class=\"error\" role=\"alert\">");
	html_text(req, msg);
	buf_puts(&req->out, "</p>");
}

static bool
upstream_on(const struct request *req)
{
	const struct config *c = req->cfg;

	return *c->upstream_name && *c->upstream_authorize_url && *c->upstream_token_url &&
	    *c->upstream_user_url && *c->upstream_client_id;
}

static char *
qenc(struct request *req, const char *s)
{
	return req_urlencode(req, s);
}

/* ------------------------------------------------------------------ login */

static int
login_page(struct request *req, int status, const char *login, const char *next, const char *err)
{
	html_begin(req, "Sign in");
	error_line(req, err);
	if (upstream_on(req)) {
		buf_puts(&req->out, "<p><a class=\"button\" id=\"upstream-login\" href=\"/accounts/upstream/login/");
		if (next != NULL) {
			buf_puts(&req->out, "?next=");
			html_text(req, qenc(req, next));
		}
		buf_puts(&req->out, "\">Sign in with ");
		html_text(req, req->cfg->upstream_name);
		buf_puts(&req->out, "</a></p><p>or with your e-mail address and password:</p>");
	}
	form_open(req, "/accounts/login/", next);
	field(req, "text", "login", "Username or e-mail", login, "autocomplete=\"username\" maxlength=\"254\"");
	field(req, "password", "password", "Password", NULL, "autocomplete=\"current-password\"");
	buf_puts(&req->out, "<button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
	if (req->cfg->allow_signup) {
		buf_puts(&req->out, "<p>No account yet? <a id=\"signup-link\" href=\"/accounts/signup/");
		if (next != NULL) {
			buf_puts(&req->out, "?next=");
			html_text(req, qenc(req, next));
		}
		buf_puts(&req->out, "\">Sign up</a></p>");
	}
	return html_end(req, status);
}

/* GET /accounts/login/ */
int
accounts_login_get(struct request *req)
{
	const char *next = safe_next(req, query_get(req, "next"));

	if (req->user != NULL && req->via_session)
		return resp_redirect(req, 302, next_or_home(req, next));
	return login_page(req, 200, NULL, next, NULL);
}

/* The 429 page of a throttled sign-in, with Retry-After in whole seconds. */
static int
login_throttled(struct request *req, const char *login, const char *next, double wait)
{
	long secs = (long)ceil(wait);

	if (secs < 1)
		secs = 1;
	long n = secs >= 120 ? (secs + 59) / 60 : secs;
	resp_header(req, "Retry-After", arena_printf(&req->arena, "%ld", secs));
	return login_page(req, 429, login, next, arena_printf(&req->arena,
	    "Too many failed sign-in attempts from this address. Try again in %ld %s%s.",
	    n, secs >= 120 ? "minute" : "second", n == 1 ? "" : "s"));
}

/* POST /accounts/login/ */
int
accounts_login_post(struct request *req)
{
	if (request_parse_form(req) != 0 || csrf_check_form(req) != 0)
		return 0;
	const char *login = form_get(req, "login"), *pw = form_get(req, "password");
	const char *next = safe_next(req, form_get(req, "next"));
	char addr[64];
	PGresult *r;

	if (login == NULL || pw == NULL || *str_trim((char *)login) == '\0' || *pw == '\0')
		return login_page(req, 400, login, next, "Enter your username or e-mail and your password.");
	if (strlen(login) > 254 || strlen(pw) > 1024)
		return login_page(req, 400, NULL, next,
		    "The username and/or password you specified are not correct.");
	/* The client address is nginx's REMOTE_ADDR: behind another proxy,
	 * nginx's real_ip module must make it the client's (README). */
	throttle_address(req->remote_addr, addr, sizeof(addr));

	/* Count, check and record in one transaction, after the attempts of
	 * this account from this address before it (begun here, not by the
	 * route row: the form's own 400s above need none). */
	const char *pc[2] = { login, addr };
	if (req_begin(req) != 0 || req_query(req, &acct_signin_lock, 2, pc) == NULL ||
	    (r = req_query(req, &acct_fail_counts, 2, pc)) == NULL)
		return 0;
	double wait = throttle_wait(&fail_pair, atol(PQgetvalue(r, 0, AF_PAIR)),
	    strtod(PQgetvalue(r, 0, AF_PAIR_AGO), NULL));
	double wait_addr = throttle_wait(&fail_address, atol(PQgetvalue(r, 0, AF_ADDRESS)),
	    strtod(PQgetvalue(r, 0, AF_ADDRESS_AGO), NULL));
	if (wait_addr > wait)
		wait = wait_addr;
	if (wait > 0) {
		/* Refused unheard: no password is checked, nothing counted. */
		if (req_commit(req) != 0)
			return 0;
		return login_throttled(req, login, next, wait);
	}
	const char *p1[1] = { login };
	if ((r = req_query(req, &acct_by_login, 1, p1)) == NULL)
		return 0;
	bool found = PQntuples(r) == 1;
	/* passwd_verify costs the same with no account: no timing oracle. */
	bool good = passwd_verify(pw, found && !PQgetisnull(r, 0, ABL_HASH) ?
	    PQgetvalue(r, 0, ABL_HASH) : NULL);
	if (!good || !found || strcmp(PQgetvalue(r, 0, ABL_ACTIVE), "t") != 0) {
		if (req_query(req, &acct_fail_add, 2, pc) == NULL || req_commit(req) != 0)
			return 0;
		return login_page(req, 400, login, next,
		    "The username and/or password you specified are not correct.");
	}
	const char *uid = arena_strdup(&req->arena, PQgetvalue(r, 0, ABL_ID));
	if (req_query(req, &acct_fail_clear, 2, pc) == NULL || session_start(req, uid) != 0 ||
	    req_commit(req) != 0)
		return 0;
	return resp_redirect(req, 302, next_or_home(req, next));
}

/* ----------------------------------------------------------------- signup */

static int
signup_page(struct request *req, int status, const char *user, const char *email,
    const char *next, const char *err)
{
	html_begin(req, "Sign up");
	error_line(req, err);
	form_open(req, "/accounts/signup/", next);
	field(req, "text", "username", "Username", user,
	    "maxlength=\"150\" autocomplete=\"username\" pattern=\"[A-Za-z0-9@.+_\\-]+\"");
	field(req, "email", "email", "E-mail", email, "maxlength=\"254\" autocomplete=\"email\"");
	field(req, "password", "password1", "Password (at least 8 characters)", NULL,
	    "minlength=\"8\" autocomplete=\"new-password\"");
	field(req, "password", "password2", "Password again", NULL, "autocomplete=\"new-password\"");
	buf_puts(&req->out, "<button type=\"submit\" id=\"sign-up\">Sign up</button></form>"
	    "<p>Already have an account? <a href=\"/accounts/login/\">Sign in</a></p>");
	return html_end(req, status);
}

/* Django's username rule, ASCII: letters, digits and @.+-_ */
static bool
username_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 150)
		return false;
	for (; *u; u++)
		if (!isalnum((unsigned char)*u) || (unsigned char)*u >= 0x80)
			if (strchr("@.+-_", *u) == NULL)
				return false;
	return true;
}

static bool
email_ok(const char *e)
{
	const char *at = strchr(e, '@');
	size_t n = strlen(e);

	if (n < 3 || n > 254 || at == NULL || at == e || strchr(at + 1, '@') != NULL ||
	    strchr(at + 1, '.') == NULL || at[1] == '.' || e[n - 1] == '.')
		return false;
	for (; *e; e++)
		if ((unsigned char)*e <= 0x20 || (unsigned char)*e >= 0x7f || strchr("<>()[],;:\\\"", *e))
			return false;
	return true;
}

static const char *
new_user_status(const struct request *req)
{
	return req->cfg->auto_approve_users ? "APPROVED" : "INCOMPLETE";
}

/* GET /accounts/signup/ */
int
accounts_signup_get(struct request *req)
{
	if (!req->cfg->allow_signup)
		return html_message(req, 403, "Sign up", "This archive does not take new local accounts.");
	return signup_page(req, 200, NULL, NULL, safe_next(req, query_get(req, "next")), NULL);
}

/* POST /accounts/signup/ */
int
accounts_signup_post(struct request *req)
{
	char hash[PASSWD_HASH_MAX];
	PGresult *r;

	if (!req->cfg->allow_signup)
		return html_message(req, 403, "Sign up", "This archive does not take new local accounts.");
	if (request_parse_form(req) != 0 || csrf_check_form(req) != 0)
		return 0;
	const char *user = form_get(req, "username"), *email = form_get(req, "email");
	const char *p1 = form_get(req, "password1"), *p2 = form_get(req, "password2");
	const char *next = safe_next(req, form_get(req, "next"));
	if (user == NULL || email == NULL || p1 == NULL || p2 == NULL)
		return signup_page(req, 400, user, email, next, "Fill in every field.");
	user = str_trim((char *)user);
	email = str_trim((char *)email);
	if (strlen(user) > 150)
		return signup_page(req, 400, NULL, email, next,
		    "Ensure the username has at most 150 characters.");
	if (!username_ok(user))
		return signup_page(req, 400, NULL, email, next, "Enter a valid username. This value may "
		    "contain only English letters, numbers, and @/./+/-/_ characters.");
	if (!email_ok(email))
		return signup_page(req, 400, user, NULL, next, "Enter a valid e-mail address.");
	if (strlen(p1) < 8 || strlen(p1) > 1024)
		return signup_page(req, 400, user, email, next,
		    "The password must have between 8 and 1024 characters.");
	if (strcmp(p1, p2) != 0)
		return signup_page(req, 400, user, email, next, "The two passwords do not match.");
	const char *pu[1] = { user }, *pe[1] = { email };
	if ((r = req_query(req, &acct_username_taken, 1, pu)) == NULL)
		return 0;
	if (PQntuples(r) > 0)
		return signup_page(req, 400, NULL, email, next, "A user with that username already exists.");
	if ((r = req_query(req, &acct_email_taken, 1, pe)) == NULL)
		return 0;
	if (PQntuples(r) > 0)
		return signup_page(req, 400, user, NULL, next,
		    "A user is already registered with this e-mail address.");
	if (passwd_hash(p1, hash) != 0)
		return resp_detail(req, 500, "Password hashing failed.");
	const char *params[7] = { user, email, "", "", new_user_status(req), hash, NULL };
	bool clash = false;
	if ((r = req_query_try(req, &acct_insert, 7, params, &clash)) == NULL && !clash)
		return 0;
	if (clash)	/* a race with another sign-up of the same name */
		return signup_page(req, 400, NULL, email, next, "A user with that username already exists.");
	if (session_start(req, PQgetvalue(r, 0, AI_ID)) != 0)
		return 0;
	log_info("new local account %s", user);
	return resp_redirect(req, 302, next_or_home(req, next));
}

/* ----------------------------------------------------------------- logout */

/* GET /accounts/logout/: a button (a GET must not sign anybody out). */
int
accounts_logout_get(struct request *req)
{
	html_begin(req, "Sign out");
	buf_puts(&req->out, "<p>Sign out of this archive?</p>");
	form_open(req, "/accounts/logout/", safe_next(req, query_get(req, "next")));
	buf_puts(&req->out, "<button type=\"submit\" id=\"sign-out\">Sign out</button></form>");
	return html_end(req, 200);
}

/* POST /accounts/logout/ */
int
accounts_logout_post(struct request *req)
{
	if (request_parse_form(req) != 0 || csrf_check_form(req) != 0)
		return 0;
	if (session_end(req) != 0)
		return 0;
	return resp_redirect(req, 302, next_or_home(req, form_get(req, "next")));
}

/* ---------------------------------------------------------- questionnaire */

static const struct { const char *name, *label; size_t max; } questions[] = {
	{ "first_name", "First Name", 150 },
	{ "last_name", "Last Name", 150 },
	{ "affiliation", "What affiliation(s) do you have?", 1000 },
	{ "website", "Lab/project website", 1000 },
	{ "usage", "How do you plan to use DANDI?", 5000 },
};
#define NQUESTIONS (sizeof(questions) / sizeof(questions[0]))

static int
questionnaire_page(struct request *req, int status, const char *next, const char *err)
{
	html_begin(req, "Welcome to the archive");
	buf_puts(&req->out, "<p>Tell us a little about yourself. An administrator reviews new accounts "
	    "before they can create dandisets or upload data.</p>");
	error_line(req, err);
	form_open(req, "/api/users/questionnaire-form/", next);
	for (size_t i = 0; i < NQUESTIONS; i++) {
		const char *v = form_get(req, questions[i].name);
		if (v == NULL && i == 0)
			v = req->user->first_name;
		if (v == NULL && i == 1)
			v = req->user->last_name;
		char extra[40];
		snprintf(extra, sizeof(extra), "maxlength=\"%zu\"", questions[i].max);
		field(req, "text", questions[i].name, questions[i].label, v, extra);
	}
	buf_puts(&req->out, "<button type=\"submit\" id=\"questionnaire-submit\">Submit</button></form>");
	return html_end(req, status);
}

static int
to_login(struct request *req)
{
	return resp_redirect(req, 302, arena_printf(&req->arena, "/accounts/login/?next=%s",
	    qenc(req, req->uri)));
}

/* GET /api/users/questionnaire-form/ */
int
questionnaire_get(struct request *req)
{
	if (req->user == NULL)
		return to_login(req);
	return questionnaire_page(req, 200, safe_next(req, query_get(req, "next")), NULL);
}

static bool
auto_approved(const struct request *req, const char *email)
{
	char *list = xstrdup(req->cfg->auto_approve_email_suffixes), *save = NULL;
	size_t n = strlen(email);
	bool yes = false;

	for (char *s = strtok_r(list, " ,", &save); s != NULL && !yes; s = strtok_r(NULL, " ,", &save)) {
		size_t k = strlen(s);
		yes = k > 0 && n >= k && strcasecmp(email + n - k, s) == 0;
	}
	free(list);
	return yes;
}

/* POST /api/users/questionnaire-form/ */
int
questionnaire_post(struct request *req)
{
	PGresult *r;

	if (req->user == NULL)
		return to_login(req);
	if (request_parse_form(req) != 0 || csrf_check_form(req) != 0)
		return 0;
	const char *next = safe_next(req, form_get(req, "next"));
	struct json_object *answers = json_object_new_object();
	arena_defer(&req->arena, json_put_cb, answers);
	for (size_t i = 0; i < NQUESTIONS; i++) {
		char *v = (char *)form_get(req, questions[i].name);
		if (v == NULL || *str_trim(v) == '\0')
			return questionnaire_page(req, 400, next, "Answer every question.");
		if (utf8_chars(v, strlen(v)) > (long)questions[i].max)
			return questionnaire_page(req, 400, next, arena_printf(&req->arena,
			    "\"%s\": at most %zu characters.", questions[i].label, questions[i].max));
		json_object_object_add(answers, questions[i].label, json_object_new_string(v));
	}
	const char *status = req->cfg->auto_approve_users ||
	    auto_approved(req, req->user->email) ? "APPROVED" : "PENDING";
	const char *params[5] = { req->user_id_str, form_get(req, "first_name"), form_get(req, "last_name"),
	    json_object_to_json_string_ext(answers, JSON_C_TO_STRING_PLAIN), status };
	bool first = strcmp(req->user->status, "INCOMPLETE") == 0;
	if ((r = req_query(req, &acct_questionnaire, 5, params)) == NULL)
		return 0;
	const char *now = arena_strdup(&req->arena, PQgetvalue(r, 0, AQ_STATUS));
	const char *name = arena_printf(&req->arena, "%s %s", params[1], params[2]);
	if (first && notify_registered(req, req->user->username, req->user->email, name, now) != 0)
		return 0;
	if (req_commit(req) != 0)
		return 0;
	log_info("questionnaire of %s: status %s", req->user->username, now);
	return resp_redirect(req, 302, next_or_home(req, next));
}

/* -------------------------------------------------------------- dashboard */

/* Staff only; anonymous browsers are sent to sign in. 0 allowed, -1 with
 * the response set. */
static int
dashboard_allowed(struct request *req)
{
	PGresult *r;

	if (req->user == NULL)
		return to_login(req), -1;
	const char *params[1] = { req->user_id_str };
	if ((r = req_query(req, &acct_staff, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || PQgetvalue(r, 0, ASF_STAFF)[0] != 't')
		return html_message(req, 403, "Forbidden", "This page is for administrators."), -1;
	return 0;
}

/* Table cells, each value escaped. */
static void
cells(struct request *req, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_puts(&req->out, "<td>");
		html_text(req, v[i]);
		buf_puts(&req->out, "</td>");
	}
}

static void
count_line(struct request *req, const char *id, const char *n, const char *what)
{
	buf_printf(&req->out, "<p>There are currently <strong id=\"%s\">", id);
	html_text(req, n);
	buf_printf(&req->out, "</strong> %s.</p>", what);
}

/* The upload rows (the oldest ten), with what S3 holds at their key: a
 * multipart upload's object exists once it is completed. */
static void
dashboard_uploads(struct request *req, const char *count, PGresult *r)
{
	buf_puts(&req->out, "<section id=\"uploads\"><h2>Uploads</h2>");
	count_line(req, "upload-count", count, "uploads");
	if (PQntuples(r) == 0) {
		buf_puts(&req->out, "</section>");
		return;
	}
	struct s3 *s3 = api_s3_optional(req);
	buf_puts(&req->out, "<p>They may simply be recent and still uploading, or abandoned.</p>"
	    "<table><thead><tr><th>ID</th><th>Upload ID</th><th>Size (reported)</th><th>Size (actual)</th>"
	    "<th>ETag (reported)</th><th>ETag (actual)</th><th>Created (UTC)</th></tr></thead><tbody>");
	for (int i = 0; i < PQntuples(r); i++) {
		struct s3_object o = { 0 };
		const char *size = "unknown (no object store)", *etag = size;
		int st = s3 != NULL ? s3_head(s3, PQgetvalue(r, i, DU_BLOB), &o) : S3_ERROR;
		if (st == S3_OK) {
			size = arena_printf(&req->arena, "%lld", (long long)o.size);
			etag = arena_strdup(&req->arena, o.etag ? o.etag : "");
		} else if (st == S3_NOT_FOUND)
			size = etag = "Doesn't exist";
		else if (s3 != NULL)
			size = etag = "unknown (S3 error)";
		s3_object_free(&o);
		const char *v[7] = { PQgetvalue(r, i, DU_ID), PQgetvalue(r, i, DU_UPLOAD_ID),
		    PQgetvalue(r, i, DU_SIZE), size, PQgetvalue(r, i, DU_ETAG), etag,
		    PQgetvalue(r, i, DU_CREATED) };
		buf_puts(&req->out, "<tr>");
		cells(req, v, 7);
		buf_puts(&req->out, "</tr>");
	}
	buf_puts(&req->out, "</tbody></table></section>");
}

/* The assets of some version that are not Valid (the oldest ten). */
static void
dashboard_non_valid(struct request *req, const char *count, PGresult *r)
{
	buf_puts(&req->out, "<section id=\"non-valid-assets\"><h2>Non-valid assets</h2>");
	count_line(req, "non-valid-asset-count", count, "assets that are not valid");
	if (PQntuples(r) == 0) {
		buf_puts(&req->out, "</section>");
		return;
	}
	buf_puts(&req->out, "<table><thead><tr><th>ID</th><th>Asset ID</th><th>Path</th><th>Status</th>"
	    "<th>Validation errors</th><th>Blob ID</th><th>Size</th><th>SHA256</th><th>Versions</th>"
	    "<th>Created (UTC)</th><th>Modified (UTC)</th><th>Metadata</th></tr></thead><tbody>");
	for (int i = 0; i < PQntuples(r); i++) {
		/* The columns before the metadata are the table's cells. */
		const char *v[DNV_METADATA];
		for (int k = DNV_ID; k < DNV_METADATA; k++)
			v[k] = PQgetvalue(r, i, k);
		buf_puts(&req->out, "<tr>");
		cells(req, v, DNV_METADATA);
		buf_puts(&req->out, "<td><details><summary>metadata</summary><pre>");
		html_text(req, PQgetvalue(r, i, DNV_METADATA));
		buf_puts(&req->out, "</pre></details></td></tr>");
	}
	buf_puts(&req->out, "</tbody></table></section>");
}

/* GET /dashboard/?status=PENDING: the users of a status (PENDING first,
 * for approval), then the original's data dashboard. */
int
dashboard_get(struct request *req)
{
	const char *st = query_get(req, "status");
	PGresult *r, *c, *up, *nv;

	if (dashboard_allowed(req) != 0)
		return 0;
	if (st == NULL || (strcmp(st, "PENDING") && strcmp(st, "INCOMPLETE") && strcmp(st, "APPROVED") &&
	    strcmp(st, "REJECTED")))
		st = "PENDING";
	const char *params[1] = { st };
	if ((r = req_query(req, &acct_pending, 1, params)) == NULL ||
	    (c = req_query(req, &dash_counts, 0, NULL)) == NULL ||
	    (up = req_query(req, &dash_uploads, 0, NULL)) == NULL ||
	    (nv = req_query(req, &dash_non_valid, 0, NULL)) == NULL)
		return 0;
	html_begin(req, "Dashboard");
	buf_puts(&req->out, "<section id=\"user-list\"><h2>Users</h2><nav><p>Show: ");
	static const char *const all[] = { "PENDING", "INCOMPLETE", "APPROVED", "REJECTED" };
	for (size_t i = 0; i < 4; i++)
		buf_printf(&req->out, "%s<a href=\"/dashboard/?status=%s\"%s>%s</a>", i ? " | " : "",
		    all[i], strcmp(all[i], st) == 0 ? " aria-current=\"page\"" : "", all[i]);
	buf_puts(&req->out, "</p></nav>");
	if (PQntuples(r) == 0)
		buf_puts(&req->out, "<p id=\"no-users\">No users with this status.</p>");
	else {
		buf_puts(&req->out, "<table id=\"users\"><thead><tr><th>Username</th><th>Name</th><th>E-mail</th>"
		    "<th>Joined</th></tr></thead><tbody>");
		for (int i = 0; i < PQntuples(r); i++) {
			buf_puts(&req->out, "<tr><td><a href=\"/dashboard/user/");
			html_text(req, qenc(req, PQgetvalue(r, i, AP_USERNAME)));
			buf_puts(&req->out, "/\">");
			html_text(req, PQgetvalue(r, i, AP_USERNAME));
			buf_puts(&req->out, "</a></td><td>");
			html_text(req, PQgetvalue(r, i, AP_FIRST_NAME));
			buf_puts(&req->out, " ");
			html_text(req, PQgetvalue(r, i, AP_LAST_NAME));
			buf_puts(&req->out, "</td><td>");
			html_text(req, PQgetvalue(r, i, AP_EMAIL));
			buf_puts(&req->out, "</td><td>");
			html_text(req, PQgetvalue(r, i, AP_JOINED));
			buf_puts(&req->out, "</td></tr>");
		}
		buf_puts(&req->out, "</tbody></table>");
	}
	buf_puts(&req->out, "</section><section id=\"orphaned-assets\"><h2>Orphaned assets</h2>");
	count_line(req, "orphaned-asset-count", PQgetvalue(c, 0, DC_ORPHAN_ASSETS),
	    "assets with no associated versions");
	if (strcmp(PQgetvalue(c, 0, DC_ORPHAN_ASSETS), "0") != 0)
		buf_puts(&req->out, "<p><code>dandi-jobs gc --assets</code> cleans them up.</p>");
	buf_puts(&req->out, "</section><section id=\"orphaned-blobs\"><h2>Orphaned blobs</h2>");
	count_line(req, "orphaned-blob-count", PQgetvalue(c, 0, DC_ORPHAN_BLOBS),
	    "blobs with no associated assets");
	if (strcmp(PQgetvalue(c, 0, DC_ORPHAN_BLOBS), "0") != 0)
		buf_puts(&req->out, "<p><code>dandi-jobs gc</code> cleans them up.</p>");
	buf_puts(&req->out, "</section>");
	dashboard_uploads(req, PQgetvalue(c, 0, DC_UPLOADS), up);
	dashboard_non_valid(req, PQgetvalue(c, 0, DC_NON_VALID), nv);
	if (embargo_dashboard(req) != 0)
		return 0;
	return html_end(req, 200);
}

static int
dashboard_user_page(struct request *req, int status, const char *err)
{
	const char *params[1] = { req->params[0] };
	PGresult *r;

	if ((r = req_query(req, &acct_user, 1, params)) == NULL)
		return 0;
	if (PQntuples(r) != 1)
		return html_message(req, 404, "Not found", "No such user.");
	html_begin(req, PQgetvalue(r, 0, AUS_USERNAME));
	error_line(req, err);
	buf_puts(&req->out, "<dl><dt>Name</dt><dd>");
	html_text(req, PQgetvalue(r, 0, AUS_FIRST_NAME));
	buf_puts(&req->out, " ");
	html_text(req, PQgetvalue(r, 0, AUS_LAST_NAME));
	buf_puts(&req->out, "</dd><dt>E-mail</dt><dd>");
	html_text(req, PQgetvalue(r, 0, AUS_EMAIL));
	buf_puts(&req->out, "</dd><dt>Joined</dt><dd>");
	html_text(req, PQgetvalue(r, 0, AUS_JOINED));
	buf_puts(&req->out, "</dd><dt>Status</dt><dd id=\"status\">");
	html_text(req, PQgetvalue(r, 0, AUS_STATUS));
	if (*PQgetvalue(r, 0, AUS_REJECTION)) {
		buf_puts(&req->out, " (");
		html_text(req, PQgetvalue(r, 0, AUS_REJECTION));
		buf_puts(&req->out, ")");
	}
	buf_puts(&req->out, "</dd>");
	struct json_object *q = req_json_text(req, PQgetvalue(r, 0, AUS_QUESTIONNAIRE));
	if (q != NULL && json_object_is_type(q, json_type_object)) {
		json_object_object_foreach(q, k, v) {
			buf_puts(&req->out, "<dt>");
			html_text(req, k);
			buf_puts(&req->out, "</dt><dd>");
			html_text(req, json_object_get_string(v));
			buf_puts(&req->out, "</dd>");
		}
	}
	buf_puts(&req->out, "</dl>");
	const char *action = arena_printf(&req->arena, "/dashboard/user/%s/",
	    qenc(req, PQgetvalue(r, 0, AUS_USERNAME)));
	form_open(req, action, NULL);
	hidden(req, "status", "APPROVED");
	buf_puts(&req->out, "<button type=\"submit\" id=\"approve\">Approve</button></form>");
	form_open(req, action, NULL);
	hidden(req, "status", "REJECTED");
	buf_puts(&req->out, "<label for=\"id_reason\">Reason for rejection</label>"
	    "<textarea name=\"rejection_reason\" id=\"id_reason\" maxlength=\"1000\"></textarea>"
	    "<button type=\"submit\" class=\"secondary\" id=\"reject\">Reject</button></form>"
	    "<p><a href=\"/dashboard/\">All pending users</a></p>");
	return html_end(req, status);
}

/* GET /dashboard/user/{username}/ */
int
dashboard_user_get(struct request *req)
{
	if (dashboard_allowed(req) != 0)
		return 0;
	return dashboard_user_page(req, 200, NULL);
}

/* POST /dashboard/user/{username}/: status=APPROVED|REJECTED, rejection_reason */
int
dashboard_user_post(struct request *req)
{
	PGresult *r;

	if (dashboard_allowed(req) != 0)
		return 0;
	if (request_parse_form(req) != 0 || csrf_check_form(req) != 0)
		return 0;
	const char *st = form_get(req, "status");
	char *reason = (char *)form_get(req, "rejection_reason");
	if (st == NULL || (strcmp(st, "APPROVED") != 0 && strcmp(st, "REJECTED") != 0))
		return dashboard_user_page(req, 400, "Choose approve or reject.");
	if (strcmp(st, "REJECTED") == 0 && (reason == NULL || *str_trim(reason) == '\0'))
		return dashboard_user_page(req, 400, "A rejection needs a reason.");
	if (reason != NULL && utf8_chars(reason, strlen(reason)) > 1000)
		return dashboard_user_page(req, 400, "The reason has at most 1000 characters.");
	const char *params[3] = { req->params[0], st, strcmp(st, "REJECTED") == 0 ? reason : "" };
	if ((r = req_query(req, &acct_set_status, 3, params)) == NULL)
		return 0;
	if (PQntuples(r) != 1)
		return html_message(req, 404, "Not found", "No such user.");
	if (notify_decision(req, PQgetvalue(r, 0, ASS_EMAIL), PQgetvalue(r, 0, ASS_NAME), st,
	    params[2]) != 0 ||
	    req_commit(req) != 0)
		return 0;
	log_info("user %s %s by %s", req->params[0], st, req->user->username);
	return resp_redirect(req, 302, "/dashboard/");
}

/* --------------------------------------------------------------- upstream */

static const char *
upstream_callback(struct request *req)
{
	return arena_printf(&req->arena, "%s/accounts/upstream/callback/", req->cfg->api_url);
}

/* GET /accounts/upstream/login/?next= */
int
upstream_login(struct request *req)
{
	char state[65], hash[65];

	if (!upstream_on(req))
		return html_message(req, 404, "Not found", "No upstream sign-in is configured.");
	if (secret_new(state) != 0)
		return resp_detail(req, 500, "No randomness.");
	secret_hash(state, hash);
	const char *next = next_or_home(req, query_get(req, "next"));
	const char *params[2] = { hash, next };
	if (req_query(req, &acct_state_insert, 2, params) == NULL)
		return 0;
	const struct config *c = req->cfg;
	return resp_redirect(req, 302, arena_printf(&req->arena,
	    "%s%sclient_id=%s&redirect_uri=%s&scope=%s&state=%s&response_type=code",
	    c->upstream_authorize_url, strchr(c->upstream_authorize_url, '?') ? "&" : "?",
	    qenc(req, c->upstream_client_id), qenc(req, upstream_callback(req)),
	    qenc(req, c->upstream_scope), state));
}

/* A user name of ours for a provider login: the login itself when free and
 * valid, else with a number. */
static const char *
free_username(struct request *req, const char *login)
{
	char base[120];
	size_t k = 0;
	PGresult *r;

	for (const char *p = login; *p && k < sizeof(base) - 1; p++)
		if (isalnum((unsigned char)*p) || strchr("@.+-_", *p))
			base[k++] = *p;
	base[k] = '\0';
	if (k == 0)
		snprintf(base, sizeof(base), "user");
	for (int i = 0; i < 1000; i++) {
		const char *u = i == 0 ? arena_strdup(&req->arena, base) :
		    arena_printf(&req->arena, "%s-%d", base, i + 1);
		const char *params[1] = { u };
		if ((r = req_query(req, &acct_username_taken, 1, params)) == NULL)
			return NULL;
		if (PQntuples(r) == 0)
			return u;
	}
	return NULL;
}

static const char *
json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

/* GET /accounts/upstream/callback/?code=&state= */
int
upstream_callback_get(struct request *req)
{
	const struct config *c = req->cfg;
	const char *code = query_get(req, "code"), *state = query_get(req, "state");
	char hash[65], err[256];
	long status;
	struct buf out;
	PGresult *r;

	if (!upstream_on(req))
		return html_message(req, 404, "Not found", "No upstream sign-in is configured.");
	if (state == NULL || strlen(state) != 64)
		return html_message(req, 400, "Sign-in failed", "The sign-in came back without a valid state.");
	secret_hash(state, hash);
	const char *ps[1] = { hash };
	if ((r = req_query(req, &acct_state_take, 1, ps)) == NULL)
		return 0;
	if (PQntuples(r) != 1)
		return html_message(req, 400, "Sign-in failed",
		    "This sign-in is unknown or expired. Start again.");
	const char *next = arena_strdup(&req->arena, PQgetvalue(r, 0, AST_NEXT));
	if (query_get(req, "error") != NULL || code == NULL || *code == '\0' || strlen(code) > 512)
		return html_message(req, 400, "Sign-in failed", arena_printf(&req->arena,
		    "%s did not sign you in.", c->upstream_name));

	/* code -> access token */
	const char *body = arena_printf(&req->arena,
	    "grant_type=authorization_code&client_id=%s&client_secret=%s&code=%s&redirect_uri=%s",
	    qenc(req, c->upstream_client_id), qenc(req, c->upstream_client_secret), qenc(req, code),
	    qenc(req, upstream_callback(req)));
	const char *th[] = { "Accept: application/json",
	    "Content-Type: application/x-www-form-urlencoded", NULL };
	buf_init(&out);
	int rc = httpc_request("POST", c->upstream_token_url, th, body, &status, &out, err, sizeof(err));
	struct json_object *tok = NULL;
	if (rc == 0 && status == 200 && jsonread(out.data, out.len, &tok, err, sizeof(err)) != 0)
		log_error("upstream token answer: %s", err);
	buf_free(&out);
	arena_defer(&req->arena, json_put_cb, tok);
	const char *access = tok != NULL ? json_str(tok, "access_token") : NULL;
	if (access == NULL) {
		log_error("upstream token exchange failed: %s (status %ld)", rc ? err : "no access_token", status);
		return html_message(req, 502, "Sign-in failed", arena_printf(&req->arena,
		    "%s could not confirm the sign-in. Try again later.", c->upstream_name));
	}

	/* access token -> who */
	const char *auth = arena_printf(&req->arena, "Authorization: Bearer %s", access);
	const char *uh[] = { "Accept: application/json", auth, NULL };
	buf_init(&out);
	rc = httpc_request("GET", c->upstream_user_url, uh, NULL, &status, &out, err, sizeof(err));
	struct json_object *who = NULL;
	if (rc == 0 && status == 200 && jsonread(out.data, out.len, &who, err, sizeof(err)) != 0)
		log_error("upstream user answer: %s", err);
	buf_free(&out);
	arena_defer(&req->arena, json_put_cb, who);
	const char *uid = who != NULL ? json_str(who, "id") : NULL;
	const char *login = who != NULL ? json_str(who, "login") : NULL;
	if (uid == NULL || *uid == '\0' || strlen(uid) > 255) {
		log_error("upstream user lookup failed: %s (status %ld)", rc ? err : "no id", status);
		return html_message(req, 502, "Sign-in failed", arena_printf(&req->arena,
		    "%s did not say who you are. Try again later.", c->upstream_name));
	}
	if (login == NULL || strlen(login) > 255 || !utf8_ok(login))
		login = uid;
	if (!utf8_ok(uid))
		return html_message(req, 502, "Sign-in failed", "The provider sent a malformed answer.");
	char provider[51];
	snprintf(provider, sizeof(provider), "%s", c->upstream_name);
	for (char *p = provider; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	/* The transaction only now: none stays open across the calls to the
	 * provider above. */
	if (req_begin(req) != 0)
		return 0;
	const char *pu[2] = { provider, uid };
	if ((r = req_query(req, &acct_social_user, 2, pu)) == NULL)
		return 0;
	const char *user_id;
	if (PQntuples(r) == 1) {
		if (strcmp(PQgetvalue(r, 0, ASU_ACTIVE), "t") != 0)
			return html_message(req, 403, "Sign-in refused", "This account is not active.");
		user_id = arena_strdup(&req->arena, PQgetvalue(r, 0, ASU_ID));
	} else {
		const char *uname = free_username(req, login);
		if (uname == NULL)
			return req->status ? 0 : resp_detail(req, 500, "No user name available.");
		const char *email = json_str(who, "email");
		const char *name = json_str(who, "name");
		char first[151] = "", last[151] = "";
		if (name != NULL) {
			const char *sp = strrchr(name, ' ');
			snprintf(first, sizeof(first), "%.*s", sp ? (int)(sp - name) : (int)strlen(name), name);
			snprintf(last, sizeof(last), "%s", sp ? sp + 1 : "");
		}
		/* The login is shown as the username, as the original does with
		 * GitHub logins, when it fits and is free. */
		const char *gh = strlen(login) <= 39 && strcmp(uname, login) == 0 ? login : NULL;
		const char *pi[7] = { uname, email && email_ok(email) ? email : "", utf8_ok(first) ? first : "",
		    utf8_ok(last) ? last : "", new_user_status(req), NULL, gh };
		if ((r = req_query(req, &acct_insert, 7, pi)) == NULL)
			return 0;
		user_id = arena_strdup(&req->arena, PQgetvalue(r, 0, AI_ID));
		const char *extra = json_object_to_json_string_ext(who, JSON_C_TO_STRING_PLAIN);
		const char *px[5] = { provider, uid, user_id, login, extra };
		if (req_query(req, &acct_social_insert, 5, px) == NULL)
			return 0;
		log_info("new account %s from %s", uname, provider);
	}
	if (session_start(req, user_id) != 0 || req_commit(req) != 0)
		return 0;
	return resp_redirect(req, 302, next);
}
