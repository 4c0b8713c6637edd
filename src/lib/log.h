/* log.h - structured (one JSON object per line) error and access logs. */
#ifndef DANDI_LOG_H
#define DANDI_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines go to path (appended), or to stderr when path is NULL or "". On
 * stderr under systemd (JOURNAL_STREAM names it) each line starts with
 * journald's <N> priority prefix, which journald takes off. */
void	log_open(const char *path, const char *program, enum log_level);
void	log_msg(enum log_level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The access line of a request: its request id and route come from the
 * context; the query values of log_redact_uri's keys are left out. */
void	log_access(const char *method, const char *uri, int status, long long bytes,
	    double seconds, const char *user, const char *user_id);
enum log_level log_level_parse(const char *);

/* What every line carries while a request or a job runs (copied; NULL:
 * nothing): "request_id", "route" and "job". log_context starts a new
 * one (and forgets the errors of the last); log_context_route adds the
 * route once it is known. */
void	log_context(const char *request_id, const char *job);
void	log_context_route(const char *route);
/* The warn and error messages logged since log_context, oldest first, at
 * most max (the first ones are kept): the breadcrumbs of an error report. */
size_t	log_context_errors(const char **out, size_t max);

/* uri with the values of secret query parameters (signature,
 * X-Amz-Signature, X-Amz-Credential, token, code, password, ...)
 * replaced by REDACTED, into out (cut to outlen - 1 bytes). */
void	log_redact_uri(const char *uri, char *out, size_t outlen);

#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif
