/* db.h - one PostgreSQL connection per process, named prepared statements. */
#ifndef DANDI_DB_H
#define DANDI_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

struct db_stmt {
	const char	*name;
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
	const struct db_stmt	*stmts;
	size_t			 nstmts;
	bool			*prepared;	/* per statement, this connection */
	bool			 in_tx;
	char			 sqlstate[6];
	char			 constraint[64];	/* violated constraint name */
};

void		db_init(struct db *, const char *conninfo, const struct db_stmt *, size_t);
void		db_close(struct db *);
/* Connects (or reconnects). Statements are prepared on first use. */
enum db_status	db_ensure(struct db *);
/* Runs a prepared statement. *out is set on DB_OK and on DB_CONSTRAINT/DB_ERROR
 * (caller PQclear()s it); NULL on DB_UNAVAILABLE. Outside a transaction a
 * statement that finds the connection dead reconnects and retries once. */
enum db_status	db_exec(struct db *, PGresult **out, const char *name, int n,
		    const char *const *params);
/* db_exec for the background jobs: the result, or NULL with "name: why"
 * in err (nothing to PQclear()). */
PGresult	*db_query(struct db *, const char *name, int n, const char *const *params,
		    char *err, size_t errlen);
enum db_status	db_begin(struct db *);
enum db_status	db_commit(struct db *);
void		db_rollback(struct db *);
/* Simple (unprepared) command without parameters, for admin tools. */
enum db_status	db_command(struct db *, const char *sql, char *err, size_t errlen);

#endif
