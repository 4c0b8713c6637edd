/* futex.h - the two futex calls the pool's shared regions use
 * (groupcommit.c, runslots.c): words in MAP_SHARED memory, so not
 * FUTEX_PRIVATE_FLAG. */
#ifndef DANDI_FUTEX_H
#define DANDI_FUTEX_H

#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Wakes at most n sleepers on w. */
static inline void
futex_wake_n(uint32_t *w, int n)
{
	syscall(SYS_futex, w, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Sleeps while *w == val, at most us microseconds (or a signal). */
static inline void
futex_wait(uint32_t *w, uint32_t val, long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0);
}

#endif
