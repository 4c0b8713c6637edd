/*
 * log.c - every line is a JSON object so that log shippers and `jq` read it
 * without a grammar. Writes go to one fd with a single write(2) per line so
 * lines from several worker processes never interleave.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"

static int		 log_fd = 2;
static const char	*log_program = "dandi";
static enum log_level	 log_min = LOG_INFO;

static const char *level_names[] = { "debug", "info", "warn", "error" };

enum log_level
log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s != NULL && strcasecmp(s, level_names[i]) == 0)
			return (enum log_level)i;
	return LOG_INFO;
}

void
log_open(const char *path, const char *program, enum log_level min)
{
	log_program = program;
	log_min = min;
	if (path != NULL && *path != '\0') {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd >= 0)
			log_fd = fd;
	}
}

static void
log_emit(struct json_object *o)
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

	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);
	char line[8192];
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	memcpy(line, s, n);
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

	if (lvl < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "level", json_object_new_string(level_names[lvl]));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	log_emit(o);
}

void
log_access(const char *method, const char *uri, int status, long long bytes,
    double seconds, const char *user)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "level", json_object_new_string("access"));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "uri", json_object_new_string(uri));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "bytes", json_object_new_int64(bytes));
	char ms[32];
	/* Microsecond resolution is plenty; %.17g noise is not. */
	snprintf(ms, sizeof(ms), "%.3f", seconds * 1000.0);
	json_object_object_add(o, "ms", json_object_new_double_s(seconds * 1000.0, ms));
	if (user != NULL)
		json_object_object_add(o, "user", json_object_new_string(user));
	log_emit(o);
}
