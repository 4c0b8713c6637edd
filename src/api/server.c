/*
 * server.c - one request from start to end: answer a CORS preflight, or
 * authenticate, route, apply the route's rules (who may call, transaction,
 * what it names), run the handler, add the ETag; then, for every answer
 * (main.c's own errors too), the CORS headers. The FastCGI loop (main.c)
 * only moves bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"
#include "groupcommit.h"

struct server {
	const struct config	*cfg;
	struct db		 db;
	struct router		*router;
	struct cors		*cors;
	struct sentry		*sentry;	/* NULL: no sentry_dsn */
};

/* Every resource's statements, prepared on each new connection. */
static const struct db_sql *const *const api_sql[] = {
	perm_sql,
	auth_sql,
	session_sql,
	notify_sql,
	users_sql,
	info_sql,
	dandisets_sql,
	search_sql,
	owners_sql,
	access_links_sql,
	versions_sql,
	publish_sql,
	diff_sql,
	audit_sql,
	audit_read_sql,
	webdav_sql,
	assets_sql,
	uploads_sql,
	zarrs_sql,
	accounts_sql,
	embargo_sql,
	oauth_sql,
	health_sql,
	metrics_sql,
	NULL
};

int
server_routes_check(const struct route *routes, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = &routes[i];
		bool writes = rt->target == T_VERSION_WRITE || rt->target == T_DRAFT_WRITE;
		bool locks = writes || rt->target == T_ZARR_LOCKED;
		bool owners = writes || rt->target == T_GUARDIAN;
		bool json = rt->target == T_DANDISET || rt->target == T_ASSET;

		if ((rt->flags & ~(ROUTE_ACCESS | TXN | READ_FIRST | WITH_JSON | SHARED)) != 0 ||
		    rt->target >= T_COUNT || (locks && !(rt->flags & TXN)) ||
		    ((rt->flags & READ_FIRST) && !owners) || ((rt->flags & WITH_JSON) && !json) ||
		    ((rt->flags & SHARED) && !writes)) {
			snprintf(err, errlen, "route %s %s: flags %#x and target %u do not go together",
			    rt->method, rt->pattern, rt->flags, rt->target);
			return -1;
		}
	}
	return 0;
}

