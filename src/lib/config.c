/*
 * config.c - `key = value` lines, '#' comments. Every key can be overridden
 * by the environment variable DANDI_<KEY>, which is how systemd units, the
 * dev stack and the tests configure the programs without editing files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

enum ckind { C_STR, C_INT, C_SIZE, C_BOOL };

struct ckey {
	const char	*name;
	enum ckind	 kind;
	size_t		 off;
	const char	*def;
};

#define S(f, d)	{ #f, C_STR, offsetof(struct config, f), d }
#define B(f, d)	{ #f, C_BOOL, offsetof(struct config, f), d }
static const struct ckey keys[] = {
	S(db, "dbname=dandi"),
	S(socket, "/run/dandi/api.sock"),
	S(socket_group, ""),
	S(page_cache_dir, ""),
	{ "published_memo_seconds", C_INT, offsetof(struct config, published_memo_seconds), "2" },
	{ "workers", C_INT, offsetof(struct config, workers), "4" },
	{ "running_workers", C_INT, offsetof(struct config, running_workers), "0" },
	{ "write_batch", C_INT, offsetof(struct config, write_batch), "0" },
	{ "write_batch_wait_us", C_INT, offsetof(struct config, write_batch_wait_us), "1000" },
	S(api_url, "http://127.0.0.1:8080"),
	S(web_url, "http://127.0.0.1:8080"),
	S(web_app_origins, ""),
	S(cors_allowed_origins, ""),
	S(cors_allowed_origin_regexes, ""),
	B(cors_public_read, "true"),
	B(cors_allow_credentials, "false"),
	S(cors_expose_headers, ""),
	{ "cors_max_age", C_INT, offsetof(struct config, cors_max_age), "86400" },
	S(jupyterhub_url, "https://hub.dandiarchive.org"),
	S(instance_name, "DANDI"),
	S(instance_identifier, ""),
	S(doi_prefix, ""),
	S(datacite_api_url, ""),
	S(datacite_username, ""),
	S(datacite_password, ""),
	B(datacite_publish, "false"),
	S(sql_dir, DANDI_SQL_DIR_DEFAULT),
	S(schema_dir, DANDI_SCHEMA_DIR_DEFAULT),
	S(openapi_file, DANDI_OPENAPI_FILE_DEFAULT),
	S(external_services_file, ""),
	S(log_file, ""),
	S(log_level, "info"),
	S(request_log, "errors"),
	{ "request_log_slow_ms", C_INT, offsetof(struct config, request_log_slow_ms), "1000" },
	S(sentry_dsn, ""),
	S(sentry_environment, "production"),
	B(metrics, "true"),
	S(metrics_allow, "127.0.0.1 ::1"),
	{ "max_body", C_SIZE, offsetof(struct config, max_body), "10485760" },
	S(s3_endpoint, ""),
	S(s3_region, "us-east-1"),
	S(s3_bucket, "dandi"),
	S(s3_access_key, ""),
	S(s3_secret_key, ""),
	S(s3_public_endpoint, ""),
	S(s3_path_style, "auto"),
	S(s3_multipart_complete, "archive"),
	S(access_log_bucket, ""),
	S(access_log_prefix, ""),
	{ "blob_read_streams", C_INT, offsetof(struct config, blob_read_streams), "3" },
	{ "blob_read_range_size", C_SIZE, offsetof(struct config, blob_read_range_size), "8388608" },
	{ "manifest_part_size", C_SIZE, offsetof(struct config, manifest_part_size), "8388608" },
	S(oauth_client_id, "Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl"),
	B(allow_signup, "true"),
	B(auto_approve_users, "false"),
	S(auto_approve_email_suffixes, ".edu @alleninstitute.org @nih.gov @janelia.hhmi.org @ccf.org"
	    " .ac.uk .mcgill.ca @epfl.ch"),
	{ "session_days", C_INT, offsetof(struct config, session_days), "14" },
	S(upstream_name, ""),
	S(upstream_authorize_url, ""),
	S(upstream_token_url, ""),
	S(upstream_user_url, ""),
	S(upstream_client_id, ""),
	S(upstream_client_secret, ""),
	S(upstream_scope, "read:user user:email"),
	S(smtp_url, ""),
	S(mail_spool, "/var/spool/dandi/mail"),
	S(mail_from, "DANDI Archive <dandi@localhost>"),
	S(admin_email, ""),
};
#undef S
#undef B
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* A boolean as the configuration spells it. */
static bool
config_bool(const char *v, bool *out)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

