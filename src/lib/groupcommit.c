/*
 * groupcommit.c - the shared queue of group commit (groupcommit.h says
 * what it is for and how it fails).
 *
 * A slot's state word is also its futex: its worker sleeps on it while
 * its item waits, the leader changes it (TAKEN, then DONE, or LEAD for
 * the next leader) and wakes it. The region's arrivals word is the
 * collecting leader's futex: every item queued (and every writer that
 * leaves) bumps it. Every change of a state, the collector and the
 * tickets is made under the mutex; the item's text is written by its
 * worker alone while the slot is FREE, and the answer by the leader alone
 * while the slot is TAKEN by it with the same ticket.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "futex.h"
#include "groupcommit.h"
#include "runslots.h"

enum { S_FREE, S_QUEUED, S_TAKEN, S_DONE, S_LEAD };

struct gc_slot {
	uint32_t	state;		/* S_*, the futex */
	uint32_t	writing;	/* its worker is in an asset write */
	pid_t		owner;		/* its worker */
	pid_t		leader;		/* who took it (S_TAKEN) */
	uint64_t	ticket;		/* queue order; 0: none */
	uint32_t	len;
	char		item[GC_ITEM_MAX];
	struct gc_answer answer;
};

/* Batch sizes counted as a histogram: le 1, 2, 4, ..., GC_BATCH_MAX. */
#define NSIZES	8
static const int size_le[NSIZES] = { 1, 2, 4, 8, 16, 32, 64, INT_MAX };

struct gc_region {
	pthread_mutex_t	mu;
	uint32_t	arrivals;	/* futex of the collecting leader */
	pid_t		collector;	/* the leader collecting now, 0: none */
	uint64_t	next_ticket;
	size_t		nslots;
	size_t		size;
	/* counters (under the mutex) */
	uint64_t	batches, items, orphaned, retried, sizes[NSIZES];
};

static struct gc_region	*region;
static struct gc_slot	*self;
static int		 self_index;

static struct gc_slot *
slot_at(size_t i)
{
	size_t head = 64 * ((sizeof(struct gc_region) + 63) / 64);
	size_t each = 64 * ((sizeof(struct gc_slot) + 63) / 64);

	return (struct gc_slot *)((char *)region + head + i * each);
}

