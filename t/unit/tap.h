/* tap.h - a tiny TAP producer for the C unit tests (read by prove). */
#ifndef DANDI_TAP_H
#define DANDI_TAP_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int c_ = (cond) ? 1 : 0;					\
	printf("%sok %d - ", c_ ? "" : "not ", ++tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!c_) {							\
		tap_failed++;						\
		printf("#   failed at %s:%d\n", __FILE__, __LINE__);	\
	}								\
} while (0)

#define is_str(got, want, name) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int m_ = (g_ == NULL && w_ == NULL) ||				\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	ok(m_, "%s", name);						\
	if (!m_)							\
		printf("#   got: '%s'\n#   expected: '%s'\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

#define is_int(got, want, name) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	ok(g_ == w_, "%s", name);					\
	if (g_ != w_)							\
		printf("#   got: %lld\n#   expected: %lld\n", g_, w_);	\
} while (0)

/* CLOCK_MONOTONIC seconds, for tests that time waits. */
static inline double
tap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
