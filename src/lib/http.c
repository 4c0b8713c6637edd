/*
 * http.c - request parsing helpers and the only place that writes error
 * bodies. Error shapes follow the original API: {"detail": ...} for
 * framework errors, bare JSON strings for service errors, and field dicts
 * or lists for validation errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "jsonread.h"
#include "log.h"
#include "metrics.h"

void
request_init(struct request *req, const struct config *cfg, struct db *db)
{
	memset(req, 0, sizeof(*req));
	arena_init(&req->arena);
	buf_init(&req->out);
	req->cfg = cfg;
	req->db = db;
	req->status = 0;
}

void
request_finish(struct request *req)
{
	if (req->db != NULL)
		db_rollback(req->db);	/* no-op unless a handler bailed out */
	arena_reset(&req->arena);
	buf_free(&req->out);
}

bool
request_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 64)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void
request_id_set(struct request *req, const char *from_nginx, const char *from_client)
{
	unsigned char	raw[16];
	char		hex[33];

	if (request_id_ok(from_nginx))
		req->request_id = arena_strdup(&req->arena, from_nginx);
	else if (request_id_ok(from_client))
		req->request_id = arena_strdup(&req->arena, from_client);
	else {
		if (random_bytes(raw, sizeof(raw)) != 0)
			memset(raw, 0, sizeof(raw));	/* an id that says "none" */
		hex_encode(raw, sizeof(raw), hex);
		req->request_id = arena_strdup(&req->arena, hex);
	}
}

static const char *
query_text(struct request *req, const char *s)
{
	char *fixed = utf8_fix(s);

	if (fixed == NULL)
		return s;
	s = arena_strdup(&req->arena, fixed);
	free(fixed);
	return s;
}

int
request_parse_query(struct request *req, const char *qs)
{
	size_t	 n = 1;
	char	*copy, *p, *amp;

	req->nquery = 0;
	if (qs == NULL || *qs == '\0')
		return 0;
	for (const char *c = qs; *c; c++)
		if (*c == '&')
			n++;
	req->query = arena_alloc(&req->arena, n * sizeof(*req->query));
	copy = arena_strdup(&req->arena, qs);
	for (p = copy; p != NULL; p = amp) {
		char *eq;

		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = p + strlen(p);
		/* %00 is the only way to a NUL; C strings end there. */
		req->query[req->nquery].nul = strstr(eq, "%00") != NULL;
		if (url_decode(p, true) != 0 || url_decode(eq, true) != 0)
			return -1;
		/* PostgreSQL refuses bytes that are not UTF-8; Django would
		 * have replaced them, so do the same for every handler. */
		req->query[req->nquery].key = query_text(req, p);
		req->query[req->nquery].value = query_text(req, eq);
		req->nquery++;
	}
	return 0;
}

int
request_parse_uri(struct request *req, const char *uri)
{
	char *path, *q;

	req->uri = arena_strdup(&req->arena, uri);
	req->path = "/";
	path = arena_strdup(&req->arena, uri);
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	/* An encoded NUL would silently cut the path short: refuse it. */
	if (strstr(path, "%00") != NULL || url_decode(path, false) != 0)
		return resp_detail(req, 400, "Malformed request path."), -1;
	req->path = path;
	if (request_parse_query(req, q) != 0)
		return resp_detail(req, 400, "Malformed query string."), -1;
	return 0;
}

const struct query_param *
query_param(const struct request *req, const char *key)
{
	/* Last occurrence wins, as Django's QueryDict.get does. */
	for (size_t i = req->nquery; i-- > 0;)
		if (strcmp(req->query[i].key, key) == 0)
			return &req->query[i];
	return NULL;
}

const char *
query_get(const struct request *req, const char *key)
{
	const struct query_param *q = query_param(req, key);

	return q != NULL ? q->value : NULL;
}

const char *
req_text_array(struct request *req, const char *const *v, size_t n)
{
	struct buf b;
	char *out;

	if (n == 0)
		return NULL;
	buf_init(&b);
	buf_puts(&b, "{");
	for (size_t i = 0; i < n; i++) {
		/* each element double-quoted, with " and \ escaped */
		buf_puts(&b, i ? ",\"" : "\"");
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_append(&b, "\\", 1);
			buf_append(&b, c, 1);
		}
		buf_append(&b, "\"", 1);
	}
	buf_puts(&b, "}");
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return out;
}

