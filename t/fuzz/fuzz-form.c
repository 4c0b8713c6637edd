/*
 * fuzz-form - what the sign-in pages read from a browser and the OAuth
 * token and revoke endpoints from a client: the urlencoded form body and
 * the query string (request_parse_form, request_parse_query; the seeds
 * hold the identity tests' OAuth grant forms), the Cookie header
 * (cookie_get), the CSRF check of a form (csrf_check_form: Origin, cookie
 * and field), and where a form may send the browser next (safe_next).
 * The input is NUL-separated: Content-Type, body, Cookie, Origin. Checked:
 * no memory error; every decoded key and value is valid UTF-8 (PostgreSQL
 * refuses anything else); a cookie's value is a piece of the header
 * without ';'; the CSRF check passes only with the field equal to the
 * cookie and no foreign Origin; a `next` is only ever a local path or the
 * web app's origin, with nothing a header could be split at.
 */
#include <strings.h>

#include "api.h"
#include "fuzz.h"

static struct config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	fuzz_config(&cfg);
	free(cfg.web_app_origins);
	cfg.web_app_origins = xstrdup("https://app.example.org http://localhost:8085/");
	return 0;
}

static void
check_params(const struct query_param *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(utf8_chars(q[i].key, strlen(q[i].key)) >= 0 &&
		    utf8_chars(q[i].value, strlen(q[i].value)) >= 0, "parameter %zu is not UTF-8", i);
}

static void
check_cookie(struct request *req, const char *name)
{
	const char *v = cookie_get(req, name);

	if (v == NULL)
		return;
	FUZZ_CHECK(strchr(v, ';') == NULL, "cookie %s=%s holds ';'", name, v);
	FUZZ_CHECK(req->cookie != NULL && strstr(req->cookie, v) != NULL, "cookie %s=%s not in %s",
	    name, v, req->cookie);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[4];
	size_t n;
	char *copy = fuzz_split(data, size, '\0', f, 4, &n);
	struct request req;

	request_init(&req, &cfg, NULL);
	req.method = "POST";
	req.path = "/accounts/login/";
	req.content_type = *f[0] ? f[0] : NULL;
	req.body = f[1];
	req.body_len = strlen(f[1]);
	req.cookie = n > 2 ? f[2] : NULL;
	req.origin = n > 3 && *f[3] ? f[3] : NULL;

	if (request_parse_query(&req, f[1]) == 0)
		check_params(req.query, req.nquery);
	req.nquery = 0;
	if (request_parse_form(&req) != 0) {
		FUZZ_CHECK(req.status == 400 || req.status == 415, "form refused with %d", req.status);
		goto out;
	}
	check_params(req.form, req.nform);
	check_cookie(&req, "csrftoken");
	check_cookie(&req, "sessionid");

	const char *field = form_get(&req, "csrfmiddlewaretoken");
	const char *cookie = cookie_get(&req, "csrftoken");
	if (csrf_check_form(&req) == 0) {
		FUZZ_CHECK(field != NULL && cookie != NULL && strlen(cookie) == 64 && strcmp(field, cookie) == 0,
		    "CSRF passed with field %s and cookie %s", field ? field : "(none)", cookie ? cookie : "(none)");
		FUZZ_CHECK(req.origin == NULL || strcmp(req.origin, "null") == 0 ||
		    strncasecmp(req.origin, cfg.api_url, strlen(cfg.api_url)) == 0 ||
		    strncasecmp(req.origin, cfg.web_url, strlen(cfg.web_url)) == 0,
		    "CSRF passed from %s", req.origin);
	} else
		FUZZ_CHECK(req.status == 403, "CSRF refused with %d", req.status);

	const char *next = form_get(&req, "next");
	const char *safe = safe_next(&req, next);
	if (safe != NULL) {
		for (const unsigned char *p = (const unsigned char *)safe; *p; p++)
			FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '\\', "next %s", safe);
		FUZZ_CHECK((safe[0] == '/' && safe[1] != '/') || web_app_url(&cfg, safe), "next %s leads away", safe);
	}
out:
	request_finish(&req);
	free(copy);
	return 0;
}
