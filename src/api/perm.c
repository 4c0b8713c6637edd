/*
 * perm.c - every access rule of the API. Handlers ask here; no handler
 * inspects roles on its own.
 *
 *   anonymous       read OPEN dandisets
 *   any user        + unsafe requests only when APPROVED (or superuser)
 *   owner           + write own dandisets, read own embargoed ones
 *   superuser       everything, owner of every dandiset
 */
#include <string.h>

#include "api.h"


int
perm_require_auth(struct request *req)
{
	if (req->user != NULL)
		return 0;
	resp_detail(req, 401, "Authentication credentials were not provided.");
	return -1;
}

int
perm_require_approved(struct request *req)
{
	if (perm_require_auth(req) != 0)
		return -1;
	if (req->user->is_superuser || strcmp(req->user->status, "APPROVED") == 0)
		return 0;
	resp_detail(req, 403, "You do not have permission to perform this action.");
	return -1;
}

/* Django's IsAdminUser: staff or superuser. */
int
perm_require_staff(struct request *req)
{
	PGresult *r;

	if (perm_require_auth(req) != 0)
		return -1;
	if (req->user->is_superuser)
		return 0;
	const char *params[1] = { req->user_id_str };
	if ((r = req_query(req, "user_is_staff", 1, params)) == NULL)
		return -1;
	if (PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't')
		return 0;
	resp_detail(req, 403, "You do not have permission to perform this action.");
	return -1;
}

bool
perm_is_owner(struct request *req, const char *dandiset_id)
{
	const char	*params[2] = { dandiset_id, req->user_id_str };
	PGresult	*r;

	if (req->user == NULL)
		return false;
	if (req->user->is_superuser)
		return true;
	r = req_query(req, "owner_check", 2, params);
	return r != NULL && PQntuples(r) == 1;
}

int
perm_read_dandiset(struct request *req, const char *dandiset_id, const char *embargo_status)
{
	if (strcmp(embargo_status, "OPEN") == 0)
		return 0;
	if (perm_require_auth(req) != 0)
		return -1;
	if (perm_is_owner(req, dandiset_id))
		return 0;
	if (req->status == 0)
		resp_detail(req, 403, "You do not have permission to perform this action.");
	return -1;
}

const char *
dandiset_visible(struct request *req, const char *id)
{
	const char	*params[1] = { id };
	PGresult	*r = req_query(req, "dandiset_embargo_status", 1, params);

	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 0) {
		resp_detail(req, 404, "Not found.");
		return NULL;
	}
	const char *status = arena_strdup(&req->arena, PQgetvalue(r, 0, 0));
	if (perm_read_dandiset(req, id, status) != 0)
		return NULL;
	return status;
}
