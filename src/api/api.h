/* api.h - the FastCGI API server: a section per file, in the order of a
 * request (server, routes, who is asking, the rules), then the helpers the
 * handlers share, then one section per resource file. */
#ifndef DANDI_API_H
#define DANDI_API_H

#include "arena.h"
#include "config.h"
#include "cors.h"
#include "db.h"
#include "dschema.h"
#include "http.h"
#include "jsonread.h"
#include "log.h"
#include "router.h"
#include "sentry.h"
#include "util.h"
#include "vmeta.h"

/* server.c */
struct server;
/* Each row's rules make sense together (known flags and target, a
 * locking target in a transaction, READ_FIRST only with an owners-only
 * target, WITH_JSON with a target that has one): 0, or -1 with the row
 * named in err. */
int		 server_routes_check(const struct route *, size_t n, char *err, size_t errlen);
struct server	*server_new(const struct config *, char *err, size_t errlen);
void		 server_free(struct server *);
void		 server_handle(struct server *, struct request *);
/* Last touches to every response, whether or not server_handle ran: the
 * CORS headers and X-Request-Id. */
void		 server_finish(struct server *, struct request *);
/* After the answer has gone: a server error (5xx but 503, the outages
 * /api/health/ tells) goes to Sentry when sentry_dsn is set. */
void		 server_report(struct server *, struct request *);
/* A route's pattern as logs and reports name it, in the request's arena:
 * each capture a "*", e.g. /api/dandisets/ * /versions/ * / (without the
 * spaces) for a version. */
const char	*server_route_name(struct request *, const char *pattern);
struct db	*server_db(struct server *);
/* Weak ETag of the body; answers 304 when If-None-Match matches. */
void		 server_etag(struct request *);
/* Its parts: the hex of a body's tag (the first 16 bytes of its
 * SHA-256), and the header with the 304 for a tag known beforehand (a
 * page in the page cache). */
#define SERVER_ETAG_HEX	33
int		 server_etag_hex(const char *body, size_t len, char hex[SERVER_ETAG_HEX]);
void		 server_etag_set(struct request *, const char *hex);

/* routes.c: the whole API in one table. Each row says, besides method,
 * path and handler, who may call the route and what it names; server_handle
 * applies both before the handler, in the original's (DRF's) order: who
 * may call (its permission classes), the transaction, then the object's
 * look-up with its read and owner rules. What a handler checks after that
 * (draft only, during unembargo, the body) it checks at the place the
 * original does, said in a comment where it is not right at the start. */
extern const struct route	api_routes[];
extern const size_t		api_nroutes;

/* route.flags: who may call (one of four), TXN, READ_FIRST, WITH_JSON, SHARED. */
enum route_access {
	ANYONE = 0,
	SIGNED_IN,	/* 401 for anonymous callers */
	APPROVED,	/* 401, then 403 unless approved or superuser (IsApproved) */
	STAFF,		/* 401, then 403 unless staff or superuser (IsAdminUser) */
};
#define ROUTE_ACCESS	0x3u	/* the route_access bits of route.flags */
#define TXN		0x4u	/* the handler runs in a transaction begun before the
				 * target's look-up; it commits, anything else rolls back */
#define READ_FIRST	0x8u	/* owners-only targets (T_GUARDIAN, T_*_WRITE): the read
				 * rule before the owner check, so that a hidden dandiset
				 * gets its 401/403 rather than the empty 403 */
#define WITH_JSON	0x10u	/* T_DANDISET, T_ASSET: the look-up brings the object's
				 * JSON too (req->dandiset->json, req->asset->metadata
				 * and ->info): the hottest reads in one statement */
#define SHARED		0x20u	/* T_*_WRITE: the version's lock is shared (FOR KEY
				 * SHARE): asset writers to one draft run side by side,
				 * each path kept by the tree's unique nodes
				 * (sql/016_folder_deltas.sql); publish and metadata
				 * writes still take it alone */

/* route.target: what the route names, looked up before the handler, which
 * finds it in req->dandiset, req->version, ... Refusals in this order. */
