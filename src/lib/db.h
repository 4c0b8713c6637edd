/* db.h - one PostgreSQL connection per process, prepared statements. */
#ifndef DANDI_DB_H
#define DANDI_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

/*
 * A statement referenced by its symbol, so a misspelt one does not build,
 * with its result columns named by an enum beside it whose last member
 * counts them:
 *
 *	enum { ZI_LOCK_ID, ZI_LOCK_STATUS, ZI_LOCK_NCOLS };
 *	static const struct db_sql zi_lock = { "zi_lock", ZI_LOCK_NCOLS,
 *	    "SELECT id, status FROM zarrs WHERE zarr_id = $1::uuid FOR UPDATE" };
 *	...
 *	PQgetvalue(r, 0, ZI_LOCK_STATUS)
 *
 * A module lists its statements in a NULL-terminated table; every table
 * given to db_add_table() is prepared when the connection is made, and
 * t/08-statements.t prepares them all against a migrated database and
 * compares each ncols with what PostgreSQL describes.
 */
struct db_sql {
	const char	*name;		/* the prepared statement's name (logs) */
	int		 ncols;		/* result columns; 0 for none */
	const char	*sql;
};

enum db_status {
	DB_OK = 0,
	DB_UNAVAILABLE,		/* no connection: callers answer 503 */
	DB_CONSTRAINT,		/* SQLSTATE class 23 (unique, check, fk) */
	DB_ERROR		/* anything else: a bug or bad data, 500 */
};

struct db {
	PGconn			*conn;
	char			*conninfo;
	const struct db_sql *const **tables;	/* db_add_table() */
	size_t			 ntables;
	bool			 in_tx;
	char			 sqlstate[6];
	char			 constraint[64];	/* violated constraint name */
};

void		db_init(struct db *, const char *conninfo);
void		db_close(struct db *);
/* Adds a NULL-terminated table of statements to prepare on every new
 * connection (a table added twice is prepared once). */
void		db_add_table(struct db *, const struct db_sql *const *table);
/* db_add_table for statements that cannot be prepared at connect, since
 * what they name is made later on the connection (dandi-admin's, before
 * and after the migrations): connects if need be and prepares the table
 * now (and again at every reconnect). DB_OK, or the failure. */
enum db_status	db_use_table(struct db *, const struct db_sql *const *table);
/* Connects (or reconnects) and prepares the tables' statements; a
 * statement that does not prepare is a bug: DB_ERROR, no connection. */
enum db_status	db_ensure(struct db *);
/* Runs a statement of the tables. *out is set on DB_OK and on
 * DB_CONSTRAINT/DB_ERROR (caller PQclear()s it); NULL on DB_UNAVAILABLE.
 * Outside a transaction a statement that finds the connection dead
 * reconnects and retries once. A result with other than its ncols columns
 * is DB_ERROR. */
enum db_status	db_run(struct db *, PGresult **out, const struct db_sql *, int n,
		    const char *const *params);
enum db_status	db_begin(struct db *);
enum db_status	db_commit(struct db *);
void		db_rollback(struct db *);
/* Simple (unprepared) command without parameters, for admin tools. */
enum db_status	db_command(struct db *, const char *sql, char *err, size_t errlen);
/* Does conninfo reach a PostgreSQL on this machine (a unix socket, a
 * loopback host)? As libpq reads it, PGHOST and PGHOSTADDR included. */
bool		db_conninfo_local(const char *conninfo);

#endif
