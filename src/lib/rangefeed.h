/*
 * rangefeed.h - a stream of known size read as consecutive ranges by
 * several worker threads at once, and handed to one consumer (a digest)
 * strictly in order, on the calling thread: receiving and hashing overlap,
 * and a slow single connection is made up for by a few in parallel.
 *
 * Memory is bounded: (streams + 1) buffers of one range each. A worker
 * claims the next range only when its buffer is free (the consumer has
 * finished the range streams + 1 before it); the consumer hashes a range's
 * bytes as they arrive. Pure code (pthreads): the fetching is a callback,
 * so t/unit/test-rangefeed drives it with fake fetchers; blobsum.c with
 * S3 ranged GETs.
 */
#ifndef DANDI_RANGEFEED_H
#define DANDI_RANGEFEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One range as a fetcher gets it. */
struct rangefeed_range {
	int64_t		 index;		/* 0, 1, ... */
	int64_t		 first;		/* offset of its first byte */
	int64_t		 len;		/* its bytes (0 only for an empty stream) */
	bool		 whole;		/* the only range: the whole stream */
	char		 err[256];	/* the fetcher's reason when it fails */
	void		*feed_;		/* private */
	void		*slot_;
};

/* Hands the next bytes of the range to the consumer (in order). 0, or -1:
 * stop reading (more bytes than the range has, or the feed failed). */
int	rangefeed_put(struct rangefeed_range *, const char *data, size_t len);

/* Runs on a worker thread with that worker's ctx: reads r's bytes into
 * rangefeed_put. Returns 0 (then exactly r->len bytes must have been put:
 * fewer is a failure of the feed) or a nonzero code with r->err set. */
typedef int (*rangefeed_fetch_fn)(void *ctx, struct rangefeed_range *r);

struct rangefeed_opts {
	int	 streams;	/* workers (ranges fetched at once), 1..16 */
	size_t	 range_size;	/* bytes per range, >= 1 */
};

/* Feeds size bytes, range by range, to sink(sink_ctx, ...) in order on the
 * calling thread; worker_ctx[i] is worker i's ctx (opts->streams of them).
 * Returns 0 when all size bytes reached the sink; else the first failure's
 * code: a fetcher's nonzero code, or -1 (a range came short or long, the
 * sink refused, no memory or thread), with err set. The sink sees only a
 * prefix of the stream then: its result must be thrown away. */
int	rangefeed_run(int64_t size, const struct rangefeed_opts *opts, rangefeed_fetch_fn fetch,
	    void *const *worker_ctx, int (*sink)(void *, const char *, size_t), void *sink_ctx,
	    char *err, size_t errlen);

#endif
