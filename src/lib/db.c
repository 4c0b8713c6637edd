/*
 * db.c - the libpq connection of a process. Statements are prepared once per
 * connection from static tables, so code only ever refers to them and never
 * pastes values into SQL. A broken connection (server restart) is detected
 * on use and replaced on the next request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

void
db_init(struct db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = xstrdup(conninfo);
}

void
db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db->tables);
	memset(db, 0, sizeof(*db));
}

void
db_add_table(struct db *db, const struct db_sql *const *table)
{
	for (size_t i = 0; i < db->ntables; i++)
		if (db->tables[i] == table)
			return;
	db->tables = xrealloc(db->tables, (db->ntables + 1) * sizeof(*db->tables));
	db->tables[db->ntables++] = table;
}

static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_tx = false;
}

/* Server NOTICEs ("relation already exists, skipping") go to the debug log
 * instead of libpq's default of stderr. */
static void
db_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgres: %s", msg);
}

static enum db_status	db_classify(struct db *, PGresult *);

/* Every statement of a table, on this connection. */
static enum db_status
db_prepare_table(struct db *db, const struct db_sql *const *table)
{
	for (const struct db_sql *const *q = table; *q != NULL; q++) {
		PGresult *r = PQprepare(db->conn, (*q)->name, (*q)->sql, 0, NULL);
		enum db_status s = db_classify(db, r);
		if (s != DB_OK)
			log_error("prepare %s failed: %s", (*q)->name, PQresultErrorMessage(r));
		PQclear(r);
		if (s != DB_OK) {
			db_drop(db);
			return s == DB_UNAVAILABLE ? s : DB_ERROR;
		}
	}
	return DB_OK;
}

/* Every statement of the tables, on a new connection. */
static enum db_status
db_prepare_tables(struct db *db)
{
	for (size_t t = 0; t < db->ntables; t++) {
		enum db_status s = db_prepare_table(db, db->tables[t]);
		if (s != DB_OK)
			return s;
	}
	return DB_OK;
}

enum db_status
db_use_table(struct db *db, const struct db_sql *const *table)
{
	bool connected = db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;

	for (size_t i = 0; i < db->ntables; i++)
		if (db->tables[i] == table)
			return db_ensure(db);
	db_add_table(db, table);
	/* A new connection prepares it with the others. */
	return connected ? db_prepare_table(db, table) : db_ensure(db);
}

enum db_status
db_ensure(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return DB_OK;
	db_drop(db);
	db->conn = PQconnectdb(db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_error("database connection failed: %s", PQerrorMessage(db->conn));
		metrics_db_connect_failed();
		db_drop(db);
		return DB_UNAVAILABLE;
	}
	metrics_db_reconnect();
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	/* Timestamps read as text are parsed in C (ts_iso): fix their form
	 * whatever the server's defaults. */
	PGresult *r = PQexec(db->conn, "SET DateStyle = ISO; SET TimeZone = 'UTC'");
	bool set = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!set) {
		log_error("database session setup failed: %s", PQerrorMessage(db->conn));
		db_drop(db);
		return DB_UNAVAILABLE;
	}
	return db_prepare_tables(db);
}

/* Classifies a finished result; records SQLSTATE and constraint. */
static enum db_status
db_classify(struct db *db, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	const char *code, *cons;

	db->sqlstate[0] = '\0';
	db->constraint[0] = '\0';
	/* An empty query (a migration file of comments only) did nothing,
	 * successfully. */
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY)
		return DB_OK;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		metrics_db_connect_failed();	/* lost under a statement */
		return DB_UNAVAILABLE;
	}
	code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	if (code != NULL)
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", code);
	if (cons != NULL)
		snprintf(db->constraint, sizeof(db->constraint), "%s", cons);
	/* 08xxx connection exceptions, 57P0x admin shutdown/crash. */
	if (code != NULL && (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0)) {
		metrics_db_connect_failed();
		return DB_UNAVAILABLE;
	}
	if (code != NULL && strncmp(code, "23", 2) == 0)
		return DB_CONSTRAINT;
	metrics_db_error();
	log_error("sql error %s: %s", code ? code : "?", PQresultErrorMessage(r));
	return DB_ERROR;
}