/* Stores v in c's field of k. NULL, or what is wrong with v. */
static const char *
config_set(struct config *c, const struct ckey *k, const char *v)
{
	char		*end, *field = (char *)c + k->off;
	long long	 n;

	switch (k->kind) {
	case C_STR:
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return NULL;
	case C_BOOL:
		if (!config_bool(v, (bool *)field))
			return "a boolean: true or false (yes/no, on/off, 1/0)";
		return NULL;
	case C_INT:
	case C_SIZE:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end || n < 0 || (k->kind == C_INT && n > 1 << 20))
			return k->kind == C_INT ? "a whole number from 0 to 1048576" : "a size in bytes";
		if (k->kind == C_INT)
			*(int *)field = (int)n;
		else
			*(size_t *)field = (size_t)n;
		return NULL;
	}
	return "of an unknown kind";
}

static const struct ckey *
config_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
config_read_file(struct config *c, FILE *f, const char *path, char *err, size_t errlen)
{
	char	line[4096];
	int	lineno = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq, *k, *v;
		const struct ckey *key;
		const char *why;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			return -1;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if ((key = config_key(k)) == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, k);
			return -1;
		}
		if ((why = config_set(c, key, v)) != NULL) {
			snprintf(err, errlen, "%s:%d: %s is %s, not '%s'", path, lineno, k, why, v);
			return -1;
		}
	}
	return 0;
}

int
config_load(struct config *c, const char *path, int explicit_path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		config_set(c, &keys[i], keys[i].def);

	if (path != NULL) {
		FILE *f = fopen(path, "r");
		if (f == NULL && explicit_path) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (f != NULL) {
			int rc = config_read_file(c, f, path, err, errlen);
			fclose(f);
			if (rc != 0)
				return -1;
		}
	}

	for (size_t i = 0; i < NKEYS; i++) {
		char env[64], *v;
		const char *why;
		size_t j;

		snprintf(env, sizeof(env), "DANDI_%s", keys[i].name);
		for (j = 6; env[j]; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		if ((v = getenv(env)) != NULL && (why = config_set(c, &keys[i], v)) != NULL) {
			snprintf(err, errlen, "%s is %s, not '%s'", env, why, v);
			return -1;
		}
	}
	if (strcmp(c->s3_multipart_complete, "archive") != 0 && strcmp(c->s3_multipart_complete, "s3") != 0) {
		snprintf(err, errlen, "s3_multipart_complete must be archive or s3, not '%s'",
		    c->s3_multipart_complete);
		return -1;
	}
	if (strcmp(c->request_log, "all") != 0 && strcmp(c->request_log, "errors") != 0 &&
	    strcmp(c->request_log, "off") != 0) {
		snprintf(err, errlen, "request_log must be all, errors or off, not '%s'", c->request_log);
		return -1;
	}
	if (c->running_workers < 0 || c->running_workers > 256) {
		snprintf(err, errlen, "running_workers must be 0..256");
		return -1;
	}
	if (c->published_memo_seconds > 3600) {
		snprintf(err, errlen, "published_memo_seconds must be 0..3600");
		return -1;
	}
	if (c->write_batch > 64 || c->write_batch_wait_us > 100000) {
		snprintf(err, errlen, "write_batch must be 0..64 and write_batch_wait_us 0..100000");
		return -1;
	}
	/* URLs are joined with "/api/...": a trailing slash would double it. */
	for (size_t i = 0; i < 2; i++) {
		char *u = i == 0 ? c->api_url : c->web_url;
		size_t n = strlen(u);
		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
	}
	return 0;
}

void
config_free(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kind == C_STR)
			free(*(char **)((char *)c + keys[i].off));
	memset(c, 0, sizeof(*c));
}
