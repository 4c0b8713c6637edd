/*
 * routes.c - the whole API surface in one table. Patterns are anchored by
 * the router, which also makes the trailing slash optional. Order matters
 * only where two patterns could match the same path.
 */
#include "api.h"

#define DANDISET	"/api/dandisets/(\\d{6})"
#define VERSION_RE	"(draft|0\\.\\d{6}\\.\\d{4})"
#define UUID_RE		"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
#define ASSETS		DANDISET "/versions/" VERSION_RE "/assets"
#define USERNAME_RE	"([^/]{1,150})"

const struct route api_routes[] = {
	{ "GET",    "/",					root_get },
	{ "GET",    "/robots.txt",				robots_get },
	{ "GET",    "/api/info/",				info_get },
	{ "GET",    "/server-info",				info_get },
	{ "GET",    "/api/stats/",				stats_get },
	{ "GET",    "/api/stats/downloads/",			stats_downloads_get },
	{ "GET",    "/api/schemas/",				schemas_get },
	{ "GET",    "/api/schemas/available/",			schemas_available },
	/* This API's OpenAPI document and its Swagger UI and ReDoc pages. */
	{ "GET",    "/api/docs/",				docs_get },
	{ "GET",    "/api/docs/swagger/",			docs_swagger },
	{ "GET",    "/api/docs/redoc/",				docs_redoc },
	{ "GET",    "/swagger/",				docs_swagger_redirect },
	{ "GET",    "/redoc/",					docs_redoc_redirect },

	{ "GET",    "/api/users/me/",				users_me },
	{ "GET",    "/api/users/search/",			users_search },
	{ "GET",    "/api/users/",				users_list },
	{ "GET",    "/api/users/questionnaire-form/",		questionnaire_get },
	{ "POST",   "/api/users/questionnaire-form/",		questionnaire_post },
	{ "GET",    "/api/auth/token/",				auth_token_get },
	{ "POST",   "/api/auth/token/",				auth_token_rotate },
	{ "GET",    "/api/audit/events/asset",			audit_asset_events },

	/* Server-rendered pages: sign-in, OAuth, user approval. */
	{ "GET",    "/accounts/login/",				accounts_login_get },
	{ "POST",   "/accounts/login/",				accounts_login_post },
	{ "GET",    "/accounts/signup/",			accounts_signup_get },
	{ "POST",   "/accounts/signup/",			accounts_signup_post },
	{ "GET",    "/accounts/logout/",			accounts_logout_get },
	{ "POST",   "/accounts/logout/",			accounts_logout_post },
	{ "GET",    "/accounts/upstream/login/",		upstream_login },
	{ "GET",    "/accounts/upstream/callback/",		upstream_callback_get },
	{ "GET",    "/oauth/authorize/",			oauth_authorize },
	{ "POST",   "/oauth/token/",				oauth_token },
	{ "POST",   "/oauth/revoke_token/",			oauth_revoke },
	{ "GET",    "/dashboard/",				dashboard_get },
	{ "GET",    "/dashboard/user/" USERNAME_RE "/",		dashboard_user_get },
	{ "POST",   "/dashboard/user/" USERNAME_RE "/",		dashboard_user_post },

	{ "POST",   "/api/blobs/digest/",			blobs_digest },
	{ "POST",   "/api/uploads/initialize/",			uploads_initialize },
	{ "POST",   "/api/uploads/" UUID_RE "/complete/",	uploads_complete },
	{ "POST",   "/api/uploads/" UUID_RE "/s3-complete/",	uploads_s3_complete },
	{ "POST",   "/api/uploads/" UUID_RE "/validate/",	uploads_validate },
	{ "GET",    "/api/assets/" UUID_RE "/",			assets_top_get },
	{ "GET",    "/api/assets/" UUID_RE "/info/",		assets_top_info },
	{ "GET",    "/api/assets/" UUID_RE "/download/",	assets_download },

	{ "GET",    "/api/zarr/",				zarr_list },
	{ "POST",   "/api/zarr/",				zarr_create },
	{ "GET",    "/api/zarr/" UUID_RE "/",			zarr_get },
	{ "DELETE", "/api/zarr/" UUID_RE "/",			zarr_delete },
	{ "POST",   "/api/zarr/" UUID_RE "/finalize/",		zarr_finalize },
	{ "GET",    "/api/zarr/" UUID_RE "/files/",		zarr_files_get },
	{ "POST",   "/api/zarr/" UUID_RE "/files/",		zarr_files_post },
	{ "DELETE", "/api/zarr/" UUID_RE "/files/",		zarr_files_delete },

	{ "GET",    "/api/dandisets/",				dandisets_list },
	{ "GET",    "/api/dandisets/search/",			search_dandisets },
	{ "GET",    "/api/search/genotypes/",			search_genotypes },
	{ "GET",    "/api/search/species/",			search_species },
	{ "POST",   "/api/dandisets/",				dandisets_create },
	{ "GET",    DANDISET "/",				dandisets_get },
	{ "DELETE", DANDISET "/",				dandisets_delete },
	{ "POST",   DANDISET "/unembargo/",			dandisets_unembargo },
	{ "POST",   DANDISET "/star/",				dandisets_star },
	{ "DELETE", DANDISET "/star/",				dandisets_unstar },
	{ "GET",    DANDISET "/users/",				owners_get },
	{ "PUT",    DANDISET "/users/",				owners_put },
	{ "GET",    DANDISET "/audit/",				audit_dandiset_list },
	{ "GET",    DANDISET "/uploads/",			uploads_list },
	{ "DELETE", DANDISET "/uploads/",			uploads_clear },

	{ "GET",    DANDISET "/versions/",			versions_list },
	{ "GET",    DANDISET "/versions/" VERSION_RE "/",		versions_get },
	{ "PUT",    DANDISET "/versions/" VERSION_RE "/",		versions_update },
	{ "DELETE", DANDISET "/versions/" VERSION_RE "/",		versions_delete },
	{ "GET",    DANDISET "/versions/" VERSION_RE "/info/",	versions_info },
	{ "POST",   DANDISET "/versions/" VERSION_RE "/publish/",	versions_publish },

	{ "GET",    ASSETS "/",					assets_list },
	{ "POST",   ASSETS "/",					assets_create },
	{ "GET",    ASSETS "/paths/",				assets_paths },
	{ "GET",    ASSETS "/" UUID_RE "/",			assets_get },
	{ "PUT",    ASSETS "/" UUID_RE "/",			assets_update },
	{ "DELETE", ASSETS "/" UUID_RE "/",			assets_delete },
	{ "GET",    ASSETS "/" UUID_RE "/info/",		assets_info },
	{ "GET",    ASSETS "/" UUID_RE "/validation/",		assets_validation },
	{ "GET",    ASSETS "/" UUID_RE "/download/",		assets_download_nested },

	{ "GET",    "/api/webdav/assets/atpath/",		webdav_atpath },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
