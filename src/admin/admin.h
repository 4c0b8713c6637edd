/* admin.h - dandi-admin's statements (admin-sql.c), shared with
 * t/unit/sql-check, which prepares them as t/08-statements.t asks. */
#ifndef DANDI_ADMIN_H
#define DANDI_ADMIN_H

#include "db.h"

/* The migrations' bookkeeping (db_use_table once schema_migrations is
 * there). */
enum { MA_ONE, MA_NCOLS };	/* unread: a row when applied */
extern const struct db_sql	admin_migration_applied;
extern const struct db_sql	admin_migration_record;
enum { FS_SIGNATURE, FS_NCOLS };
extern const struct db_sql	admin_functions_stray;
extern const struct db_sql *const	admin_migrate_sql[];

/* Users and their API keys (db_use_table: the migrations make them). */
enum { UI_ID, UI_NCOLS };
extern const struct db_sql	admin_user_insert;
enum { UID_ID, UID_NCOLS };
extern const struct db_sql	admin_user_id;
enum { TG_KEY, TG_NCOLS };
extern const struct db_sql	admin_token_get;
extern const struct db_sql	admin_token_insert;
extern const struct db_sql	admin_token_delete;
enum { UR_ID, UR_NCOLS };	/* unread: a row when the user exists */
extern const struct db_sql	admin_user_review;
extern const struct db_sql *const	admin_users_sql[];

/* OAuth clients (oauth-client add|list|remove; sql/007, sql/022). */
extern const struct db_sql	admin_oauth_client_insert;
enum { OL_ID, OL_NAME, OL_CONFIDENTIAL, OL_URIS, OL_CREATED, OL_NCOLS };
extern const struct db_sql	admin_oauth_client_list;
enum { OD_ID, OD_NCOLS };	/* unread: a row when removed */
extern const struct db_sql	admin_oauth_client_delete;
extern const struct db_sql *const	admin_oauth_sql[];

#endif