int
request_parse_form(struct request *req)
{
	struct query_param *q = req->query;
	size_t nq = req->nquery;
	int rc;

	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0) {
		resp_detail(req, 415, "Unsupported media type \"%s\" in request.",
		    req->content_type ? req->content_type : "");
		return -1;
	}
	/* The query parser does the work; its output is moved aside. */
	rc = request_parse_query(req, req->body);
	req->form = req->query;
	req->nform = rc == 0 ? req->nquery : 0;
	req->query = q;
	req->nquery = nq;
	if (rc != 0) {
		resp_detail(req, 400, "Malformed form body.");
		return -1;
	}
	return 0;
}

const char *
form_get(const struct request *req, const char *key)
{
	for (size_t i = req->nform; i-- > 0;)
		if (strcmp(req->form[i].key, key) == 0)
			return req->form[i].value;
	return NULL;
}

const char *
cookie_get(struct request *req, const char *name)
{
	size_t n = strlen(name);
	const char *p = req->cookie;

	while (p != NULL && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
			return arena_strndup(&req->arena, p + n + 1, len - n - 1);
		p = end;
	}
	return NULL;
}

int
resp_redirect(struct request *req, int status, const char *location)
{
	req->status = status;
	req->content_type_out = NULL;
	req->out.len = 0;
	resp_header(req, "Location", location);
	return 0;
}

void
resp_header(struct request *req, const char *name, const char *value)
{
	if (req->nhdr >= RESP_MAX_HEADERS) {
		log_error("response header %s dropped: more than %d", name, RESP_MAX_HEADERS);
		return;
	}
	req->hdr_name[req->nhdr] = arena_strdup(&req->arena, name);
	req->hdr_value[req->nhdr] = arena_strdup(&req->arena, value);
	req->nhdr++;
}

int
resp_raw_json(struct request *req, int status, const char *text)
{
	req->status = status;
	req->content_type_out = "application/json";
	req->out.len = 0;
	buf_puts(&req->out, text);
	return 0;
}

int
resp_json(struct request *req, int status, struct json_object *o)
{
	resp_raw_json(req, status, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
resp_vwrap(struct request *req, int status, const char *key, const char *fmt, va_list ap)
{
	char *msg = arena_vprintf(&req->arena, fmt, ap);
	struct json_object *s = json_object_new_string(msg);

	if (key == NULL)
		return resp_json(req, status, s);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, key, s);
	/* What the user quotes to the operators, who find it in the logs
	 * and the error report. */
	if (status >= 500 && req->request_id != NULL)
		json_object_object_add(o, "request_id", json_object_new_string(req->request_id));
	return resp_json(req, status, o);
}

int
resp_detail(struct request *req, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	resp_vwrap(req, status, "detail", fmt, ap);
	va_end(ap);
	if (status == 401)
		resp_header(req, "WWW-Authenticate", "Bearer realm=\"api\"");
	return 0;
}

int
resp_string(struct request *req, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	resp_vwrap(req, status, NULL, fmt, ap);
	va_end(ap);
	return 0;
}

int
resp_field_error(struct request *req, const char *field, const char *msg)
{
	struct json_object *o = json_object_new_object(), *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(o, field, l);
	return resp_json(req, 400, o);
}

int
resp_list_error(struct request *req, int status, const char *msg)
{
	return resp_json(req, status, json_error_list(msg));
}

struct json_object *
json_error_list(const char *msg)
{
	struct json_object *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	return l;
}

int
resp_empty(struct request *req, int status)
{
	req->status = status;
	req->content_type_out = NULL;
	req->out.len = 0;
	return 0;
}

static void
pqclear_cb(void *r)
{
	PQclear(r);
}

static void
jsonput_cb(void *o)
{
	json_object_put(o);
}

static PGresult *
req_query_impl(struct request *req, const struct db_sql *q, int n, const char *const *params,
    bool *constraint_hit)
{
	PGresult *r = NULL;
	enum db_status s = db_run(req->db, &r, q, n, params);

	if (r != NULL)
		arena_defer(&req->arena, pqclear_cb, r);
	if (constraint_hit != NULL)
		*constraint_hit = (s == DB_CONSTRAINT);
	switch (s) {
	case DB_OK:
		return r;
	case DB_CONSTRAINT:
		if (constraint_hit != NULL)
			return r;
		log_error("%s: constraint %s violated", q->name, req->db->constraint);
		resp_detail(req, 500, "Internal server error.");
		return NULL;
	case DB_UNAVAILABLE:
		metrics_db_unavailable_answer();
		resp_detail(req, 503, "The database is unavailable; try again shortly.");
		return NULL;
	case DB_ERROR:
	default:
		resp_detail(req, 500, "Internal server error.");
		return NULL;
	}
}

PGresult *
req_query(struct request *req, const struct db_sql *q, int n, const char *const *params)
{
	return req_query_impl(req, q, n, params, NULL);
}

PGresult *
req_query_quiet(struct request *req, const struct db_sql *q, int n, const char *const *params)
{
	PGresult *r = NULL;

	if (db_run(req->db, &r, q, n, params) == DB_OK) {
		arena_defer(&req->arena, pqclear_cb, r);
		return r;
	}
	if (r != NULL)
		PQclear(r);
	return NULL;
}

PGresult *
req_query_try(struct request *req, const struct db_sql *q, int n, const char *const *params,
    bool *constraint_hit)
{
	return req_query_impl(req, q, n, params, constraint_hit);
}

int
req_begin(struct request *req)
{
	enum db_status s = db_begin(req->db);

	if (s == DB_OK)
		return 0;
	if (s == DB_UNAVAILABLE) {
		metrics_db_unavailable_answer();
		resp_detail(req, 503, "The database is unavailable; try again shortly.");
	} else
		resp_detail(req, 500, "Internal server error.");
	return -1;
}

int
req_commit(struct request *req)
{
	enum db_status s = db_commit(req->db);

	if (s == DB_OK)
		return 0;
	if (s == DB_UNAVAILABLE) {
		metrics_db_unavailable_answer();
		resp_detail(req, 503, "The database is unavailable; try again shortly.");
	} else
		resp_detail(req, 500, "Internal server error.");
	return -1;
}

/* Percent-encodes a query component (RFC 3986 unreserved kept). */
static void
buf_qencode(struct buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
			buf_append(b, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hx[c >> 4], hx[c & 15] };
			buf_append(b, e, 3);
		}
	}
}