int
gc_open(int nslots, char *err, size_t errlen)
{
	size_t head = 64 * ((sizeof(struct gc_region) + 63) / 64);
	size_t each = 64 * ((sizeof(struct gc_slot) + 63) / 64);
	size_t size = head + (size_t)nslots * each;
	pthread_mutexattr_t ma;

	/* Pages are touched only as slots are used. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "group commit: cannot map %zu bytes of shared memory", size);
		return -1;
	}
	region = p;
	region->nslots = (size_t)nslots;
	region->size = size;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(&region->mu, &ma) != 0) {
		snprintf(err, errlen, "group commit: cannot make the shared mutex");
		munmap(p, size);
		region = NULL;
		return -1;
	}
	pthread_mutexattr_destroy(&ma);
	return 0;
}

void
gc_close(void)
{
	if (region != NULL)
		munmap(region, region->size);
	region = NULL;
	self = NULL;
}

bool
gc_on(void)
{
	return self != NULL;
}

static void
lock(void)
{
	/* A worker died holding it: what it was changing is one slot's
	 * words, each either done or not; carry on. */
	if (pthread_mutex_lock(&region->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&region->mu);
}

static void
unlock(void)
{
	pthread_mutex_unlock(&region->mu);
}

static uint32_t
load(const uint32_t *w)
{
	return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static void
store(uint32_t *w, uint32_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELEASE);
}

static bool
alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* alive, and not a zombie its parent has yet to reap (a leader that died
 * is one until the supervisor's waitpid): for the followers' look at
 * their leader, every GC_POLL_MS. */
static bool
running(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;

	if (!alive(pid))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;	/* no /proc: kill(2)'s answer */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren == NULL || paren[1] != ' ' || paren[2] != 'Z';
}

static long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

void
gc_worker(int slot)
{
	if (region == NULL || slot < 0 || (size_t)slot >= region->nslots)
		return;
	self = slot_at((size_t)slot);
	self_index = slot;
	lock();
	/* The predecessor's item, if any: a leader that still holds it
	 * posts nothing once the ticket is gone. */
	self->ticket = 0;
	self->writing = 0;
	self->owner = getpid();
	store(&self->state, S_FREE);
	unlock();
}

static void
arrivals_bump(void)
{
	__atomic_add_fetch(&region->arrivals, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&region->collector, __ATOMIC_ACQUIRE) != 0)
		futex_wake_n(&region->arrivals, INT_MAX);
}

void
gc_writer_begin(void)
{
	if (self != NULL)
		store(&self->writing, 1);
}

void
gc_writer_end(void)
{
	if (self == NULL || !load(&self->writing))
		return;
	store(&self->writing, 0);
	arrivals_bump();	/* a leader may be waiting for this one */
}

/* Under the mutex: the batch, this worker's item first, then the oldest
 * queued; the next leader named when items are left. */
static void
take(int max, struct gc_batch *b)
{
	pid_t me = getpid();

	b->slot[0] = self_index;
	b->ticket[0] = self->ticket;
	b->n = 1;
	self->leader = me;
	store(&self->state, S_TAKEN);
	while (b->n < max) {
		struct gc_slot *oldest = NULL;
		size_t at = 0;
		for (size_t i = 0; i < region->nslots; i++) {
			struct gc_slot *s = slot_at(i);
			if (load(&s->state) == S_QUEUED && (oldest == NULL || s->ticket < oldest->ticket))
				oldest = s, at = i;
		}
		if (oldest == NULL)
			break;
		oldest->leader = me;
		store(&oldest->state, S_TAKEN);
		b->slot[b->n] = (int)at;
		b->ticket[b->n++] = oldest->ticket;
	}
	region->collector = 0;
	/* Left over: the oldest one's worker collects the next batch. */
	struct gc_slot *next = NULL;
	for (size_t i = 0; i < region->nslots; i++) {
		struct gc_slot *s = slot_at(i);
		if (load(&s->state) == S_QUEUED && (next == NULL || s->ticket < next->ticket))
			next = s;
	}
	if (next != NULL) {
		region->collector = next->owner;
		store(&next->state, S_LEAD);
		futex_wake_n(&next->state, INT_MAX);
	}
	region->batches++;
	region->items += (uint64_t)b->n;
	for (int i = 0; i < NSIZES; i++)
		if (b->n <= size_le[i]) {
			region->sizes[i]++;
			break;
		}
}

/* This worker collects: waits while writers are on their way (in an
 * asset write, not yet queued nor in another batch) or another batch is
 * being applied (more writers queue meanwhile), up to wait_us, then takes
 * its batch. A lone writer takes it at once. */
static enum gc_outcome
collect(int max, int wait_us, struct gc_batch *b)
{
	long deadline = now_us() + wait_us;

	for (;;) {
		lock();
		int queued = 0, coming = 0, applying = 0;
		for (size_t i = 0; i < region->nslots; i++) {
			struct gc_slot *s = slot_at(i);
			uint32_t st = load(&s->state);
			queued += st == S_QUEUED || st == S_LEAD;
			coming += (st == S_FREE || st == S_DONE) && load(&s->writing) != 0 && alive(s->owner);
			applying += st == S_TAKEN && s->leader != getpid() && alive(s->leader);
		}
		long left = deadline - now_us();
		if (queued >= max || (coming == 0 && applying == 0) || left <= 0) {
			take(max, b);
			unlock();
			return GC_LEAD;
		}
		uint32_t seen = load(&region->arrivals);
		unlock();
		runslots_release();	/* waiting, not running */
		futex_wait(&region->arrivals, seen, left);
	}
}

enum gc_outcome
gc_submit(const char *item, size_t len, int max, int wait_us, struct gc_batch *b)
{
	pid_t me = getpid();
	bool lead = false;

	if (self == NULL)
		return GC_ALONE;
	/* No longer on its way: queued now, or written alone. */
	store(&self->writing, 0);
	if (len > GC_ITEM_MAX || max < 2)
		return GC_ALONE;
	if (max > GC_BATCH_MAX)
		max = GC_BATCH_MAX;
	lock();
	uint32_t st = load(&self->state);
	if (st == S_TAKEN && !alive(self->leader))
		st = S_FREE;	/* a leader that died with our last item */
	if (st != S_FREE && st != S_DONE) {
		/* Our last item is still held (we gave up waiting for it):
		 * the slot is not ours to fill until it is answered. */
		unlock();
		return GC_ALONE;
	}
	unlock();
	memcpy(self->item, item, len);
	self->len = (uint32_t)len;
	lock();
	self->ticket = ++region->next_ticket;
	self->owner = me;
	if (region->collector == 0 || !alive(region->collector)) {
		region->collector = me;
		lead = true;
		store(&self->state, S_LEAD);
	} else
		store(&self->state, S_QUEUED);
	unlock();
	if (lead)
		return collect(max, wait_us, b);
	arrivals_bump();

	for (;;) {
		st = load(&self->state);
		if (st == S_DONE)
			return GC_DONE;
		if (st == S_LEAD)
			return collect(max, wait_us, b);
		runslots_release();
		futex_wait(&self->state, st, GC_POLL_MS * 1000L);
		if (load(&self->state) != st)
			continue;
		/* Nothing yet: is anyone still going to answer? */
		lock();
		st = load(&self->state);
		if (st == S_TAKEN && !running(self->leader)) {
			region->orphaned++;
			self->ticket = 0;
			store(&self->state, S_FREE);
			unlock();
			return GC_FAILED;
		}
		if (st == S_QUEUED && (region->collector == 0 || !running(region->collector))) {
			region->collector = me;
			store(&self->state, S_LEAD);
		}
		unlock();
	}
}

const char *
gc_item(const struct gc_batch *b, int k, size_t *len)
{
	struct gc_slot *s = slot_at((size_t)b->slot[k]);

	*len = s->len;
	return s->item;
}

void
gc_post(const struct gc_batch *b, int k, const struct gc_answer *a)
{
	struct gc_slot *s = slot_at((size_t)b->slot[k]);
	size_t n = offsetof(struct gc_answer, data) + a->result_len + a->body_len;

	lock();
	/* Still the item we took (its worker was not replaced meanwhile). */
	if (s->ticket == b->ticket[k] && load(&s->state) == S_TAKEN) {
		memcpy(&s->answer, a, n);
		store(&s->state, S_DONE);
		futex_wake_n(&s->state, INT_MAX);
	}
	unlock();
	if (k == b->n - 1)
		arrivals_bump();	/* a collector may wait for this batch */
}

const struct gc_answer *
gc_own_answer(void)
{
	return &self->answer;
}

void
gc_release(void)
{
	lock();
	self->ticket = 0;
	store(&self->state, S_FREE);
	unlock();
}

void
gc_count_retry(void)
{
	if (region == NULL)
		return;
	lock();
	region->retried++;
	unlock();
}

void
gc_metrics_render(struct buf *out)
{
	uint64_t batches, items, lost, retried, sizes[NSIZES];

	if (region == NULL)
		return;
	lock();
	batches = region->batches;
	items = region->items;
	lost = region->orphaned;
	retried = region->retried;
	memcpy(sizes, region->sizes, sizeof(sizes));
	unlock();
	buf_puts(out, "# HELP dandi_api_write_batch_size Asset writes a group-commit transaction applied.\n"
	    "# TYPE dandi_api_write_batch_size histogram\n");
	uint64_t cum = 0;
	for (int i = 0; i < NSIZES - 1; i++) {
		cum += sizes[i];
		buf_printf(out, "dandi_api_write_batch_size_bucket{le=\"%d\"} %llu\n", size_le[i],
		    (unsigned long long)cum);
	}
	buf_printf(out, "dandi_api_write_batch_size_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)batches);
	buf_printf(out, "dandi_api_write_batch_size_sum %llu\n", (unsigned long long)items);
	buf_printf(out, "dandi_api_write_batch_size_count %llu\n", (unsigned long long)batches);
	buf_puts(out, "# HELP dandi_api_write_batch_orphaned_total Group-commit items answered 503"
	    " because their leader died.\n# TYPE dandi_api_write_batch_orphaned_total counter\n");
	buf_printf(out, "dandi_api_write_batch_orphaned_total %llu\n", (unsigned long long)lost);
	buf_puts(out, "# HELP dandi_api_write_batch_retried_total Group-commit writes given back by their"
	    " batch (a lock wait over 50 ms, an answer too long) and written alone.\n"
	    "# TYPE dandi_api_write_batch_retried_total counter\n");
	buf_printf(out, "dandi_api_write_batch_retried_total %llu\n", (unsigned long long)retried);
}
