/*
 * cors.h - Cross-Origin Resource Sharing for the API, as the original
 * archive does it with django-cors-headers: a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered 200 before anything else, and
 * every answer to an allowed Origin, errors and 304s included, carries
 * Access-Control-Allow-Origin (plus Allow-Headers, Allow-Methods and
 * Max-Age on OPTIONS). Allowed are web_url's origin, web_app_origins,
 * cors_allowed_origins and cors_allowed_origin_regexes; with
 * cors_public_read (default, as the original's "read-only from anyone"
 * signal) also GET and HEAD, and their preflights, from any origin.
 */
#ifndef DANDI_CORS_H
#define DANDI_CORS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct request;
struct cors;

/* Parses and checks the cors_* and web_app_origins keys, compiles the
 * regexes. NULL with a message in err on a malformed origin or pattern. */
struct cors	*cors_new(const struct config *, char *err, size_t errlen);
void		 cors_free(struct cors *);

/* Whether origin (an Origin header value) is one of the configured ones. */
bool	cors_origin_allowed(const struct cors *, const char *origin);
/* OPTIONS with Access-Control-Request-Method: a browser's preflight. */
bool	cors_is_preflight(const struct request *);
/* Adds the CORS headers for req's Origin to its response, if any. */
void	cors_respond(const struct cors *, struct request *);

/* The length of the origin (scheme://host[:port]) that url starts with,
 * 0 when it has none. */
size_t	url_origin_len(const char *url);
/* Whether url starts with the origin of web_url or of one of
 * web_app_origins followed by "/" or its end: a place our web app runs,
 * where sign-in may send the browser back and OAuth may redirect. */
bool	web_app_url(const struct config *, const char *url);

#endif
