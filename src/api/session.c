/*
 * session.c - what the server-rendered pages (sign-in, questionnaire,
 * approval dashboard, OAuth authorize) share: the session cookie, the CSRF
 * token (Django's double submit: a cookie and a form field that must be
 * equal, which another site can neither read nor set), where a form may
 * send the browser next, and HTML output.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"

static const struct db_sql session_insert = { "session_insert", 0,
	"INSERT INTO sessions (id_sha256, user_id, expires)"
	" VALUES ($1, $2::bigint, now() + make_interval(days => $3::int))" };

static const struct db_sql session_delete = { "session_delete", 0,
	"DELETE FROM sessions WHERE id_sha256 = $1 OR expires < now()" };

const struct db_sql *const session_sql[] = {
	&session_insert, &session_delete, NULL
};

void
secret_hash(const char *s, char out[65])
{
	digest_sha256_hex(s, strlen(s), out);
}

int
secret_new(char out[65])
{
	unsigned char raw[32];

	if (random_bytes(raw, sizeof(raw)) != 0)
		return -1;
	hex_encode(raw, sizeof(raw), out);
	return 0;
}

static bool
secure_site(const struct request *req)
{
	return strncasecmp(req->cfg->api_url, "https:", 6) == 0;
}

static void
set_cookie(struct request *req, const char *name, const char *value, long max_age, bool http_only)
{
	resp_header(req, "Set-Cookie", arena_printf(&req->arena,
	    "%s=%s; Path=/; Max-Age=%ld; SameSite=Lax%s%s", name, value, max_age,
	    http_only ? "; HttpOnly" : "", secure_site(req) ? "; Secure" : ""));
}

/* This request's token, or a new one set as a cookie (a year, as Django). */
const char *
csrf_token(struct request *req)
{
	const char *t = cookie_get(req, CSRF_COOKIE);
	char fresh[65];

	if (t != NULL && strlen(t) == 64 && strspn(t, "0123456789abcdef") == 64)
		return t;
	if (secret_new(fresh) != 0)
		return NULL;
	t = arena_strdup(&req->arena, fresh);
	set_cookie(req, CSRF_COOKIE, t, 365L * 86400, false);
	/* Later reads in this request see it. */
	req->cookie = arena_printf(&req->arena, "%s=%s", CSRF_COOKIE, t);
	return t;
}

static bool
same_origin(const char *origin, const char *url)
{
	size_t n = url_origin_len(url);

	return n > 0 && strlen(origin) == n && strncasecmp(origin, url, n) == 0;
}

int
csrf_check_form(struct request *req)
{
	const char *cookie = cookie_get(req, CSRF_COOKIE);
	const char *field = form_get(req, "csrfmiddlewaretoken");

	if (req->origin != NULL && strcmp(req->origin, "null") != 0 &&
	    !same_origin(req->origin, req->cfg->api_url) && !same_origin(req->origin, req->cfg->web_url))
		return html_message(req, 403, "Forbidden",
		    "CSRF verification failed: the form was sent from another site."), -1;
	if (cookie == NULL || field == NULL || strlen(cookie) != 64 || !ct_streq(cookie, field))
		return html_message(req, 403, "Forbidden",
		    "CSRF verification failed: reload the page and send the form again."), -1;
	return 0;
}

int
session_start(struct request *req, const char *user_id)
{
	char sid[65], hash[65], days[16], csrf[65];

	if (secret_new(sid) != 0 || secret_new(csrf) != 0)
		return resp_detail(req, 500, "No randomness."), -1;
	secret_hash(sid, hash);
	snprintf(days, sizeof(days), "%d", req->cfg->session_days > 0 ? req->cfg->session_days : 14);
	const char *params[3] = { hash, user_id, days };
	if (req_query(req, &session_insert, 3, params) == NULL)
		return -1;
	set_cookie(req, SESSION_COOKIE, sid, (long)atoi(days) * 86400, true);
	/* A new token at sign-in: one planted before it is worthless. */
	set_cookie(req, CSRF_COOKIE, csrf, 365L * 86400, false);
	return 0;
}

int
session_end(struct request *req)
{
	const char *sid = cookie_get(req, SESSION_COOKIE);
	char hash[65] = "";

	if (sid != NULL)
		secret_hash(sid, hash);
	const char *params[1] = { hash };
	if (req_query(req, &session_delete, 1, params) == NULL)
		return -1;
	set_cookie(req, SESSION_COOKIE, "", 0, true);
	return 0;
}

const char *
safe_next(struct request *req, const char *next)
{
	if (next == NULL || *next == '\0' || strlen(next) > 2000)
		return NULL;
	/* Printable ASCII only: no CR/LF for a header, no spaces, no
	 * backslashes that browsers read as '/'. */
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
			return NULL;
	/* A path here ("//host" is another site), or a place where our web
	 * app runs: web_url's origin or one of web_app_origins, never
	 * anywhere else. */
	if (next[0] == '/' && next[1] != '/')
		return next;
	if (web_app_url(req->cfg, next))
		return next;
	return NULL;
}

void
html_text(struct request *req, const char *s)
{
	struct buf *b = &req->out;

	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#x27;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

void
html_begin(struct request *req, const char *title)
{
	struct buf *b = &req->out;

	b->len = 0;
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	html_text(req, title);
	buf_puts(b, " - ");
	html_text(req, req->cfg->instance_name);
	buf_puts(b, " Archive</title><style>"
	    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
	    "color:#222;line-height:1.5}h1{font-size:1.5rem}label{display:block;margin:.8rem 0 .2rem;"
	    "font-weight:600}input[type=text],input[type=email],input[type=password],input[type=url],"
	    "textarea{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #888;"
	    "border-radius:4px}button,.button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit;"
	    "background:#2b5797;color:#fff;border:0;border-radius:4px;cursor:pointer;text-decoration:none;"
	    "display:inline-block}button.secondary{background:#777}.error{color:#b00020;font-weight:600}"
	    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;"
	    "text-align:left}a{color:#2b5797}header{border-bottom:2px solid #2b5797;margin-bottom:1rem}"
	    "</style></head><body><header><p><a href=\"");
	html_text(req, req->cfg->web_url);
	buf_puts(b, "/\">");
	html_text(req, req->cfg->instance_name);
	buf_puts(b, " Archive</a></p></header><main><h1>");
	html_text(req, title);
	buf_puts(b, "</h1>\n");
}

int
html_end(struct request *req, int status)
{
	buf_puts(&req->out, "</main></body></html>\n");
	req->status = status;
	req->content_type_out = "text/html; charset=utf-8";
	/* Forms with secrets: never cached, never framed. */
	resp_header(req, "Cache-Control", "no-store");
	resp_header(req, "X-Frame-Options", "DENY");
	return 0;
}

int
html_message(struct request *req, int status, const char *title, const char *msg)
{
	html_begin(req, title);
	buf_puts(&req->out, "<p>");
	html_text(req, msg);
	buf_puts(&req->out, "</p>");
	return html_end(req, status);
}
