/*
 * fuzz-cors - the Origin header and the CORS rules (cors.c): the origin
 * check, the listed origins and patterns, the answer's headers, and where
 * sign-in may send a browser (web_app_url). The input is NUL-separated:
 * Origin, method, Access-Control-Request-Method, web_app_origins,
 * cors_allowed_origins, then one byte choosing the settings. Checked: no
 * memory error; Access-Control-Allow-Origin only ever echoes a well-formed
 * origin (no space, control, comma or quote: it is a header value);
 * credentials only to a listed origin; writes from unlisted origins get
 * no CORS headers; web_app_url only for the web app's origins.
 */
#include <strings.h>

#include "cors.h"
#include "fuzz.h"
#include "http.h"

static struct config base;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	fuzz_config(&base);
	return 0;
}

static const char *
header_of(struct request *req, const char *name)
{
	for (int i = 0; i < req->nhdr; i++)
		if (strcmp(req->hdr_name[i], name) == 0)
			return req->hdr_value[i];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[6], err[512];
	size_t n;
	char *copy = fuzz_split(data, size, '\0', f, 6, &n);
	struct config cfg = base;
	unsigned char flags = (unsigned char)f[5][0];
	static const char *const regexes[] = {
		"", "^https://[a-z0-9-]+\\.dandi\\.example$", "^http://localhost(:[0-9]+)?$ ^https://.*\\.org",
		"^(https?://)?([a-z]+\\.)*example\\.(org|com)$",
	};

	cfg.web_app_origins = f[3];
	cfg.cors_allowed_origins = f[4];
	cfg.cors_allowed_origin_regexes = (char *)regexes[flags & 3];
	cfg.cors_public_read = flags & 4 ? "false" : "true";
	cfg.cors_allow_credentials = flags & 8 ? "true" : "false";
	cfg.cors_expose_headers = flags & 16 ? "ETag, Location" : "";
	struct cors *c = cors_new(&cfg, err, sizeof(err));
	if (c == NULL) {
		FUZZ_CHECK(*err != '\0', "refused without a reason");
		free(copy);
		return 0;
	}
	struct request req;
	request_init(&req, &cfg, NULL);
	req.method = *f[1] ? f[1] : "GET";
	req.origin = f[0];
	req.cors_method = n > 2 && *f[2] ? f[2] : NULL;
	req.path = "/api/info/";
	cors_respond(c, &req);

	const char *acao = header_of(&req, "Access-Control-Allow-Origin");
	if (acao != NULL) {
		FUZZ_CHECK(strcmp(acao, f[0]) == 0, "allowed %s for origin %s", acao, f[0]);
		for (const unsigned char *p = (const unsigned char *)acao; *p; p++)
			FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != ',' && *p != '"', "origin %s echoed", acao);
		bool listed = cors_origin_allowed(c, f[0]);
		const char *m = cors_is_preflight(&req) ? req.cors_method : req.method;
		FUZZ_CHECK(listed || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0,
		    "unlisted origin %s invited to %s", f[0], m);
		if (header_of(&req, "Access-Control-Allow-Credentials") != NULL)
			FUZZ_CHECK(listed, "credentials for unlisted %s", f[0]);
	}
	/* Where sign-in may lead: the origin must be web_url's or listed. */
	if (web_app_url(&cfg, f[0])) {
		size_t on = url_origin_len(f[0]);
		FUZZ_CHECK(on > 0 && (f[0][on] == '\0' || f[0][on] == '/'), "web app url %s", f[0]);
		FUZZ_CHECK(cors_origin_allowed(c, arena_strndup(&req.arena, f[0], on)) ||
		    strncasecmp(f[0], cfg.web_url, on) == 0, "%s is no web app origin", f[0]);
	}
	request_finish(&req);
	cors_free(c);
	free(copy);
	return 0;
}
