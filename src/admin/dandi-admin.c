/*
 * dandi-admin - operator commands: apply migrations, create users and API
 * tokens. Safe to run from several machines at once: migrations serialise
 * on an advisory lock and each command is one transaction.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "admin.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

static struct db	db;
static struct config	cfg;

/* Both end the program: callers rely on it (and analysers must know). */
static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage(void) __attribute__((noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dandi-admin: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	db_rollback(&db);
	exit(1);
}

static PGresult *
q(const struct db_sql *stmt, int n, const char *const *params)
{
	PGresult *r;
	enum db_status s = db_run(&db, &r, stmt, n, params);

	if (s != DB_OK)
		die("%s failed: %s", stmt->name, r ? PQresultErrorMessage(r) : "database unavailable");
	return r;
}

/* Prepares a table of admin.h on the connection: what it names exists. */
static void
use(const struct db_sql *const *table)
{
	if (db_use_table(&db, table) != DB_OK)
		die("cannot prepare the statements (is the database migrated?)");
}

static char *
read_file(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*data;
	long	 n;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)n + 1);
	if (fread(data, 1, (size_t)n, f) != (size_t)n)
		die("%s: short read", path);
	data[n] = '\0';
	fclose(f);
	return data;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.sql files of dir in name order; numbered: only NNN_name.sql. */
static size_t
list_sql(const char *dir, int numbered, char ***out)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		**names = NULL;
	size_t		 n = 0;

	if (d == NULL)
		die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 &&
		    (!numbered || (e->d_name[0] >= '0' && e->d_name[0] <= '9'))) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

/* A file of sql/functions/: its text and the migration it needs. */
struct fn_file {
	char	*name;
	char	*sql;
	long	 needs;		/* index of the migration, -1 for none */
	int	 done;		/* applied early in this run */
};

/* "-- needs: NNN_name" (a migration, without .sql) or "-- needs: none". */
static long
fn_needs(const struct fn_file *f, char **migrations, size_t n)
{
	const char *p = strstr(f->sql, "\n-- needs: ");
	size_t len;

	if (strncmp(f->sql, "-- needs: ", 10) == 0)
		p = f->sql;
	else if (p != NULL)
		p++;
	else
		die("%s: no '-- needs: <migration>|none' line", f->name);
	p += 10;
	len = strcspn(p, " \t\n");
	if (len == 4 && strncmp(p, "none", 4) == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strlen(migrations[i]) == len + 4 && strncmp(migrations[i], p, len) == 0)
			return (long)i;
	die("%s: needs %.*s, which is no migration", f->name, (int)len, p);
	return -1;
}

