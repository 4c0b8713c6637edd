/*
 * router.c - the route table is matched in order. Every pattern is anchored
 * and its trailing slash made optional here, so `/api/info` and `/api/info/`
 * reach the same handler. A path that matches some route but not for this
 * method is a 405 with an Allow list; no match at all is a 404.
 *
 * Per request it stays cheap without changing what matches: the path's
 * UTF-8 is checked once (PCRE2 would check it again for every pattern:
 * 15 us of a table of 82), and a pattern runs only when the path starts
 * with the literal text every path it matches starts with ("/api/info",
 * "/api/dandisets/"), a memcmp.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "router.h"
#include "util.h"

struct router {
	const struct route	*routes;
	size_t			 n;
	pcre2_code		**re;
	size_t			*prefix_len;	/* of routes[i].pattern: literal_prefix() */
	pcre2_match_data	*md;
};

/* The length of the text at the start of pat (len bytes, without the
 * optional trailing slash) that every string it matches starts with: its
 * characters up to the first that means something to PCRE2, less the last
 * when a quantifier follows it. 0 when an alternation outside any group
 * could match something else, and for syntax whose brackets this does not
 * follow (\Q...\E, comments, extended mode, POSIX classes). */
static size_t
literal_prefix(const char *pat, size_t len)
{
	static const char *const opaque[] = { "\\Q", "(?#", "(?x", "[:" };
	size_t	n;
	int	depth = 0;

	for (size_t k = 0; k < sizeof(opaque) / sizeof(opaque[0]); k++)
		if (memmem(pat, len, opaque[k], strlen(opaque[k])) != NULL)
			return 0;
	for (size_t i = 0; i < len; i++) {
		switch (pat[i]) {
		case '\\':
			i++;
			break;
		case '[':	/* a class; a ']' first in it is a member */
			i++;
			if (i < len && pat[i] == '^')
				i++;
			if (i < len && pat[i] == ']')
				i++;
			for (; i < len && pat[i] != ']'; i++)
				if (pat[i] == '\\')
					i++;
			break;
		case '(':
			depth++;
			break;
		case ')':
			depth--;
			break;
		case '|':
			if (depth <= 0)
				return 0;
			break;
		}
	}
	n = strcspn(pat, "\\^$.[|()?*+{");
	if (n > len)
		n = len;
	if (n < len && strchr("?*+{", pat[n]) != NULL && n > 0)
		n--;
	return n;
}

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), as PCRE2_UTF requires. */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; ) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;	/* the second byte's range */

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (c == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;	/* past U+10FFFF */
		} else
			return false;
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

struct router *
router_new(const struct route *routes, size_t n, char *err, size_t errlen)
{
	struct router *r = xcalloc(1, sizeof(*r));

	r->routes = routes;
	r->n = n;
	r->re = xcalloc(n, sizeof(*r->re));
	r->prefix_len = xcalloc(n, sizeof(*r->prefix_len));
	for (size_t i = 0; i < n; i++) {
		char		 pat[512];
		int		 ec;
		PCRE2_SIZE	 eo;
		size_t		 len = strlen(routes[i].pattern);

		/* "^/api/x/" -> "^/api/x/?$"; "^/api/x" -> "^/api/x/?$" */
		if (len > 0 && routes[i].pattern[len - 1] == '/')
			len--;
		snprintf(pat, sizeof(pat), "^%.*s/?$", (int)len, routes[i].pattern);
		r->prefix_len[i] = literal_prefix(routes[i].pattern, len);
		r->re[i] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF, &ec, &eo, NULL);
		if (r->re[i] == NULL) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "route %s: %s at %zu", routes[i].pattern,
			    (char *)msg, (size_t)eo);
			router_free(r);
			return NULL;
		}
		(void)pcre2_jit_compile(r->re[i], PCRE2_JIT_COMPLETE);
	}
	r->md = pcre2_match_data_create(ROUTE_MAX_PARAMS + 1, NULL);
	return r;
}

void
router_free(struct router *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->re[i] != NULL)
			pcre2_code_free(r->re[i]);
	free(r->re);
	free(r->prefix_len);
	if (r->md != NULL)
		pcre2_match_data_free(r->md);
	free(r);
}

static int
method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

enum route_result
router_match(struct router *r, struct request *req, const struct route **out,
    char *allow, size_t allowlen)
{
	int path_seen = 0;
	size_t plen = strlen(req->path);

	if (allow != NULL && allowlen > 0)
		allow[0] = '\0';
	/* Invalid UTF-8 in a path cannot match any route. */
	if (!utf8_valid((const unsigned char *)req->path, plen))
		return ROUTE_NOT_FOUND;
	for (size_t i = 0; i < r->n; i++) {
		if (plen < r->prefix_len[i] || memcmp(req->path, r->routes[i].pattern, r->prefix_len[i]) != 0)
			continue;
		int rc = pcre2_match(r->re[i], (PCRE2_SPTR)req->path, plen, 0, PCRE2_NO_UTF_CHECK,
		    r->md, NULL);
		if (rc < 0)
			continue;
		if (!method_matches(r->routes[i].method, req->method)) {
			path_seen = 1;
			if (allow != NULL && strstr(allow, r->routes[i].method) == NULL) {
				size_t used = strlen(allow);
				snprintf(allow + used, allowlen - used, "%s%s",
				    used ? ", " : "", r->routes[i].method);
			}
			continue;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
		for (int g = 1; g < rc && g <= ROUTE_MAX_PARAMS; g++) {
			if (ov[2 * g] == PCRE2_UNSET)
				req->params[g - 1] = NULL;
			else
				req->params[g - 1] = arena_strndup(&req->arena,
				    req->path + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
		}
		*out = &r->routes[i];
		return ROUTE_FOUND;
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
