/*
 * owners.c - /api/dandisets/{id}/users/: who owns a dandiset, and replacing
 * the owner set. A dandiset always keeps at least one owner.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"

#define OWNER_JSON \
	"json_build_object('username', coalesce(u.github_login, u.username)," \
	" 'name', CASE WHEN u.github_login IS NOT NULL" \
	"  THEN nullif(btrim(u.first_name || ' ' || u.last_name), '')" \
	"  ELSE u.first_name || ' ' || u.last_name END," \
	" 'email', CASE WHEN $2::bool THEN u.email END)"

enum { OL_JSON, OL_NCOLS };
static const struct db_sql owners_list = { "owners_list", OL_NCOLS,
	"SELECT coalesce(json_agg(" OWNER_JSON " ORDER BY u.date_joined, u.id), '[]')"
	" FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
	" WHERE o.dandiset_id = $1::bigint" };

/* The owners removed and added by the new set $3, as audit JSON. */
enum { OD_REMOVED, OD_ADDED, OD_NCOLS };
static const struct db_sql owners_diff = { "owners_diff", OD_NCOLS,
	"SELECT"
	" (SELECT coalesce(json_agg(" OWNER_JSON " ORDER BY u.date_joined, u.id), '[]')"
	"  FROM dandiset_owners o JOIN users u ON u.id = o.user_id"
	"  WHERE o.dandiset_id = $1::bigint AND NOT (u.id = ANY($3::bigint[]))),"
	" (SELECT coalesce(json_agg(" OWNER_JSON " ORDER BY u.date_joined, u.id), '[]')"
	"  FROM users u WHERE u.id = ANY($3::bigint[]) AND NOT EXISTS ("
	"   SELECT 1 FROM dandiset_owners o WHERE o.dandiset_id = $1::bigint AND o.user_id = u.id))" };

static const struct db_sql owners_remove = { "owners_remove", 0,
	"DELETE FROM dandiset_owners WHERE dandiset_id = $1::bigint"
	" AND NOT (user_id = ANY($2::bigint[]))" };

static const struct db_sql owners_add = { "owners_add", 0,
	"INSERT INTO dandiset_owners (dandiset_id, user_id)"
	" SELECT $1::bigint, unnest($2::bigint[]) ON CONFLICT DO NOTHING" };

enum { UBL_ID, UBL_NCOLS };
static const struct db_sql user_by_login = { "user_by_login", UBL_NCOLS,
	"SELECT id FROM users WHERE username = $1 OR github_login = $1"
	" ORDER BY (github_login = $1) DESC NULLS LAST LIMIT 1" };

const struct db_sql *const owners_sql[] = {
	&owners_list, &owners_diff, &owners_remove, &owners_add, &user_by_login, NULL
};

static int
owners_respond(struct request *req, const char *id)
{
	/* E-mails for users, not for an access link's reader (a signed-in
	 * one included: the link is what lets them see the dandiset). */
	bool emails = req->user != NULL && !(req->dandiset != NULL && req->dandiset->by_link);
	const char	*params[2] = { id, emails ? "t" : "f" };
	PGresult	*r = req_query(req, &owners_list, 2, params);

	return r == NULL ? 0 : resp_raw_json(req, 200, PQgetvalue(r, 0, OL_JSON));
}

int
owners_get(struct request *req)
{
	return owners_respond(req, req->dandiset->id);
}

/* Resolves the body's usernames to a Postgres bigint[] literal of user ids.
 * Returns NULL with the 400 set on any bad item. */
static const char *
owners_parse(struct request *req)
{
	struct json_object	*body = req_json_body(req), *name;
	struct buf		 ids;
	const char		*out;

	if (body == NULL)
		return NULL;
	if (!json_object_is_type(body, json_type_array)) {
		resp_field_error(req, "non_field_errors", arena_printf(&req->arena,
		    "Expected a list of items but got type \"%s\".", metadata_py_type(body)));
		return NULL;
	}
	if (json_object_array_length(body) == 0) {
		resp_list_error(req, 400, "Cannot remove all draft owners");
		return NULL;
	}
	buf_init(&ids);
	buf_puts(&ids, "{");
	for (size_t i = 0; i < json_object_array_length(body); i++) {
		struct json_object *item = json_object_array_get_idx(body, i);
		if (!json_object_is_type(item, json_type_object) ||
		    !json_object_object_get_ex(item, "username", &name) ||
		    !json_object_is_type(name, json_type_string)) {
			resp_raw_json(req, 400, "[{\"username\":[\"This field is required.\"]}]");
			buf_free(&ids);
			return NULL;
		}
		/* "alice\u0000x" must not be taken for alice. */
		if (json_string_has_nul(name)) {
			resp_raw_json(req, 400, "[{\"username\":[\"Null characters are not allowed.\"]}]");
			buf_free(&ids);
			return NULL;
		}
		const char *params[1] = { json_object_get_string(name) };
		PGresult *r = req_query(req, &user_by_login, 1, params);
		if (r == NULL) {
			buf_free(&ids);
			return NULL;
		}
		if (PQntuples(r) == 0) {
			resp_list_error(req, 400, arena_printf(&req->arena, "User %s not found", params[0]));
			buf_free(&ids);
			return NULL;
		}
		buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(r, 0, UBL_ID));
	}
	buf_puts(&ids, "}");
	out = arena_strdup(&req->arena, ids.data);
	buf_free(&ids);
	return out;
}

/* After the read rule (the target), the original's view refuses
 * non-owners with its own message (NotAllowedError), then an unembargoing
 * dandiset (the two cannot both apply: only owners read one). */
int
owners_put(struct request *req)
{
	const char	*id = req->dandiset->id, *ids;
	PGresult	*r;

	if (!req->dandiset->owner)
		return resp_string(req, 403, "Action not allowed");
	if (perm_not_unembargoing(req, req->dandiset->embargo_status) != 0 ||
	    (ids = owners_parse(req)) == NULL)
		return 0;

	const char *diff[3] = { id, "t", ids };
	if ((r = req_query(req, &owners_diff, 3, diff)) == NULL)
		return 0;
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "removed_owners", jsonread_str(PQgetvalue(r, 0, OD_REMOVED), NULL, 0));
	json_object_object_add(details, "added_owners", jsonread_str(PQgetvalue(r, 0, OD_ADDED), NULL, 0));
	const char *set[2] = { id, ids };
	if (notify_owner_changes(req, id, ids) != 0 || req_query(req, &owners_remove, 2, set) == NULL ||
	    req_query(req, &owners_add, 2, set) == NULL) {
		json_object_put(details);
		return 0;
	}
	if (audit_write(req, id, "change_owners", details) != 0 || req_commit(req) != 0)
		return 0;
	return owners_respond(req, id);
}