/* Whether q is in a table of this connection (so it was prepared). */
static bool
db_has(const struct db *db, const struct db_sql *q)
{
	for (size_t t = 0; t < db->ntables; t++)
		for (const struct db_sql *const *p = db->tables[t]; *p != NULL; p++)
			if (*p == q)
				return true;
	return false;
}

/* Runs statement q, prepared with its table. */
static enum db_status
db_execute(struct db *db, PGresult **out, const struct db_sql *q, int n, const char *const *params)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool was_tx = db->in_tx;
		enum db_status s;

		*out = NULL;
		if ((s = db_ensure(db)) != DB_OK)
			return s;
		PGresult *r = PQexecPrepared(db->conn, q->name, n, params, NULL, NULL, 0);
		s = db_classify(db, r);
		if (s != DB_UNAVAILABLE) {
			*out = r;
			return s;
		}
		PQclear(r);
		db_drop(db);
		/* Inside a transaction the earlier statements are lost: fail. */
		if (was_tx)
			return DB_UNAVAILABLE;
	}
	return DB_UNAVAILABLE;
}

enum db_status
db_run(struct db *db, PGresult **out, const struct db_sql *q, int n, const char *const *params)
{
	enum db_status s;

	if (!db_has(db, q)) {
		*out = NULL;
		log_error("statement %s is in no table of this connection (db_add_table)", q->name);
		return DB_ERROR;
	}
	s = db_execute(db, out, q, n, params);
	if (s == DB_OK && PQnfields(*out) != q->ncols) {
		log_error("statement %s: %d result columns, its enum names %d", q->name,
		    PQnfields(*out), q->ncols);
		return DB_ERROR;
	}
	return s;
}

static enum db_status
db_simple(struct db *db, const char *sql)
{
	PGresult *r;
	enum db_status s;

	if ((s = db_ensure(db)) != DB_OK)
		return s;
	r = PQexec(db->conn, sql);
	s = db_classify(db, r);
	PQclear(r);
	if (s == DB_UNAVAILABLE)
		db_drop(db);
	return s;
}

enum db_status
db_begin(struct db *db)
{
	enum db_status s = db_simple(db, "BEGIN");

	if (s == DB_UNAVAILABLE)	/* a stale connection: one fresh try */
		s = db_simple(db, "BEGIN");
	if (s == DB_OK)
		db->in_tx = true;
	return s;
}

enum db_status
db_commit(struct db *db)
{
	enum db_status s = db_simple(db, "COMMIT");

	db->in_tx = false;
	return s;
}

void
db_rollback(struct db *db)
{
	if (db->in_tx && db->conn != NULL)
		(void)db_simple(db, "ROLLBACK");
	db->in_tx = false;
}

enum db_status
db_command(struct db *db, const char *sql, char *err, size_t errlen)
{
	PGresult *r;
	enum db_status s;

	if ((s = db_ensure(db)) != DB_OK) {
		snprintf(err, errlen, "cannot connect to the database");
		return s;
	}
	r = PQexec(db->conn, sql);
	s = db_classify(db, r);
	if (s != DB_OK)
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
	PQclear(r);
	return s;
}

/* One host of a conninfo's list on this machine: a socket directory, or
 * a loopback name or address. */
static bool
host_local(const char *h, size_t n)
{
	static const char *const loopback[] = { "localhost", "127.0.0.1", "::1" };

	if (n == 0 || h[0] == '/' || h[0] == '@')	/* '@': an abstract socket */
		return true;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (strlen(loopback[i]) == n && strncmp(h, loopback[i], n) == 0)
			return true;
	return n > 4 && strncmp(h, "127.", 4) == 0;
}

bool
db_conninfo_local(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	const char *host = NULL, *hostaddr = NULL;
	bool local = true;

	if (opts == NULL)
		return false;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
	}
	/* libpq's own defaults: PGHOSTADDR, PGHOST, else the socket. */
	const char *h = hostaddr != NULL && hostaddr[0] ? hostaddr : getenv("PGHOSTADDR");
	if (h == NULL || h[0] == '\0')
		h = host != NULL && host[0] ? host : getenv("PGHOST");
	for (const char *p = h != NULL ? h : ""; local; p++) {
		size_t n = strcspn(p, ",");
		local = host_local(p, n);
		p += n;
		if (*p == '\0')
			break;
	}
	PQconninfoFree(opts);
	return local;
}