enum route_target {
	T_NONE = 0,
	T_DANDISET,		/* the dandiset of the path: 404, then the read rule:
				 * 401 anonymous, 403 unless open or owned (get_object) */
	T_DANDISET_OWNER,	/* T_DANDISET, then owners only: 401 anonymous, 403
				 * (the original's require_owner_perm) */
	T_GUARDIAN,		/* owners only as the original's guardian decorator
				 * (require_dandiset_owner_or_403): 404 when there is no
				 * such dandiset, else an empty 403 for anyone else */
	T_VERSION,		/* T_DANDISET, then its version: 404 */
	T_ASSETS_VERSION,	/* the version of a nested asset route: 404 (whatever
				 * its dandiset), then the read rule */
	T_ASSETS_LIST,		/* T_ASSETS_VERSION; a published version found
				 * lately is remembered (perm.c, published_memo_seconds) */
	T_VERSION_WRITE,	/* T_GUARDIAN, the version (404) locked for update,
				 * then 400 during unembargo; needs TXN */
	T_DRAFT_WRITE,		/* T_VERSION_WRITE, then 405 unless it is the draft */
	T_ASSET,		/* /api/assets/{asset_id}/: 404; embargoed bytes: 401
				 * anonymous, 403 unless an owner of a dandiset with it */
	T_UPLOAD,		/* /api/uploads/{upload_id}/: 404, also for an embargoed
				 * one of a dandiset the user does not own */
	T_ZARR,			/* /api/zarr/{zarr_id}/: 404 unless its dandiset is
				 * readable (open or owned) */
	T_ZARR_LOCKED,		/* T_ZARR, locked for update; needs TXN */
	T_COUNT
};

/* What a target names (strings in the request's arena). */
struct dandiset {
	const char	*id;		/* as the request gave it */
	const char	*embargo_status;	/* OPEN, EMBARGOED or UNEMBARGOING */
	bool		 owner;		/* the user owns it; a superuser owns all */
	bool		 by_link;	/* readable to this request by its access link
					 * alone (not open, not owned) */
	const char	*json;		/* WITH_JSON: its detail object */
};
struct version {
	const char	*id;		/* versions.id */
	const char	*version;	/* "draft" or "0.YYMMDD.HHMM" */
	bool		 draft;
	const char	*list_gen;	/* its asset list's state: pagecache.c's key;
					 * NULL while folder deltas wait for the fold */
};
struct asset {
	const char	*id;		/* assets.id of the route's asset_id */
	const char	*blob;		/* its blob's S3 key; "" for a zarr */
	const char	*path;
	const char	*content_type;	/* its encodingFormat */
	bool		 zarr;
	const char	*metadata;	/* WITH_JSON: its metadata object */
	const char	*info;		/* WITH_JSON: its info object */
};
struct upload {
	const char	*blob;		/* its S3 key */
	const char	*etag;		/* the dandi-etag declared */
	const char	*size;
	const char	*multipart_upload_id;
	const char	*dandiset;	/* dandisets.id, as text */
	bool		 embargoed;
};
struct zarr {
	const char	*json;		/* the API's object */
	const char	*id;		/* zarrs.id */
	const char	*dandiset;	/* dandisets.id, as text */
	const char	*status;
	bool		 embargoed;	/* its dandiset is not open */
	bool		 owner;		/* the user owns its dandiset */
};

/* auth.c: resolves req->user from the Authorization header. Returns 0, or
 * -1 with a 401 response set. */
int	auth_request(struct request *);
/* req->user from a row of the user columns auth.c selects, from column c. */
void	auth_user_set(struct request *, PGresult *, int c);
extern const struct db_sql *const	auth_sql[];
/* Access links' tokens: the prefix and 64 hex digits (told apart from an
 * API key, 40 hex digits, in `Authorization: token ...`). */
#define ACCESS_TOKEN_PREFIX	"dandi-access-"
#define ACCESS_TOKEN_LEN	(sizeof(ACCESS_TOKEN_PREFIX) - 1 + 64)
bool	access_token_form(const char *);
/* /api/auth/token/: the CLI's API key. */
int	auth_token_get(struct request *);
int	auth_token_rotate(struct request *);

/* perm.c: the permission rules, in one place, and the look-ups of the
 * route targets. Each int function returns 0 when allowed, else -1 with the
 * response already set. */
extern const struct db_sql *const	perm_sql[];
/* Who may call a route: route.flags & ROUTE_ACCESS. */
int	perm_access(struct request *, unsigned access);
/* Looks up the route's target for the request: req->dandiset, ... */
int	perm_target(struct request *, const struct route *);
/* The dandiset id as the user sees it: 1 (*out filled), 0 when there is
 * none, -1 with the response set. */
int	dandiset_find(struct request *, const char *id, struct dandiset *out);
/* The read rule: open, owned, or the dandiset of the request's access
 * link. 401 for anonymous callers, else 403. */
