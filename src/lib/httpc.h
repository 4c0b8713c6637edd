/* httpc.h - a small HTTP client (libcurl) for calls to other services:
 * the upstream identity provider, DataCite, webhooks. Bounded in time and
 * in the size of what it reads. */
#ifndef DANDI_HTTPC_H
#define DANDI_HTTPC_H

#include <stddef.h>

#include "util.h"

/* Sends method url with headers ("Name: value", NULL-terminated list, may
 * be NULL) and body (may be NULL). The status goes to *status and the
 * response body to out (at most 1 MiB). 0 when a response came, -1 with
 * err set when none did. */
int	httpc_request(const char *method, const char *url, const char *const *headers,
	    const char *body, long *status, struct buf *out, char *err, size_t errlen);

/* What some services need beyond httpc_request: HTTP basic auth and a
 * longer (or shorter) limit on the whole exchange. */
struct httpc_opts {
	const char	*username;	/* basic auth when non-NULL */
	const char	*password;
	long		 timeout;	/* seconds for the whole request; 0: 15 */
	long		 timeout_ms;	/* when > 0: milliseconds for the whole request
					 * and for connecting (instead of timeout) */
};

/* httpc_request with opts (may be NULL: the defaults). */
int	httpc_request_opts(const char *method, const char *url, const char *const *headers,
	    const char *body, const struct httpc_opts *opts, long *status, struct buf *out,
	    char *err, size_t errlen);

#endif
