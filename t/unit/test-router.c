/* Unit tests of the router: anchoring, optional slash, captures, 405. */
#include <stdlib.h>

#include "http.h"
#include "router.h"
#include "tap.h"

static int h_list(struct request *r) { (void)r; return 1; }
static int h_get(struct request *r) { (void)r; return 2; }
static int h_put(struct request *r) { (void)r; return 3; }

static const struct route routes[] = {
	{ "GET", "/api/dandisets/", h_list, 0, 0 },
	{ "GET", "/api/dandisets/(\\d{6})/", h_get, 3, 7 },
	{ "PUT", "/api/dandisets/(\\d{6})/versions/(draft|0\\.\\d{6}\\.\\d{4})/", h_put, 0, 0 },
};

static enum route_result
try(struct router *r, const char *method, const char *path, const struct route **rt,
    struct request *req, char *allow)
{
	req->method = method;
	req->path = path;
	return router_match(r, req, rt, allow, 64);
}

int
main(void)
{
	char			 err[256], allow[64];
	struct router		*r = router_new(routes, 3, err, sizeof(err));
	const struct route	*rt = NULL;
	struct request		 req;

	ok(r != NULL, "router compiles the table");
	request_init(&req, NULL, NULL);

	ok(try(r, "GET", "/api/dandisets/", &rt, &req, allow) == ROUTE_FOUND && rt->handler == h_list,
	    "list with slash");
	ok(try(r, "GET", "/api/dandisets", &rt, &req, allow) == ROUTE_FOUND && rt->handler == h_list,
	    "list without slash");
	ok(try(r, "HEAD", "/api/dandisets/", &rt, &req, allow) == ROUTE_FOUND, "HEAD answers as GET");
	ok(try(r, "GET", "/api/dandisets/000123/", &rt, &req, allow) == ROUTE_FOUND &&
	    rt->handler == h_get, "detail matches");
	is_str(req.params[0], "000123", "detail captures the id");
	ok(rt->flags == 3 && rt->target == 7, "the route's flags and target come with it, as they are");
	ok(try(r, "GET", "/api/dandisets/123/", &rt, &req, allow) == ROUTE_NOT_FOUND,
	    "non 6-digit id is 404");
	ok(try(r, "GET", "/api/dandisets/0001234/", &rt, &req, allow) == ROUTE_NOT_FOUND,
	    "7 digits is 404");
	ok(try(r, "GET", "/x/api/dandisets/", &rt, &req, allow) == ROUTE_NOT_FOUND,
	    "patterns are anchored at the start");
	ok(try(r, "GET", "/api/dandisets//", &rt, &req, allow) == ROUTE_NOT_FOUND,
	    "only one optional slash");
	ok(try(r, "DELETE", "/api/dandisets/000001/", &rt, &req, allow) == ROUTE_BAD_METHOD,
	    "known path, other method: 405");
	is_str(allow, "GET", "Allow lists the methods");
	ok(try(r, "PUT", "/api/dandisets/000001/versions/0.231201.1200/", &rt, &req, allow) ==
	    ROUTE_FOUND, "published version pattern");
	is_str(req.params[1], "0.231201.1200", "version captured");
	ok(try(r, "PUT", "/api/dandisets/000001/versions/1.0/", &rt, &req, allow) ==
	    ROUTE_NOT_FOUND, "bad version string is 404");
	ok(try(r, "GET", "/api/dandisets/\xff\xfe/", &rt, &req, allow) == ROUTE_NOT_FOUND,
	    "invalid UTF-8 does not match");

	request_finish(&req);
	router_free(r);

	/* A pattern runs only on paths that start with its literal prefix:
	 * whatever PCRE2 makes of the rest, the answers stay the same. */
	static const struct route shapes[] = {
		{ "GET", "/api/items?/", h_list, 0, 0 },		/* quantified last letter */
		{ "GET", "/api/x{2}/", h_list, 0, 0 },
		{ "GET", "/api/a\\.b/", h_list, 0, 0 },
		{ "GET", "/api/[c]d/", h_list, 0, 0 },
		{ "GET", "/one/two|/three/", h_get, 0, 0 },		/* alternation outside a group */
		{ "GET", "/api/u/([^/]+)/", h_put, 0, 0 },
		{ "GET", "/api/k[]|(]/", h_list, 0, 0 },		/* brackets and a bar in a class */
		{ "GET", "/api/q\\Q(\\E|/lit", h_list, 0, 0 },	/* a quoted bracket, then a bar */
	};
	r = router_new(shapes, sizeof(shapes) / sizeof(shapes[0]), err, sizeof(err));
	request_init(&req, NULL, NULL);
	ok(try(r, "GET", "/api/item/", &rt, &req, allow) == ROUTE_FOUND, "a quantified letter is not in the prefix");
	ok(try(r, "GET", "/api/items/", &rt, &req, allow) == ROUTE_FOUND, "... and its other form matches too");
	ok(try(r, "GET", "/api/xx/", &rt, &req, allow) == ROUTE_FOUND, "x{2}");
	ok(try(r, "GET", "/api/a.b/", &rt, &req, allow) == ROUTE_FOUND, "an escaped dot");
	ok(try(r, "GET", "/api/aXb/", &rt, &req, allow) == ROUTE_NOT_FOUND, "... is a dot");
	ok(try(r, "GET", "/api/cd/", &rt, &req, allow) == ROUTE_FOUND, "a class");
	ok(try(r, "GET", "/x/three", &rt, &req, allow) == ROUTE_FOUND && rt->handler == h_get,
	    "an alternation outside a group: its second branch, unanchored, still matches");
	ok(try(r, "GET", "/api/k(/", &rt, &req, allow) == ROUTE_FOUND, "a class holding ']', '|' and '('");
	ok(try(r, "GET", "/y/lit", &rt, &req, allow) == ROUTE_FOUND, "a bar after a quoted bracket is outside any group");
	ok(try(r, "GET", "/api/u/J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80/", &rt, &req, allow) == ROUTE_FOUND,
	    "UTF-8 of 2, 3 and 4 bytes matches");
	is_str(req.params[0], "J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80", "... and is captured whole");
	static const char *bad_utf8[] = {
		"/api/u/\xc0\xaf/",		/* overlong '/' */
		"/api/u/\xe0\x80\xaf/",	/* overlong, 3 bytes */
		"/api/u/\xed\xa0\x80/",	/* a surrogate */
		"/api/u/\xf4\x90\x80\x80/",	/* past U+10FFFF */
		"/api/u/\xe2\x82/",		/* cut short */
		"/api/u/\x80/",		/* a lone continuation byte */
		"/api/u/\xe2\x82",		/* cut short at the end */
	};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
		ok(try(r, "GET", bad_utf8[i], &rt, &req, allow) == ROUTE_NOT_FOUND, "invalid UTF-8 %zu: 404", i);
	request_finish(&req);
	router_free(r);

	static const struct route bad[] = { { "GET", "/api/(unclosed/", h_list, 0, 0 } };
	ok(router_new(bad, 1, err, sizeof(err)) == NULL, "a bad pattern is refused");
	ok(strstr(err, "unclosed") != NULL, "with a message naming it");
	return done_testing();
}
