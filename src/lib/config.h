/* config.h - the one configuration struct, from a file and DANDI_* env vars. */
#ifndef DANDI_CONFIG_H
#define DANDI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config {
	char	*db;			/* libpq conninfo */
	char	*socket;		/* FastCGI unix socket */
	char	*socket_group;		/* the socket's group (nginx's); "" = the process's */
	char	*page_cache_dir;	/* asset-list pages nginx serves (src/api/pagecache.c); "" = off */
	int	 published_memo_seconds;	/* how long a worker trusts a published version
						 * it found for its asset list (perm.c); 0 = never */
	int	 workers;
	int	 running_workers;	/* run slots (runslots.h); 0 = the cores when
					 * PostgreSQL is on this host, else no limit */
	/* Group commit of asset writes (groupcommit.h): up to write_batch
	 * writes a transaction (0 or 1: each its own, as before), the first
	 * waiting up to write_batch_wait_us for writers in flight */
	int	 write_batch;
	int	 write_batch_wait_us;
	char	*api_url;		/* origin of the API, no /api suffix */
	char	*web_url;		/* web app origin */
	/* Cross-origin use (cors.h). Lists are space- or comma-separated. */
	char	*web_app_origins;	/* more origins serving our web app: CORS,
					 * OAuth redirect_uri <origin>/, sign-in `next` */
	char	*cors_allowed_origins;	/* more origins given CORS, nothing else */
	char	*cors_allowed_origin_regexes;	/* PCRE2, anchored at the start; spaces only */
	bool	 cors_public_read;	/* GET/HEAD from any origin (as the original) */
	bool	 cors_allow_credentials;	/* false by default, as the original */
	char	*cors_expose_headers;	/* Access-Control-Expose-Headers */
	int	 cors_max_age;		/* preflight cache seconds; 0: not sent */
	char	*jupyterhub_url;
	char	*instance_name;		/* DANDI */
	char	*instance_identifier;	/* RRID:... or empty */
	char	*doi_prefix;		/* 10.xxxx or empty; also the DataCite prefix */
	/* DataCite DOI registration (datacite.h): off unless the URL, user,
	 * password and doi_prefix are all set */
	char	*datacite_api_url;	/* e.g. https://api.datacite.org/dois */
	char	*datacite_username;
	char	*datacite_password;
	bool	 datacite_publish;	/* Findable DOIs; false: Draft */
	char	*sql_dir;
	char	*schema_dir;		/* <dir>/<schemaVersion>/<model>.json */
	char	*openapi_file;		/* the API's OpenAPI document (docs.c) */
	char	*external_services_file;	/* "Open with" viewers (extsvc.h); "" = the original's */
	char	*log_file;
	char	*log_level;
	/* dandi-api's own line per request (nginx's access log has every
	 * request): "all", "errors" (5xx answers and those slower than
	 * request_log_slow_ms) or "off" */
	char	*request_log;
	int	 request_log_slow_ms;
	/* error reports (sentry.h): "" = none */
	char	*sentry_dsn;
	char	*sentry_environment;
	/* GET /metrics (metrics.h): counting on or off, and who may scrape
	 * (addresses or CIDRs, space- or comma-separated, against REMOTE_ADDR) */
	bool	 metrics;
	char	*metrics_allow;
	size_t	 max_body;		/* bytes */
	char	*s3_endpoint;
	char	*s3_region;
	char	*s3_bucket;
	char	*s3_access_key;
	char	*s3_secret_key;
	char	*s3_public_endpoint;	/* in presigned URLs; "" = s3_endpoint */
	char	*s3_path_style;		/* auto|true|false */
	/* Who completes a client's multipart upload: "archive" (complete_url
	 * is the API's, which completes with S3 and answers the ETag from a
	 * HEAD: right on every S3, radosgw 16 included) or "s3" (a presigned
	 * S3 URL, as the original; S3 must answer the ETag itself) */
	char	*s3_multipart_complete;
	/* S3 server access logs of s3_bucket, for `dandi-jobs analytics` */
	char	*access_log_bucket;	/* "" = no download counts */
	char	*access_log_prefix;	/* the logs' TargetPrefix, e.g. "logs/" */
	/* reading a blob back for its digests (the sha256 job, verify):
	 * ranged GETs this many at once, of this many bytes (blobsum.h) */
	int	 blob_read_streams;
	size_t	 blob_read_range_size;
	size_t	 manifest_part_size;	/* bytes per multipart part of a manifest (>= 5 MiB) */
	/* identity */
	char	*oauth_client_id;	/* the web app's public OAuth client */
	bool	 allow_signup;		/* local accounts may be created */
	bool	 auto_approve_users;	/* new users APPROVED at once */
	char	*auto_approve_email_suffixes;	/* space-separated */
	int	 session_days;
	/* optional upstream identity provider (GitHub or any OAuth2 server) */
	char	*upstream_name;		/* "" = none */
	char	*upstream_authorize_url;
	char	*upstream_token_url;
	char	*upstream_user_url;	/* JSON with id, login, email, name */
	char	*upstream_client_id;
	char	*upstream_client_secret;
	char	*upstream_scope;
	/* e-mail */
	char	*smtp_url;		/* smtp[s]://host[:port]; "" = write mail_spool */
	char	*mail_spool;
	char	*mail_from;
	char	*admin_email;		/* gets registration and review mails */
};

/* Booleans are true/yes/on/1 or false/no/off/0 (any case); anything else
 * is refused. Loads defaults, then path (may be NULL; missing file is an error only when
 * the path was given explicitly), then environment. Returns 0 or -1 with a
 * message in err. */
int	config_load(struct config *, const char *path, int explicit_path,
	    char *err, size_t errlen);
void	config_free(struct config *);

#endif
