/* runslots.h - how many of the pool's workers run requests at once.
 *
 * With PostgreSQL on the same cores, a pool larger than the machine's
 * cores makes its workers and their database sessions take turns on the
 * CPU in the middle of requests: more context switches, colder caches,
 * and a request whose worker is put aside waits a whole time slice (the
 * walk's p99 at 64 clients on 2 cores: 24-47 ms with 4 workers, 12-18 ms
 * with 2). Fewer workers, though, leave a pool stuck when some wait on
 * S3, another service or a lock. So the pool stays as large as
 * configured, and only `limit` workers hold a run slot; the others sleep
 * before accepting a connection until a slot is free.
 *
 *   - A worker keeps its slot from request to request (nothing to do per
 *     request while the load fits), and gives it up before waiting on
 *     something else than the CPU (runslots_release: S3 and HTTP calls,
 *     mail, group commit's wait); it finishes that request without one.
 *   - A slot whose holder has been in one request for RUNSLOTS_STALL_MS
 *     (waiting on a lock, a slow statement) is lent to one waiting
 *     worker at a time, a request each, while the holder stays stuck: a
 *     stuck holder delays the others by that much at most.
 *   - The supervisor maps the region before it forks, sets the limit
 *     (again at a reload) and frees the slot of a worker that died.
 *
 * Outside a pool (dandi-jobs, tools, tests) nothing is mapped and every
 * call returns at once. */
#ifndef DANDI_RUNSLOTS_H
#define DANDI_RUNSLOTS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RUNSLOTS_MAX		256	/* the pool's workers at most */
#define RUNSLOTS_STALL_MS	20

/* Supervisor: maps the region (before forking). 0, or -1 with err set. */
int	 runslots_open(char *err, size_t errlen);
void	 runslots_close(void);
/* Supervisor: at most limit workers run at once; 0: no limit. */
void	 runslots_set_limit(int limit);
int	 runslots_limit(void);
/* Supervisor: frees what worker pid held (it has exited). */
void	 runslots_reap(pid_t pid);

/* Worker, before accepting: a slot, or a lent one, or none needed (no
 * limit). Waits while every slot is busy; returns early when *stop is
 * set (a signal). A worker that keeps its stop signals blocked passes
 * the mask to wait with (them open); NULL: the mask as it is. */
void	 runslots_take(const volatile sig_atomic_t *stop, const sigset_t *open);
/* Worker: a request begins; it has ended. */
void	 runslots_busy(void);
void	 runslots_idle(void);
/* Worker: about to wait on something else than the CPU (or exiting). */
void	 runslots_release(void);

/* For /metrics: requests that waited for a slot, and lent ones. */
unsigned long long runslots_waits(void);
unsigned long long runslots_lent(void);

#endif
