/* Unit tests of the observability helpers: request ids, the secret query
 * values left out of logged URIs, the log context, the Sentry DSN and
 * envelope, and the request id in a 5xx body. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "sentry.h"
#include "tap.h"

static void
redact_is(const char *uri, const char *want, const char *name)
{
	char out[512];

	log_redact_uri(uri, out, sizeof(out));
	is_str(out, want, name);
}

int
main(void)
{
	struct config	cfg = { 0 };
	struct request	req;
	char		err[256], url[512], key[128];

	/* --- request ids --- */
	ok(request_id_ok("0123456789abcdef0123456789abcdef"), "nginx's $request_id is sane");
	ok(request_id_ok("my-lb.id_1"), "letters, digits, . _ - are sane");
	ok(!request_id_ok(""), "empty is not");
	ok(!request_id_ok("a b"), "a space is not");
	ok(!request_id_ok("x\r\nSet-Cookie: a=b"), "a header injection is not");
	char long65[66];
	memset(long65, 'a', 65);
	long65[65] = '\0';
	ok(!request_id_ok(long65), "65 characters are too many");
	long65[64] = '\0';
	ok(request_id_ok(long65), "64 are not");

	request_init(&req, &cfg, NULL);
	request_id_set(&req, "from-nginx", "from-client");
	is_str(req.request_id, "from-nginx", "nginx's id first");
	request_id_set(&req, NULL, "from-client");
	is_str(req.request_id, "from-client", "else the client's");
	request_id_set(&req, "bad id", "bad id too");
	ok(strlen(req.request_id) == 32 && strspn(req.request_id, "0123456789abcdef") == 32,
	    "else a new one of 32 hex digits");
	char first[33];
	strcpy(first, req.request_id);
	request_id_set(&req, NULL, NULL);
	ok(strcmp(first, req.request_id) != 0, "a new one each time");

	/* --- 5xx bodies name the request id, others do not --- */
	request_id_set(&req, "rid-1", NULL);
	resp_detail(&req, 500, "Internal server error.");
	is_str(req.out.data, "{\"detail\":\"Internal server error.\",\"request_id\":\"rid-1\"}",
	    "a 500's body: detail and request_id");
	resp_detail(&req, 404, "Not found.");
	is_str(req.out.data, "{\"detail\":\"Not found.\"}", "a 404's body: detail only");
	request_finish(&req);

	/* --- secret query values are left out of logged URIs --- */
	redact_is("/api/dandisets/?page=2", "/api/dandisets/?page=2", "an ordinary query is kept");
	redact_is("/api/uploads/x/s3-complete/?expires=123&signature=abc",
	    "/api/uploads/x/s3-complete/?expires=123&signature=REDACTED", "the archive's signature");
	redact_is("/b/k?X-Amz-Algorithm=A&X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&x=1",
	    "/b/k?X-Amz-Algorithm=A&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1",
	    "S3's presigned parameters, any case");
	redact_is("/accounts/upstream/callback/?code=c0de&state=s7",
	    "/accounts/upstream/callback/?code=REDACTED&state=REDACTED", "OAuth code and state");
	redact_is("/p?token", "/p?token", "a key without a value has nothing to hide");
	redact_is("/p?tokens=1&token=2", "/p?tokens=1&token=REDACTED", "whole names only");
	redact_is("/no/query", "/no/query", "no query");
	char small[16];
	log_redact_uri("/a/very/long/path/indeed", small, sizeof(small));
	is_str(small, "/a/very/long/pa", "cut to the buffer");

	/* --- the log context keeps the warnings and errors of a request --- */
	log_open("/dev/null", "test", LOG_ERROR);
	log_context("rid-2", NULL);
	log_info("not kept");
	log_warn("kept %d", 1);
	log_error("kept %d", 2);
	const char *lines[4];
	is_int(log_context_errors(lines, 4), 2, "two lines kept");
	is_str(lines[0], "kept 1", "the warning first");
	is_str(lines[1], "kept 2", "then the error");
	log_context("rid-3", NULL);
	is_int(log_context_errors(lines, 4), 0, "a new context forgets them");

	/* --- under systemd: journald's priority prefix on stderr's lines --- */
	char path[] = "/tmp/test-observe-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;
	char js[64], got[512] = "";
	fstat(fd, &st);
	dup2(fd, 2);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_open(NULL, "test", LOG_INFO);
	log_warn("to the journal");
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_open("", "test", LOG_INFO);
	log_info("not to the journal");
	unsetenv("JOURNAL_STREAM");
	dup2(saved, 2);
	FILE *f = fopen(path, "r");
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	unlink(path);
	close(fd);
	ok(strncmp(got, "<4>{\"level\":\"warn\",\"msg\":\"to the journal\"", 39) == 0,
	    "stderr is the journal's stream: <4> before a warning's JSON");
	char *second = strchr(got, '\n');
	ok(second != NULL && strncmp(second + 1, "{\"level\":\"info\"", 15) == 0,
	    "JOURNAL_STREAM naming another file: no prefix");
	log_open("/dev/null", "test", LOG_ERROR);

	/* --- the DSN --- */
	ok(sentry_dsn_parse("https://abc123@o1.ingest.example.org/42", url, sizeof(url), key, sizeof(key)) == 0,
	    "a Sentry DSN parses");
	is_str(url, "https://o1.ingest.example.org/api/42/envelope/", "its envelope endpoint");
	is_str(key, "abc123", "its public key");
	ok(sentry_dsn_parse("http://k:secret@127.0.0.1:9000/sub/path/7", url, sizeof(url), key, sizeof(key)) == 0,
	    "a DSN with a secret, a port and a path parses");
	is_str(url, "http://127.0.0.1:9000/sub/path/api/7/envelope/", "the path is kept before /api/");
	is_str(key, "k", "the secret is not the key");
	ok(sentry_dsn_parse("https://o1.example.org/42", url, sizeof(url), key, sizeof(key)) != 0, "no key: refused");
	ok(sentry_dsn_parse("https://k@o1.example.org/", url, sizeof(url), key, sizeof(key)) != 0, "no project: refused");
	ok(sentry_dsn_parse("https://k@o1.example.org/x", url, sizeof(url), key, sizeof(key)) != 0,
	    "a project that is not a number: refused");
	ok(sentry_dsn_parse("ftp://k@h/1", url, sizeof(url), key, sizeof(key)) != 0, "not http(s): refused");

	cfg.sentry_dsn = "nonsense";
	cfg.sentry_environment = "test";
	ok(sentry_new(&cfg, "t", err, sizeof(err)) == NULL && err[0] != '\0', "a bad DSN is an error");
	ok(strstr(err, "nonsense") == NULL, "... whose message does not repeat the DSN (it holds the key)");
	cfg.sentry_dsn = "";
	ok(sentry_new(&cfg, "t", err, sizeof(err)) == NULL && err[0] == '\0', "no DSN: no reporter, no error");

	/* --- the envelope --- */
	cfg.sentry_dsn = "http://pubkey@127.0.0.1:9/5";
	struct sentry *s = sentry_new(&cfg, "dandi-api", err, sizeof(err));
	ok(s != NULL, "a reporter");
	log_context("rid-4", NULL);
	log_error("sql error XX000: boom");
	struct sentry_event ev = { .message = "500 on GET /api/x/: boom", .request_id = "rid-4",
	    .route = "/api/x/", .method = "GET", .status = 500, .user_id = "7" };
	char id[33];
	char *env = sentry_envelope(s, &ev, id);
	ok(env != NULL, "an envelope");
	char *l1 = env, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	*strchr(l3, '\n') = '\0';
	struct json_object *h = json_tokener_parse(l1), *item = json_tokener_parse(l2), *e = json_tokener_parse(l3);
	ok(h && item && e, "three JSON lines");
	struct json_object *v;
	is_str(json_object_object_get_ex(h, "event_id", &v) ? json_object_get_string(v) : NULL, id,
	    "the header names the event");
	is_str(json_object_object_get_ex(item, "type", &v) ? json_object_get_string(v) : NULL, "event",
	    "an event item");
	is_int(json_object_object_get_ex(item, "length", &v) ? json_object_get_int(v) : -1, strlen(l3),
	    "its length is the event's");
	ok(strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32, "event_id: 32 hex digits");