/* dir/name, allocated. */
static char *
path_join(const char *dir, const char *name)
{
	size_t	 n = strlen(dir) + strlen(name) + 2;
	char	*p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void
exec_sql(const char *what, const char *sql)
{
	char err[1024];

	if (db_command(&db, sql, err, sizeof(err)) != DB_OK)
		die("%s: %s", what, err);
}

/*
 * The schema is two kinds of files (sql/README.md):
 *   sql/NNN_name.sql           tables, indexes, views, triggers, data:
 *                              each applied once, in name order,
 *                              recorded in schema_migrations; never
 *                              edited after release.
 *   sql/functions/NN_area.sql  the SQL functions, CREATE OR REPLACE: the
 *                              current version of each, applied on
 *                              every run, in name order.
 * All in one transaction under an advisory lock: two hosts migrating at
 * once take turns, and a failure leaves the database as it was.
 *
 * 1. Before each pending migration, every function file whose "needs"
 *    migration is in place (and which this run has not applied yet), with
 *    check_function_bodies off: a migration may use functions as it runs
 *    (a trigger, an index expression, a view, a backfill), and a body may
 *    refer to columns a later migration of the same run adds. "needs"
 *    names the migration that makes the types of the file's signatures
 *    (a table's row type), or the one that drops an old signature.
 * 2. After the last migration, every function file again, bodies checked:
 *    what the database ends with is exactly sql/functions/.
 * 3. A dandi_* function none of the files (re)defined in this transaction
 *    is an error: removing a function, or changing its return type or
 *    argument names, is a migration (DROP FUNCTION).
 */
static int
cmd_migrate(const char *dir)
{
	char		**names, **fnames, *fdir = path_join(dir, "functions"), *path;
	size_t		 n = list_sql(dir, 1, &names), nf, applied = 0;
	struct fn_file	*fns;
	int		*done;

	nf = list_sql(fdir, 0, &fnames);
	fns = xcalloc(nf ? nf : 1, sizeof(*fns));
	for (size_t j = 0; j < nf; j++) {
		path = path_join(fdir, fnames[j]);
		fns[j].name = path_join("functions", fnames[j]);
		fns[j].sql = read_file(path);
		fns[j].needs = fn_needs(&fns[j], names, n);
		free(path);
		free(fnames[j]);
	}

	if (db_begin(&db) != DB_OK)
		die("cannot start a transaction");
	/* One migrator at a time, across machines. */
	exec_sql("lock", "SELECT pg_advisory_xact_lock(7294001)");
	exec_sql("schema_migrations", "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
	use(admin_migrate_sql);
	done = xcalloc(n ? n : 1, sizeof(*done));
	for (size_t i = 0; i < n; i++) {
		const char *p[1] = { names[i] };
		PGresult *r = q(&admin_migration_applied, 1, p);
		done[i] = PQntuples(r) > 0;
		PQclear(r);
	}

	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		exec_sql("check_function_bodies", "SET LOCAL check_function_bodies = off");
		for (size_t j = 0; j < nf; j++) {
			if (fns[j].done || (fns[j].needs >= 0 && !done[fns[j].needs]))
				continue;
			exec_sql(fns[j].name, fns[j].sql);
			fns[j].done = 1;
		}
		exec_sql("check_function_bodies", "SET LOCAL check_function_bodies = on");
		path = path_join(dir, names[i]);
		char *sql = read_file(path);
		exec_sql(names[i], sql);
		free(sql);
		free(path);
		const char *p[1] = { names[i] };
		PQclear(q(&admin_migration_record, 1, p));
		done[i] = 1;
		printf("applied %s\n", names[i]);
		applied++;
	}

	for (size_t j = 0; j < nf; j++)
		exec_sql(fns[j].name, fns[j].sql);
	/* CREATE OR REPLACE rewrites the function's pg_proc row, so the rows
	 * this transaction did not write are the functions no file has. */
	PGresult *r = q(&admin_functions_stray, 0, NULL);
	if (PQntuples(r) > 0) {
		fprintf(stderr, "dandi-admin: functions in the database that no file of %s defines"
		    " (drop them in a migration):\n", fdir);
		for (int k = 0; k < PQntuples(r); k++)
			fprintf(stderr, "  %s\n", PQgetvalue(r, k, FS_SIGNATURE));
		PQclear(r);
		die("nothing applied");
	}
	PQclear(r);
	if (db_commit(&db) != DB_OK)
		die("commit failed");
	printf("%zu migration(s) applied, %zu function file(s) applied\n", applied, nf);

	for (size_t i = 0; i < n; i++)
		free(names[i]);
	for (size_t j = 0; j < nf; j++) {
		free(fns[j].name);
		free(fns[j].sql);
	}
	free(fdir);
	free(names);
	free(fnames);
	free(fns);
	free(done);
	return 0;
}

static int
cmd_create_user(int argc, char **argv)
{
	const char *username = NULL, *email = "", *first = "", *last = "", *status = "APPROVED";
	int admin = 0, ch;
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "email", required_argument, NULL, 'e' },
		{ "first", required_argument, NULL, 'f' },
		{ "last", required_argument, NULL, 'l' },
		{ "status", required_argument, NULL, 's' },
		{ "admin", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': username = optarg; break;
		case 'e': email = optarg; break;
		case 'f': first = optarg; break;
		case 'l': last = optarg; break;
		case 's': status = optarg; break;
		case 'a': admin = 1; break;
		default: die("usage: create-user --username U [--email E] [--first F] [--last L] [--status S] [--admin]");
		}
	}
	if (username == NULL || *username == '\0')
		die("create-user: --username is required");
	const char *p[6] = { username, email, first, last, admin ? "t" : "f", status };
	use(admin_users_sql);
	PGresult *r = q(&admin_user_insert, 6, p);
	printf("user %s id %s\n", username, PQgetvalue(r, 0, UI_ID));
	PQclear(r);
	return 0;
}

