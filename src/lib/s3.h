/*
 * s3.h - the archive's S3 client: AWS Signature Version 4 (presigned URLs
 * for clients, signed server-side requests through libcurl). Plain S3 only,
 * so the same code talks to AWS S3, Ceph radosgw and MinIO.
 *
 * Strings returned through char ** are malloc'd; the caller frees them.
 * Calls return S3_OK, S3_NOT_FOUND (404 / NoSuchKey / NoSuchUpload) or
 * S3_ERROR (anything else after retries; err says what, for the log).
 */
#ifndef DANDI_S3_H
#define DANDI_S3_H

/* The User-Agent of the archive's own S3 requests (the sha256 job, verify,
 * manifests...): download analytics leaves these out of the counts. */
#define S3_USER_AGENT	"dandi-archive-c"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "util.h"

#define S3_READ_BUFFER	(512L * 1024)

enum s3_status {
	S3_OK = 0,
	S3_NOT_FOUND = 1,
	S3_ERROR = -1,
};

struct s3 {
	char	*endpoint;	/* scheme://host[:port], no trailing slash */
	char	*public_endpoint;	/* for presigned URLs handed to clients
				 * (s3_public_endpoint; default endpoint) */
	char	*region;
	char	*bucket;
	char	*access_key;
	char	*secret_key;
	bool	 path_style;	/* endpoint/bucket/key, else bucket.host/key */
	long	 timeout_ms;	/* per attempt */
	int	 retries;	/* extra attempts on 5xx and transport errors */
	long	 read_buffer;	/* curl's receive buffer for streamed GETs
				 * (0: S3_READ_BUFFER; curl caps it at 10 MiB) */
	void	*curl;		/* reused handle (connection kept alive) */
	long	 status;	/* HTTP status of the last request (0: no answer) */
	char	 code[64];	/* S3 error Code of the last request, or "" */
	char	 err[256];
};

/* From cfg->s3_* keys. path_style defaults to true unless the endpoint
 * is AWS. Returns 0, or -1 when the configuration is incomplete. */
int	s3_init(struct s3 *, const struct config *);
void	s3_free(struct s3 *);
/* A copy with a connection of its own (for another thread); s3_free it. */
void	s3_clone(struct s3 *dst, const struct s3 *src);

/* One query parameter of a presigned URL or a request (not yet encoded). */
struct s3_param {
	const char	*key;
	const char	*value;	/* NULL: a bare sub-resource such as "uploads" */
};

/* Presigned URL for method on key, valid for expires seconds from now
 * (1..604800), with extra query parameters (e.g. partNumber and uploadId,
 * response-content-disposition). Deterministic for a given now. */
char	*s3_presign(const struct s3 *, const char *method, const char *key,
	    const struct s3_param *params, size_t nparams, long expires, time_t now);

/* The same with headers the client must send as given, signed with the
 * URL (names in lower case, e.g. content-md5, x-amz-tagging). */
char	*s3_presign_headers(const struct s3 *, const char *method, const char *key,
	    const struct s3_param *params, size_t nparams, const struct s3_param *headers,
	    size_t nheaders, long expires, time_t now);

/* The lower-level pieces, exposed for the unit tests (AWS test vectors). */
void	 s3_signing_key(const char *secret, const char *date8, const char *region,
	    const char *service, unsigned char out[32]);
/* RFC 3986 encoding as SigV4 wants it ('/' kept when keep_slash). */
char	*s3_uri_encode(const char *s, bool keep_slash);

struct s3_object {
	int64_t	 size;
	char	*etag;		/* without the quotes */
	char	*content_type;
};
void	s3_object_free(struct s3_object *);

struct s3_part {
	int	 number;
	char	*etag;		/* without quotes */
};

int	s3_head(struct s3 *, const char *key, struct s3_object *out);
/* Whole object or a byte range (first..last inclusive; last < 0: to end),
 * streamed to sink (return 0 to go on, -1 to stop). */
int	s3_get(struct s3 *, const char *key, int64_t first, int64_t last,
	    int (*sink)(void *ctx, const char *data, size_t len), void *ctx);
/* A GET that must return exactly the bytes asked for: first..last of an
 * object of total bytes (206 with that Content-Range), or with first < 0
 * the whole object (200 with Content-Length total). Anything else, an
 * object of another size included, is S3_ERROR before a byte reaches the
 * sink. The sink still has to count what it got (a short body is a
 * transport error only when curl sees it). */
int	s3_get_exact(struct s3 *, const char *key, int64_t first, int64_t last, int64_t total,
	    int (*sink)(void *ctx, const char *data, size_t len), void *ctx);
int	s3_put(struct s3 *, const char *key, const void *data, size_t len,
	    const char *content_type, const char *tagging);
int	s3_copy(struct s3 *, const char *src_key, const char *dst_key);
int	s3_delete(struct s3 *, const char *key);
/* Tagging is e.g. "embargoed=true" or NULL. */
int	s3_create_multipart(struct s3 *, const char *key, const char *content_type,
	    const char *tagging, char **upload_id);
/* etag_out gets the object's ETag; when the server's reply has none
 * (radosgw 16) it comes from a HEAD of the object. An S3 refusal (e.g.
 * InvalidPart) is S3_ERROR with s->status and s->code set. */
int	s3_complete_multipart(struct s3 *, const char *key, const char *upload_id,
	    const struct s3_part *parts, size_t nparts, char **etag_out);
