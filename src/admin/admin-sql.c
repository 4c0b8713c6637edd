/*
 * admin-sql.c - the statements of dandi-admin: the migrations' bookkeeping,
 * then users and their API keys. Their result columns are named in admin.h.
 */
#include "admin.h"

const struct db_sql admin_migration_applied = { "admin_migration_applied", MA_NCOLS,
	"SELECT 1 FROM schema_migrations WHERE name = $1" };
const struct db_sql admin_migration_record = { "admin_migration_record", 0,
	"INSERT INTO schema_migrations (name) VALUES ($1)" };
/* Our functions (dandi_*, not an extension's) this transaction did not
 * create or replace: see cmd_migrate. */
const struct db_sql admin_functions_stray = { "admin_functions_stray", FS_NCOLS,
	"SELECT p.oid::regprocedure::text FROM pg_proc p"
	" WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'dandi\\_%'"
	"   AND p.xmin <> pg_current_xact_id()::xid"
	"   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
	"     AND d.objid = p.oid AND d.deptype = 'e')"
	" ORDER BY 1" };

const struct db_sql *const admin_migrate_sql[] = {
	&admin_migration_applied, &admin_migration_record, &admin_functions_stray, NULL
};

const struct db_sql admin_user_insert = { "admin_user_insert", UI_NCOLS,
	"INSERT INTO users (username, email, first_name, last_name, is_superuser, is_staff, status)"
	" VALUES ($1, $2, $3, $4, $5::bool, $5::bool, $6)"
	" ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email,"
	" first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,"
	" is_superuser = EXCLUDED.is_superuser, is_staff = EXCLUDED.is_staff,"
	" status = EXCLUDED.status, modified = now()"
	" RETURNING id" };
const struct db_sql admin_user_id = { "admin_user_id", UID_NCOLS,
	"SELECT id FROM users WHERE username = $1" };
const struct db_sql admin_token_get = { "admin_token_get", TG_NCOLS,
	"SELECT key FROM api_tokens WHERE user_id = $1::bigint" };
const struct db_sql admin_token_insert = { "admin_token_insert", 0,
	"INSERT INTO api_tokens (key, key_sha256, user_id) VALUES ($1, $2, $3::bigint)" };
const struct db_sql admin_token_delete = { "admin_token_delete", 0,
	"DELETE FROM api_tokens WHERE user_id = $1::bigint" };
const struct db_sql admin_user_review = { "admin_user_review", UR_NCOLS,
	"UPDATE users SET status = $2, is_active = $3::boolean, rejection_reason = $4, modified = now()"
	" WHERE username = $1 RETURNING id" };

const struct db_sql *const admin_users_sql[] = {
	&admin_user_insert, &admin_user_id, &admin_token_get, &admin_token_insert,
	&admin_token_delete, &admin_user_review, NULL
};

/* $3: the redirect URIs as a text[] literal of double-quoted elements,
 * built by the caller from URIs without quotes, backslashes or spaces. */
const struct db_sql admin_oauth_client_insert = { "admin_oauth_client_insert", 0,
	"INSERT INTO oauth_clients (client_id, name, redirect_uris, confidential, secret_sha256)"
	" VALUES ($1, $2, $3::text[], $4::bool, nullif($5, ''))" };
const struct db_sql admin_oauth_client_list = { "admin_oauth_client_list", OL_NCOLS,
	"SELECT client_id, name, confidential, array_to_string(redirect_uris, ' '),"
	" to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM oauth_clients ORDER BY created, client_id" };
const struct db_sql admin_oauth_client_delete = { "admin_oauth_client_delete", OD_NCOLS,
	"DELETE FROM oauth_clients WHERE client_id = $1 RETURNING client_id" };

const struct db_sql *const admin_oauth_sql[] = {
	&admin_oauth_client_insert, &admin_oauth_client_list, &admin_oauth_client_delete, NULL
};
