/* Unit tests of cors.c: the configured origins and regexes, the headers
 * of preflights and of other answers, and where the web app may be. */
#include <stdlib.h>

#include "config.h"
#include "cors.h"
#include "http.h"
#include "tap.h"

/* The value of response header name, or NULL. */
static const char *
hdr(const struct request *req, const char *name)
{
	for (int i = 0; i < req->nhdr; i++)
		if (strcasecmp(req->hdr_name[i], name) == 0)
			return req->hdr_value[i];
	return NULL;
}

static struct config cfg;

static void
set_cfg(const char *web, const char *apps, const char *origins, const char *regexes,
    bool public_read, bool credentials, const char *expose)
{
	cfg.web_url = (char *)web;
	cfg.web_app_origins = (char *)apps;
	cfg.cors_allowed_origins = (char *)origins;
	cfg.cors_allowed_origin_regexes = (char *)regexes;
	cfg.cors_public_read = public_read;
	cfg.cors_allow_credentials = credentials;
	cfg.cors_expose_headers = (char *)expose;
	cfg.cors_max_age = 86400;
}

/* Runs cors_respond on a request with method, Origin and (preflight)
 * Access-Control-Request-Method; the request is left for inspection. */
static void
respond(struct cors *c, struct request *req, const char *method, const char *origin,
    const char *acrm)
{
	request_init(req, &cfg, NULL);
	req->method = method;
	req->origin = origin;
	req->cors_method = acrm;
	req->status = 200;
	cors_respond(c, req);
}

