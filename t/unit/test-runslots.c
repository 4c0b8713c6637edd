/* test-runslots.c - the pool's run slots (src/lib/runslots.c) with forked
 * processes as workers: nothing to do outside a pool or without a limit;
 * at the limit a worker waits until a holder gives its slot up; a holder
 * stuck in one request lends its slot once; a dead holder's slot is
 * freed by the reaper; a lowered limit takes back a slot above it; and
 * which database is "on this machine" for the default limit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "runslots.h"
#include "tap.h"

static volatile sig_atomic_t term_seen;

static void
on_term(int sig)
{
	(void)sig;
	term_seen = 1;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A worker that takes a slot and reports on fd how long it waited (ms),
 * then holds it hold_ms (busy in a request when busy) and releases it. */
static pid_t
worker(int fd, int hold_ms, bool busy)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	double t0 = tap_now();
	runslots_take(NULL, NULL);
	int waited = (int)((tap_now() - t0) * 1000);
	if (write(fd, &waited, sizeof(waited)) != sizeof(waited))
		_exit(1);
	if (busy)
		runslots_busy();
	pause_ms(hold_ms);
	runslots_release();
	_exit(0);
}

/* Waited "at once": a loaded machine's fork and scheduling, not a wait
 * for a slot (those are held for a second or more below). */
#define AT_ONCE	500

static bool
at_once(int waited)
{
	return waited >= 0 && waited < AT_ONCE;
}

/* A worker that takes a slot (or a loan) and exits without giving it
 * back, as one killed would; returned once it has exited. */
static pid_t
dies_after_take(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		runslots_take(NULL, NULL);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return pid;
}

/* The next report of a worker, or -1 when none comes within ms. */
static int
report(int fd, int ms)
{
	int waited = -1;
	double until = tap_now() + ms / 1000.0;

	while (tap_now() < until) {
		struct timeval tv = { 0, 10000 };
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		if (select(fd + 1, &r, NULL, NULL, &tv) == 1)
			return read(fd, &waited, sizeof(waited)) == sizeof(waited) ? waited : -1;
	}
	return -1;
}

static void
reap_all(void)
{
	pid_t pid;

	while ((pid = wait(NULL)) > 0)
		runslots_reap(pid);
}

