/*
 * cors.c - which origins may use the API from a browser, and the headers
 * that tell the browser so (see cors.h). Configured once per process; the
 * per-request work is a few string compares and, with regexes, a match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "cors.h"
#include "http.h"
#include "util.h"

/* django-cors-headers' defaults; the original adds the Sentry headers. */
#define CORS_ALLOW_HEADERS	"accept, authorization, content-type, user-agent, x-csrftoken, " \
				"x-requested-with, baggage, sentry-trace, x-dandi-access"
#define CORS_ALLOW_METHODS	"DELETE, GET, OPTIONS, PATCH, POST, PUT"

struct cors {
	char			**origins;	/* scheme://host[:port], no slash */
	size_t			  norigins;
	pcre2_code		**re;
	size_t			  nre;
	pcre2_match_data	 *md;
	bool			  public_read;
	bool			  credentials;
	char			 *expose;
	int			  max_age;
};

size_t
url_origin_len(const char *url)
{
	const char *p = url != NULL ? strstr(url, "://") : NULL;

	if (p == NULL || p == url)
		return 0;
	p += 3;
	size_t host = strcspn(p, "/?#");
	return host == 0 ? 0 : (size_t)(p - url) + host;
}

/* Whether s[0..n) is an origin as browsers send it: "null", or
 * scheme://host[:port] of printable ASCII without userinfo. It is echoed
 * in a header, so nothing else may pass. */
static bool
origin_ok(const char *s, size_t n)
{
	if (n == 4 && strncmp(s, "null", 4) == 0)
		return true;
	if (n == 0 || n > 253 + 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '@' ||
		    s[i] == '\\' || s[i] == '"' || s[i] == ',')
			return false;
	const char *sep = memmem(s, n, "://", 3);
	if (sep == NULL || sep == s)
		return false;
	for (const char *p = s; p < sep; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (p > s && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))))
			return false;
	const char *host = sep + 3, *end = s + n;
	return host < end && memchr(host, '/', (size_t)(end - host)) == NULL &&
	    memchr(host, '?', (size_t)(end - host)) == NULL &&
	    memchr(host, '#', (size_t)(end - host)) == NULL;
}

/* Calls fn for each item of a space- or comma-separated list; stops at
 * the first nonzero return and passes it on. */
static int
list_each(const char *list, const char *seps, int (*fn)(const char *, size_t, void *), void *ctx)
{
	const char *p = list != NULL ? list : "";

	for (;;) {
		p += strspn(p, seps);
		if (*p == '\0')
			return 0;
		size_t n = strcspn(p, seps);
		int rc = fn(p, n, ctx);
		if (rc != 0)
			return rc;
		p += n;
	}
}

struct add_ctx {
	struct cors	*c;
	const char	*key;
	char		*err;
	size_t		 errlen;
};

static int
add_origin(const char *s, size_t n, void *vctx)
{
	struct add_ctx *a = vctx;

	/* "https://x.org/" is written often enough; a path is a mistake. */
	if (n > 1 && s[n - 1] == '/' && s[n - 2] != '/')
		n--;
	if (!origin_ok(s, n)) {
		snprintf(a->err, a->errlen, "%s: '%.*s' is not an origin (scheme://host[:port])",
		    a->key, (int)(n > 200 ? 200 : n), s);
		return -1;
	}
	a->c->origins = xrealloc(a->c->origins, (a->c->norigins + 1) * sizeof(char *));
	char *o = xmalloc(n + 1);
	memcpy(o, s, n);
	o[n] = '\0';
	a->c->origins[a->c->norigins++] = o;
	return 0;
}

static int
add_regex(const char *s, size_t n, void *vctx)
{
	struct add_ctx	*a = vctx;
	int		 ec;
	PCRE2_SIZE	 eo;
	/* Python's re.match, which the original uses: anchored at the start
	 * only, so a pattern that means the whole origin ends with "$". */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)s, n, PCRE2_ANCHORED, &ec, &eo, NULL);

	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(a->err, a->errlen, "%s: '%.*s': %s at %zu", a->key,
		    (int)(n > 200 ? 200 : n), s, (char *)msg, (size_t)eo);
		return -1;
	}
	a->c->re = xrealloc(a->c->re, (a->c->nre + 1) * sizeof(*a->c->re));
	a->c->re[a->c->nre++] = re;
	return 0;
}

/* An HTTP token (RFC 9110 5.1): no separators, controls or spaces. */
static bool
header_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", s[i]) != NULL)
			return false;
	return n > 0;
}

