/*
 * pagination.c - DRF page-number pagination: page (1-based), page_size
 * (default 100, clamped to 1000, bad values fall back to the default).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"

#define PAGE_SIZE_DEFAULT	100
#define PAGE_SIZE_MAX		1000

int
page_parse(struct request *req, struct page *p)
{
	const char	*ps = query_get(req, "page_size"), *pg = query_get(req, "page");
	int64_t		 v;

	p->size = PAGE_SIZE_DEFAULT;
	if (ps != NULL && parse_int64(ps, &v) && v > 0)
		p->size = v > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : v;
	p->page = 1;
	if (pg != NULL && strcmp(pg, "last") != 0) {
		if (!parse_int64(pg, &v) || v < 1 || v > INT32_MAX) {
			resp_detail(req, 404, "Invalid page.");
			return -1;
		}
		p->page = v;
	}
	p->offset = (p->page - 1) * p->size;
	return 0;
}

static void
buf_json_string(struct buf *b, const char *s)
{
	struct json_object *o = json_object_new_string(s);

	buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
page_respond(struct request *req, const struct page *p, PGresult *r, int col,
    int64_t total, bool has_next)
{
	return page_respond_rows(req, p, r, col, PQntuples(r), total, has_next);
}

int
page_respond_rows(struct request *req, const struct page *p, PGresult *r, int col,
    int rows, int64_t total, bool has_next)
{
	struct buf	*b = &req->out;

	/* DRF: a page past the end is a 404, except an empty first page. */
	if (total >= 0 && rows == 0 && p->page > 1)
		return resp_detail(req, 404, "Invalid page.");
	req->status = 200;
	req->content_type_out = "application/json";
	b->len = 0;
	if (total >= 0)
		buf_printf(b, "{\"count\":%lld,\"next\":", (long long)total);
	else
		buf_puts(b, "{\"count\":null,\"next\":");
	if (has_next)
		buf_json_string(b, req_page_url(req, p->page + 1));
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"previous\":");
	/* DRF drops the page parameter for the link to page 1. */
	if (p->page > 1)
		buf_json_string(b, req_page_url(req, p->page == 2 ? 0 : p->page - 1));
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"results\":[");
	for (int i = 0; i < rows; i++) {
		if (i > 0)
			buf_append(b, ",", 1);
		buf_append(b, PQgetvalue(r, i, col), (size_t)PQgetlength(r, i, col));
	}
	buf_puts(b, "]}");
	return 0;
}
