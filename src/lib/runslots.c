/*
 * runslots.c - the pool's run slots (runslots.h says what they are for).
 *
 * A slot is its holder's pid (0: free), the start of the request it is
 * in (ms, 0: between requests) and the worker it is lent to (0: none). Taking
 * is a compare-and-swap of the pid; the region's gen word is the futex
 * the waiting workers sleep on: every release and every change of the
 * limit bumps it, so a waiter that read it before scanning the slots
 * cannot miss a release (its wait returns at once), and wakes are only
 * sent while someone waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "futex.h"
#include "runslots.h"
#include "util.h"

struct run_slot {
	int32_t		pid;
	int32_t		lent;		/* the borrower running on it now, 0: none */
	uint64_t	since_ms;
};

struct runslots_region {
	uint32_t	gen;		/* the futex */
	uint32_t	waiters;
	uint32_t	limit;		/* 0: no limit */
	uint64_t	waits, lent;
	struct run_slot	slot[RUNSLOTS_MAX];
};

static struct runslots_region	*region;
static int			 mine = -1;	/* the slot held, -1: none */
static int			 borrowed = -1;	/* the slot lent to this worker, -1: none */
static int32_t			 self;		/* getpid(), asked once a process: a system call */

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, n)	__atomic_add_fetch((p), (n), __ATOMIC_SEQ_CST)

static void
forked(void)
{
	self = 0;
}

static int32_t
me_pid(void)
{
	if (self == 0)
		self = (int32_t)getpid();
	return self;
}

int
runslots_open(char *err, size_t errlen)
{
	void *p = mmap(NULL, sizeof(*region), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "run slots: mmap: %s", strerror(errno));
		return -1;
	}
	region = p;	/* zeroed: no limit, every slot free */
	static bool registered;
	if (!registered)
		pthread_atfork(NULL, NULL, forked);	/* a worker is not its parent */
	registered = true;
	return 0;
}

void
runslots_close(void)
{
	if (region != NULL)
		munmap(region, sizeof(*region));
	region = NULL;
}

/* Wakes n waiters (all: INT_MAX) after a change they must see. */
static void
changed(int n)
{
	ADD(&region->gen, 1);
	if (LOAD(&region->waiters) > 0)
		futex_wake_n(&region->gen, n);
}

void
runslots_set_limit(int limit)
{
	if (region == NULL)
		return;
	STORE(&region->limit, (uint32_t)(limit < 0 ? 0 : limit > RUNSLOTS_MAX ? RUNSLOTS_MAX : limit));
	changed(INT_MAX);
}

int
runslots_limit(void)
{
	return region != NULL ? (int)LOAD(&region->limit) : 0;
}

void
runslots_reap(pid_t pid)
{
	if (region == NULL || pid <= 0)
		return;
	for (int k = 0; k < RUNSLOTS_MAX; k++) {
		struct run_slot *s = &region->slot[k];
		int32_t held = (int32_t)pid, borrower = (int32_t)pid;

		__atomic_compare_exchange_n(&s->lent, &borrower, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		if (LOAD(&s->pid) != held)
			continue;
		STORE(&s->since_ms, 0);
		__atomic_compare_exchange_n(&s->pid, &held, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	changed(INT_MAX);
}

static uint64_t
now_ms(void)
{
	return (uint64_t)(mono_seconds() * 1000.0) + 1;	/* never 0 */
}

/* A borrowed slot given back: it may be lent again while its holder is
 * still stuck. */
static void
give_back(void)
{
	if (borrowed < 0)
		return;
	int32_t me = me_pid();
	__atomic_compare_exchange_n(&region->slot[borrowed].lent, &me, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	borrowed = -1;
}

void
runslots_release(void)
{
	if (region == NULL)
		return;
	give_back();
	if (mine < 0)
		return;
	struct run_slot *s = &region->slot[mine];

	STORE(&s->since_ms, 0);
	STORE(&s->pid, 0);
	mine = -1;
	changed(1);
}

/* A free slot below limit, taken; false when there is none. */
static bool
take_free(uint32_t limit)
{
	int32_t me = me_pid();

	for (uint32_t k = 0; k < limit; k++) {
		int32_t free_pid = 0;

		if (LOAD(&region->slot[k].pid) == 0 &&
		    __atomic_compare_exchange_n(&region->slot[k].pid, &free_pid, me, false, __ATOMIC_SEQ_CST,
		    __ATOMIC_SEQ_CST)) {
			mine = (int)k;
			return true;
		}
	}
	return false;
}

/* A slot whose holder is stuck in a request, lent to this worker for
 * one request (to one worker at a time). */
static bool
borrow_stalled(uint32_t limit)
{
	uint64_t now = now_ms();

	for (uint32_t k = 0; k < limit; k++) {
		struct run_slot *s = &region->slot[k];
		uint64_t since = LOAD(&s->since_ms);
		int32_t not_lent = 0;

		if (since != 0 && now - since >= RUNSLOTS_STALL_MS && LOAD(&s->lent) == 0 &&
		    __atomic_compare_exchange_n(&s->lent, &not_lent, me_pid(), false, __ATOMIC_SEQ_CST,
		    __ATOMIC_SEQ_CST)) {
			borrowed = (int)k;
			ADD(&region->lent, 1);
			return true;
		}
	}
	return false;
}

void
runslots_take(const volatile sig_atomic_t *stop, const sigset_t *open)
{
	sigset_t saved;
	bool counted = false;

	if (region == NULL)
		return;
	give_back();	/* the request it was lent for is over */
	for (;;) {
		uint32_t limit = LOAD(&region->limit);

		if (mine >= 0 && (uint32_t)mine < limit)
			return;
		runslots_release();	/* no limit now, or a smaller one */
		if (limit == 0)
			return;
		uint32_t gen = LOAD(&region->gen);
		if (take_free(limit) || borrow_stalled(limit) || (stop != NULL && *stop))
			return;
		if (!counted) {
			ADD(&region->waits, 1);
			counted = true;
		}
		/* Woken by a release; or after half the stall time, to look
		 * for a stuck holder. */
		ADD(&region->waiters, 1);
		if (open != NULL)
			pthread_sigmask(SIG_SETMASK, open, &saved);
		/* A signal pending when the mask opened has run its handler. */
		if (stop == NULL || !*stop)
			futex_wait(&region->gen, gen, RUNSLOTS_STALL_MS * 1000L / 2);
		if (open != NULL)
			pthread_sigmask(SIG_SETMASK, &saved, NULL);
		__atomic_sub_fetch(&region->waiters, 1, __ATOMIC_SEQ_CST);
	}
}

void
runslots_busy(void)
{
	if (region == NULL || mine < 0)
		return;
	STORE(&region->slot[mine].since_ms, now_ms());
}

void
runslots_idle(void)
{
	if (region == NULL || mine < 0)
		return;
	STORE(&region->slot[mine].since_ms, 0);
}

unsigned long long
runslots_waits(void)
{
	return region != NULL ? LOAD(&region->waits) : 0;
}

unsigned long long
runslots_lent(void)
{
	return region != NULL ? LOAD(&region->lent) : 0;
}
