/*
 * routes.c - the whole API surface in one table: method, path, handler,
 * who may call it (ANYONE, SIGNED_IN, APPROVED, STAFF; TXN: in a
 * transaction; READ_FIRST, WITH_JSON) and what it names (T_...), all applied by
 * server_handle before the handler (api.h says what each means). Patterns are anchored by
 * the router, which also makes the trailing slash optional. Order matters
 * only where two patterns could match the same path.
 */
#include "api.h"

#define DANDISET_PATH	"/api/dandisets/(\\d{6})"
#define VERSION_RE	"(draft|0\\.\\d{6}\\.\\d{4})"
#define UUID_RE		"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
#define ASSETS_PATH	DANDISET_PATH "/versions/" VERSION_RE "/assets"
#define USERNAME_RE	"([^/]{1,150})"
#define LINK_ID_RE	"(\\d{1,18})"

const struct route api_routes[] = {
	{ "GET",    "/",				root_get,		ANYONE,	T_NONE },
	{ "GET",    "/robots.txt",			robots_get,		ANYONE,	T_NONE },
	/* Prometheus: metrics_allow's addresses only (the handler checks). */
	{ "GET",    "/metrics",				metrics_get,		ANYONE,	T_NONE },
	{ "GET",    "/api/info/",			info_get,		ANYONE,	T_NONE },
	/* For load balancers: 200 or 503, never cached. */
	{ "GET",    "/api/health/",			health_get,		ANYONE,	T_NONE },
	{ "GET",    "/server-info",			info_get,		ANYONE,	T_NONE },
	{ "GET",    "/api/stats/",			stats_get,		ANYONE,	T_NONE },
	{ "GET",    "/api/stats/downloads/",		stats_downloads_get,	ANYONE,	T_NONE },
	{ "GET",    "/api/schemas/",			schemas_get,		ANYONE,	T_NONE },
	{ "GET",    "/api/schemas/available/",		schemas_available,	ANYONE,	T_NONE },
	/* The web app's "Open with" viewers (beyond the original's API). */
	{ "GET",    "/api/external-services/",		external_services_get,	ANYONE,	T_NONE },
	/* This API's OpenAPI document and its Swagger UI and ReDoc pages. */
	{ "GET",    "/api/docs/",			docs_get,		ANYONE,	T_NONE },
	{ "GET",    "/api/docs/swagger/",		docs_swagger,		ANYONE,	T_NONE },
	{ "GET",    "/api/docs/redoc/",			docs_redoc,		ANYONE,	T_NONE },
	{ "GET",    "/swagger/",			docs_swagger_redirect,	ANYONE,	T_NONE },
	{ "GET",    "/redoc/",				docs_redoc_redirect,	ANYONE,	T_NONE },

	{ "GET",    "/api/users/me/",			users_me,		SIGNED_IN, T_NONE },
	{ "GET",    "/api/users/search/",		users_search,		APPROVED, T_NONE },
	{ "GET",    "/api/users/",			users_list,		STAFF,	T_NONE },
	/* The questionnaire and the pages below send anonymous browsers to
	 * sign in rather than answer 401: their handlers decide. */
	{ "GET",    "/api/users/questionnaire-form/",	questionnaire_get,	ANYONE,	T_NONE },
	{ "POST",   "/api/users/questionnaire-form/",	questionnaire_post,	ANYONE | TXN, T_NONE },
	/* APPROVED, checked by the handler: an access link sent as the key
	 * gets itself back (the dandi client checks a key here first). */
	{ "GET",    "/api/auth/token/",			auth_token_get,		ANYONE,	T_NONE },
	{ "POST",   "/api/auth/token/",			auth_token_rotate,	APPROVED | TXN, T_NONE },
	{ "GET",    "/api/audit/events/asset",		audit_asset_events,	STAFF,	T_NONE },

	/* Server-rendered pages: sign-in, OAuth, user approval. */
	{ "GET",    "/accounts/login/",			accounts_login_get,	ANYONE,	T_NONE },
	{ "POST",   "/accounts/login/",			accounts_login_post,	ANYONE,	T_NONE },
	{ "GET",    "/accounts/signup/",		accounts_signup_get,	ANYONE,	T_NONE },
	{ "POST",   "/accounts/signup/",		accounts_signup_post,	ANYONE,	T_NONE },
	{ "GET",    "/accounts/logout/",		accounts_logout_get,	ANYONE,	T_NONE },
	{ "POST",   "/accounts/logout/",		accounts_logout_post,	ANYONE,	T_NONE },
	{ "GET",    "/accounts/upstream/login/",	upstream_login,		ANYONE,	T_NONE },
	{ "GET",    "/accounts/upstream/callback/",	upstream_callback_get,	ANYONE,	T_NONE },
	{ "GET",    "/oauth/authorize/",		oauth_authorize,	ANYONE,	T_NONE },
	{ "POST",   "/oauth/token/",			oauth_token,		ANYONE | TXN, T_NONE },
	{ "POST",   "/oauth/revoke_token/",		oauth_revoke,		ANYONE,	T_NONE },
	{ "GET",    "/dashboard/",			dashboard_get,		ANYONE,	T_NONE },
	{ "GET",    "/dashboard/user/" USERNAME_RE "/",	dashboard_user_get,	ANYONE,	T_NONE },
	{ "POST",   "/dashboard/user/" USERNAME_RE "/",	dashboard_user_post,	ANYONE | TXN, T_NONE },

	/* Blob look-up needs no permission, as in the original. */
	{ "POST",   "/api/blobs/digest/",		blobs_digest,		ANYONE,	T_NONE },
	{ "POST",   "/api/uploads/initialize/",		uploads_initialize,	APPROVED, T_NONE },
	{ "POST",   "/api/uploads/" UUID_RE "/complete/", uploads_complete,	APPROVED, T_NONE },
	/* Its signature is the permission: the client posts it unsigned in. */
	{ "POST",   "/api/uploads/" UUID_RE "/s3-complete/", uploads_s3_complete, ANYONE, T_NONE },
	{ "POST",   "/api/uploads/" UUID_RE "/validate/", uploads_validate,	APPROVED, T_UPLOAD },
	{ "GET",    "/api/assets/" UUID_RE "/",		assets_top_get,		ANYONE | WITH_JSON, T_ASSET },
	{ "GET",    "/api/assets/" UUID_RE "/info/",	assets_top_info,	ANYONE | WITH_JSON, T_ASSET },
	{ "GET",    "/api/assets/" UUID_RE "/download/", assets_download,	ANYONE,	T_ASSET },

	{ "GET",    "/api/zarr/",			zarr_list,		ANYONE,	T_NONE },
	{ "POST",   "/api/zarr/",			zarr_create,		APPROVED | TXN, T_NONE },
	{ "GET",    "/api/zarr/" UUID_RE "/",		zarr_get,		ANYONE,	T_ZARR },
	{ "DELETE", "/api/zarr/" UUID_RE "/",		zarr_delete,		APPROVED, T_NONE },
	{ "POST",   "/api/zarr/" UUID_RE "/finalize/",	zarr_finalize,		APPROVED | TXN, T_ZARR_LOCKED },
	{ "GET",    "/api/zarr/" UUID_RE "/files/",	zarr_files_get,		ANYONE,	T_ZARR },
	{ "POST",   "/api/zarr/" UUID_RE "/files/",	zarr_files_post,	APPROVED | TXN, T_ZARR_LOCKED },
	{ "DELETE", "/api/zarr/" UUID_RE "/files/",	zarr_files_delete,	APPROVED | TXN, T_ZARR_LOCKED },

	{ "GET",    "/api/dandisets/",			dandisets_list,		ANYONE,	T_NONE },
	{ "GET",    "/api/dandisets/search/",		search_dandisets,	ANYONE,	T_NONE },
	{ "GET",    "/api/search/genotypes/",		search_genotypes,	ANYONE,	T_NONE },
	{ "GET",    "/api/search/species/",		search_species,		ANYONE,	T_NONE },
	{ "POST",   "/api/dandisets/",			dandisets_create,	APPROVED | TXN, T_NONE },
	{ "GET",    DANDISET_PATH "/",			dandisets_get,		ANYONE | WITH_JSON, T_DANDISET },
	{ "DELETE", DANDISET_PATH "/",			dandisets_delete,	APPROVED | TXN, T_DANDISET },
	{ "POST",   DANDISET_PATH "/unembargo/",	dandisets_unembargo,	APPROVED | TXN | READ_FIRST, T_GUARDIAN },
	/* Beyond the original: the embargo's end date, moved by its owners. */
	{ "GET",    DANDISET_PATH "/embargo/",		embargo_get_end,	APPROVED | READ_FIRST, T_GUARDIAN },
	{ "PUT",    DANDISET_PATH "/embargo/",		embargo_put_end,	APPROVED | TXN | READ_FIRST, T_GUARDIAN },
	{ "POST",   DANDISET_PATH "/star/",		dandisets_star,		APPROVED, T_DANDISET },
	{ "DELETE", DANDISET_PATH "/star/",		dandisets_unstar,	APPROVED, T_DANDISET },
	{ "GET",    DANDISET_PATH "/users/",		owners_get,		ANYONE,	T_DANDISET },
	{ "PUT",    DANDISET_PATH "/users/",		owners_put,		APPROVED | TXN, T_DANDISET },
	/* Records outlive their dandiset: the handler looks it up (an admin
	 * reads the trail of a deleted one). */
	{ "GET",    DANDISET_PATH "/audit/",		audit_dandiset_list,	SIGNED_IN, T_NONE },
	/* Reviewers' access links (owners), and the public access-request
	 * form of an embargoed dandiset (its handlers decide who sees it). */
	{ "GET",    DANDISET_PATH "/access-links/",	access_links_list,	ANYONE,	T_DANDISET_OWNER },
	{ "POST",   DANDISET_PATH "/access-links/",	access_links_create,	APPROVED | TXN, T_DANDISET_OWNER },
	{ "DELETE", DANDISET_PATH "/access-links/" LINK_ID_RE "/", access_links_revoke, APPROVED | TXN, T_DANDISET_OWNER },
	{ "GET",    DANDISET_PATH "/access-request/",	access_request_get,	ANYONE,	T_NONE },
	{ "PUT",    DANDISET_PATH "/access-request/",	access_request_put,	APPROVED | TXN, T_DANDISET_OWNER },
	{ "POST",   DANDISET_PATH "/access-request/",	access_request_post,	ANYONE | TXN, T_NONE },
	{ "GET",    DANDISET_PATH "/uploads/",		uploads_list,		ANYONE,	T_DANDISET_OWNER },
	{ "DELETE", DANDISET_PATH "/uploads/",		uploads_clear,		APPROVED | TXN, T_DANDISET_OWNER },

	{ "GET",    DANDISET_PATH "/versions/",		versions_list,		ANYONE,	T_DANDISET },
	{ "GET",    DANDISET_PATH "/versions/" VERSION_RE "/", versions_get,	ANYONE,	T_VERSION },
	{ "PUT",    DANDISET_PATH "/versions/" VERSION_RE "/", versions_update,	APPROVED | TXN | READ_FIRST, T_DRAFT_WRITE },
	{ "DELETE", DANDISET_PATH "/versions/" VERSION_RE "/", versions_delete,	APPROVED | TXN, T_DANDISET },
	{ "GET",    DANDISET_PATH "/versions/" VERSION_RE "/info/", versions_info, ANYONE, T_VERSION },
	{ "POST",   DANDISET_PATH "/versions/" VERSION_RE "/publish/", versions_publish, APPROVED | TXN, T_GUARDIAN },
	/* Beyond the original: from version a to b, both read by the read
	 * rule (the target checks a; b is of the same dandiset). */
	{ "GET",    DANDISET_PATH "/versions/" VERSION_RE "/diff/" VERSION_RE "/", versions_diff, ANYONE, T_VERSION },

	{ "GET",    ASSETS_PATH "/",			assets_list,		ANYONE,	T_ASSETS_LIST },
	{ "POST",   ASSETS_PATH "/",			assets_create,		APPROVED | TXN | SHARED, T_VERSION_WRITE },
	{ "GET",    ASSETS_PATH "/paths/",		assets_paths,		ANYONE,	T_ASSETS_VERSION },
	{ "GET",    ASSETS_PATH "/" UUID_RE "/",	assets_get,		ANYONE,	T_ASSETS_VERSION },
	{ "PUT",    ASSETS_PATH "/" UUID_RE "/",	assets_update,		APPROVED | TXN | SHARED, T_DRAFT_WRITE },
	{ "DELETE", ASSETS_PATH "/" UUID_RE "/",	assets_delete,		APPROVED | TXN | SHARED, T_VERSION_WRITE },
	{ "GET",    ASSETS_PATH "/" UUID_RE "/info/",	assets_info,		ANYONE,	T_ASSETS_VERSION },
	{ "GET",    ASSETS_PATH "/" UUID_RE "/validation/", assets_validation,	ANYONE,	T_ASSETS_VERSION },
	{ "GET",    ASSETS_PATH "/" UUID_RE "/download/", assets_download_nested, ANYONE, T_ASSETS_VERSION },

	/* The version comes in the query: the handler looks it up. */
	{ "GET",    "/api/webdav/assets/atpath/",	webdav_atpath,		ANYONE,	T_NONE },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