int	perm_read(struct request *, const struct dandiset *);
/* Whether the request's access link is for dandiset id (any spelling of
 * the number). */
bool	perm_link_for(const struct request *, const char *id);
/* dandiset_find (404) and the read rule; NULL with the response set. */
const struct dandiset *dandiset_visible(struct request *, const char *id);
/* The version of a nested asset route (T_ASSETS_VERSION) for dandiset id
 * and version: sets req->dandiset and req->version. */
int	perm_assets_version(struct request *, const char *id, const char *version);
/* 400 while the dandiset is being unembargoed. */
int	perm_not_unembargoing(struct request *, const char *embargo_status);
/* 405 unless req->version is the draft. */
int	perm_draft_only(struct request *);
/* The read rule in SQL, for statements that filter rows by it: dandisets
 * row d is open, or owned by user uid (superuser su owns every one), or
 * is link, the dandiset of the request's access link (NULL: none;
 * req->link_dandiset). */
#define SQL_READABLE(d, uid, su, link) \
	"(" d ".embargo_status = 'OPEN' OR coalesce(" d ".id = " link ", false) OR " SQL_OWNS(d ".id", uid, su) ")"
/* Whether user uid (superuser su) owns the dandiset of column id, by
 * dandi_owned() (sql/functions/15_perm.sql). The EXISTS plans as a hashed
 * subplan for a list and an index probe for one row (a scalar SQL function
 * holding it would not be inlined: a call per row); su first, so that a
 * superuser's plan has nothing to look up. */
#define SQL_OWNS(id, uid, su) \
	"(" su " OR EXISTS (SELECT FROM dandi_owned(" uid ", " su ") o WHERE o.id = " id "))"

/* session.c: browser sessions, CSRF, and the server-rendered pages' HTML. */
#define SESSION_COOKIE	"sessionid"
#define CSRF_COOKIE	"csrftoken"
extern const struct db_sql *const	session_sql[];
/* Starts a session for user_id: cookie set, CSRF token rotated. 0 or -1
 * with the response set. */
int	session_start(struct request *, const char *user_id);
/* Ends this request's session (if any) and clears the cookie. */
int	session_end(struct request *);
/* The CSRF token of this browser, set as a cookie when it has none. */
const char *csrf_token(struct request *);
/* Form POSTs: the csrfmiddlewaretoken field must equal the cookie, and an
 * Origin header, when sent, must be ours. -1 with a 403 page set. */
int	csrf_check_form(struct request *);
/* A path on this site or the web app to go to after a form, or NULL when
 * next could lead elsewhere (open redirects, header injection). */
const char *safe_next(struct request *, const char *next);
/* HTML pages: html_begin writes the head and opens the body; html_end
 * closes it and sets status and type. */
void	html_begin(struct request *, const char *title);
int	html_end(struct request *, int status);
void	html_text(struct request *, const char *s);	/* escaped */
/* A whole page with one message. */
int	html_message(struct request *, int status, const char *title, const char *msg);
/* sha256 in hex of a secret (session id, code, token). */
void	secret_hash(const char *s, char out[65]);
/* A new random secret: 64 hex digits. 0 or -1. */
int	secret_new(char out[65]);

/* pagination.c */
struct page {
	int64_t	page;
	int64_t	size;
	int64_t	offset;
	const char *next_cursor;	/* set by a handler: goes in the next link */
};
/* Appends "count":..,"next":..,"previous":.. (no braces) for a page
 * written by hand: next carries p->next_cursor when set. */
void	page_write_links(struct request *, const struct page *, int64_t total, bool has_next);
/* Parses page/page_size (DRF rules). -1 with 404 set on an invalid page. */
int	page_parse(struct request *, struct page *);
/* Writes {"count","next","previous","results"} from rows whose column col
 * holds a JSON object each; total is the full count (-1 = null). */
int	page_respond(struct request *, const struct page *, PGresult *, int col,
	    int64_t total, bool has_next);
/* The same with only the first rows rows (a look-ahead row left out). */
int	page_respond_rows(struct request *, const struct page *, PGresult *, int col,
	    int rows, int64_t total, bool has_next);
/* The same with each result written by write_row (rows built in C). */
typedef void (*page_row_fn)(struct buf *, PGresult *, int row, void *ctx);
int	page_respond_each(struct request *, const struct page *, PGresult *, int rows,
	    int64_t total, bool has_next, page_row_fn write_row, void *ctx);
