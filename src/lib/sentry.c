/*
 * sentry.c - see sentry.h. The envelope format: a header line, an item
 * header line and the event as one JSON line (develop.sentry.dev, "Envelopes";
 * GlitchTip reads the same). The callers send after the answer is gone
 * (the API, main.c) or from the job process, so a send costs no client
 * time; the time limit bounds how long it keeps a worker from the next.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "httpc.h"
#include "log.h"
#include "sentry.h"
#include "util.h"

#define SENTRY_BURST		10	/* events at once per process, then */
#define SENTRY_REFILL_SECS	6.0	/* one more every 6 s: 10 a minute */
#define SENTRY_TIMEOUT_MS	2000	/* the whole send */
#define SENTRY_PAUSE_SECS	60	/* after a failed or refused send */
#define SENTRY_BREADCRUMBS	8

struct sentry {
	char	 url[512];
	char	 key[128];
	char	 auth[256];	/* the X-Sentry-Auth header line */
	char	*environment;
	char	*program;
	char	 server_name[128];
	double	 tokens;	/* the rate limit's bucket */
	double	 last_refill;
	double	 paused_until;
};

static char *
sprintf_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
sprintf_new(const char *fmt, ...)
{
	va_list	 ap;
	char	*out;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

int
sentry_dsn_parse(const char *dsn, char *url, size_t urllen, char *key, size_t keylen)
{
	const char *scheme_end = strstr(dsn, "://");
	if (scheme_end == NULL)
		return -1;
	size_t slen = (size_t)(scheme_end - dsn);
	if (!((slen == 4 && strncmp(dsn, "http", 4) == 0) || (slen == 5 && strncmp(dsn, "https", 5) == 0)))
		return -1;
	const char *p = scheme_end + 3, *at = strchr(p, '@'), *slash = strchr(p, '/');
	if (at == NULL || (slash != NULL && at > slash) || at == p)
		return -1;
	/* key[:secret]: the secret is deprecated and not needed. */
	size_t klen = strcspn(p, ":@");
	const char *host = at + 1, *last = strrchr(host, '/');
	if (last == NULL || last[1] == '\0' || last == host)
		return -1;
	for (const char *c = last + 1; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;	/* project ids are numbers */
	for (const char *c = p; c < p + klen; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			return -1;
	if (klen == 0 || klen >= keylen)
		return -1;
	memcpy(key, p, klen);
	key[klen] = '\0';
	/* scheme://host[:port][/path] + /api/PROJECT/envelope/ */
	int n = snprintf(url, urllen, "%.*s://%.*s/api/%s/envelope/", (int)slen, dsn,
	    (int)(last - host), host, last + 1);
	return n > 0 && (size_t)n < urllen ? 0 : -1;
}

struct sentry *
sentry_new(const struct config *cfg, const char *program, char *err, size_t errlen)
{
	struct sentry *s;

	err[0] = '\0';
	if (cfg->sentry_dsn == NULL || cfg->sentry_dsn[0] == '\0')
		return NULL;
	s = xcalloc(1, sizeof(*s));
	if (sentry_dsn_parse(cfg->sentry_dsn, s->url, sizeof(s->url), s->key, sizeof(s->key)) != 0) {
		/* Never the DSN itself in a message: it holds the key. */
		snprintf(err, errlen, "sentry_dsn is not a DSN (scheme://KEY@host[:port][/path]/PROJECT_ID)");
		free(s);
		return NULL;
	}
	snprintf(s->auth, sizeof(s->auth),
	    "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=%s, sentry_client=%s/%s",
	    s->key, PACKAGE_NAME, PACKAGE_VERSION);
	s->environment = xstrdup(cfg->sentry_environment);
	s->program = xstrdup(program);
	if (gethostname(s->server_name, sizeof(s->server_name)) != 0)
		s->server_name[0] = '\0';
	s->server_name[sizeof(s->server_name) - 1] = '\0';
	s->tokens = SENTRY_BURST;
	s->last_refill = mono_seconds();
	return s;
}

void
sentry_free(struct sentry *s)
{
	if (s == NULL)
		return;
	free(s->environment);
	free(s->program);
	free(s);
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_object_add(o, k, json_object_new_string(v));
}

char *
sentry_envelope(struct sentry *s, const struct sentry_event *ev, char event_id[33])
{
	unsigned char	 raw[16];
	char		 ts[32], status[16];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (random_bytes(raw, sizeof(raw)) != 0)
		return NULL;
	hex_encode(raw, sizeof(raw), event_id);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

	struct json_object *e = json_object_new_object(), *tags = json_object_new_object();
	add_str(e, "event_id", event_id);
	add_str(e, "timestamp", ts);
	add_str(e, "platform", "c");
	add_str(e, "level", "error");
	add_str(e, "logger", s->program);
	struct json_object *msg = json_object_new_object();
	add_str(msg, "formatted", ev->message);
	json_object_object_add(e, "message", msg);
	add_str(e, "release", PACKAGE_NAME "@" PACKAGE_VERSION);
	add_str(e, "environment", s->environment);
	add_str(e, "server_name", s->server_name);
	if (ev->route != NULL && ev->method != NULL) {
		char *tx = sprintf_new("%s %s", ev->method, ev->route);
		add_str(e, "transaction", tx);
		free(tx);
	}
	add_str(tags, "request_id", ev->request_id);
	add_str(tags, "route", ev->route);
	add_str(tags, "method", ev->method);
	if (ev->status > 0) {
		snprintf(status, sizeof(status), "%d", ev->status);
		add_str(tags, "status", status);
	}
	add_str(tags, "job_id", ev->job_id);
	add_str(tags, "job_kind", ev->job_kind);
	json_object_object_add(e, "tags", tags);
	if (ev->user_id != NULL) {
		struct json_object *u = json_object_new_object();
		add_str(u, "id", ev->user_id);
		json_object_object_add(e, "user", u);
	}
	/* Our own context: what was logged on the way to the error. */
	const char *lines[SENTRY_BREADCRUMBS];
	size_t n = log_context_errors(lines, SENTRY_BREADCRUMBS);
	if (n > 0) {
		struct json_object *bc = json_object_new_object(), *vals = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *b = json_object_new_object();
			add_str(b, "timestamp", ts);
			add_str(b, "category", "log");
			add_str(b, "level", "error");
			add_str(b, "message", lines[i]);
			json_object_array_add(vals, b);
		}
		json_object_object_add(bc, "values", vals);
		json_object_object_add(e, "breadcrumbs", bc);
	}
	const char *body = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
	char *out = sprintf_new("{\"event_id\":\"%s\",\"sent_at\":\"%s\"}\n"
	    "{\"type\":\"event\",\"length\":%zu,\"content_type\":\"application/json\"}\n%s\n",
	    event_id, ts, strlen(body), body);
	json_object_put(e);
	return out;
}

/* The token bucket: true when one more event may go now. */
static bool
sentry_allowed(struct sentry *s)
{
	double now = mono_seconds();

	if (now < s->paused_until)
		return false;
	s->tokens += (now - s->last_refill) / SENTRY_REFILL_SECS;
	if (s->tokens > SENTRY_BURST)
		s->tokens = SENTRY_BURST;
	s->last_refill = now;
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}

int
sentry_capture(struct sentry *s, const struct sentry_event *ev)
{
	char		 event_id[33], err[256];
	long		 status = 0;
	struct buf	 out;

	if (s == NULL)
		return -1;
	if (!sentry_allowed(s)) {
		log_warn("error report dropped: over the rate limit or paused");
		return -1;
	}
	char *env = sentry_envelope(s, ev, event_id);
	if (env == NULL)
		return -1;
	const char *headers[] = { s->auth, "Content-Type: application/x-sentry-envelope", NULL };
	struct httpc_opts opts = { .timeout_ms = SENTRY_TIMEOUT_MS };
	buf_init(&out);
	int rc = httpc_request_opts("POST", s->url, headers, env, &opts, &status, &out, err, sizeof(err));
	free(env);
	buf_free(&out);
	if (rc != 0 || status < 200 || status > 299) {
		/* The URL names only host and project: no key in the message. */
		if (rc != 0)
			log_warn("error report %s not sent: %s", event_id, err);
		else
			log_warn("error report %s refused: HTTP %ld", event_id, status);
		s->paused_until = mono_seconds() + SENTRY_PAUSE_SECS;
		return -1;
	}
	log_info("error report %s sent", event_id);
	return 0;
}
