/*
 * fuzz-request - one whole HTTP request through dandi-api as a worker
 * handles it (main.c's read_request, then server.c): the request URI
 * (path decoding, query string), the headers the API reads (Authorization,
 * Cookie, X-CSRFToken, Origin, Access-Control-Request-Method,
 * If-None-Match, Content-Type), CORS preflights and answers, the router
 * over the real route table, and every handler up to its first database
 * query, which finds the database down (503). The input is
 *
 *	METHOD URI
 *	Header: value
 *	...
 *	(empty line)
 *	body
 *
 * and "X-Fuzz-User: STATUS [admin]" signs in a user of that status (as a
 * token would), so that the handlers of writes read their bodies too.
 * Checked: no memory error; every request gets a status; a JSON answer
 * is JSON; a preflight is answered before authentication.
 */
#include <strings.h>

#include <json-c/json.h>

#include "api.h"
#include "fuzz.h"

static struct config	 cfg;
static struct server	*srv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc, (void)argv;
	fuzz_quiet();
	fuzz_config(&cfg);
	/* Browsers on another origin, and an upstream sign-in, so that the
	 * CORS answers and the upstream pages are reached too. */
	free(cfg.web_app_origins);
	cfg.web_app_origins = xstrdup("https://app.example.org, http://localhost:8085");
	free(cfg.cors_allowed_origin_regexes);
	cfg.cors_allowed_origin_regexes = xstrdup("^https://[a-z0-9-]+\\.dandi\\.example$");
	srv = server_new(&cfg, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "fuzz-request: %s\n", err);
		abort();
	}
	return 0;
}

/* The value of header name in the header block, or NULL (arena copy). */
static const char *
header(struct request *req, char **lines, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncasecmp(lines[i], name, len) == 0 && lines[i][len] == ':') {
			const char *v = lines[i] + len + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return arena_strdup(&req->arena, v);
		}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	char		*copy = fuzz_cstr(data, size), *lines[32], *body, *p;
	size_t		 nlines = 0, body_len;

	/* Head and body: split at the first empty line. */
	char *end = strstr(copy, "\n\n");
	if (end != NULL) {
		*end = '\0';
		body = end + 2;
		body_len = size - (size_t)(body - copy);
	} else {
		body = copy + size;
		body_len = 0;
	}
	for (p = copy; p != NULL && nlines < 32;) {
		lines[nlines++] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	for (size_t i = 0; i < nlines; i++) {
		size_t l = strlen(lines[i]);
		if (l > 0 && lines[i][l - 1] == '\r')
			lines[i][l - 1] = '\0';
	}

	request_init(&req, &cfg, server_db(srv));
	char *sp = strchr(lines[0], ' ');
	const char *uri = "/";
	if (sp != NULL) {
		*sp = '\0';
		uri = sp + 1;
	}
	req.method = arena_strdup(&req.arena, *lines[0] ? lines[0] : "GET");
	req.head = strcmp(req.method, "HEAD") == 0;
	req.authorization = header(&req, lines + 1, nlines - 1, "Authorization");
	req.cookie = header(&req, lines + 1, nlines - 1, "Cookie");
	req.csrf_header = header(&req, lines + 1, nlines - 1, "X-CSRFToken");
	req.origin = header(&req, lines + 1, nlines - 1, "Origin");
	req.cors_method = header(&req, lines + 1, nlines - 1, "Access-Control-Request-Method");
	req.if_none_match = header(&req, lines + 1, nlines - 1, "If-None-Match");
	req.content_type = header(&req, lines + 1, nlines - 1, "Content-Type");
	req.remote_addr = "127.0.0.1";
	req.body = body;
	req.body_len = body_len;

	const char *who = header(&req, lines + 1, nlines - 1, "X-Fuzz-User");
	if (who != NULL) {
		struct user *u = arena_zalloc(&req.arena, sizeof(*u));
		u->id = 7;
		u->username = "fuzzer";
		u->email = "fuzzer@example.org";
		u->first_name = "Fuzz";
		u->last_name = "Er";
		u->is_superuser = strstr(who, "admin") != NULL;
		u->status = strncmp(who, "APPROVED", 8) == 0 ? "APPROVED" :
		    strncmp(who, "PENDING", 7) == 0 ? "PENDING" : "INCOMPLETE";
		req.user = u;
		req.user_id_str = "7";
	}

	bool preflight = false;
	if (request_parse_uri(&req, uri) == 0) {
		preflight = cors_is_preflight(&req);
		server_handle(srv, &req);
	}
	server_finish(srv, &req);

	FUZZ_CHECK(req.status >= 200 && req.status <= 599, "status %d", req.status);
	if (preflight)
		FUZZ_CHECK(req.status == 200, "preflight answered %d", req.status);
	if (req.content_type_out != NULL && strcmp(req.content_type_out, "application/json") == 0 &&
	    req.out.len > 0 && req.status != 304) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *o = json_tokener_parse_ex(tok, req.out.data, (int)req.out.len);
		FUZZ_CHECK(json_tokener_get_error(tok) == json_tokener_success,
		    "status %d answer is not JSON: %.*s", req.status, (int)req.out.len, req.out.data);
		json_object_put(o);
		json_tokener_free(tok);
	}
	for (int i = 0; i < req.nhdr; i++)
		FUZZ_CHECK(strpbrk(req.hdr_value[i], "\r\n") == NULL, "header %s holds a line break: %s",
		    req.hdr_name[i], req.hdr_value[i]);
	request_finish(&req);
	free(copy);
	return 0;
}