/* The lists whose query adds count(*) OVER () as column 1: the total is
 * read off the first row (none: 0), and there is a next page while rows
 * remain past this one. Results from column 0, or written by write_row. */
enum { PAGE_COUNTED_ITEM, PAGE_COUNTED_TOTAL };
int	page_respond_counted(struct request *, const struct page *, PGresult *);
int	page_respond_counted_each(struct request *, const struct page *, PGresult *,
	    page_row_fn write_row, void *ctx);

/* metadata.c: server-computed version metadata. */
/* s itself when valid UTF-8, else a copy with U+FFFD for each bad byte. */
const char *metadata_utf8_fix(struct request *, const char *s);
/* Python's name for the type of a JSON value, for DRF-style messages. */
const char *metadata_py_type(struct json_object *);
/* Validates a {"name": str, "metadata": {}} body as DRF's serializer does,
 * every field error at once. Returns the metadata (released with the
 * request) and sets *name, or NULL with the 400 response set. */
struct json_object *metadata_body_parse(struct request *, const char **name);
/* Sets *bad when a string or key below o is not UTF-8, *nul when a string
 * holds a NUL: PostgreSQL stores neither. */
void	json_scan_text(struct json_object *o, bool *bad, bool *nul);
/* Whether o is a string holding a NUL, which a C string (an SQL parameter,
 * a comparison) would silently cut there. */
bool	json_string_has_nul(struct json_object *o);

/* audit.c: writes one audit record inside the caller's transaction, and
 * reads the trail. */
extern const struct db_sql *const	audit_sql[];
int	audit_write(struct request *, const char *dandiset_id, const char *record_type,
	    struct json_object *details);	/* takes ownership of details */
int	audit_write_raw(struct request *, const char *dandiset_id, const char *record_type,
	    const char *details_json);
extern const struct db_sql *const	audit_read_sql[];
int	audit_dandiset_list(struct request *);
/* ISO 8601 date-time as DRF's DateTimeField takes it (no offset: UTC):
 * the text for PostgreSQL, or NULL when invalid. */
const char *iso_datetime(struct request *, const char *s);
int	audit_asset_events(struct request *);

/* notify.c: e-mails, queued in the current transaction. 0 or -1 with the
 * response set. new_ids: the new owner set as a PostgreSQL array text. */
extern const struct db_sql *const	notify_sql[];
int	notify_registered(struct request *, const char *username, const char *email,
	    const char *name, const char *status);
int	notify_decision(struct request *, const char *email, const char *name, const char *status,
	    const char *reason);
int	notify_owner_changes(struct request *, const char *dandiset_id, const char *new_ids);

/* info.c: /api/info/, /server-info, the landing page, robots.txt and the
 * statistics (/api/stats/) */
extern const struct db_sql *const	info_sql[];
int	info_get(struct request *);
/* external.c: the "Open with" viewers of the web app. */
int	external_services_get(struct request *);
int	robots_get(struct request *);
int	root_get(struct request *);
int	stats_get(struct request *);
int	stats_downloads_get(struct request *);

/* health.c: /api/health/ for load balancers and monitors */
extern const struct db_sql *const	health_sql[];
int	health_get(struct request *);
/* metrics.c: GET /metrics (the pool's counters: src/lib/metrics.h) */
extern const struct db_sql *const	metrics_sql[];
int	metrics_get(struct request *);

/* schemas.c */
int	schemas_get(struct request *);
int	schemas_available(struct request *);

/* docs.c: the OpenAPI document, Swagger UI and ReDoc */
int	docs_get(struct request *);
int	docs_swagger(struct request *);
int	docs_redoc(struct request *);
int	docs_swagger_redirect(struct request *);
int	docs_redoc_redirect(struct request *);

/* users.c: /api/users/... */
extern const struct db_sql *const	users_sql[];
int	users_me(struct request *);
int	users_search(struct request *);
int	users_list(struct request *);

/* accounts.c: sign-in pages, questionnaire, approval dashboard, upstream
 * provider. */
extern const struct db_sql *const	accounts_sql[];
int	accounts_login_get(struct request *);
int	accounts_login_post(struct request *);
int	accounts_signup_get(struct request *);
int	accounts_signup_post(struct request *);
int	accounts_logout_get(struct request *);
int	accounts_logout_post(struct request *);
int	questionnaire_get(struct request *);
int	questionnaire_post(struct request *);
int	dashboard_get(struct request *);
int	dashboard_user_get(struct request *);
int	dashboard_user_post(struct request *);
int	upstream_login(struct request *);
int	upstream_callback_get(struct request *);

