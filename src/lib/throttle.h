/* throttle.h - growing delays for failed sign-ins, counted per (account,
 * client address) and per client address (src/api/accounts.c), so that
 * nobody can lock an account for its owner: only the address that fails
 * waits. */
#ifndef DANDI_THROTTLE_H
#define DANDI_THROTTLE_H

#include <stddef.h>

struct throttle_rule {
	long	free;		/* failures that cost no wait */
	double	first;		/* the wait once that many are reached, in seconds */
	double	cap;		/* the longest wait, in seconds */
};

/* The wait after n failures: 0 below rule->free; at rule->free failures
 * rule->first, doubling with each further one, at most rule->cap. */
double	throttle_delay(const struct throttle_rule *, long n);

/* Seconds still to wait before another attempt, when the last of n
 * failures was elapsed seconds ago; 0 when an attempt may go ahead. */
double	throttle_wait(const struct throttle_rule *, long n, double elapsed);

/* The client address as throttling counts it, into out (at most outlen
 * bytes with the NUL): an IPv6 address by its /64 (what one customer
 * commonly holds; "2001:db8:1:2::/64"), an IPv4-mapped IPv6 address as the
 * IPv4 address, IPv4 as it is; anything else (not an address) as given,
 * cut to fit. Never fails. */
void	throttle_address(const char *addr, char *out, size_t outlen);

#endif
