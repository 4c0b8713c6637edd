/* groupcommit.h - group commit of the pool's asset writes: several
 * workers' writes to drafts applied in one transaction by one of them.
 *
 * The supervisor maps a shared region before it forks (as metrics.h): a
 * slot per worker (both halves of a reload's generations), and a robust
 * process-shared mutex over the queue. A worker with a write puts its
 * item (a JSON object, at most GC_ITEM_MAX bytes) in its own slot and
 * queues it. The first worker to queue while no one collects becomes the
 * leader: it waits up to wait_us for the other writers in flight (not at
 * all when it is the only one), takes up to max items (its own first,
 * then the oldest), applies them on its own connection and posts each
 * item's answer into its slot; every worker answers its own client.
 * A queued item left over when a leader takes its batch makes its worker
 * the next leader.
 *
 * Failures: followers wake every GC_POLL_MS to look at their leader; a
 * leader that died (SIGKILL, a crash) while holding items leaves them
 * failed (GC_FAILED: the caller answers 503; the write may or may not
 * have been committed, as for a client whose connection broke), a
 * collector that died is replaced by the next waiting item's worker. The
 * mutex is robust: a worker that dies holding it costs nothing but the
 * queue update it was making, and each update is a single slot's words. */
#ifndef DANDI_GROUPCOMMIT_H
#define DANDI_GROUPCOMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define GC_ITEM_MAX	(32 * 1024)	/* an item's JSON; larger ones are written alone */
#define GC_ANSWER_MAX	(64 * 1024)	/* result and answer body; larger bodies are read again */
#define GC_BATCH_MAX	64		/* items a transaction at most (write_batch's bound) */
#define GC_POLL_MS	50		/* a waiting follower looks at its leader this often */

/* An item's answer, written by the leader into the item's slot. */
struct gc_answer {
	int		failed;		/* 0, or the status of a batch that failed whole (500, 503) */
	char		asset[24];	/* the asset's row id ('added', 'unchanged'), or "" */
	uint32_t	result_len;	/* data: the result text ... */
	uint32_t	body_len;	/* ... then the answer body; 0: too long, read it again */
	char		data[GC_ANSWER_MAX];
};

/* The items a leader took: slot indices and the tickets they were queued
 * with (an answer goes only to the item it belongs to). */
struct gc_batch {
	int		n;
	int		slot[GC_BATCH_MAX];
	uint64_t	ticket[GC_BATCH_MAX];
};

enum gc_outcome {
	GC_ALONE,	/* not queued (too large, off, the slot still held): write alone */
	GC_LEAD,	/* the caller leads: apply the batch, gc_post every answer */
	GC_DONE,	/* answered: gc_own_answer() */
	GC_FAILED,	/* the leader died: answer 503 */
};

/* Supervisor, before forking: nslots workers. 0, or -1 with err set. */
int	 gc_open(int nslots, char *err, size_t errlen);
void	 gc_close(void);
bool	 gc_on(void);
/* In a worker, first thing: its slot (reset: a predecessor's leftovers). */
void	 gc_worker(int slot);
/* This worker is in an asset write, on its way to gc_submit (a leader
 * waits only for those); and no longer (a refusal before the queue). */
void	 gc_writer_begin(void);
void	 gc_writer_end(void);
/* Queues item (len bytes) and waits for its answer, or leads. */
enum gc_outcome gc_submit(const char *item, size_t len, int max, int wait_us, struct gc_batch *b);
/* Leader: the text of item k of its batch. */
const char *gc_item(const struct gc_batch *b, int k, size_t *len);
/* Leader: the answer of item k; wakes its worker. */
void	 gc_post(const struct gc_batch *b, int k, const struct gc_answer *a);
/* After GC_DONE (or after leading): this worker's answer; then release. */
const struct gc_answer *gc_own_answer(void);
void	 gc_release(void);
/* A write its batch gave back, written alone (counted). */
void	 gc_count_retry(void);
/* The counters for GET /metrics (Prometheus text). */
void	 gc_metrics_render(struct buf *);

#endif