int	s3_abort_multipart(struct s3 *, const char *key, const char *upload_id);
/* One part of a multipart upload made by the server itself (number
 * 1..10000; every part but the last at least 5 MiB). *etag_out: malloc'd,
 * without quotes. */
int	s3_upload_part(struct s3 *, const char *key, const char *upload_id, int number,
	    const void *data, size_t len, char **etag_out);

/* An object written as a stream of any length with bounded memory: bytes
 * are collected into parts of part_size; an object that stays smaller than
 * one part is sent with a single PutObject, a bigger one with a multipart
 * upload (created when the first part is full). The tagging (or NULL) is
 * set when the object is created, so it never exists untagged. */
struct s3_stream {
	struct s3	*s3;
	char		*key;
	char		*content_type;
	char		*tagging;
	size_t		 part_size;
	struct buf	 buf;
	char		*upload_id;
	struct s3_part	*parts;
	size_t		 nparts;
	int64_t		 size;		/* bytes written so far */
	bool		 failed;
};
void	s3_stream_open(struct s3_stream *, struct s3 *, const char *key, const char *content_type,
	    const char *tagging, size_t part_size);
/* A sink (emit_sink_fn): 0, or -1 once an upload failed (see s3->err). */
int	s3_stream_write(void *stream, const char *data, size_t len);
/* Sends the rest and completes the object: S3_OK or S3_ERROR. A failed
 * stream's multipart upload is aborted. Frees the stream either way; its
 * size and nparts (0: a single PutObject) stay readable. */
int	s3_stream_close(struct s3_stream *);
/* The CompleteMultipartUpload XML body for these parts (for clients that
 * complete the upload themselves with a presigned POST). */
char	*s3_complete_body(const struct s3_part *parts, size_t nparts);
/* Reads such a body back (as a client sends it to the archive's
 * completion URL): parts in strictly ascending number 1..10000, each with
 * a PartNumber and an ETag of [0-9A-Za-z-] (quotes removed). Returns 0
 * with *parts (free with s3_parts_free) and *nparts, or -1 with the reason
 * in err. */
int	 s3_complete_body_parse(const char *xml, size_t len, struct s3_part **parts,
	    size_t *nparts, char *err, size_t errlen);
void	 s3_parts_free(struct s3_part *parts, size_t nparts);
/* The CompleteMultipartUploadResult XML S3 answers a completion with
 * (Location, Bucket, Key and, when etag is not NULL, the quoted ETag). */
char	*s3_complete_result(const struct s3 *, const char *key, const char *etag);
/* The public URL of key (s3_public_endpoint, path or virtual-host style). */
char	*s3_object_url(const struct s3 *, const char *key);
/* Sets or removes (tagging NULL: an empty TagSet) an object's tags. */
int	s3_put_tagging(struct s3 *, const char *key, const char *tagging);
/* The object's tags as "k=v&k2=v2" ("" for none; malloc'd), NULL when the
 * call failed (see s->err). */
char	*s3_get_tagging(struct s3 *, const char *key);

/* One object of a listing page (strings valid during the callback). */
struct s3_listed {
	const char	*key;		/* decoded */
	int64_t		 size;
	const char	*etag;		/* without the quotes */
	const char	*last_modified;	/* as S3 wrote it, e.g. 2026-01-02T03:04:05.000Z */
};

/* One ListObjectsV2 page under prefix, after start_after (NULL or "": from
 * the first key) or continuing token (NULL: first page), at most max_keys
 * (< 0: the server's default, 1000). cb gets each object (return -1 to
 * stop: S3_ERROR). *truncated tells whether more keys follow, and
 * *next_token (malloc'd, when not NULL) the token for the next page. */
int	s3_list_page(struct s3 *, const char *prefix, const char *start_after, const char *token,
	    int max_keys, int (*cb)(void *ctx, const struct s3_listed *), void *ctx,
	    bool *truncated, char **next_token);

/* Object versioning (a published zarr is a snapshot of its keys' version
 * ids). One version or delete marker of a ListObjectVersions page
 * (strings valid during the callback). */
struct s3_version {
	const char	*key;		/* decoded */
	const char	*version_id;
	bool		 latest;	/* IsLatest */
	bool		 delete_marker;
	int64_t		 size;		/* 0 for a delete marker */
	const char	*etag;		/* without the quotes; "" for a delete marker */
	const char	*last_modified;
};

/* One ListObjectVersions page under prefix, after (key_marker,
 * version_marker) (NULL or "": from the start), at most max_keys. Keys
 * come in key order, each key's versions newest first. *next_key and
 * *next_version (malloc'd) are the markers of the next page when
 * *truncated. cb returns -1 to stop (S3_ERROR). */
int	s3_list_versions_page(struct s3 *, const char *prefix, const char *key_marker,
	    const char *version_marker, int max_keys, int (*cb)(void *ctx, const struct s3_version *),
	    void *ctx, bool *truncated, char **next_key, char **next_version);
/* The bucket's versioning status ("Enabled", "Suspended" or "" when never
 * set; malloc'd), NULL when the call failed. */
char	*s3_get_versioning(struct s3 *);
/* Deletes one version (or delete marker) of key for good. */
int	s3_delete_version(struct s3 *, const char *key, const char *version_id);
/* s3_get_tagging of one version (version_id NULL: the current one). */
char	*s3_get_tagging_version(struct s3 *, const char *key, const char *version_id);
/* s3_put_tagging of one version (version_id NULL: the current one). */
int	s3_put_tagging_version(struct s3 *, const char *key, const char *version_id, const char *tagging);

#endif
