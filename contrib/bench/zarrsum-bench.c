/* zarrsum-bench - the dandi-zarr-checksum tree alone over N synthetic keys
 * in S3 order (0/<a>/<b>/<c>, 100 x 100 x 100 for a million): entries/s
 * with no S3 in the way. Prints the checksum and the save-state size at
 * the midpoint (what a checkpoint writes). usage: zarrsum-bench [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zarrsum.h"

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	struct zarrsum *z = zarrsum_new();
	struct timespec a, b;
	char key[64], out[ZARRSUM_LEN];
	size_t state = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "0/%03ld/%03ld/%03ld", i / 10000, (i / 100) % 100, i % 100);
		if (zarrsum_add(z, key, 1000, "0123456789abcdef0123456789abcdef") != 0)
			return fprintf(stderr, "%s\n", zarrsum_error(z)), 1;
		if (i == n / 2) {
			char *s = zarrsum_save(z);
			state = strlen(s);
			free(s);
		}
	}
	if (zarrsum_finish(z, out) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%ld entries in %.2f s: %.0f entries/s; checksum %s; checkpoint state at the midpoint %zu bytes\n",
	    n, s, (double)n / s, out, state);
	zarrsum_free(z);
	return 0;
}
