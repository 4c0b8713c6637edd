/*
 * audit.c - one audit record per state change, written in the same
 * transaction as the change, so a rolled-back request leaves no record and
 * a committed one always has one.
 */
#include "api.h"

const struct db_stmt audit_stmts[] = {
	{ "audit_insert",
	  "INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname,"
	  " record_type, details) VALUES ($1::bigint, $2, $3, $4, $5, $6::jsonb)" },
};
const size_t audit_nstmts = sizeof(audit_stmts) / sizeof(audit_stmts[0]);

int
audit_write(struct request *req, const char *dandiset_id, const char *record_type,
    struct json_object *details)
{
	const struct user *u = req->user;
	const char *params[6] = {
		dandiset_id,
		u ? u->username : "",
		u ? u->email : "",
		u ? arena_printf(&req->arena, "%s %s", u->first_name, u->last_name) : "",
		record_type,
		arena_strdup(&req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)),
	};

	json_object_put(details);
	return req_query(req, "audit_insert", 6, params) == NULL ? -1 : 0;
}