int
main(void)
{
	char		 err[256];
	struct request	 req;
	struct cors	*c;

	set_cfg("https://web.example.org", "https://b.example.org/ http://127.0.0.1:9",
	    "https://tool.example.net,https://x.example.net", "^https://[a-z0-9-]+\\.preview\\.example\\.com$",
	    true, false, "");
	c = cors_new(&cfg, err, sizeof(err));
	ok(c != NULL, "configuration accepted: %s", c ? "" : err);

	ok(cors_origin_allowed(c, "https://web.example.org"), "web_url's origin");
	ok(cors_origin_allowed(c, "https://b.example.org"), "web_app_origins, trailing slash dropped");
	ok(cors_origin_allowed(c, "http://127.0.0.1:9"), "a loopback origin with a port");
	ok(cors_origin_allowed(c, "https://x.example.net"), "comma-separated cors_allowed_origins");
	ok(cors_origin_allowed(c, "HTTPS://Tool.Example.NET"), "scheme and host compare without case");
	ok(cors_origin_allowed(c, "https://pr-12.preview.example.com"), "a regex");
	ok(!cors_origin_allowed(c, "https://pr-12.preview.example.com.evil.org"), "the regex's $ holds");
	ok(!cors_origin_allowed(c, "http://web.example.org"), "another scheme is another origin");
	ok(!cors_origin_allowed(c, "https://web.example.org:444"), "another port is another origin");
	ok(!cors_origin_allowed(c, "http://127.0.0.1:90"), "no prefix matches");
	ok(!cors_origin_allowed(c, "https://evil.example.org"), "an unlisted origin");
	ok(!cors_origin_allowed(c, ""), "an empty Origin");

	/* The preflight of a listed origin: everything. */
	respond(c, &req, "OPTIONS", "https://b.example.org", "PUT");
	ok(cors_is_preflight(&req), "OPTIONS with Access-Control-Request-Method is a preflight");
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "https://b.example.org", "preflight: origin echoed");
	is_str(hdr(&req, "Access-Control-Allow-Methods"), "DELETE, GET, OPTIONS, PATCH, POST, PUT",
	    "preflight: django-cors-headers' methods");
	is_str(hdr(&req, "Access-Control-Allow-Headers"),
	    "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, baggage, sentry-trace, x-dandi-access",
	    "preflight: the default headers and the original's two");
	is_str(hdr(&req, "Access-Control-Max-Age"), "86400", "preflight: max age");
	ok(hdr(&req, "Access-Control-Allow-Credentials") == NULL, "no credentials unless configured");
	is_str(hdr(&req, "Access-Control-Expose-Headers"), "X-Request-Id",
	    "X-Request-Id exposed, nothing else unless configured");
	request_finish(&req);

	/* An actual request: the origin only. */
	respond(c, &req, "PUT", "https://tool.example.net", NULL);
	ok(!cors_is_preflight(&req), "PUT is no preflight");
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "https://tool.example.net", "PUT: origin echoed");
	ok(hdr(&req, "Access-Control-Allow-Methods") == NULL && hdr(&req, "Access-Control-Max-Age") == NULL,
	    "PUT: no preflight headers");
	request_finish(&req);

	/* Anyone may read (cors_public_read), nobody else may write. */
	respond(c, &req, "GET", "https://neurosift.example", NULL);
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "https://neurosift.example", "public read: GET");
	request_finish(&req);
	respond(c, &req, "HEAD", "https://neurosift.example", NULL);
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "https://neurosift.example", "public read: HEAD");
	request_finish(&req);
	respond(c, &req, "OPTIONS", "https://neurosift.example", "GET");
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "https://neurosift.example", "public read: GET preflight");
	ok(hdr(&req, "Access-Control-Allow-Methods") != NULL, "public read: preflight headers");
	request_finish(&req);
	respond(c, &req, "OPTIONS", "https://evil.example.org", "DELETE");
	is_int(req.nhdr, 0, "an unlisted origin's DELETE preflight gets no CORS headers");
	request_finish(&req);
	respond(c, &req, "POST", "https://evil.example.org", NULL);
	is_int(req.nhdr, 0, "an unlisted origin's POST gets no CORS headers");
	request_finish(&req);
	respond(c, &req, "GET", NULL, NULL);
	is_int(req.nhdr, 0, "no Origin, no CORS headers");
	request_finish(&req);
	respond(c, &req, "GET", "https://a.example\r\nSet-Cookie: x=1", NULL);
	is_int(req.nhdr, 0, "an Origin that is no origin is never echoed");
	request_finish(&req);
	respond(c, &req, "GET", "null", NULL);
	is_str(hdr(&req, "Access-Control-Allow-Origin"), "null", "public read: a sandboxed page (null)");
	request_finish(&req);

	ok(web_app_url(&cfg, "https://web.example.org/"), "web app: web_url");
	ok(web_app_url(&cfg, "https://b.example.org/dandiset/000001"), "web app: web_app_origins, a path");
	ok(web_app_url(&cfg, "http://127.0.0.1:9"), "web app: the bare origin");
	ok(!web_app_url(&cfg, "https://tool.example.net/"), "web app: cors_allowed_origins are not");
	ok(!web_app_url(&cfg, "https://pr-1.preview.example.com/"), "web app: regexes are not");
	ok(!web_app_url(&cfg, "https://b.example.org.evil.org/"), "web app: no prefix match");
	ok(!web_app_url(&cfg, "https://b.example.org@evil.org/"), "web app: no userinfo");
	ok(!web_app_url(&cfg, "https://b.example.org?x=/"), "web app: origin then query");
	ok(!web_app_url(&cfg, "//b.example.org/"), "web app: no scheme");
	cors_free(c);

	/* Not public: only the listed origins; credentials and exposed headers. */
	set_cfg("https://web.example.org", "", "", "", false, true, "Location ETag");
	c = cors_new(&cfg, err, sizeof(err));
	ok(c != NULL, "second configuration accepted");
	respond(c, &req, "GET", "https://neurosift.example", NULL);
	is_int(req.nhdr, 0, "cors_public_read false: an unlisted GET gets nothing");
	request_finish(&req);
	respond(c, &req, "GET", "https://web.example.org", NULL);
	is_str(hdr(&req, "Access-Control-Allow-Credentials"), "true", "credentials when configured");
	is_str(hdr(&req, "Access-Control-Expose-Headers"), "X-Request-Id, Location, ETag",
	    "exposed headers as a comma list, after X-Request-Id");
	request_finish(&req);
	cors_free(c);

	/* Mistakes are refused at start. */
	set_cfg("https://web.example.org", "", "https://a.example.org/path", "", true, false, "");
	ok(cors_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "cors_allowed_origins") != NULL,
	    "an origin with a path is refused, naming the key");
	set_cfg("https://web.example.org", "a.example.org", "", "", true, false, "");
	ok(cors_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "web_app_origins") != NULL,
	    "an origin without a scheme is refused");
	set_cfg("https://web.example.org", "", "", "^https://(", true, false, "");
	ok(cors_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "regexes") != NULL, "a bad regex is refused");
	set_cfg("https://web.example.org", "", "", "", true, false, "Bad:Header");
	ok(cors_new(&cfg, err, sizeof(err)) == NULL, "a bad header name is refused");

	ok(url_origin_len("https://a.b:1/x?y") == strlen("https://a.b:1"), "url_origin_len: path");
	ok(url_origin_len("https://a.b?y") == strlen("https://a.b"), "url_origin_len: query");
	ok(url_origin_len("/x") == 0 && url_origin_len("://x") == 0 && url_origin_len("https:///x") == 0,
	    "url_origin_len: no origin");
	return done_testing();
}
