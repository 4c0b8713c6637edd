/*
 * users.c - who am I, finding people to add as owners, and the admin's
 * user list.
 *
 * A user is shown by their GitHub login when they have one (social login),
 * else their username; the name is "first last" trimmed.
 */
#include <string.h>

#include "api.h"

enum { US_USERNAME, US_NAME, US_ADMIN, US_STATUS, US_NCOLS };
static const struct db_sql users_matching = { "users_matching", US_NCOLS,
	"SELECT coalesce(github_login, username), btrim(first_name || ' ' || last_name),"
	" is_superuser, status FROM users"
	" WHERE is_active AND status = 'APPROVED' AND username <> 'AnonymousUser'"
	"   AND (strpos(lower(first_name), lower($1)) > 0 OR strpos(lower(last_name), lower($1)) > 0"
	"        OR strpos(lower(username), lower($1)) > 0"
	"        OR strpos(lower(coalesce(github_login, '')), lower($1)) > 0)"
	" ORDER BY date_joined, id LIMIT 10" };

enum { UL_LOGIN, UL_NCOLS };
static const struct db_sql users_logins = { "users_logins", UL_NCOLS,
	"SELECT github_login FROM users WHERE github_login IS NOT NULL"
	" AND ($1::boolean IS NOT TRUE OR status = 'APPROVED') ORDER BY github_login" };

const struct db_sql *const users_sql[] = {
	&users_matching, &users_logins, NULL
};

static struct json_object *
user_json(const char *username, const char *name, bool admin, const char *status)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "admin", json_object_new_boolean(admin));
	json_object_object_add(o, "status", json_object_new_string(status));
	return o;
}

/* GET /api/users/me/: any signed-in user, approved or not. */
int
users_me(struct request *req)
{
	const struct user *u = req->user;
	char *name;

	name = arena_printf(&req->arena, "%s %s", u->first_name, u->last_name);
	return resp_json(req, 200, user_json(u->username, str_trim(name), u->is_superuser, u->status));
}

/* Django's username rule (letters, digits and @.+-_): anything else finds
 * nobody. Bytes above ASCII are let through as the letters of other
 * scripts that Python's \w accepts. */
static bool
username_like(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!(c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr("@.+-_", c) != NULL))
			return false;
	}
	return true;
}

/* GET /api/users/search/?username=: up to 10 approved users, oldest first;
 * a query that is not a valid username gives [] rather than an error. */
int
users_search(struct request *req)
{
	const char	*q = query_get(req, "username");
	struct json_object *list;
	PGresult	*r;

	list = json_object_new_array();
	if (q == NULL || strlen(q) > 150 || !username_like(q))
		return resp_json(req, 200, list);
	const char *params[1] = { q };
	if ((r = req_query(req, &users_matching, 1, params)) == NULL) {
		json_object_put(list);
		return 0;
	}
	for (int i = 0; i < PQntuples(r); i++)
		json_object_array_add(list, user_json(PQgetvalue(r, i, US_USERNAME),
		    PQgetvalue(r, i, US_NAME), PQgetvalue(r, i, US_ADMIN)[0] == 't',
		    PQgetvalue(r, i, US_STATUS)));
	return resp_json(req, 200, list);
}

/* GET /api/users/?approved_only=: staff only; the GitHub logins. */
int
users_list(struct request *req)
{
	const char	*v = query_get(req, "approved_only");
	bool		 approved = false;
	PGresult	*r;

	if (v != NULL && !parse_bool(v, &approved))
		return resp_field_error(req, "approved_only", "Must be a valid boolean.");
	const char *params[1] = { approved ? "t" : "f" };
	if ((r = req_query(req, &users_logins, 1, params)) == NULL)
		return 0;
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_object_array_add(list, json_object_new_string(PQgetvalue(r, i, UL_LOGIN)));
	return resp_json(req, 200, list);
}
