/* router.h - method + PCRE2 path pattern -> handler, and the rules the
 * program attaches to each route (carried, not read, here). */
#ifndef DANDI_ROUTER_H
#define DANDI_ROUTER_H

#include <stddef.h>

struct request;
typedef int (*route_handler)(struct request *);

struct route {
	const char	*method;	/* GET also answers HEAD */
	const char	*pattern;	/* anchored; a trailing "/" is optional */
	route_handler	 handler;
	/* What the program checks and looks up before the handler runs;
	 * the router only carries them (dandi-api: src/api/api.h). */
	unsigned	 flags;
	unsigned	 target;
};

struct router;

/* Compiles every pattern; returns NULL (message in err) on a bad pattern. */
struct router	*router_new(const struct route *, size_t n, char *err, size_t errlen);
void		 router_free(struct router *);

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* On ROUTE_FOUND sets *route and fills params (arena copies in req). On
 * ROUTE_BAD_METHOD, allow (if non-NULL) receives a comma list of methods. */
enum route_result router_match(struct router *, struct request *,
		    const struct route **route, char *allow, size_t allowlen);

#endif
