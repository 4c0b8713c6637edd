/*
 * docs.c - the API's description of itself: the OpenAPI 3 document
 * (share/openapi/openapi.json, kept by hand; t/unit/test-openapi checks it
 * against routes.c) at /api/docs/?format=openapi, and the Swagger UI and
 * ReDoc pages that show it. The pages' scripts are static files of the web
 * app (dist/api-docs/, copied from npm packages by its build), so nothing
 * is loaded from another site. As the original's drf-yasg views, the pages
 * also answer ?format=openapi, and /swagger/ and /redoc/ redirect to them
 * permanently.
 */
#include <string.h>

#include "api.h"

#define DOC_URL		"/api/docs/?format=openapi"
#define ASSETS_URL	"/api-docs/"

/* The document as served: the file with `servers` set to this archive's
 * api_url, so "Try it out" calls it. Made once per worker. */
static char *doc_text;

static int
doc_respond(struct request *req)
{
	if (doc_text == NULL) {
		char err[512];
		struct json_object *doc = jsonread_file(req->cfg->openapi_file, err, sizeof(err));
		if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
			log_error("docs: cannot read %s", err[0] ? err : "the API document: not a JSON object");
			json_object_put(doc);
			return resp_detail(req, 500, "The API document is not installed.");
		}
		struct json_object *servers = json_object_new_array(), *s = json_object_new_object();
		json_object_object_add(s, "url", json_object_new_string(req->cfg->api_url));
		json_object_object_add(s, "description", json_object_new_string("This archive"));
		json_object_array_add(servers, s);
		json_object_object_add(doc, "servers", servers);
		doc_text = xstrdup(json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	return resp_raw_json(req, 200, doc_text);	/* server_etag adds the ETag */
}

/* ?format=openapi: the document; absent (or empty): the page; anything
 * else is a 404, as DRF answers an unknown format. */
static int
doc_or_page(struct request *req, int (*page)(struct request *))
{
	const char *f = query_get(req, "format");

	if (f == NULL || *f == '\0')
		return page(req);
	if (strcmp(f, "openapi") == 0)
		return doc_respond(req);
	return resp_detail(req, 404, "Not found.");
}

static void
page_head(struct request *req, const char *ui)
{
	buf_puts(&req->out, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(req, req->cfg->instance_name);
	buf_printf(&req->out, " Archive API (%s)</title>\n"
	    "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n", ui);
}

/* Shown until the script replaces it, and for good without the web app's
 * files. */
static void
page_fallback(struct request *req)
{
	buf_puts(&req->out, "<p>Loading the API documentation&hellip; The document itself is at "
	    "<a href=\"" DOC_URL "\">" DOC_URL "</a>.</p>\n");
}

/* The pages load nothing from other sites, and the browser holds them to
 * it: ReDoc's sidebar would fetch its vendor's logo from a CDN. Calls go to
 * this site and to api_url ("Try it out"). */
static int
page_end(struct request *req)
{
	buf_puts(&req->out, "</body>\n</html>\n");
	req->status = 200;
	req->content_type_out = "text/html; charset=utf-8";
	resp_header(req, "Content-Security-Policy", arena_printf(&req->arena,
	    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
	    "connect-src 'self' %s; frame-ancestors 'none'", req->cfg->api_url));
	return 0;
}

static int
swagger_page(struct request *req)
{
	page_head(req, "Swagger UI");
	buf_puts(&req->out, "<link rel=\"stylesheet\" href=\"" ASSETS_URL "swagger-ui/swagger-ui.css\">\n"
	    "</head>\n<body>\n<div id=\"swagger-ui\" data-url=\"" DOC_URL "\">\n");
	page_fallback(req);
	/* swagger-init.js (web/public/api-docs/) starts it: no inline script. */
	buf_puts(&req->out, "</div>\n"
	    "<script src=\"" ASSETS_URL "swagger-ui/swagger-ui-bundle.js\"></script>\n"
	    "<script src=\"" ASSETS_URL "swagger-init.js\"></script>\n");
	return page_end(req);
}

static int
redoc_page(struct request *req)
{
	page_head(req, "ReDoc");
	/* The standalone bundle renders every <redoc spec-url> by itself. */
	buf_puts(&req->out, "<style>body { margin: 0; padding: 0; }</style>\n</head>\n<body>\n"
	    "<redoc spec-url=\"" DOC_URL "\">\n");
	page_fallback(req);
	buf_puts(&req->out, "</redoc>\n"
	    "<script src=\"" ASSETS_URL "redoc/redoc.standalone.js\"></script>\n");
	return page_end(req);
}

static int
to_swagger(struct request *req)
{
	return resp_redirect(req, 302, "/api/docs/swagger/");
}

/* GET /api/docs/ (not a route of the original): the document, or a
 * redirect to the Swagger UI page. */
int
docs_get(struct request *req)
{
	return doc_or_page(req, to_swagger);
}

int
docs_swagger(struct request *req)
{
	return doc_or_page(req, swagger_page);
}

int
docs_redoc(struct request *req)
{
	return doc_or_page(req, redoc_page);
}

/* The original's RedirectView(permanent=True): 301, query dropped. */
int
docs_swagger_redirect(struct request *req)
{
	return resp_redirect(req, 301, "/api/docs/swagger/");
}

int
docs_redoc_redirect(struct request *req)
{
	return resp_redirect(req, 301, "/api/docs/redoc/");
}
