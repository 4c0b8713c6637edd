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


#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

static const struct db_stmt admin_stmts[] = {
	{ "migration_applied", "SELECT 1 FROM schema_migrations WHERE name = $1" },
	{ "migration_record", "INSERT INTO schema_migrations (name) VALUES ($1)" },
	{ "user_insert",
	  "INSERT INTO users (username, email, first_name, last_name, is_superuser, is_staff, status)"
	  " VALUES ($1, $2, $3, $4, $5::bool, $5::bool, $6)"
	  " ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email,"
	  " first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,"
	  " is_superuser = EXCLUDED.is_superuser, is_staff = EXCLUDED.is_staff,"
	  " status = EXCLUDED.status, modified = now()"
	  " RETURNING id" },
	{ "user_id", "SELECT id FROM users WHERE username = $1" },
	{ "token_get", "SELECT key FROM api_tokens WHERE user_id = $1::bigint" },
	{ "token_insert",
	  "INSERT INTO api_tokens (key, key_sha256, user_id) VALUES ($1, $2, $3::bigint)" },
	{ "token_delete", "DELETE FROM api_tokens WHERE user_id = $1::bigint" },
	{ "user_review",
	  "UPDATE users SET status = $2, is_active = $3::boolean, rejection_reason = $4, modified = now()"
	  " WHERE username = $1 RETURNING id" },
};

static struct db	db;
static struct config	cfg;

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
q(const char *stmt, int n, const char *const *params)
{
	PGresult *r;
	enum db_status s = db_exec(&db, &r, stmt, n, params);

	if (s != DB_OK)
		die("%s failed: %s", stmt, r ? PQresultErrorMessage(r) : "database unavailable");
	return r;
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

/* Migrations are files NNN_name.sql applied in name order, each once. */
static int
cmd_migrate(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		**names = NULL, err[1024];
	size_t		 n = 0, applied = 0;

	if (d == NULL)
		die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 &&
		    e->d_name[0] >= '0' && e->d_name[0] <= '9') {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);

	if (db_begin(&db) != DB_OK)
		die("cannot start a transaction");
	/* One migrator at a time, across machines. */
	if (db_command(&db, "SELECT pg_advisory_xact_lock(7294001)", err, sizeof(err)) != DB_OK ||
	    db_command(&db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
	    err, sizeof(err)) != DB_OK)
		die("%s", err);
	for (size_t i = 0; i < n; i++) {
		const char *p[1] = { names[i] };
		PGresult *r = q("migration_applied", 1, p);
		int done = PQntuples(r) > 0;
		PQclear(r);
		if (!done) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			char *sql = read_file(path);
			if (db_command(&db, sql, err, sizeof(err)) != DB_OK)
				die("%s: %s", names[i], err);
			free(sql);
			PQclear(q("migration_record", 1, p));
			printf("applied %s\n", names[i]);
			applied++;
		}
		free(names[i]);
	}
	free(names);
	if (db_commit(&db) != DB_OK)
		die("commit failed");
	printf("%zu migration(s) applied\n", applied);
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
	PGresult *r = q("user_insert", 6, p);
	printf("user %s id %s\n", username, PQgetvalue(r, 0, 0));
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
	PGresult *r = q("user_id", 1, p);
	if (PQntuples(r) == 0)
		die("no user %s", username);
	char uid[24];
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);

	const char *pu[1] = { uid };
	if (rotate)
		PQclear(q("token_delete", 1, pu));
	r = q("token_get", 1, pu);
	if (PQntuples(r) > 0) {
		printf("%s\n", PQgetvalue(r, 0, 0));
		PQclear(r);
		return 0;
	}
	PQclear(r);
	char key[41], hash[65];
	if (api_key_new(key, hash) != 0)
		die("no randomness");
	const char *pi[3] = { key, hash, uid };
	PQclear(q("token_insert", 3, pi));
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
	PGresult *r = q("user_review", 4, p);
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
	    "  migrate [--sql-dir DIR]    apply pending sql/ migrations\n"
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
	db_init(&db, cfg.db, admin_stmts, sizeof(admin_stmts) / sizeof(admin_stmts[0]));

	const char *cmd = argv[1];
	if (strcmp(cmd, "migrate") == 0) {
		const char *dir = cfg.sql_dir;
		if (argc > 3 && strcmp(argv[2], "--sql-dir") == 0)
			dir = argv[3];
		/* Prepared statements need the table: create it first. */
		if (db_command(&db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
		    err, sizeof(err)) != DB_OK)
			die("%s", err);
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
