/* metrics-bench - the pool's counting alone (src/lib/metrics.c), without
 * nginx, FastCGI or PostgreSQL in the way: ns per request counted (begin
 * and end, over the routes of the API's table, mixed methods and
 * statuses), and µs per rendering of the counters of W workers (a
 * scrape's part outside the database). usage: metrics-bench [W] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../src/api/api.h"
#include "metrics.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	int	workers = argc > 1 ? atoi(argv[1]) : 4;
	char	err[256];
	static const char *const methods[] = { "GET", "GET", "GET", "HEAD", "POST", "PUT" };
	static const int statuses[] = { 200, 200, 200, 304, 404, 401, 201, 503 };
	long	n = 20000000;

	if (workers < 1 || metrics_open(api_nroutes, workers, err, sizeof(err)) != 0)
		return fprintf(stderr, "metrics-bench: %s\n", workers < 1 ? "W >= 1" : err), 1;
	metrics_worker(0);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		metrics_request_begin();
		metrics_request_end((long)(i % (long)(api_nroutes + 1)) - 1, methods[i % 6], statuses[i % 8],
		    (double)(i % 1000) / 1e4);
	}
	double per_request = (now() - t0) / (double)n * 1e9;

	/* Every slot written, so that a rendering reads real series. */
	for (int w = 1; w < workers; w++) {
		metrics_worker(w);
		for (long i = 0; i < 100000; i++)
			metrics_request_end((long)(i % (long)api_nroutes), methods[i % 6], statuses[i % 8], 0.01);
	}
	struct buf b;
	buf_init(&b);
	int renders = 2000;
	t0 = now();
	for (int i = 0; i < renders; i++) {
		b.len = 0;
		metrics_render(&b, api_routes, api_nroutes);
	}
	double per_render = (now() - t0) / renders * 1e6;
	printf("%zu routes, %d workers: %.1f ns per request counted; %.0f us per rendering (%zu bytes)\n",
	    api_nroutes, workers, per_request, per_render, b.len);
	buf_free(&b);
	metrics_close();
	return 0;
}
