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
struct rangefeed_opts;

/* How a blob is read (the defaults; the config's blob_read_streams and
 * blob_read_range_size): ranged GETs this many at once, of this many
 * bytes, hashed in order as they arrive (rangefeed.h). */
#define BLOBSUM_STREAMS		3
#define BLOBSUM_RANGE_SIZE	((size_t)8 << 20)

/* dandischema's part plan for a file of size bytes (size > 0): part size,
 * number of parts and the size of the last one. -1 when no plan fits
 * (beyond 5 TiB). */
int	dandi_part_plan(int64_t size, int64_t *part_size, int64_t *nparts, int64_t *last);

struct blobsum {
	char	sha256[65];
	char	etag[48];	/* the dandi-etag, when asked for ("" otherwise) */
	int64_t	bytes;		/* bytes read: compare with the expected size */
};

/* Streams key, which must be an object of size bytes, and computes its
 * sha256 and, with want_etag, its dandi-etag; opts (NULL or 0 fields: the
 * defaults) says how many ranged GETs at once of what size. Returns S3_OK
 * (out filled, out->bytes == size), S3_NOT_FOUND, or S3_ERROR with err
 * set: an S3 failure of any range, an object of another size, a short
 * read. Nothing in out is meaningful then. */
int	blobsum_compute(struct s3 *, const char *key, int64_t size, bool want_etag,
	    const struct rangefeed_opts *opts, struct blobsum *out, char *err, size_t errlen);

#endif