/* oauth.c: the OAuth2 provider of the web app. */
extern const struct db_sql *const	oauth_sql[];
int	oauth_authorize(struct request *);
int	oauth_token(struct request *);
int	oauth_revoke(struct request *);

/* dandisets.c: /api/dandisets/: list, create, detail, delete, unembargo,
 * stars */
extern const struct db_sql *const	dandisets_sql[];
int	dandisets_list(struct request *);
/* The list's filters, shared with the asset search (search.c). */
struct dandiset_list_args {
	struct page	 pg;
	bool		 draft, empty, embargoed, starred, me;
	const char	*order;
	const char	*search;	/* text with operators (searchq.h); NULL: none */
};
int	dandisets_list_parse(struct request *, struct dandiset_list_args *);
/* The page of dandiset_list: its rows' columns are DL_*. */
PGresult *dandisets_list_query(struct request *, const struct dandiset_list_args *,
	    const char *ids, int64_t *total);
enum { DL_JSON, DL_TOTAL, DL_ID, DL_NCOLS };
int	dandisets_create(struct request *);
int	dandisets_get(struct request *);
int	dandisets_delete(struct request *);
int	dandisets_unembargo(struct request *);
int	dandisets_star(struct request *);
int	dandisets_unstar(struct request *);

/* embargo.c: the embargo's end date (GET, PUT /api/dandisets/{id}/embargo/)
 * and the dashboard's upcoming ends (0, or -1 with the response set) */
extern const struct db_sql *const	embargo_sql[];
int	embargo_get_end(struct request *);
int	embargo_put_end(struct request *);
int	embargo_dashboard(struct request *);

/* search.c: the asset search and its choices */
extern const struct db_sql *const	search_sql[];
int	search_dandisets(struct request *);
int	search_genotypes(struct request *);
int	search_species(struct request *);

/* access_links.c: reviewers' access links of an embargoed dandiset, and
 * its public access-request form */
extern const struct db_sql *const	access_links_sql[];
int	access_links_list(struct request *);
int	access_links_create(struct request *);
int	access_links_revoke(struct request *);
int	access_request_get(struct request *);
int	access_request_put(struct request *);
int	access_request_post(struct request *);

/* owners.c: /api/dandisets/{id}/users/ */
extern const struct db_sql *const	owners_sql[];
int	owners_get(struct request *);
int	owners_put(struct request *);

/* versions.c: /api/dandisets/{id}/versions/... */
extern const struct db_sql *const	versions_sql[];
int	versions_list(struct request *);
int	versions_get(struct request *);
int	versions_info(struct request *);
int	versions_update(struct request *);
int	versions_delete(struct request *);

/* diff.c: .../versions/{a}/diff/{b}/, what changed between two versions */
extern const struct db_sql *const	diff_sql[];
int	versions_diff(struct request *);

/* publish.c: .../versions/draft/publish/ */
extern const struct db_sql *const	publish_sql[];
int	versions_publish(struct request *);

/* assets.c: a version's files, their downloads, and an asset by its id */
extern const struct db_sql *const	assets_sql[];
const char *assets_s3_base(struct request *);
const char *assets_path_error(const char *path);	/* NULL when valid */
/* ?path= and ?glob= of the asset list as a LIKE prefix pattern and a
 * whole-path regular expression (arena copies; t/fuzz checks them). */
const char *like_prefix(struct request *, const char *s);
const char *glob_regex(struct request *, const char *glob);
/* The asset object of lists, info and write answers, {asset_id, blob,
 * zarr, path, size, created, modified[, metadata]}, has this one writer:
 * asset_json() writes row's ASSET_JSON_COLUMNS (over assets a LEFT JOIN
 * blobs b LEFT JOIN zarrs z) from column col on, and the metadata of
 * column md_col unless that is -1 or NULL (dandi_asset_metadata there). */
#define ASSET_JSON_COLUMNS \
	"a.asset_id, b.blob_id, z.zarr_id, a.path, coalesce(b.size, z.size)," \
	" a.created AT TIME ZONE 'UTC', a.modified AT TIME ZONE 'UTC'"