struct server *
server_new(const struct config *cfg, char *err, size_t errlen)
{
	struct server *s;

	if (server_routes_check(api_routes, api_nroutes, err, errlen) != 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->router = router_new(api_routes, api_nroutes, err, errlen);
	if (s->router == NULL) {
		free(s);
		return NULL;
	}
	if ((s->cors = cors_new(cfg, err, errlen)) == NULL) {
		router_free(s->router);
		free(s);
		return NULL;
	}
	s->sentry = sentry_new(cfg, "dandi-api", err, errlen);
	if (s->sentry == NULL && err[0] != '\0') {
		cors_free(s->cors);
		router_free(s->router);
		free(s);
		return NULL;
	}
	db_init(&s->db, cfg->db);
	for (const struct db_sql *const *const *t = api_sql; *t != NULL; t++)
		db_add_table(&s->db, *t);
	return s;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	db_close(&s->db);
	uploads_shutdown();
	router_free(s->router);
	cors_free(s->cors);
	sentry_free(s->sentry);
	free(s);
}

struct db *
server_db(struct server *s)
{
	return &s->db;
}

/* True when the If-None-Match list names etag (weak comparison). */
static bool
etag_listed(const char *list, const char *etag)
{
	const char *p = list;

	while (p != NULL && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		const char *tag = etag + 2;	/* ours is W/"..." */
		size_t n = strlen(tag);
		if (strncmp(p, tag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

int
server_etag_hex(const char *body, size_t len, char hex[SERVER_ETAG_HEX])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	hex_encode(md, (SERVER_ETAG_HEX - 1) / 2, hex);
	return 0;
}

void
server_etag_set(struct request *req, const char *hex)
{
	char *etag = arena_printf(&req->arena, "W/\"%s\"", hex);

	resp_header(req, "ETag", etag);
	if (req->if_none_match != NULL && etag_listed(req->if_none_match, etag)) {
		req->status = 304;
		req->out.len = 0;
		req->accel_redirect = NULL;
	}
}

/* Whether the handler said the answer is not to be stored: then it needs
 * no validator either (/api/health/). */
static bool
resp_no_store(const struct request *req)
{
	for (int i = 0; i < req->nhdr; i++)
		if (strcasecmp(req->hdr_name[i], "Cache-Control") == 0 &&
		    strstr(req->hdr_value[i], "no-store") != NULL)
			return true;
	return false;
}

void
server_etag(struct request *req)
{
	char hex[SERVER_ETAG_HEX];

	if (req->status != 200 || req->out.len == 0 || resp_no_store(req) ||
	    server_etag_hex(req->out.data, req->out.len, hex) != 0)
		return;
	server_etag_set(req, hex);
}

/* The route's rules before its handler, in the original's order: who may
 * call it (DRF's permission classes), its transaction, then what it names
 * with the object's own rules (route_target). 0, or -1 with the answer set. */
static int
route_rules(struct request *req, const struct route *route)
{
	if (perm_access(req, route->flags & ROUTE_ACCESS) != 0)
		return -1;
	/* An asset write of a draft with group commit on: its checks read
	 * outside a transaction and its write goes to the queue, where they
	 * are made again under the draft's lock (assets.c). Other versions
	 * are refused (405) the usual way. */
	if ((route->flags & SHARED) && req->cfg->write_batch > 1 && gc_on() &&
	    strcmp(req->params[1], "draft") == 0) {
		req->group_commit = true;
		gc_writer_begin();
	} else if ((route->flags & TXN) && req_begin(req) != 0)
		return -1;
	return perm_target(req, route);
}

void
server_handle(struct server *s, struct request *req)
{
	const struct route	*route = NULL;
	char			 allow[64];

	/* Before authentication and routing, as django-cors-headers does:
	 * the browser sends no credentials with it, on any path. */
	if (cors_is_preflight(req)) {
		resp_empty(req, 200);
		return;
	}
	if (auth_request(req) != 0) {
		/* Refused before routing; still counted under its route. */
		if (router_match(s->router, req, &route, NULL, 0) == ROUTE_FOUND)
			req->route_row = route;
		goto done;
	}
	switch (router_match(s->router, req, &route, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		resp_detail(req, 404, "Not found.");
		break;
	case ROUTE_BAD_METHOD:
		resp_header(req, "Allow", allow);
		resp_detail(req, 405, "Method \"%s\" not allowed.", req->method);
		break;
	case ROUTE_FOUND:
		req->route = server_route_name(req, route->pattern);
		log_context_route(req->route);
		req->route_row = route;
		if (route_rules(req, route) == 0)
			route->handler(req);
		if (req->status == 0)
			resp_detail(req, 500, "Internal server error.");
		break;
	}
done:
	if (req->group_commit)
		gc_writer_end();
	db_rollback(&s->db);	/* a handler that failed mid-transaction */
	if (strcmp(req->method, "GET") == 0 || req->head)
		server_etag(req);
}

void
server_finish(struct server *s, struct request *req)
{
	cors_respond(s->cors, req);
	if (req->request_id != NULL)
		resp_header(req, "X-Request-Id", req->request_id);
}

const char *
server_route_name(struct request *req, const char *pattern)
{
	size_t	 n = strlen(pattern);
	char	*out = arena_alloc(&req->arena, n + 1), *o = out;
	int	 depth = 0;

	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1] != '\0') {
			if (depth == 0)
				*o++ = p[1];	/* an escaped '.' of a literal */
			p++;
		} else if (*p == '(') {
			if (depth++ == 0)
				*o++ = '*';
		} else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

void
server_report(struct server *s, struct request *req)
{
	if (s->sentry == NULL || req->status < 500 || req->status == 503)
		return;
	/* The first error logged on the way says what went wrong; else the
	 * answer's own detail. */
	const char *first = NULL;
	char *msg;
	struct json_object *body = NULL, *detail;
	char err[128];
	if (log_context_errors(&first, 1) == 0) {
		body = req->out.len > 0 ? jsonread_str(req->out.data, err, sizeof(err)) : NULL;
		first = json_object_object_get_ex(body, "detail", &detail) &&
		    json_object_is_type(detail, json_type_string) ?
		    json_object_get_string(detail) : "no error was logged";
	}
	msg = arena_printf(&req->arena, "%d on %s %s: %s", req->status, req->method,
	    req->route ? req->route : "(no route)", first);
	struct sentry_event ev = {
		.message = msg, .request_id = req->request_id, .route = req->route,
		.method = req->method, .status = req->status, .user_id = req->user_id_str,
	};
	(void)sentry_capture(s->sentry, &ev);
	json_object_put(body);
}
