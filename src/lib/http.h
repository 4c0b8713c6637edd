/* http.h - the request a handler sees and the response it fills in. */
#ifndef DANDI_HTTP_H
#define DANDI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "arena.h"
#include "util.h"

struct config;
struct db;
struct db_sql;
/* What a route names, defined by the program (src/api/api.h). */
struct dandiset;
struct version;
struct asset;
struct upload;
struct zarr;

#define ROUTE_MAX_PARAMS	4
#define RESP_MAX_HEADERS	24

struct user {
	int64_t		 id;
	const char	*username;	/* as shown: GitHub login or username */
	const char	*email;
	const char	*first_name;
	const char	*last_name;
	bool		 is_superuser;
	const char	*status;	/* INCOMPLETE|PENDING|APPROVED|REJECTED */
};

struct query_param {
	const char	*key;
	const char	*value;
	bool		 nul;	/* the value held a NUL (%00) and ends there */
};

struct request {
	struct arena		 arena;
	const struct config	*cfg;
	struct db		*db;

	const char		*method;	/* HEAD is answered as GET */
	bool			 head;
	const char		*uri;		/* raw, with query */
	const char		*path;		/* decoded, without query */
	struct query_param	*query;
	size_t			 nquery;
	const char		*authorization;
	const char		*cookie;	/* the Cookie header */
	const char		*csrf_header;	/* X-CSRFToken */
	const char		*access_header;	/* X-Dandi-Access: an access link's token */
	const char		*origin;	/* Origin */
	const char		*cors_method;	/* Access-Control-Request-Method */
	const char		*remote_addr;
	/* X-Request-Id: nginx's $request_id or the client's own (sane), else
	 * made by dandi-api; in the logs, the answer's header and 5xx bodies */
	const char		*request_id;
	/* The matched route's pattern in short (captures as "*"), or NULL */
	const char		*route;
	const char		*if_none_match;
	const char		*content_type;
	const char		*body;		/* NUL-terminated */
	size_t			 body_len;

	const char		*params[ROUTE_MAX_PARAMS];	/* route captures */
	const struct route	*route_row;	/* the matched row (metrics), or NULL */
	struct query_param	*form;		/* urlencoded body, after request_parse_form */
	size_t			 nform;
	struct user		*user;		/* NULL when anonymous */
	bool			 via_session;	/* user from the session cookie */
	const char		*user_id_str;	/* user->id as text, for SQL */
	/* The link-holder actor: a live access link was presented (auth.c);
	 * it may read this one dandiset (perm.c). NULL: none. */
	const char		*link_dandiset;	/* dandisets.id as text */
	const char		*link_id;	/* access_links.id as text */
	const char		*link_key;	/* its token, when sent as the API key
						 * (Authorization: token ...): no user */
	/* What the route names, looked up by the program before the handler
	 * runs (NULL when the route names none of them). */
	const struct dandiset	*dandiset;
	const struct version	*version;
	const struct asset	*asset;
	const struct upload	*upload;
	const struct zarr	*zarr;
	/* An asset write of a draft that goes through group commit: no
	 * transaction or lock of its own (server.c, assets.c). */
	bool			 group_commit;

	/* response */
	int			 status;
	const char		*content_type_out;
	struct buf		 out;
	const char		*hdr_name[RESP_MAX_HEADERS];
	const char		*hdr_value[RESP_MAX_HEADERS];
	int			 nhdr;
	/* Set: nginx sends this internal URI's file as the body (the page
	 * cache); the answer itself has none. */
	const char		*accel_redirect;
};

void	 request_init(struct request *, const struct config *, struct db *);
void	 request_finish(struct request *);	/* frees the arena and body */
/* Sets uri, the decoded path and the query from a request URI ("/p?q").
 * -1 with the 400 set when the path or the query is malformed. */
int	 request_parse_uri(struct request *, const char *uri);
/* A request id as accepted from outside: 1 to 64 of [A-Za-z0-9._-]. */
bool	 request_id_ok(const char *);
/* req->request_id: the first of the candidates that is sane (nginx's,
 * then the client's X-Request-Id; either may be NULL), else a new one
 * (32 hex digits, as nginx's $request_id). */
void	 request_id_set(struct request *, const char *from_nginx, const char *from_client);
/* Splits "a=1&b=2" into decoded pairs. -1 on a malformed escape. */
int	 request_parse_query(struct request *, const char *qs);
const char *query_get(const struct request *, const char *key);
/* The parameter query_get reads, or NULL. */
const struct query_param *query_param(const struct request *, const char *key);
/* Parses an application/x-www-form-urlencoded body into req->form. -1 with
 * 400 set when the body is of another type or malformed. */
int	 request_parse_form(struct request *);
const char *form_get(const struct request *, const char *key);
/* The value of cookie name, or NULL (arena copy). */
const char *cookie_get(struct request *, const char *name);

/* Responses. Each returns 0 so handlers can `return resp_...(req, ...)`. */
int	 resp_json(struct request *, int status, struct json_object *);	/* takes ownership */
int	 resp_raw_json(struct request *, int status, const char *json_text);
/* {"detail": "..."}; a 5xx adds "request_id" for the user to quote. */
int	 resp_detail(struct request *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 resp_string(struct request *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));	/* bare JSON string */
int	 resp_field_error(struct request *, const char *field, const char *msg);	/* 400 {"f": ["m"]} */
int	 resp_list_error(struct request *, int status, const char *msg);	/* ["m"] */
/* ["m"], a DRF field's list of errors, to add to an error object. */
struct json_object *json_error_list(const char *msg);
int	 resp_empty(struct request *, int status);
int	 resp_redirect(struct request *, int status, const char *location);
void	 resp_header(struct request *, const char *name, const char *value);

/* A PostgreSQL array literal of the strings, to bind as a text[]
 * parameter (arena copy); NULL when n is 0. */
const char *req_text_array(struct request *, const char *const *v, size_t n);

/* Database helpers bound to the request: failures become 503/500 responses
 * and results are freed with the request. */
PGresult *req_query(struct request *, const struct db_sql *, int n, const char *const *params);
/* Like req_query, but a constraint violation is returned to the caller
 * (status in *constraint_hit) instead of answered with 500. */
PGresult *req_query_try(struct request *, const struct db_sql *, int n, const char *const *params,
	    bool *constraint_hit);
/* Like req_query, but a failure sets no response: NULL, for an answer
 * that goes on without the rows (GET /metrics). */
PGresult *req_query_quiet(struct request *, const struct db_sql *, int n, const char *const *params);
int	 req_begin(struct request *);	/* 0 ok, -1 response set */
int	 req_commit(struct request *);

/* Absolute URL of this request's path with query param `page` set to page
 * (0 removes it), other params kept in order. */
char	*req_page_url(struct request *, int64_t page);
/* Absolute URL of this request with query param key set to value (NULL
 * removes it), other params kept in order. */
char	*req_url_with(struct request *, const char *key, const char *value);
/* s percent-encoded for a query value (arena copy). */
char	*req_urlencode(struct request *, const char *s);
/* The same for up to 4 keys at once. */
char	*req_url_withn(struct request *, size_t n, const char *const keys[],
	    const char *const values[]);

/* Parse the body as JSON; on failure answers 400 and returns NULL. The
 * object is released with the request. */
struct json_object *req_json_body(struct request *);
/* Parse JSON the archive wrote itself (a PostgreSQL value) with the same
 * parser (src/lib/jsonread.c); released with the request. NULL (logged)
 * when it cannot be read. */
struct json_object *req_json_text(struct request *, const char *text);

#endif
