/* sentry.h - error reports to a Sentry-compatible service (Sentry,
 * GlitchTip) when sentry_dsn is set: one event per server error of the API
 * and per job that gives up, posted to the project's envelope endpoint
 * (POST /api/<project>/envelope/ with X-Sentry-Auth). A report never
 * holds anything up for long: a short time limit, a rate limit per
 * process, and a failed or refused send is dropped (and sends pause). */
#ifndef DANDI_SENTRY_H
#define DANDI_SENTRY_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct sentry;

/* What a report says. Never the request's body, headers or query. */
struct sentry_event {
	const char	*message;
	const char	*request_id;	/* tags; each may be NULL */
	const char	*route;
	const char	*method;
	int		 status;	/* 0: none */
	const char	*user_id;
	const char	*job_id;
	const char	*job_kind;
};

/* The reporter of cfg->sentry_dsn for program (the event's logger). NULL
 * when there is no DSN (err "") or it is malformed (err says why). */
struct sentry	*sentry_new(const struct config *, const char *program, char *err, size_t errlen);
void		 sentry_free(struct sentry *);
/* Sends the event with the warn and error lines logged in the current
 * context (log_context_errors) as breadcrumbs. 0 when the service took
 * it; -1 when it was dropped (rate limit, pause, failure: logged). s may
 * be NULL (nothing to do, -1). */
int		 sentry_capture(struct sentry *s, const struct sentry_event *);

/* Exposed for the unit tests: the envelope endpoint and public key of a
 * DSN ("https://KEY@host[:port][/path]/PROJECT"); 0 or -1. */
int		 sentry_dsn_parse(const char *dsn, char *url, size_t urllen, char *key, size_t keylen);
/* The envelope of an event (malloc'd), as sentry_capture posts it. */
char		*sentry_envelope(struct sentry *, const struct sentry_event *, char event_id[33]);

#endif
