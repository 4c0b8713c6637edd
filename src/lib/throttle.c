/* throttle.c - growing delays for failed sign-ins (see throttle.h). */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "throttle.h"

double
throttle_delay(const struct throttle_rule *rule, long n)
{
	if (n <= 0 || n < rule->free)
		return 0;
	/* Doubling per failure: past 64 doublings any cap is reached. */
	long k = n - rule->free;
	double d = rule->first * ldexp(1.0, k > 64 ? 64 : (int)k);
	return d < rule->cap ? d : rule->cap;
}

double
throttle_wait(const struct throttle_rule *rule, long n, double elapsed)
{
	double w = throttle_delay(rule, n) - (elapsed > 0 ? elapsed : 0);

	return w > 0 ? w : 0;
}

void
throttle_address(const char *addr, char *out, size_t outlen)
{
	unsigned char a6[16];
	char buf[INET6_ADDRSTRLEN + 4];

	if (outlen == 0)
		return;
	if (addr == NULL)
		addr = "";
	if (strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, a6) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a6, mapped, sizeof(mapped)) == 0) {
			inet_ntop(AF_INET, a6 + 12, buf, sizeof(buf));
		} else {
			memset(a6 + 8, 0, 8);
			inet_ntop(AF_INET6, a6, buf, INET6_ADDRSTRLEN);
			strcat(buf, "/64");
		}
		addr = buf;
	}
	snprintf(out, outlen, "%s", addr);
}
