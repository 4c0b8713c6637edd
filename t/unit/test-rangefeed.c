/* test-rangefeed - src/lib/rangefeed.c with fake fetchers: the consumer
 * gets every byte exactly once, in order, whatever order the ranges
 * arrive in and however they are chunked; any failure of any range (an
 * error, a short or long range, the sink refusing) fails the feed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "rangefeed.h"
#include "tap.h"

/* The stream's byte at offset i: not periodic in any range size used. */
static unsigned char
byte_at(int64_t i)
{
	return (unsigned char)((i * 131) ^ (i >> 9) ^ (i >> 17));
}

struct fake {
	int64_t		 size;
	int64_t		 fail_range;	/* this range returns fail_code (-1: none) */
	int		 fail_code;
	int64_t		 short_range;	/* this range puts a byte less and returns 0 */
	int64_t		 long_range;	/* this range puts a byte more */
	int64_t		 slow_range;	/* this range waits before its first byte */
	atomic_int	 active, max_active, fetches, whole_seen;
	atomic_llong	 put_total;
	unsigned	 seed;
};

static int
fake_fetch(void *ctx, struct rangefeed_range *r)
{
	struct fake *f = ctx;
	int a = atomic_fetch_add(&f->active, 1) + 1;
	int m = atomic_load(&f->max_active);
	while (a > m && !atomic_compare_exchange_weak(&f->max_active, &m, a))
		;
	atomic_fetch_add(&f->fetches, 1);
	if (r->whole)
		atomic_fetch_add(&f->whole_seen, 1);
	unsigned seed = f->seed ^ (unsigned)(r->index * 2654435761u);
	int64_t len = r->len + (r->index == f->long_range) - (r->index == f->short_range);
	int rc = 0;
	if (r->index == f->slow_range)
		usleep(50000);
	char chunk[70000];
	for (int64_t off = 0; off < len; ) {
		/* 1 byte to 64 KiB at a time, as a socket hands them out. */
		int64_t n = 1 + rand_r(&seed) % (rand_r(&seed) % 4 == 0 ? 16 : 65536);
		if (n > len - off)
			n = len - off;
		for (int64_t k = 0; k < n; k++)
			chunk[k] = (char)byte_at(r->first + off + k);
		if (rand_r(&seed) % 64 == 0)
			usleep(200);
		if (r->index == f->fail_range && off + n > len / 2) {
			snprintf(r->err, sizeof(r->err), "HTTP 503 SlowDown");
			rc = f->fail_code;
			break;
		}
		if (rangefeed_put(r, chunk, (size_t)n) != 0) {
			snprintf(r->err, sizeof(r->err), "stopped");
			rc = -1;
			break;
		}
		atomic_fetch_add(&f->put_total, n);
		off += n;
	}
	if (len == 0 && r->index == f->fail_range) {
		snprintf(r->err, sizeof(r->err), "HTTP 404 NoSuchKey");
		rc = f->fail_code;
	}
	atomic_fetch_sub(&f->active, 1);
	return rc;
}

/* The consumer: checks each byte against its offset. */
struct check {
	int64_t	 got;
	int64_t	 bad_at;	/* first wrong offset, -1 */
	int64_t	 stop_at;	/* refuse once this many bytes came (-1: never) */
};

static int
check_sink(void *ctx, const char *data, size_t len)
{
	struct check *c = ctx;

	if (c->stop_at >= 0 && c->got + (int64_t)len > c->stop_at)
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] != byte_at(c->got + (int64_t)i) && c->bad_at < 0)
			c->bad_at = c->got + (int64_t)i;
	c->got += (int64_t)len;
	return 0;
}

static void
fake_init(struct fake *f, int64_t size)
{
	memset(f, 0, sizeof(*f));
	f->size = size;
	f->fail_range = f->short_range = f->long_range = f->slow_range = -1;
	f->seed = (unsigned)size * 7919u + 1;
}

static int
run(struct fake *f, int streams, size_t range, struct check *c, char *err, size_t errlen)
{
	struct rangefeed_opts o = { streams, range };
	void *ctx[16];

	for (int i = 0; i < 16; i++)
		ctx[i] = f;
	*c = (struct check){ 0, -1, -1 };
	return rangefeed_run(f->size, &o, fake_fetch, ctx, check_sink, c, err, errlen);
}

