/* test-groupcommit.c - group commit's queue (src/lib/groupcommit.c) with
 * forked processes as the pool's workers: a lone writer leads at once;
 * writers in flight together form one batch and each gets its own
 * answer; a leader that dies holding a batch leaves its followers failed
 * (not waiting forever) and the queue usable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "groupcommit.h"
#include "tap.h"

#define WAIT_US	2000000	/* long: batches form however loaded the machine */

/* The leader's work: every item answered "<item>!". die: exit instead,
 * holding the batch (a leader killed mid-batch). */
static void
lead(const struct gc_batch *b, bool die)
{
	static struct gc_answer a;

	if (die && b->n >= 2)
		_exit(42);
	for (int k = 0; k < b->n; k++) {
		size_t len;
		const char *item = gc_item(b, k, &len);
		memset(&a, 0, sizeof(a));
		memcpy(a.data, item, len);
		a.data[len] = '!';
		a.result_len = (uint32_t)len + 1;
		gc_post(b, k, &a);
	}
}

/* A worker in slot i writing item; exit 0 when it got its own answer,
 * 3 when its leader died, 42 when it led and died, 5 when alone it
 * waited for companions, else 1. go: a pipe
 * whose end all wait for, so that they start at once. */
static pid_t
writer(int i, const char *item, const int *go, bool die)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (go != NULL)
		close(go[1]);	/* the go is the parent's closing it */
	gc_worker(i);
	gc_writer_begin();
	char c;
	if (go != NULL && read(go[0], &c, 1) != 0)
		_exit(1);
	struct gc_batch b;
	double t0 = tap_now();
	enum gc_outcome o = gc_submit(item, strlen(item), 16, WAIT_US, &b);
	/* A lone writer (no go pipe: nobody else in flight) must not wait. */
	if (go == NULL && tap_now() - t0 > WAIT_US / 2e6)
		_exit(5);
	if (o == GC_LEAD)
		lead(&b, die);
	else if (o == GC_FAILED)
		_exit(3);
	else if (o != GC_DONE)
		_exit(1);
	const struct gc_answer *a = gc_own_answer();
	char want[64];
	snprintf(want, sizeof(want), "%s!", item);
	int good = a->failed == 0 && a->result_len == strlen(want) && memcmp(a->data, want, a->result_len) == 0;
	gc_release();
	gc_writer_end();
	_exit(good ? 0 : 1);
}

static long
metric(const char *name)
{
	struct buf b;
	long v = -1;

	buf_init(&b);
	gc_metrics_render(&b);
	buf_append(&b, "", 1);
	/* The series line, not the HELP line naming it. */
	for (const char *p = b.data; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, strlen(name)) == 0) {
			v = strtol(p + strlen(name), NULL, 10);
			break;
		}
	buf_free(&b);
	return v;
}

int
main(void)
{
	char err[256];

	setvbuf(stdout, NULL, _IONBF, 0);	/* nothing buffered to fork */
	ok(gc_open(8, err, sizeof(err)) == 0, "the region maps");

	/* A lone writer leads its batch of one at once. */
	pid_t p = writer(0, "lone", NULL, false);
	int st;
	waitpid(p, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) != 1, "a lone writer gets its own answer");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without waiting for companions");
	is_int(metric("dandi_api_write_batch_size_count "), 1, "one batch");

	/* Six writers in flight at once: fewer batches than writers, and
	 * every one its own answer. */
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	pid_t pids[6];
	const char *items[6] = { "a", "bb", "ccc", "dddd", "eeeee", "ffffff" };
	for (int i = 0; i < 6; i++)
		pids[i] = writer(i, items[i], fds, false);
	usleep(100000);
	close(fds[1]);	/* go */
	close(fds[0]);
	int good = 0;
	for (int i = 0; i < 6; i++) {
		waitpid(pids[i], &st, 0);
		good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	is_int(good, 6, "six writers at once: each its own answer");
	long batches = metric("dandi_api_write_batch_size_count ") - 1;
	is_int(metric("dandi_api_write_batch_size_sum "), 7, "seven writes counted");
	ok(batches >= 1 && batches < 6, "in fewer batches than writes (%ld)", batches);

	/* A leader that dies holding its batch. */
	if (pipe(fds) != 0)
		return 1;
	for (int i = 0; i < 4; i++)
		pids[i] = writer(i, items[i], fds, true);
	usleep(100000);
	close(fds[1]);
	close(fds[0]);
	int died = 0, failed = 0, answered = 0;
	double t0 = tap_now();
	for (int i = 0; i < 4; i++) {
		waitpid(pids[i], &st, 0);
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		died += code == 42;
		failed += code == 3;
		answered += code == 0;
	}
	ok(died >= 1, "a leader died holding a batch (%d)", died);
	ok(died + failed + answered == 4, "every writer came back (%d failed, %d answered)", failed, answered);
	ok(failed >= 1, "its followers failed instead of waiting");
	ok(tap_now() - t0 < 5, "soon (%.2f s)", tap_now() - t0);
	ok(metric("dandi_api_write_batch_orphaned_total ") >= 1, "counted");

	/* The queue works on, in the dead leader's slot too. */
	good = 0;
	for (int i = 0; i < 4; i++) {
		p = writer(i, items[i], NULL, false);
		waitpid(p, &st, 0);
		good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	is_int(good, 4, "then writers in every slot get their answers");
	gc_close();
	return done_testing();
}
