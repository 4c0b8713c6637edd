/* Unit tests of request helpers: query parsing, page links, error shapes. */
#include <stdlib.h>

#include "config.h"
#include "http.h"
#include "tap.h"

int
main(void)
{
	struct config	cfg = { 0 };
	struct request	req;
	char		api[] = "http://h:1";

	cfg.api_url = api;
	request_init(&req, &cfg, NULL);
	ok(request_parse_query(&req, "a=1&b=x%20y&c&page=3&a=2") == 0, "query parses");
	is_int(req.nquery, 5, "five parameters");
	is_str(query_get(&req, "a"), "2", "last value wins");
	is_str(query_get(&req, "b"), "x y", "values are decoded");
	is_str(query_get(&req, "c"), "", "a key without value is empty");
	ok(query_get(&req, "zz") == NULL, "missing key is NULL");
	ok(!query_param(&req, "b")->nul, "no NUL in b");

	/* Arrays to bind as text[]: each element quoted, " and \ escaped. */
	const char *elems[] = { "a b", "say \"hi\"", "back\\slash", "" };
	is_str(req_text_array(&req, elems, 4), "{\"a b\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"\"}",
	    "req_text_array quotes and escapes");
	ok(req_text_array(&req, elems, 0) == NULL, "req_text_array of nothing is NULL");

	req.path = "/api/dandisets/";
	is_str(req_page_url(&req, 4), "http://h:1/api/dandisets/?a=1&b=x%20y&c=&page=4&a=2",
	    "page link replaces page in place");
	is_str(req_page_url(&req, 0), "http://h:1/api/dandisets/?a=1&b=x%20y&c=&a=2",
	    "page 1 link drops page");
	request_finish(&req);

	/* The request URI as a worker reads it (main.c). */
	request_init(&req, &cfg, NULL);
	ok(request_parse_uri(&req, "/api/a%20b/?x=%C3%A9&y") == 0, "a request URI parses");
	is_str(req.uri, "/api/a%20b/?x=%C3%A9&y", "the raw URI is kept");
	is_str(req.path, "/api/a b/", "the path is decoded, without the query");
	is_str(query_get(&req, "x"), "\xc3\xa9", "the query is decoded");
	request_finish(&req);
	request_init(&req, &cfg, NULL);
	ok(request_parse_uri(&req, "/api/a%00b/") == -1 && req.status == 400, "an encoded NUL in the path: 400");
	is_str(req.out.data, "{\"detail\":\"Malformed request path.\"}", "its message");
	is_str(req.path, "/", "the path stays /");
	request_finish(&req);
	request_init(&req, &cfg, NULL);
	ok(request_parse_uri(&req, "/api/?q=%zz") == -1 && req.status == 400, "a bad escape in the query: 400");
	is_str(req.out.data, "{\"detail\":\"Malformed query string.\"}", "its message");
	request_finish(&req);

	request_init(&req, &cfg, NULL);
	ok(request_parse_query(&req, "search=ab%00cd&x=1") == 0, "a NUL escape parses");
	is_str(query_get(&req, "search"), "ab", "the value ends at the NUL");
	ok(query_param(&req, "search")->nul && !query_param(&req, "x")->nul, "and says so");
	request_finish(&req);

	request_init(&req, &cfg, NULL);
	ok(request_parse_query(&req, "x=%zz") == -1, "bad escape refused");
	req.path = "/p/";
	request_parse_query(&req, "search=a");
	is_str(req_page_url(&req, 2), "http://h:1/p/?search=a&page=2", "page appended when absent");

	resp_detail(&req, 404, "Not %s.", "found");
	is_int(req.status, 404, "detail status");
	is_str(req.out.data, "{\"detail\":\"Not found.\"}", "detail body");
	resp_string(&req, 403, "Action not allowed");
	is_str(req.out.data, "\"Action not allowed\"", "bare string body");
	resp_field_error(&req, "name", "This field is required.");
	is_str(req.out.data, "{\"name\":[\"This field is required.\"]}", "field error body");
	resp_list_error(&req, 400, "Cannot remove all draft owners");
	is_str(req.out.data, "[\"Cannot remove all draft owners\"]", "list error body");
	resp_detail(&req, 401, "x");
	ok(req.nhdr == 1 && strcmp(req.hdr_name[0], "WWW-Authenticate") == 0,
	    "401 carries WWW-Authenticate");

	req.body = "{\"a\": [1, 2]}  ";
	req.body_len = strlen(req.body);
	struct json_object *o = req_json_body(&req);
	ok(o != NULL && json_object_is_type(o, json_type_object), "JSON body parses");
	req.body = "{\"a\": 1} x";
	req.body_len = strlen(req.body);
	ok(req_json_body(&req) == NULL && req.status == 400, "trailing garbage is a 400");
	req.body = "{\"a\": ";
	req.body_len = strlen(req.body);
	ok(req_json_body(&req) == NULL && req.status == 400, "truncated JSON is a 400");
	request_finish(&req);
	return done_testing();
}