char *
req_url_withn(struct request *req, size_t n, const char *const keys[], const char *const values[])
{
	struct buf	b;
	bool		first = true, placed[4] = { false, false, false, false };
	char		*out;

	if (n > 4)
		n = 4;
	buf_init(&b);
	buf_puts(&b, req->cfg->api_url);
	/* The path is already decoded; re-encode everything but '/'. */
	for (const char *p = req->path; *p; p++) {
		if (*p == '/')
			buf_append(&b, "/", 1);
		else {
			char one[2] = { *p, 0 };
			buf_qencode(&b, one);
		}
	}
	for (size_t i = 0; i < req->nquery; i++) {
		size_t k;
		for (k = 0; k < n && strcmp(req->query[i].key, keys[k]) != 0; k++)
			;
		if (k < n && (placed[k] || values[k] == NULL))
			continue;
		buf_append(&b, first ? "?" : "&", 1);
		first = false;
		buf_qencode(&b, req->query[i].key);
		buf_append(&b, "=", 1);
		if (k < n) {
			buf_qencode(&b, values[k]);
			placed[k] = true;
		} else
			buf_qencode(&b, req->query[i].value);
	}
	for (size_t k = 0; k < n; k++) {
		if (placed[k] || values[k] == NULL)
			continue;
		buf_append(&b, first ? "?" : "&", 1);
		first = false;
		buf_qencode(&b, keys[k]);
		buf_append(&b, "=", 1);
		buf_qencode(&b, values[k]);
	}
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return out;
}

char *
req_urlencode(struct request *req, const char *s)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_qencode(&b, s);
	buf_append(&b, "", 1);
	out = arena_strdup(&req->arena, b.data);
	buf_free(&b);
	return out;
}

char *
req_url_with(struct request *req, const char *key, const char *value)
{
	const char *const keys[1] = { key }, *const values[1] = { value };

	return req_url_withn(req, 1, keys, values);
}

char *
req_page_url(struct request *req, int64_t page)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)page);
	return req_url_with(req, "page", page == 0 ? NULL : num);
}

struct json_object *
req_json_body(struct request *req)
{
	struct json_object	*o;
	char			 err[256];

	/* jsonread (src/lib/jsonread.c) is the parser every program reads
	 * with: what is refused here the jobs could not have read back. */
	if (jsonread(req->body, req->body_len, &o, err, sizeof(err)) != 0) {
		resp_detail(req, 400, "JSON parse error - %s", err);
		return NULL;
	}
	if (o == NULL) {
		resp_detail(req, 400, "JSON parse error - Expected an object or a list, not null");
		return NULL;
	}
	arena_defer(&req->arena, jsonput_cb, o);
	return o;
}

struct json_object *
req_json_text(struct request *req, const char *text)
{
	char			 err[256];
	struct json_object	*o = jsonread_str(text, err, sizeof(err));

	if (o == NULL && err[0] != '\0')
		log_error("stored JSON cannot be read: %s", err);
	if (o != NULL)
		arena_defer(&req->arena, jsonput_cb, o);
	return o;
}