int
main(void)
{
	const size_t R = 100000;	/* a range size that is not a power of two */
	const int64_t sizes[] = { 0, 1, (int64_t)R - 1, (int64_t)R, (int64_t)R + 1, 3 * (int64_t)R,
	    7 * (int64_t)R + 12345 };
	struct fake f;
	struct check c;
	char err[400];

	for (int streams = 1; streams <= 4; streams++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			int64_t size = sizes[k], nranges = size == 0 ? 1 : (size + (int64_t)R - 1) / (int64_t)R;
			fake_init(&f, size);
			int rc = run(&f, streams, R, &c, err, sizeof(err));
			ok(rc == 0 && c.got == size && c.bad_at < 0,
			    "%d stream(s), %lld bytes: all bytes, in order (rc %d, got %lld, first wrong %lld)", streams,
			    (long long)size, rc, (long long)c.got, (long long)c.bad_at);
			is_int(f.fetches, nranges, "... one fetch per range");
			is_int(f.whole_seen, nranges == 1 ? 1 : 0, "... whole only when a single range");
			ok(f.max_active <= streams, "... at most %d fetches at once (saw %d)", streams, f.max_active);
		}

	/* Range 0 arrives last: the consumer still starts with it, and the
	 * others wait in their buffers (no more ranges ahead than slots). */
	fake_init(&f, 9 * (int64_t)R + 1);
	f.slow_range = 0;
	ok(run(&f, 3, R, &c, err, sizeof(err)) == 0 && c.got == f.size && c.bad_at < 0,
	    "the first range slowest: still in order");
	fake_init(&f, 9 * (int64_t)R + 1);
	f.slow_range = 4;
	ok(run(&f, 4, R, &c, err, sizeof(err)) == 0 && c.got == f.size && c.bad_at < 0,
	    "a middle range slowest: still in order");

	/* Failures: each fails the feed with its reason; the sink never sees
	 * the whole stream. */
	for (int streams = 1; streams <= 3; streams++) {
		fake_init(&f, 5 * (int64_t)R);
		f.fail_range = 2;
		f.fail_code = 7;
		int rc = run(&f, streams, R, &c, err, sizeof(err));
		is_int(rc, 7, "a failing range: its code");
		ok(strstr(err, "range 2") && strstr(err, "503"), "... and its reason: %s", err);
		ok(c.got < f.size && c.got <= 2 * (int64_t)R + (int64_t)R / 2 + 65536, "... the sink got %lld bytes, not all",
		    (long long)c.got);

		fake_init(&f, 5 * (int64_t)R);
		f.short_range = 3;
		rc = run(&f, streams, R, &c, err, sizeof(err));
		ok(rc == -1 && strstr(err, "range 3: short read"), "%d stream(s): a short range fails: %s", streams, err);
		ok(c.got < f.size, "... not all bytes consumed");

		fake_init(&f, 5 * (int64_t)R);
		f.short_range = 4;	/* the last one */
		rc = run(&f, streams, R, &c, err, sizeof(err));
		ok(rc == -1 && strstr(err, "range 4: short read"), "%d stream(s): a short last range fails: %s", streams,
		    err);

		fake_init(&f, 5 * (int64_t)R);
		f.long_range = 1;
		rc = run(&f, streams, R, &c, err, sizeof(err));
		ok(rc == -1 && strstr(err, "range 1: more bytes"), "%d stream(s): a long range fails: %s", streams, err);
		ok(c.got < f.size, "... not all bytes consumed");

		fake_init(&f, 5 * (int64_t)R);
		struct rangefeed_opts o = { streams, R };
		void *ctx[16];
		for (int i = 0; i < 16; i++)
			ctx[i] = &f;
		c = (struct check){ 0, -1, 3 * (int64_t)R };
		rc = rangefeed_run(f.size, &o, fake_fetch, ctx, check_sink, &c, err, sizeof(err));
		ok(rc == -1 && strstr(err, "the reader stopped"), "%d stream(s): the sink refusing stops it: %s",
		    streams, err);
	}
	fake_init(&f, 0);
	f.fail_range = 0;
	f.fail_code = 1;
	is_int(run(&f, 2, R, &c, err, sizeof(err)), 1, "an empty stream is still fetched: its failure counts");
	fake_init(&f, 1);
	f.short_range = 0;
	ok(run(&f, 2, R, &c, err, sizeof(err)) == -1 && c.got == 0, "one byte missing of one: fails, nothing consumed");

	struct rangefeed_opts bad = { 0, R };
	ok(rangefeed_run(10, &bad, fake_fetch, NULL, check_sink, &c, err, sizeof(err)) == -1, "0 streams refused");
	return done_testing();
}
