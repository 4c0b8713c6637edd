/*
 * dandi-admin - operator commands: write a first configuration and check
 * one, apply migrations, create users and API tokens. Safe to run from
 * several machines at once: migrations serialise on an advisory lock and
 * each command is one transaction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "s3.h"
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

/* --- init and check: what an installer runs --------------------------- */

/* n characters of alphabet, from the kernel's randomness. */
static void
random_string(char *out, size_t n, const char *alphabet)
{
	unsigned char	 b[64];
	size_t		 m = strlen(alphabet);

	if (n > sizeof(b) || random_bytes(b, n) != 0)
		die("no randomness");
	/* m divides 256 for both alphabets used: no bias. */
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[b[i] % m];
	out[n] = '\0';
}

/* --- oauth-client: the OAuth clients apps sign in through ------------ */

/* An absolute http(s) URL with a host, no fragment, nothing a text[]
 * literal would need escaped, at most 2000 characters. */
static bool
redirect_uri_ok(const char *u)
{
	const char *host;

	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return false;
	if (*host == '\0' || *host == '/' || strlen(u) > 2000 || strchr(u, '#') != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static bool
client_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n >= 1 && n <= 100 &&
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/*
 * oauth-client add [--client-id ID] [--name N] --redirect-uri URI...
 *     [--confidential]: registers a client (an id is made when none is
 *     given) and prints its id; a confidential one's secret is printed
 *     once, only its sha256 is kept.
 * oauth-client list: one line per client, tab-separated: id, public or
 *     confidential, name, created, redirect URIs (space-separated).
 * oauth-client remove --client-id ID: removes it, its codes and tokens
 *     (signed-in users of that app are signed out).
 */
static int
cmd_oauth_client(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *id = NULL, *name = NULL;
	bool confidential = false;
	struct buf uris;
	size_t nuris = 0;
	int ch;
	static const struct option opts[] = {
		{ "client-id", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "redirect-uri", required_argument, NULL, 'r' },
		{ "confidential", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *use_add = "usage: oauth-client add [--client-id ID] [--name NAME] --redirect-uri URI..."
	    " [--confidential]";

	buf_init(&uris);
	buf_puts(&uris, "{");
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': id = optarg; break;
		case 'n': name = optarg; break;
		case 'c': confidential = true; break;
		case 'r':
			if (!redirect_uri_ok(optarg))
				die("oauth-client: --redirect-uri %s: not an absolute http(s) URL without a fragment",
				    optarg);
			buf_puts(&uris, nuris++ ? ",\"" : "\"");
			buf_puts(&uris, optarg);
			buf_puts(&uris, "\"");
			break;
		default:
			die("%s\n       oauth-client list | remove --client-id ID", use_add);
		}
	}
	buf_puts(&uris, "}");
	if (optind < argc - 1)
		die("oauth-client: unexpected argument %s", argv[optind + 1]);
	use(admin_oauth_sql);

	if (strcmp(sub, "list") == 0) {
		PGresult *r = q(&admin_oauth_client_list, 0, NULL);
		for (int i = 0; i < PQntuples(r); i++)
			printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, OL_ID),
			    PQgetvalue(r, i, OL_CONFIDENTIAL)[0] == 't' ? "confidential" : "public",
			    PQgetvalue(r, i, OL_NAME), PQgetvalue(r, i, OL_CREATED), PQgetvalue(r, i, OL_URIS));
		PQclear(r);
	} else if (strcmp(sub, "remove") == 0) {
		if (id == NULL)
			die("oauth-client remove: --client-id is required");
		if (strcmp(id, cfg.oauth_client_id) == 0)
			die("oauth-client remove: %s is this archive's own web app (oauth_client_id)", id);
		const char *p[1] = { id };
		PGresult *r = q(&admin_oauth_client_delete, 1, p);
		if (PQntuples(r) == 0)
			die("no OAuth client %s", id);
		PQclear(r);
		printf("OAuth client %s removed\n", id);
	} else if (strcmp(sub, "add") == 0) {
		char made[41], secret[65] = "", hash[65] = "";
		unsigned char raw[32];

		if (nuris == 0)
			die("oauth-client add: at least one --redirect-uri is required");
		if (id == NULL) {
			if (random_bytes(raw, 20) != 0)
				die("no randomness");
			hex_encode(raw, 20, made);
			id = made;
		} else if (!client_id_ok(id))
			die("oauth-client add: --client-id: 1 to 100 of A-Z a-z 0-9 . _ -");
		if (name == NULL)
			name = id;
		if (strlen(name) > 255)
			die("oauth-client add: --name: at most 255 characters");
		if (confidential) {
			if (random_bytes(raw, 32) != 0)
				die("no randomness");
			hex_encode(raw, 32, secret);
			digest_sha256_hex(secret, 64, hash);
		}
		const char *p[5] = { id, name, uris.data, confidential ? "t" : "f", hash };
		PQclear(q(&admin_oauth_client_insert, 5, p));
		printf("client_id %s\n", id);
		if (confidential)
			printf("client_secret %s\n", secret);
	} else
		die("%s\n       oauth-client list | remove --client-id ID", use_add);
	buf_free(&uris);
	return 0;
}

