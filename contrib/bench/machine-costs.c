/*
 * machine-costs - what this machine charges for the two things every
 * request through nginx, a FastCGI worker and PostgreSQL does many times:
 * a system call, and a wake-up of another process (one process writes a
 * byte to another over a unix socket and waits for it to answer: two
 * context switches). Printed in microseconds, for bench-assets' header.
 * On a guest where these are dear, every hop of a request (wrk -> nginx ->
 * worker -> PostgreSQL and back) costs more than the work it carries.
 *
 * usage: contrib/bench/machine-costs [rounds]   (default 200000)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

/* Mean µs of one round trip to a child process on cpu_child, the caller
 * on cpu 0; -1 on a failure. */
static double
round_trip(int cpu_child, long rounds)
{
	int	 to[2], from[2];
	char	 c = 'x';
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, to) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, from) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		pin(cpu_child);
		for (long i = 0; i < rounds; i++)
			if (read(to[1], &c, 1) != 1 || write(from[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	pin(0);
	double t0 = now_us();
	for (long i = 0; i < rounds; i++)
		if (write(to[0], &c, 1) != 1 || read(from[0], &c, 1) != 1)
			return -1;
	double us = (now_us() - t0) / (double)rounds;
	int status;
	waitpid(pid, &status, 0);
	close(to[0]), close(to[1]), close(from[0]), close(from[1]);
	return us;
}

int
main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200000;

	if (rounds <= 0) {
		fprintf(stderr, "usage: machine-costs [rounds]\n");
		return 2;
	}
	pin(0);
	double t0 = now_us();
	for (long i = 0; i < rounds * 5; i++)
		(void)syscall(SYS_getppid);
	double sys = (now_us() - t0) / (double)(rounds * 5);
	double same = round_trip(0, rounds);
	double cross = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? round_trip(1, rounds) : -1;
	printf("system call %.2f us; round trip to another process (2 context switches): same core %.1f us, "
	    "across cores %.1f us\n", sys, same, cross);
	return same < 0 ? 1 : 0;
}
