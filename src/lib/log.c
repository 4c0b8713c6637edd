/*
 * log.c - every line is a JSON object so that log shippers and `jq` read it
 * without a grammar. Writes go to one fd with a single write(2) per line so
 * lines from several worker processes never interleave. Each process runs
 * one request or job at a time, so its context (request id, route, job id)
 * is a process global, set by the loop that runs them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"

static int		 log_fd = 2;
static const char	*log_program = "dandi";
static enum log_level	 log_min = LOG_INFO;
static bool		 log_journald;	/* stderr is a journald stream */

static const char *level_names[] = { "debug", "info", "warn", "error" };

/* The context of the request or job that runs now. */
#define LOG_CTX_ERRORS	8
static struct {
	char	request_id[72];
	char	route[160];
	char	job[32];
	char	errors[LOG_CTX_ERRORS][512];
	size_t	nerrors;
} ctx;
/* A job's reader threads (rangefeed.c) log too: one appends at a time. */
static pthread_mutex_t ctx_errors_lock = PTHREAD_MUTEX_INITIALIZER;

enum log_level
log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s != NULL && strcasecmp(s, level_names[i]) == 0)
			return (enum log_level)i;
	return LOG_INFO;
}

/* Whether fd 2 is the stream systemd connected to journald: JOURNAL_STREAM
 * holds its "device:inode" (systemd.exec(5)). */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_open(const char *path, const char *program, enum log_level min)
{
	log_program = program;
	log_min = min;
	int fd = 2;
	if (path != NULL && *path != '\0') {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0)
			fd = 2;
	}
	if (log_fd > 2 && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	log_journald = log_fd == 2 && stderr_is_journal();
}

void
log_context(const char *request_id, const char *job)
{
	snprintf(ctx.request_id, sizeof(ctx.request_id), "%s", request_id ? request_id : "");
	snprintf(ctx.job, sizeof(ctx.job), "%s", job ? job : "");
	ctx.route[0] = '\0';
	ctx.nerrors = 0;
}

void
log_context_route(const char *route)
{
	snprintf(ctx.route, sizeof(ctx.route), "%s", route ? route : "");
}

size_t
log_context_errors(const char **out, size_t max)
{
	size_t n = ctx.nerrors < max ? ctx.nerrors : max;

	for (size_t i = 0; i < n; i++)
		out[i] = ctx.errors[i];
	return n;
}

/* journald's priority prefixes (sd-daemon(3)): what `journalctl -p` filters. */
static const char *
journal_prefix(const char *level)
{
	if (strcmp(level, "error") == 0)
		return "<3>";
	if (strcmp(level, "warn") == 0)
		return "<4>";
	if (strcmp(level, "debug") == 0)
		return "<7>";
	return "<6>";	/* info, access */
}

static void
log_emit(struct json_object *o, const char *level)
{
	struct timeval	tv;
	struct tm	tm;
	char		ts[96];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "prog", json_object_new_string(log_program));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	if (ctx.request_id[0] != '\0')
		json_object_object_add(o, "request_id", json_object_new_string(ctx.request_id));
	if (ctx.route[0] != '\0')
		json_object_object_add(o, "route", json_object_new_string(ctx.route));
	if (ctx.job[0] != '\0')
		json_object_object_add(o, "job", json_object_new_string(ctx.job));

	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s), pre = 0;
	char line[8192];
	if (log_journald) {
		memcpy(line, journal_prefix(level), 3);
		pre = 3;
	}
	if (n > sizeof(line) - 2 - pre)
		n = sizeof(line) - 2 - pre;
	memcpy(line + pre, s, n);
	n += pre;
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	json_object_put(o);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char	msg[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Kept for an error report even when the level is not logged. */
	if (lvl >= LOG_WARN) {
		pthread_mutex_lock(&ctx_errors_lock);
		if (ctx.nerrors < LOG_CTX_ERRORS) {
			char *e = ctx.errors[ctx.nerrors++];
			size_t n = strnlen(msg, sizeof(ctx.errors[0]) - 1);
			while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
				n--;	/* cut before a character, not inside one */
			memcpy(e, msg, n);
			e[n] = '\0';
		}
		pthread_mutex_unlock(&ctx_errors_lock);
	}
	if (lvl < log_min)
		return;

	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "level", json_object_new_string(level_names[lvl]));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	log_emit(o, level_names[lvl]);
}

/* Query parameters whose values are secrets: presigned and signed URLs
 * (S3's and the archive's own s3-complete), OAuth codes and tokens, access
 * links' tokens. */
static const char *const secret_params[] = {
	"signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
	"awsaccesskeyid", "token", "access_token", "refresh_token", "id_token", "code",
	"state", "password", "secret", "client_secret", "key", "api_key", "sessionid",
	"access",
};

static bool
secret_param(const char *k, size_t n)
{
	for (size_t i = 0; i < sizeof(secret_params) / sizeof(secret_params[0]); i++)
		if (strlen(secret_params[i]) == n && strncasecmp(k, secret_params[i], n) == 0)
			return true;
	return false;
}

void
log_redact_uri(const char *uri, char *out, size_t outlen)
{
	const char *q = strchr(uri, '?');
	size_t o = 0;

#define PUT(p, n) do { size_t _n = (n); if (o + _n >= outlen) _n = outlen - 1 - o; \
	memcpy(out + o, (p), _n); o += _n; } while (0)
	if (outlen == 0)
		return;
	PUT(uri, q != NULL ? (size_t)(q - uri) + 1 : strlen(uri));
	for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p;) {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=&");
		if (klen < len && secret_param(p, klen)) {
			PUT(p, klen + 1);
			PUT("REDACTED", 8);
		} else
			PUT(p, len);
		p += len;
		if (*p == '&') {
			PUT("&", 1);
			p++;
		}
	}
	out[o] = '\0';
#undef PUT
}

void
log_access(const char *method, const char *uri, int status, long long bytes,
    double seconds, const char *user, const char *user_id)
{
	struct json_object *o = json_object_new_object();
	char safe[4096];

	log_redact_uri(uri, safe, sizeof(safe));
	json_object_object_add(o, "level", json_object_new_string("access"));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "uri", json_object_new_string(safe));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "bytes", json_object_new_int64(bytes));
	char ms[32];
	/* Microsecond resolution is plenty; %.17g noise is not. */
	snprintf(ms, sizeof(ms), "%.3f", seconds * 1000.0);
	json_object_object_add(o, "ms", json_object_new_double_s(seconds * 1000.0, ms));
	if (user != NULL)
		json_object_object_add(o, "user", json_object_new_string(user));
	if (user_id != NULL)
		json_object_object_add(o, "user_id", json_object_new_int64(strtoll(user_id, NULL, 10)));
	log_emit(o, "access");
}
