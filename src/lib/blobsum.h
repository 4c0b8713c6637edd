/*
 * blobsum.h - the digests of a blob, computed while its object streams
 * from S3 (never the whole object in memory): the sha256 the sha256 job
 * stores and the re-verification checks, and the dandi-etag (md5 of the
 * part md5s over dandischema's part plan) the blob was uploaded under.
 */
#ifndef DANDI_BLOBSUM_H
#define DANDI_BLOBSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct s3;

/* dandischema's part plan for a file of size bytes (size > 0): part size,
 * number of parts and the size of the last one. -1 when no plan fits
 * (beyond 5 TiB). */
int	dandi_part_plan(int64_t size, int64_t *part_size, int64_t *nparts, int64_t *last);

struct blobsum {
	char	sha256[65];
	char	etag[48];	/* the dandi-etag, when asked for ("" otherwise) */
	int64_t	bytes;		/* bytes read: compare with the expected size */
};

/* Streams key (size bytes expected; 0: nothing is read) and computes its
 * sha256 and, with want_etag, its dandi-etag. Returns S3_OK (out filled;
 * out->bytes may still differ from size), S3_NOT_FOUND, or S3_ERROR with
 * err set. */
int	blobsum_compute(struct s3 *, const char *key, int64_t size, bool want_etag,
	    struct blobsum *out, char *err, size_t errlen);

#endif
