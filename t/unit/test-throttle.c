/* test-throttle.c - sign-in throttling: the delays and the address key. */
#include <string.h>

#include "throttle.h"
#include "tap.h"

static const char *
key(const char *addr)
{
	static char out[64];

	throttle_address(addr, out, sizeof(out));
	return out;
}

int
main(void)
{
	const struct throttle_rule r = { 5, 1, 900 };

	is_int(throttle_delay(&r, 0), 0, "no failures: no wait");
	is_int(throttle_delay(&r, 4), 0, "below the free failures: no wait");
	is_int(throttle_delay(&r, 5), 1, "at the free failures: the first wait");
	is_int(throttle_delay(&r, 6), 2, "then doubling");
	is_int(throttle_delay(&r, 7), 4, "... and doubling");
	is_int(throttle_delay(&r, 14), 512, "... up to the cap");
	is_int(throttle_delay(&r, 15), 900, "capped");
	is_int(throttle_delay(&r, 1000000), 900, "capped for ever (no overflow)");
	is_int(throttle_delay(&r, -3), 0, "a negative count: no wait");
	int shrinks = 0;
	for (long n = 1; n < 40; n++)
		shrinks += throttle_delay(&r, n) < throttle_delay(&r, n - 1);
	is_int(shrinks, 0, "delays never shrink as failures grow");

	ok(throttle_wait(&r, 6, 0.5) == 1.5, "the wait counts from the last failure");
	ok(throttle_wait(&r, 6, 2.0) == 0, "over when the delay has passed");
	ok(throttle_wait(&r, 6, 60) == 0, "long over: no negative wait");
	ok(throttle_wait(&r, 6, -5) == 2, "a clock behind: the whole delay, no more");
	ok(throttle_wait(&r, 3, 0) == 0, "below the free failures: go ahead");

	is_str(key("192.0.2.7"), "192.0.2.7", "IPv4 as it is");
	is_str(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64", "IPv6: its /64");
	is_str(key("2001:db8:1:2::9"), "2001:db8:1:2::/64", "IPv6: another address of the same /64");
	is_str(key("2001:db8:1:3::9"), "2001:db8:1:3::/64", "IPv6: another /64");
	is_str(key("::1"), "::/64", "IPv6 loopback");
	is_str(key("::ffff:192.0.2.7"), "192.0.2.7", "IPv4-mapped: the IPv4 address");
	is_str(key(""), "", "no address: empty");
	is_str(key(NULL), "", "NULL: empty");
	is_str(key("unix:"), "unix:", "not an address: as given");
	char small[8];
	throttle_address("2001:db8:1:2::9", small, sizeof(small));
	is_str(small, "2001:db", "cut to the buffer");
	return done_testing();
}