static int
cmd_token(int argc, char **argv, int rotate)
{
	const char *username = NULL;
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'u')
			username = optarg;
		else
			die("usage: create-token --username U");
	if (username == NULL)
		die("--username is required");
	const char *p[1] = { username };
	use(admin_users_sql);
	PGresult *r = q(&admin_user_id, 1, p);
	if (PQntuples(r) == 0)
		die("no user %s", username);
	char uid[24];
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(r, 0, UID_ID));
	PQclear(r);

	const char *pu[1] = { uid };
	if (rotate)
		PQclear(q(&admin_token_delete, 1, pu));
	r = q(&admin_token_get, 1, pu);
	if (PQntuples(r) > 0) {
		printf("%s\n", PQgetvalue(r, 0, TG_KEY));
		PQclear(r);
		return 0;
	}
	PQclear(r);
	char key[41], hash[65];
	if (api_key_new(key, hash) != 0)
		die("no randomness");
	const char *pi[3] = { key, hash, uid };
	PQclear(q(&admin_token_insert, 3, pi));
	printf("%s\n", key);
	return 0;
}

/* approve-user / reject-user: the staff decision on a sign-up. Rejecting
 * needs a reason (kept, at most 1000 characters) and deactivates the
 * account, so its tokens stop working; approving reactivates it. */
static int
cmd_review_user(int argc, char **argv, int approve)
{
	const char *username = NULL, *reason = "";
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'u')
			username = optarg;
		else if (ch == 'r')
			reason = optarg;
		else
			die("usage: %s --username U%s", argv[0], approve ? "" : " --reason TEXT");
	}
	if (username == NULL)
		die("--username is required");
	if (!approve && *reason == '\0')
		die("reject-user: --reason is required");
	if (strlen(reason) > 1000)
		die("--reason: at most 1000 characters");
	const char *p[4] = { username, approve ? "APPROVED" : "REJECTED", approve ? "t" : "f",
	    approve ? "" : reason };
	use(admin_users_sql);
	PGresult *r = q(&admin_user_review, 4, p);
	if (PQntuples(r) == 0)
		die("no user %s", username);
	printf("user %s %s\n", username, approve ? "approved" : "rejected");
	PQclear(r);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dandi-admin [-c config] command [args]\n"
	    "  migrate [--sql-dir DIR]    apply pending sql/ migrations and sql/functions/\n"
	    "  create-user --username U [--email E] [--first F] [--last L]\n"
	    "              [--status APPROVED|PENDING|INCOMPLETE|REJECTED] [--admin]\n"
	    "  create-token --username U  print the user's API key (created if needed)\n"
	    "  rotate-token --username U  replace the user's API key and print it\n"
	    "  approve-user --username U  approve a sign-up (and reactivate the account)\n"
	    "  reject-user --username U --reason TEXT\n"
	    "                             reject a sign-up and deactivate the account\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*cfgpath = DANDI_CONFIG_DEFAULT;
	int		 explicit_cfg = 0, rc;
	char		 err[512];

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cfgpath = argv[2];
		explicit_cfg = 1;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	if (config_load(&cfg, cfgpath, explicit_cfg, err, sizeof(err)) != 0)
		die("%s", err);
	log_open(NULL, "dandi-admin", LOG_WARN);
	db_init(&db, cfg.db);

	const char *cmd = argv[1];
	if (strcmp(cmd, "migrate") == 0) {
		const char *dir = cfg.sql_dir;
		if (argc > 3 && strcmp(argv[2], "--sql-dir") == 0)
			dir = argv[3];
		rc = cmd_migrate(dir);
	} else if (strcmp(cmd, "create-user") == 0)
		rc = cmd_create_user(argc - 1, argv + 1);
	else if (strcmp(cmd, "create-token") == 0)
		rc = cmd_token(argc - 1, argv + 1, 0);
	else if (strcmp(cmd, "rotate-token") == 0)
		rc = cmd_token(argc - 1, argv + 1, 1);
	else if (strcmp(cmd, "approve-user") == 0)
		rc = cmd_review_user(argc - 1, argv + 1, 1);
	else if (strcmp(cmd, "reject-user") == 0)
		rc = cmd_review_user(argc - 1, argv + 1, 0);
	else
		usage();
	db_close(&db);
	config_free(&cfg);
	return rc;
}
