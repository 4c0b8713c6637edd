/*
 * sql-check: prepares every statement of dandi-api, dandi-jobs and
 * dandi-admin against the database of DANDI_DB (migrated) on one connection
 * per connection the programs make, as they do, and asks PostgreSQL for
 * each one's result columns (PQdescribePrepared). t/08-statements.t reads
 * its lines:
 *
 *   stmt <TAB> connection <TAB> name <TAB> declared columns <TAB> described <TAB> error
 *   kind <TAB> name                      (the job kinds of dandi-jobs.c)
 *
 * One control statement with a wrong column count is checked too, so the
 * comparison is seen to fail when it should. Exit status 0 unless the
 * database cannot be reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/admin/admin.h"
#include "../../src/api/api.h"
#include "../../src/jobs/jobs.h"

static const struct db_sql control = { "sql_check_control", 2, "SELECT 1" };
static const struct db_sql *const control_sql[] = { &control, NULL };

/* Prepares and describes one statement. */
static void
check(PGconn *conn, const char *connection, const struct db_sql *q)
{
	PGresult *r = PQprepare(conn, q->name, q->sql, 0, NULL);
	char described[16] = "-";
	const char *err = "";
	PGresult *d = NULL;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		err = PQresultErrorMessage(r);
	else if (PQresultStatus(d = PQdescribePrepared(conn, q->name)) != PGRES_COMMAND_OK)
		err = PQresultErrorMessage(d);
	else
		snprintf(described, sizeof(described), "%d", PQnfields(d));
	/* One line each: the error's own line breaks go. */
	printf("stmt\t%s\t%s\t%d\t%s\t", connection, q->name, q->ncols, described);
	for (const char *p = err; *p; p++)
		putchar(*p == '\n' || *p == '\t' ? ' ' : *p);
	putchar('\n');
	PQclear(d);
	PQclear(r);
}

static void
check_table(PGconn *conn, const char *connection, const struct db_sql *const *table)
{
	for (; table != NULL && *table != NULL; table++)
		check(conn, connection, *table);
}

static PGconn *
connect_db(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "sql-check: %s", PQerrorMessage(conn));
		exit(1);
	}
	return conn;
}

int
main(void)
{
	struct config cfg;
	char err[512];

	if (config_load(&cfg, "/nonexistent", 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "sql-check: %s\n", err);
		return 1;
	}
	/* dandi-api: every resource's statements on the worker's connection. */
	struct server *s = server_new(&cfg, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "sql-check: %s\n", err);
		return 1;
	}
	struct db *api = server_db(s);
	PGconn *conn = connect_db(cfg.db);
	for (size_t t = 0; t < api->ntables; t++)
		check_table(conn, "api", api->tables[t]);
	PQfinish(conn);
	server_free(s);

	/* dandi-jobs: the work connection (struct job) and the claim one. */
	struct job job;
	job_init(&job, &cfg);
	conn = connect_db(cfg.db);
	for (size_t t = 0; t < job.db.ntables; t++)
		check_table(conn, "jobs", job.db.tables[t]);
	PQfinish(conn);
	job_free(&job);
	conn = connect_db(cfg.db);
	check_table(conn, "claim", queue_claim_sql);
	check_table(conn, "control", control_sql);
	PQfinish(conn);
	/* dandi-admin: its one connection. */
	conn = connect_db(cfg.db);
	check_table(conn, "admin", admin_migrate_sql);
	check_table(conn, "admin", admin_users_sql);
	check_table(conn, "admin", admin_oauth_sql);
	PQfinish(conn);
	for (const struct job_kind *const *k = job_kinds; *k != NULL; k++)
		printf("kind\t%s\n", (*k)->name);
	config_free(&cfg);
	return 0;
}