enum {
	ASSET_JSON_UUID, ASSET_JSON_BLOB, ASSET_JSON_ZARR, ASSET_JSON_PATH, ASSET_JSON_SIZE,
	ASSET_JSON_CREATED, ASSET_JSON_MODIFIED, ASSET_JSON_NCOLS
};
void	asset_json(struct buf *, PGresult *, int row, int col, int md_col);
/* The zarr of asset a (as "z", for ASSET_JSON_COLUMNS) as version v sees
 * it: a published version's zarr is its snapshot (sql/020), so its size
 * is the snapshot's whatever the draft zarr has become since; the draft
 * (no snapshot) sees the live zarr. Use it instead of LEFT JOIN zarrs z
 * wherever a version's assets are read. */
#define ZARR_IN_VERSION_JOIN(v) \
	" LEFT JOIN LATERAL (SELECT zz.zarr_id, zz.dandiset_id, coalesce(s.size, zz.size) AS size" \
	"   FROM zarrs zz LEFT JOIN version_zarr_snapshots vzs ON vzs.version_id = " v " AND vzs.zarr_id = zz.id" \
	"   LEFT JOIN zarr_snapshots s ON s.id = vzs.snapshot_id WHERE zz.id = a.zarr_id) z ON true"
/* A node of the folder tree (asset_paths p) with its live totals: stored
 * plus the pending deltas writers appended (sql/016_folder_deltas.sql),
 * joined as "pd". A folder whose live total is 0 files is gone: readers
 * keep PATH_LIVE nodes only. */
#define PATH_DELTAS_JOIN \
	" LEFT JOIN LATERAL (SELECT sum(x.files)::bigint AS files, sum(x.size)::bigint AS size" \
	"   FROM asset_path_deltas x WHERE x.version_id = p.version_id AND x.path = p.path) pd ON true"
#define PATH_LIVE_FILES	"(p.aggregate_files + coalesce(pd.files, 0))"
#define PATH_LIVE_SIZE	"(p.aggregate_size + coalesce(pd.size, 0))"
#define PATH_LIVE	"(p.asset_id IS NOT NULL OR " PATH_LIVE_FILES " > 0)"
int	asset_json_respond(struct request *, PGresult *, int col, int md_col);	/* row 0, 200 */
int	assets_list(struct request *);
/* pagecache.c: asset-list pages nginx serves from page_cache_dir. lookup:
 * 1 when answered (a hit: X-Accel-Redirect, or its 304), else 0 to render
 * (header X-Dandi-Page-Cache: miss, or bypass while the list's state is
 * unknown); store: keeps a 200 page of the request's version. */
int	pagecache_lookup(struct request *);
void	pagecache_store(struct request *);
int	assets_paths(struct request *);
int	assets_get(struct request *);
int	assets_info(struct request *);
int	assets_validation(struct request *);
int	assets_create(struct request *);
int	assets_update(struct request *);
int	assets_delete(struct request *);
int	assets_download(struct request *);
int	assets_download_nested(struct request *);
int	assets_top_get(struct request *);
int	assets_top_info(struct request *);

/* webdav.c: the asset or folder at a path, for dandidav */
extern const struct db_sql *const	webdav_sql[];
int	webdav_atpath(struct request *);

/* uploads.c: blobs, uploads, and the worker's S3 client */
extern const struct db_sql *const	uploads_sql[];
int	blobs_digest(struct request *);
int	uploads_initialize(struct request *);
int	uploads_complete(struct request *);
int	uploads_s3_complete(struct request *);
int	uploads_validate(struct request *);
int	uploads_list(struct request *);
int	uploads_clear(struct request *);
/* T_UPLOAD: req->upload. */
int	upload_target(struct request *);
/* The worker's S3 client (made on first use); NULL with 503 set when S3
 * is not configured. */
struct s3;
struct s3	*api_s3(struct request *);
/* The same, or NULL and no response when S3 is not configured. */
struct s3	*api_s3_optional(struct request *);
void		 uploads_shutdown(void);	/* frees the worker's S3 client */

/* zarrs.c: /api/zarr/ */
extern const struct db_sql *const	zarrs_sql[];
int	zarr_list(struct request *);
int	zarr_create(struct request *);
int	zarr_get(struct request *);
int	zarr_delete(struct request *);
int	zarr_finalize(struct request *);
int	zarr_files_get(struct request *);
int	zarr_files_post(struct request *);
int	zarr_files_delete(struct request *);
/* T_ZARR, T_ZARR_LOCKED (lock): req->zarr. */
int	zarr_target(struct request *, bool lock);

#endif
