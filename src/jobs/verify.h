/* verify.h - `dandi-jobs verify`: the periodic re-verification of stored
 * blobs (sha256, size, dandi-etag and S3 ETag read back from S3), and
 * `dandi-jobs analytics`: download counts from S3 server access logs. Each
 * has its own database connection. Both return exit codes. */
#ifndef DANDI_VERIFY_H
#define DANDI_VERIFY_H

struct config;

/* verify [--max N] [--older-than INTERVAL] | verify --report [--all] */
int	cmd_verify(const struct config *, int argc, char **argv);
/* analytics [--max N] [--all] */
int	cmd_analytics(const struct config *, int argc, char **argv);

#endif
