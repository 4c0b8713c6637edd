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
	p->next_cursor = NULL;
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


int
page_respond(struct request *req, const struct page *p, PGresult *r, int col,
    int64_t total, bool has_next)
{
	return page_respond_rows(req, p, r, col, PQntuples(r), total, has_next);
}

static void
page_row_column(struct buf *b, PGresult *r, int row, void *ctx)
{
	int col = *(int *)ctx;

	buf_append(b, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int
page_respond_rows(struct request *req, const struct page *p, PGresult *r, int col,
    int rows, int64_t total, bool has_next)
{
	return page_respond_each(req, p, r, rows, total, has_next, page_row_column, &col);
}

/* "count", "next" and "previous" of a page, appended to req->out. A
 * cursor (where the next page starts) rides along in the next link of the
 * lists that have one; other links never carry one. DRF drops the page
 * parameter for the link to page 1. */
void
page_write_links(struct request *req, const struct page *p, int64_t total, bool has_next)
{
	struct buf	*b = &req->out;
	static const char *const keys[2] = { "page", "cursor" };
	char		 num[24];

	if (total >= 0)
		buf_printf(b, "\"count\":%lld,\"next\":", (long long)total);
	else
		buf_puts(b, "\"count\":null,\"next\":");
	if (has_next) {
		snprintf(num, sizeof(num), "%lld", (long long)p->page + 1);
		const char *const vals[2] = { num, p->next_cursor };
		buf_json_string(b, req_url_withn(req, 2, keys, vals));
	} else
		buf_puts(b, "null");
	buf_puts(b, ",\"previous\":");
	if (p->page > 1) {
		snprintf(num, sizeof(num), "%lld", (long long)p->page - 1);
		const char *const vals[2] = { p->page == 2 ? NULL : num, NULL };
		buf_json_string(b, req_url_withn(req, 2, keys, vals));
	} else
		buf_puts(b, "null");
}

int
page_respond_each(struct request *req, const struct page *p, PGresult *r, int rows,
    int64_t total, bool has_next, page_row_fn write_row, void *ctx)
{
	struct buf	*b = &req->out;

	/* DRF: a page past the end is a 404, except an empty first page. */
	if (total >= 0 && rows == 0 && p->page > 1)
		return resp_detail(req, 404, "Invalid page.");
	req->status = 200;
	req->content_type_out = "application/json";
	b->len = 0;
	buf_append(b, "{", 1);
	page_write_links(req, p, total, has_next);
	buf_puts(b, ",\"results\":[");
	for (int i = 0; i < rows; i++) {
		if (i > 0)
			buf_append(b, ",", 1);
		write_row(b, r, i, ctx);
	}
	buf_puts(b, "]}");
	return 0;
}

int
page_respond_counted_each(struct request *req, const struct page *p, PGresult *r,
    page_row_fn write_row, void *ctx)
{
	int64_t total = 0;

	/* An empty page past the end keeps 0: page_respond_each answers 404. */
	if (PQntuples(r) > 0)
		parse_int64(PQgetvalue(r, 0, PAGE_COUNTED_TOTAL), &total);
	return page_respond_each(req, p, r, PQntuples(r), total, p->offset + PQntuples(r) < total,
	    write_row, ctx);
}

int
page_respond_counted(struct request *req, const struct page *p, PGresult *r)
{
	int col = PAGE_COUNTED_ITEM;

	return page_respond_counted_each(req, p, r, page_row_column, &col);
}