/* The line "key = ..." (not a comment) of a configuration line. */
static bool
line_sets(const char *line, const char *key)
{
	size_t n = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, key, n) != 0)
		return false;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '=';
}

/*
 * init: a new configuration at path, from the installed sample, with
 * --set KEY=VALUE lines replaced and fresh S3 credentials (for the user an
 * administrator creates on a radosgw or MinIO of their own; replace them
 * with AWS's otherwise). Never overwrites: the file is made under a
 * temporary name, loaded to check it, then linked into place, which fails
 * when path exists. Mode 0640, group --group when given (root:dandi: the
 * services read it, other users do not).
 */
static int
cmd_init(const char *path, int argc, char **argv)
{
	const char	*sample = NULL, *group = NULL;
	const char	**sets = NULL;
	size_t		 nsets = 0;
	char		 akey[21], skey[41], err[512], *tmp, *text, *line, *next;
	struct buf	 out;
	struct config	 check;
	int		 ch, fd;
	static const struct option opts[] = {
		{ "sample", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'k' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': sample = optarg; break;
		case 'g': group = optarg; break;
		case 'k':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=' || strpbrk(optarg, "\n\r"))
				die("init: --set KEY=VALUE (one line), not '%s'", optarg);
			sets = xrealloc(sets, (nsets + 1) * sizeof(*sets));
			sets[nsets++] = optarg;
			break;
		default:
			die("usage: init [--set KEY=VALUE]... [--group GROUP] [--sample FILE]");
		}
	}
	if (access(path, F_OK) == 0)
		die("init: %s exists: not overwritten (edit it, or move it away first)", path);
	if (sample == NULL) {
		size_t n = strlen(DANDI_CONFIG_DEFAULT) + sizeof(".sample");
		char *p = xmalloc(n);
		snprintf(p, n, "%s.sample", DANDI_CONFIG_DEFAULT);
		sample = p;
	}
	text = read_file(sample);

	/* Fresh credentials in the form S3 services use (AWS: 20 upper-case
	 * letters and digits, 40 characters of secret). */
	random_string(akey, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	random_string(skey, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	const char *fresh[][2] = { { "s3_access_key", akey }, { "s3_secret_key", skey } };
	size_t nall = nsets + 2;
	char **keys = xcalloc(nall, sizeof(*keys));
	const char **vals = xcalloc(nall, sizeof(*vals));
	bool *done = xcalloc(nall, sizeof(*done)), fresh_used = false;
	for (size_t i = 0; i < nsets; i++) {
		size_t k = (size_t)(strchr(sets[i], '=') - sets[i]);
		keys[i] = xmalloc(k + 1);
		memcpy(keys[i], sets[i], k);
		keys[i][k] = '\0';
		str_trim(keys[i]);
		vals[i] = sets[i] + k + 1;
		while (*vals[i] == ' ')
			vals[i]++;
	}
	for (size_t j = 0; j < 2; j++) {
		keys[nsets + j] = xstrdup(fresh[j][0]);
		vals[nsets + j] = fresh[j][1];
		for (size_t i = 0; i < nsets; i++)
			if (strcmp(keys[i], fresh[j][0]) == 0)
				done[nsets + j] = true;	/* given: not replaced */
		fresh_used |= !done[nsets + j];
	}

	buf_init(&out);
	for (line = text; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		size_t i;
		for (i = 0; i < nall; i++)
			if (!done[i] && line_sets(line, keys[i]))
				break;
		if (i == nall) {
			buf_append(&out, line, (size_t)(next - line));
			continue;
		}
		buf_printf(&out, "%s = %s\n", keys[i], vals[i]);
		done[i] = true;
	}
	for (size_t i = 0; i < nall; i++)
		if (!done[i])
			buf_printf(&out, "%s = %s\n", keys[i], vals[i]);

	size_t tn = strlen(path) + 16;
	tmp = xmalloc(tn);
	snprintf(tmp, tn, "%s.init-%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		die("init: %s: %s", tmp, strerror(errno));
	if (write(fd, out.data, out.len) != (ssize_t)out.len || fsync(fd) != 0) {
		unlink(tmp);
		die("init: writing %s: %s", tmp, strerror(errno));
	}
	if (group != NULL) {
		struct group *g = getgrnam(group);
		if (g == NULL || fchown(fd, (uid_t)-1, g->gr_gid) != 0) {
			unlink(tmp);
			die("init: group %s: %s", group, g ? strerror(errno) : "no such group");
		}
	}
	close(fd);
	/* What the programs will read: an unknown key or a bad value stops
	 * here, not at the service's start. */
	memset(&check, 0, sizeof(check));
	if (config_load(&check, tmp, 1, err, sizeof(err)) != 0) {
		unlink(tmp);
		die("init: %s", err);
	}
	config_free(&check);
	if (link(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		die("init: %s: %s", path, e == EEXIST ? "exists: not overwritten" : strerror(e));
	}
	unlink(tmp);
	printf("wrote %s (mode 0640%s%s)\n", path, group ? ", group " : "", group ? group : "");
	if (fresh_used)
		printf("s3_access_key and s3_secret_key are new: give them to the S3 user, e.g.\n"
		    "  radosgw-admin user create --uid dandi --display-name DANDI --access-key %s --secret-key %s\n",
		    akey, skey);
	printf("next: edit %s, then dandi-admin -c %s check\n", path, path);
	buf_free(&out);
	free(text);
	for (size_t i = 0; i < nall; i++)
		free(keys[i]);
	free(keys);
	free(vals);
	free(done);
	free(sets);
	return 0;
}

static int check_failed;

static void check_line(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of check's report: "ok   ..." or "FAIL ...". */
static void
check_line(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		check_failed = 1;
}

static int
count_object(void *ctx, const struct s3_listed *o)
{
	(void)o;
	(*(int *)ctx)++;
	return 0;
}

/* An absolute http(s) URL without a path (what api_url and web_url are). */
static bool
origin_like(const char *u)
{
	const char *h = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;

	return h != NULL && *h != '\0' && *h != '/' && strchr(h, '/') == NULL;
}

/* path may be written as mode says (access(2)), or is missing from a
 * directory that may be written. */
static bool
writable(const char *path, int mode)
{
	char	 dir[4096], *slash;

	if (access(path, mode) == 0)
		return true;
	if (errno != ENOENT)
		return false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return access(slash ? dir : ".", W_OK | X_OK) == 0;
}

/*
 * check: the configuration (already loaded: syntax and values), the files
 * it names, PostgreSQL (connects; are the migrations applied?) and S3 (the
 * bucket listed, an object written and deleted). A line per check; exit 0
 * when all pass, 1 otherwise.
 */
static int
cmd_check(const char *cfgpath)
{
	struct stat	 st;
	struct s3	 s3;
	char		 key[64], id[37];
	char		**names;
	size_t		 n, pending = 0;
	int		 seen = 0;
	bool		 truncated;

	check_line(access(cfgpath, R_OK) == 0, "configuration %s %s", cfgpath,
	    access(cfgpath, R_OK) == 0 ? "read" : "not readable: the defaults were checked");
	check_line(origin_like(cfg.api_url), "api_url = %s%s", cfg.api_url,
	    origin_like(cfg.api_url) ? "" : ": an http(s) origin without a path is needed");
	check_line(origin_like(cfg.web_url), "web_url = %s%s", cfg.web_url,
	    origin_like(cfg.web_url) ? "" : ": an http(s) origin without a path is needed");
	check_line(stat(cfg.sql_dir, &st) == 0 && S_ISDIR(st.st_mode), "sql_dir %s", cfg.sql_dir);
	check_line(stat(cfg.schema_dir, &st) == 0 && S_ISDIR(st.st_mode), "schema_dir %s", cfg.schema_dir);
	check_line(stat(cfg.openapi_file, &st) == 0, "openapi_file %s", cfg.openapi_file);
	/* dandi-api makes the page cache directory and the log file when
	 * they are missing: then their directory must be writable. */
	if (*cfg.page_cache_dir)
		check_line(writable(cfg.page_cache_dir, W_OK | X_OK), "page_cache_dir %s %s", cfg.page_cache_dir,
		    writable(cfg.page_cache_dir, W_OK | X_OK) ? "writable" : "not writable by this user");
	if (*cfg.log_file)
		check_line(writable(cfg.log_file, W_OK), "log_file %s %s", cfg.log_file,
		    writable(cfg.log_file, W_OK) ? "writable" : "not writable by this user");

	/* PostgreSQL */
	if (db_ensure(&db) != DB_OK) {
		check_line(false, "database: cannot connect with db = %s (the error is above)", cfg.db);
	} else {
		int v = PQserverVersion(db.conn);
		check_line(true, "database: connected (PostgreSQL %d.%d)", v / 10000, v % 10000);
		if (stat(cfg.sql_dir, &st) == 0 && db_use_table(&db, admin_migrate_sql) == DB_OK) {
			n = list_sql(cfg.sql_dir, 1, &names);
			for (size_t i = 0; i < n; i++) {
				const char *p[1] = { names[i] };
				PGresult *r = q(&admin_migration_applied, 1, p);
				pending += PQntuples(r) == 0;
				PQclear(r);
				free(names[i]);
			}
			free(names);
			check_line(pending == 0, "database: %zu of %zu migrations applied%s", n - pending, n,
			    pending ? ": run dandi-admin migrate (or start dandi-api, which does)" : "");
		} else {
			check_line(false, "database: not migrated: run dandi-admin migrate");
		}
	}

	/* S3 */
	if (s3_init(&s3, &cfg) != 0) {
		check_line(false, "S3: s3_endpoint, s3_bucket, s3_access_key and s3_secret_key must all be set");
		printf("some checks failed\n");
		return check_failed;
	}
	if (s3_list_page(&s3, "", NULL, NULL, 1, count_object, &seen, &truncated, NULL) != S3_OK) {
		check_line(false, "S3: bucket %s at %s: %s%s%s", cfg.s3_bucket, cfg.s3_endpoint, s3.err,
		    *s3.code ? " " : "", s3.code);
	} else {
		check_line(true, "S3: bucket %s at %s listed", cfg.s3_bucket, cfg.s3_endpoint);
		/* Uploads need writes: a small object under a prefix of its own. */
		if (uuid4(id) != 0)
			die("no randomness");
		snprintf(key, sizeof(key), "dandi-admin-check/%s", id);
		if (s3_put(&s3, key, "check", 5, "text/plain", NULL) != S3_OK)
			check_line(false, "S3: writing %s: %s%s%s", key, s3.err, *s3.code ? " " : "", s3.code);
		else
			check_line(s3_delete(&s3, key) == S3_OK, "S3: %s written and deleted%s%s", key,
			    *s3.err ? ": " : "", s3.err);
	}
	s3_free(&s3);
	printf(check_failed ? "some checks failed\n" : "all checks passed\n");
	return check_failed;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dandi-admin [-c config] command [args]\n"
	    "  init [--set KEY=VALUE]... [--group G] [--sample FILE]\n"
	    "                             write a new configuration (never overwrites)\n"
	    "  check                      the configuration, PostgreSQL and S3\n"
	    "  migrate [--sql-dir DIR]    apply pending sql/ migrations and sql/functions/\n"
	    "  create-user --username U [--email E] [--first F] [--last L]\n"
	    "              [--status APPROVED|PENDING|INCOMPLETE|REJECTED] [--admin]\n"
	    "  create-token --username U  print the user's API key (created if needed)\n"
	    "  rotate-token --username U  replace the user's API key and print it\n"
	    "  approve-user --username U  approve a sign-up (and reactivate the account)\n"
	    "  reject-user --username U --reason TEXT\n"
	    "                             reject a sign-up and deactivate the account\n"
	    "  oauth-client add [--client-id ID] [--name N] --redirect-uri URI... [--confidential]\n"
	    "  oauth-client list | remove --client-id ID\n"
	    "                             OAuth clients (web apps signing in through this archive)\n");
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
	/* Before the configuration is read: it is what init writes. */
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(cfgpath, argc - 1, argv + 1);
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
	} else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(cfgpath);
	else if (strcmp(cmd, "create-user") == 0)
		rc = cmd_create_user(argc - 1, argv + 1);
	else if (strcmp(cmd, "create-token") == 0)
		rc = cmd_token(argc - 1, argv + 1, 0);
	else if (strcmp(cmd, "rotate-token") == 0)
		rc = cmd_token(argc - 1, argv + 1, 1);
	else if (strcmp(cmd, "approve-user") == 0)
		rc = cmd_review_user(argc - 1, argv + 1, 1);
	else if (strcmp(cmd, "reject-user") == 0)
		rc = cmd_review_user(argc - 1, argv + 1, 0);
	else if (strcmp(cmd, "oauth-client") == 0)
		rc = cmd_oauth_client(argc - 1, argv + 1);
	else
		usage();
	db_close(&db);
	config_free(&cfg);
	return rc;
}