struct cors *
cors_new(const struct config *cfg, char *err, size_t errlen)
{
	struct cors	*c = xcalloc(1, sizeof(*c));
	struct add_ctx	 a = { c, "web_url", err, errlen };
	size_t		 n = url_origin_len(cfg->web_url);

	if (n > 0 && add_origin(cfg->web_url, n, &a) != 0)
		goto fail;
	a.key = "web_app_origins";
	if (list_each(cfg->web_app_origins, " \t,", add_origin, &a) != 0)
		goto fail;
	a.key = "cors_allowed_origins";
	if (list_each(cfg->cors_allowed_origins, " \t,", add_origin, &a) != 0)
		goto fail;
	a.key = "cors_allowed_origin_regexes";
	if (list_each(cfg->cors_allowed_origin_regexes, " \t", add_regex, &a) != 0)
		goto fail;
	for (size_t i = 0; i < c->nre; i++)
		(void)pcre2_jit_compile(c->re[i], PCRE2_JIT_COMPLETE);
	if (c->nre > 0)
		c->md = pcre2_match_data_create(1, NULL);
	c->public_read = cfg->cors_public_read;
	c->credentials = cfg->cors_allow_credentials;
	/* "ETag Location" or "ETag, Location": one comma list in the header.
	 * X-Request-Id always, so that the web app can show a server
	 * error's id. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "X-Request-Id");
	for (const char *p = cfg->cors_expose_headers; p != NULL && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if (len == 12 && strncasecmp(p, "X-Request-Id", 12) == 0) {
			p += len;
			continue;
		}
		if (!header_name_ok(p, len)) {
			snprintf(err, errlen, "cors_expose_headers: '%.*s' is not a header name", (int)len, p);
			buf_free(&b);
			goto fail;
		}
		buf_puts(&b, ", ");
		buf_append(&b, p, len);
		p += len;
	}
	buf_append(&b, "", 1);
	c->expose = xstrdup(b.data);
	buf_free(&b);
	c->max_age = cfg->cors_max_age;
	return c;
fail:
	cors_free(c);
	return NULL;
}

void
cors_free(struct cors *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->norigins; i++)
		free(c->origins[i]);
	free(c->origins);
	for (size_t i = 0; i < c->nre; i++)
		pcre2_code_free(c->re[i]);
	free(c->re);
	if (c->md != NULL)
		pcre2_match_data_free(c->md);
	free(c->expose);
	free(c);
}

bool
cors_origin_allowed(const struct cors *c, const char *origin)
{
	if (origin == NULL || *origin == '\0')
		return false;
	for (size_t i = 0; i < c->norigins; i++)
		if (strcasecmp(origin, c->origins[i]) == 0)
			return true;
	for (size_t i = 0; i < c->nre; i++)
		if (pcre2_match(c->re[i], (PCRE2_SPTR)origin, strlen(origin), 0, 0, c->md, NULL) >= 0)
			return true;
	return false;
}

bool
cors_is_preflight(const struct request *req)
{
	return strcmp(req->method, "OPTIONS") == 0 && req->cors_method != NULL;
}

static bool
read_method(const char *m)
{
	return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

void
cors_respond(const struct cors *c, struct request *req)
{
	const char *origin = req->origin;

	if (origin == NULL || !origin_ok(origin, strlen(origin)))
		return;
	bool listed = cors_origin_allowed(c, origin);
	/* The original lets anyone read (its check_request_enabled signal);
	 * a preflight counts as the method it asks for, so other origins are
	 * not invited to write. */
	if (!listed && !(c->public_read &&
	    read_method(cors_is_preflight(req) ? req->cors_method : req->method)))
		return;
	resp_header(req, "Access-Control-Allow-Origin", origin);
	/* Credentials only for the configured origins, never for anyone. */
	if (listed && c->credentials)
		resp_header(req, "Access-Control-Allow-Credentials", "true");
	resp_header(req, "Access-Control-Expose-Headers", c->expose);
	if (strcmp(req->method, "OPTIONS") == 0) {
		resp_header(req, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
		resp_header(req, "Access-Control-Allow-Methods", CORS_ALLOW_METHODS);
		if (c->max_age > 0) {
			char age[16];
			snprintf(age, sizeof(age), "%d", c->max_age);
			resp_header(req, "Access-Control-Max-Age", age);
		}
	}
}

struct match_ctx {
	const char	*url;
	size_t		 n;
};

static int
origin_matches(const char *s, size_t n, void *vctx)
{
	struct match_ctx *m = vctx;

	if (n > 1 && s[n - 1] == '/' && s[n - 2] != '/')
		n--;
	return n == m->n && strncasecmp(s, m->url, n) == 0;
}

bool
web_app_url(const struct config *cfg, const char *url)
{
	size_t n = url_origin_len(url);

	if (n == 0 || !origin_ok(url, n) || (url[n] != '\0' && url[n] != '/'))
		return false;
	struct match_ctx m = { url, n };
	size_t wn = url_origin_len(cfg->web_url);
	if (wn > 0 && origin_matches(cfg->web_url, wn, &m))
		return true;
	return list_each(cfg->web_app_origins, " \t,", origin_matches, &m) == 1;
}
