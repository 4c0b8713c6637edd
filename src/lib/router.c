/*
 * router.c - the route table is matched in order. Every pattern is anchored
 * and its trailing slash made optional here, so `/api/info` and `/api/info/`
 * reach the same handler. A path that matches some route but not for this
 * method is a 405 with an Allow list; no match at all is a 404.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
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
	pcre2_match_data	*md;
};

struct router *
router_new(const struct route *routes, size_t n, char *err, size_t errlen)
{
	struct router *r = xcalloc(1, sizeof(*r));

	r->routes = routes;
	r->n = n;
	r->re = xcalloc(n, sizeof(*r->re));
	for (size_t i = 0; i < n; i++) {
		char		 pat[512];
		int		 ec;
		PCRE2_SIZE	 eo;
		size_t		 len = strlen(routes[i].pattern);

		/* "^/api/x/" -> "^/api/x/?$"; "^/api/x" -> "^/api/x/?$" */
		if (len > 0 && routes[i].pattern[len - 1] == '/')
			len--;
		snprintf(pat, sizeof(pat), "^%.*s/?$", (int)len, routes[i].pattern);
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
	for (size_t i = 0; i < r->n; i++) {
		/* Invalid UTF-8 in a path cannot match any route. */
		int rc = pcre2_match(r->re[i], (PCRE2_SPTR)req->path, plen, 0, 0, r->md, NULL);
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
