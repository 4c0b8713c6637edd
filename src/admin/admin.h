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

#endif
