/*
 * s3log.h - lines of Amazon S3 server access logs
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html):
 * space-separated fields, "quoted" ones (with \" and \\ escapes) and the
 * [bracketed] time, '-' for an empty value. Only the fields the download
 * counts need are kept; fields AWS may add at the end are ignored.
 */
#ifndef DANDI_S3LOG_H
#define DANDI_S3LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct s3log_record {
	const char	*bucket;
	const char	*time;		/* without the brackets */
	const char	*remote_ip;
	const char	*operation;	/* e.g. REST.GET.OBJECT */
	const char	*key;		/* URL-decoded; NULL for '-' */
	const char	*request_uri;
	int		 status;	/* HTTP status */
	int64_t		 bytes_sent;	/* 0 for '-' */
	const char	*user_agent;	/* NULL for '-' or when absent */
};

/* Parses line (NUL-terminated, without the newline) in place: the
 * record's strings point into it. 0, or -1 when the line is not a log
 * record (too few fields, an unterminated quote or bracket, a status that
 * is not a number, a key that is not URL-encoded). */
int	s3log_parse(char *line, struct s3log_record *);

/* The blob's uuid when key is a blob object ("blobs/abc/def/<uuid>", the
 * two directories the uuid's first six characters), else NULL. */
const char *s3log_blob_uuid(const char *key);

/* Whether name (a log object's key) ends in an S3 access log's name,
 * YYYY-mm-DD-HH-MM-SS-XXXXXXXXXXXXXXXX (16 upper-case hex digits). */
bool	s3log_is_log_name(const char *name);

#endif
