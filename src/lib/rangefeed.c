/* rangefeed.c - see rangefeed.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rangefeed.h"

/* A buffer holding one range while it is fetched and consumed. */
struct slot {
	char		*buf;
	int64_t		 range;		/* the range in it; -1: free */
	int64_t		 len;
	int64_t		 filled;	/* bytes put so far (under the lock) */
	bool		 done;		/* its fetch returned, all bytes there */
};

struct feed {
	pthread_mutex_t	 mu;
	pthread_cond_t	 data;		/* the consumer waits for bytes */
	pthread_cond_t	 room;		/* workers wait for a free slot */
	int64_t		 size;
	int64_t		 range_size;
	int64_t		 nranges;
	int64_t		 next;		/* the next range to claim */
	int64_t		 head;		/* the range the consumer is on */
	struct slot	*slots;
	int		 nslots;
	rangefeed_fetch_fn fetch;
	bool		 failed;
	int		 code;
	char		 err[300];
};

struct worker {
	struct feed	*f;
	void		*ctx;
};

/* Records the first failure (later ones are mostly its echo: a range
 * stopped because the feed failed) and wakes everyone. Under the lock. */
static void
feed_fail(struct feed *f, int code, const char *fmt, const char *detail, int64_t range)
{
	if (!f->failed) {
		f->failed = true;
		f->code = code;
		snprintf(f->err, sizeof(f->err), fmt, (long long)range, detail);
	}
	pthread_cond_broadcast(&f->data);
	pthread_cond_broadcast(&f->room);
}

int
rangefeed_put(struct rangefeed_range *r, const char *data, size_t len)
{
	struct feed *f = r->feed_;
	struct slot *s = r->slot_;
	int rc = 0;

	/* Only this worker writes past filled, and the consumer reads only
	 * below it: the copy needs no lock, the new length does. */
	if ((int64_t)len > s->len - s->filled) {
		pthread_mutex_lock(&f->mu);
		feed_fail(f, -1, "range %lld: %s", "more bytes than asked for", r->index);
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	memcpy(s->buf + s->filled, data, len);
	pthread_mutex_lock(&f->mu);
	if (f->failed)
		rc = -1;
	else {
		s->filled += (int64_t)len;
		if (f->head == r->index)
			pthread_cond_signal(&f->data);
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct feed *f = w->f;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->failed && f->next < f->nranges && f->next - f->head >= f->nslots)
			pthread_cond_wait(&f->room, &f->mu);
		if (f->failed || f->next >= f->nranges)
			break;
		int64_t i = f->next++;
		struct slot *s = &f->slots[i % f->nslots];
		s->range = i;
		s->len = i == f->nranges - 1 ? f->size - i * f->range_size : f->range_size;
		s->filled = 0;
		s->done = false;
		pthread_mutex_unlock(&f->mu);

		struct rangefeed_range r = { .index = i, .first = i * f->range_size, .len = s->len,
		    .whole = f->nranges == 1, .feed_ = f, .slot_ = s };
		int code = f->fetch(w->ctx, &r);

		pthread_mutex_lock(&f->mu);
		if (code != 0)
			feed_fail(f, code, "range %lld: %s", r.err[0] ? r.err : "failed", i);
		else if (s->filled != s->len) {
			char got[80];
			snprintf(got, sizeof(got), "%lld of %lld bytes", (long long)s->filled, (long long)s->len);
			feed_fail(f, -1, "range %lld: short read, %s", got, i);
		} else {
			s->done = true;
			pthread_cond_signal(&f->data);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The consumer: every range in order, its bytes as they come. */
static void
consume(struct feed *f, int (*sink)(void *, const char *, size_t), void *sink_ctx)
{
	pthread_mutex_lock(&f->mu);
	for (int64_t h = 0; h < f->nranges && !f->failed; h++) {
		struct slot *s = &f->slots[h % f->nslots];
		int64_t used = 0;

		for (;;) {
			while (!f->failed && !(s->range == h && (s->filled > used || s->done)))
				pthread_cond_wait(&f->data, &f->mu);
			if (f->failed)
				break;
			int64_t avail = s->filled;
			bool done = s->done;
			if (avail > used) {
				pthread_mutex_unlock(&f->mu);
				int rc = sink(sink_ctx, s->buf + used, (size_t)(avail - used));
				pthread_mutex_lock(&f->mu);
				if (rc != 0) {
					feed_fail(f, -1, "range %lld: %s", "the reader stopped", h);
					break;
				}
				used = avail;
			}
			if (done && used == s->len)
				break;
		}
		if (f->failed)
			break;
		/* Range h is consumed: its slot takes range h + nslots. */
		s->range = -1;
		f->head = h + 1;
		pthread_cond_broadcast(&f->room);
	}
	pthread_mutex_unlock(&f->mu);
}

int
rangefeed_run(int64_t size, const struct rangefeed_opts *opts, rangefeed_fetch_fn fetch,
    void *const *worker_ctx, int (*sink)(void *, const char *, size_t), void *sink_ctx,
    char *err, size_t errlen)
{
	struct feed f = { .size = size, .fetch = fetch };
	pthread_t threads[16];
	struct worker workers[16];
	int nthreads = 0, streams = opts->streams;

	if (size < 0 || opts->range_size == 0 || streams < 1 || streams > 16) {
		snprintf(err, errlen, "rangefeed: bad arguments");
		return -1;
	}
	f.range_size = (int64_t)opts->range_size;
	/* An empty stream is one empty range: it is still fetched, so that a
	 * missing or non-empty object is seen. */
	f.nranges = size == 0 ? 1 : (size + f.range_size - 1) / f.range_size;
	if (streams > f.nranges)
		streams = (int)f.nranges;
	/* One slot more than workers: a worker done with its range starts the
	 * next while the consumer still hashes the oldest. */
	f.nslots = streams + 1;
	if (f.nslots > f.nranges)
		f.nslots = (int)f.nranges;
	int64_t cap = size < f.range_size ? size : f.range_size;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.data, NULL);
	pthread_cond_init(&f.room, NULL);
	f.slots = calloc((size_t)f.nslots, sizeof(*f.slots));
	for (int i = 0; f.slots != NULL && i < f.nslots; i++) {
		f.slots[i].range = -1;
		if ((f.slots[i].buf = malloc(cap > 0 ? (size_t)cap : 1)) == NULL) {
			f.failed = true;
			f.code = -1;
			snprintf(f.err, sizeof(f.err), "out of memory for %d buffers of %lld bytes", f.nslots,
			    (long long)cap);
		}
	}
	if (f.slots == NULL) {
		f.failed = true;
		f.code = -1;
		snprintf(f.err, sizeof(f.err), "out of memory");
	}
	for (int i = 0; !f.failed && i < streams; i++) {
		workers[i] = (struct worker){ &f, worker_ctx[i] };
		if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0) {
			pthread_mutex_lock(&f.mu);
			feed_fail(&f, -1, "range %lld: %s", "cannot start a thread", 0);
			pthread_mutex_unlock(&f.mu);
			break;
		}
		nthreads++;
	}
	if (!f.failed)
		consume(&f, sink, sink_ctx);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; f.slots != NULL && i < f.nslots; i++)
		free(f.slots[i].buf);
	free(f.slots);
	pthread_mutex_destroy(&f.mu);
	pthread_cond_destroy(&f.data);
	pthread_cond_destroy(&f.room);
	if (f.failed) {
		snprintf(err, errlen, "%s", f.err);
		return f.code != 0 ? f.code : -1;
	}
	return 0;
}