#define FIELD(o, k) (json_object_object_get_ex((o), (k), &v) ? json_object_get_string(v) : NULL)
	is_str(FIELD(e, "event_id"), id, "the event's id");
	is_str(FIELD(e, "platform"), "c", "platform c");
	is_str(FIELD(e, "level"), "error", "level error");
	is_str(FIELD(e, "logger"), "dandi-api", "the program as logger");
	is_str(FIELD(e, "release"), PACKAGE_NAME "@" PACKAGE_VERSION, "the release");
	is_str(FIELD(e, "environment"), "test", "the environment");
	is_str(FIELD(e, "transaction"), "GET /api/x/", "the transaction: method and route");
	struct json_object *m, *tags, *user, *bc;
	ok(json_object_object_get_ex(e, "message", &m), "a message");
	is_str(FIELD(m, "formatted"), "500 on GET /api/x/: boom", "... formatted");
	ok(json_object_object_get_ex(e, "tags", &tags), "tags");
	is_str(FIELD(tags, "request_id"), "rid-4", "tag request_id");
	is_str(FIELD(tags, "route"), "/api/x/", "tag route");
	is_str(FIELD(tags, "status"), "500", "tag status");
	ok(json_object_object_get_ex(e, "user", &user), "a user");
	is_str(FIELD(user, "id"), "7", "... by id only");
	ok(json_object_object_get_ex(e, "breadcrumbs", &bc) && json_object_object_get_ex(bc, "values", &bc) &&
	    json_object_array_length(bc) == 1, "one breadcrumb");
	is_str(FIELD(json_object_array_get_idx(bc, 0), "message"), "sql error XX000: boom", "... the logged error");
	json_object_put(h);
	json_object_put(item);
	json_object_put(e);
	free(env);
	sentry_free(s);
	return done_testing();
}