int
main(void)
{
	char err[256];
	int p[2];
	double t0;

	setvbuf(stdout, NULL, _IONBF, 0);	/* forked children print nothing twice */
	/* Outside a pool: every call returns at once. */
	t0 = tap_now();
	runslots_take(NULL, NULL);
	runslots_busy();
	runslots_idle();
	runslots_release();
	ok(tap_now() - t0 < 0.5 && runslots_limit() == 0, "no region: nothing to wait for");

	ok(runslots_open(err, sizeof(err)) == 0, "the region is mapped");
	if (pipe(p) != 0)
		return 1;

	/* No limit: two holders at once. */
	worker(p[1], 1000, false);
	worker(p[1], 1000, false);
	ok(at_once(report(p[0], 1000)) && at_once(report(p[0], 1000)), "no limit: nobody waits");
	reap_all();

	/* Limit 1: the second waits for the first's release. */
	runslots_set_limit(1);
	is_int(runslots_limit(), 1, "the limit is 1");
	worker(p[1], 1200, false);
	ok(at_once(report(p[0], 1000)), "the first takes the slot at once");
	worker(p[1], 0, false);
	int w = report(p[0], 3000);
	ok(w >= 600, "the second waited for the release (%d ms)", w);
	reap_all();
	is_int(runslots_waits(), 1, "one wait counted");

	/* A holder in one request for RUNSLOTS_STALL_MS lends its slot, to one
	 * waiting worker at a time, as long as it stays stuck. */
	worker(p[1], 4000, true);
	ok(at_once(report(p[0], 1000)), "a holder busy in a long request");
	worker(p[1], 1200, false);
	int first = report(p[0], 2000);
	worker(p[1], 0, false);	/* after the first has its loan */
	int second = report(p[0], 400);
	ok(first >= 0 && first < 2000, "one waiter runs on the lent slot, the holder still stuck (%d ms)", first);
	is_int(second, -1, "the other one waits while it is lent");
	second = report(p[0], 3000);
	ok(second >= 400 && second < 3000, "then it is lent to the other, the holder still stuck (%d ms)", second);
	reap_all();
	is_int(runslots_lent(), 2, "two lent requests counted");

	/* A borrower that dies: the reaper gives the slot back to lend. */
	worker(p[1], 4000, true);
	report(p[0], 1000);
	pid_t dead_borrower = dies_after_take();
	worker(p[1], 0, false);
	is_int(report(p[0], 150), -1, "a dead borrower's loan is not over by itself");
	runslots_reap(dead_borrower);
	w = report(p[0], 1000);
	ok(w >= 0, "the reaper ends it: the slot is lent again");
	reap_all();

	/* A holder that dies without releasing: the reaper frees its slot. */
	pid_t dead = dies_after_take();
	worker(p[1], 0, false);
	is_int(report(p[0], 150), -1, "a dead holder's slot is not free by itself");
	runslots_reap(dead);
	ok(report(p[0], 1000) >= 0, "the reaper frees it: the waiter runs");
	reap_all();

	/* A lowered limit: a holder above it gives its slot back at its next
	 * take and waits. Slot 0 is held by a worker, slot 1 by another. */
	runslots_set_limit(2);
	worker(p[1], 1500, false);
	ok(at_once(report(p[0], 1000)), "slot 0 held");
	pid_t upper = fork();
	if (upper == 0) {
		runslots_take(NULL, NULL);	/* slot 1 */
		runslots_set_limit(1);
		double t = tap_now();
		runslots_take(NULL, NULL);	/* above the limit: waits for slot 0 */
		_exit(tap_now() - t >= 0.3 ? 0 : 1);
	}
	int status = -1;
	waitpid(upper, &status, 0);
	runslots_reap(upper);	/* it left holding slot 0 */
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "above a lowered limit: waits for a slot below it");
	reap_all();

	/* The stop flag: a waiter leaves when told to. */
	runslots_set_limit(1);
	worker(p[1], 500, false);
	report(p[0], 1000);
	static volatile sig_atomic_t stop = 1;
	t0 = tap_now();
	runslots_take(&stop, NULL);
	ok(tap_now() - t0 < 0.5, "a stopping worker does not wait");
	reap_all();

	/* A waiter that keeps SIGTERM blocked (a pool worker) sleeps with
	 * it open: the signal's handler runs and the waiter leaves. */
	worker(p[1], 3000, false);
	report(p[0], 1000);
	pid_t blocked = fork();
	if (blocked == 0) {
		struct sigaction sa = { .sa_handler = on_term };
		sigset_t term, open;
		sigaction(SIGTERM, &sa, NULL);
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &open);
		sigdelset(&open, SIGTERM);
		double t = tap_now();
		runslots_take(&term_seen, &open);
		_exit(term_seen && tap_now() - t < 2.0 ? 0 : 1);
	}
	usleep(200000);	/* waiting for the slot */
	kill(blocked, SIGTERM);
	status = -1;
	waitpid(blocked, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a waiter with SIGTERM blocked leaves on it");
	reap_all();
	runslots_close();

	/* Which database shares this machine: the default limit's question. */
	unsetenv("PGHOST");
	unsetenv("PGHOSTADDR");
	ok(db_conninfo_local("dbname=dandi"), "no host: the default socket");
	ok(db_conninfo_local("host=/run/postgresql dbname=dandi"), "a socket directory");
	ok(db_conninfo_local("host=localhost port=5433"), "localhost");
	ok(db_conninfo_local("host=127.0.0.2"), "a 127/8 address");
	ok(db_conninfo_local("host=::1"), "::1");
	ok(db_conninfo_local("postgresql:///dandi"), "a URI without a host");
	ok(db_conninfo_local("host=/tmp,localhost"), "a list of local hosts");
	ok(!db_conninfo_local("host=db.example.org dbname=dandi"), "another host");
	ok(!db_conninfo_local("host=localhost,db.example.org"), "a list with another host");
	ok(!db_conninfo_local("postgresql://10.0.0.5/dandi"), "a URI with another host");
	ok(!db_conninfo_local("host=localhost hostaddr=10.1.1.1"), "hostaddr decides");
	ok(!db_conninfo_local("nonsense=1"), "a conninfo libpq refuses: not counted as local");
	setenv("PGHOST", "db.example.org", 1);
	ok(!db_conninfo_local("dbname=dandi"), "PGHOST when the conninfo has no host");
	ok(db_conninfo_local("host=/tmp dbname=dandi"), "the conninfo's host over PGHOST");
	return done_testing();
}
