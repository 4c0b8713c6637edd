/* test-metrics.c - GET /metrics' pieces: who may scrape (metrics_allow),
 * the route labels, and counts from several processes summed in the
 * shared region (forked writers, as the pool's workers). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "router.h"
#include "tap.h"

static const char *
label(const char *pattern)
{
	static char out[256];

	metrics_route_label(pattern, out, sizeof(out));
	return out;
}

/* The value of the series line that starts with prefix ("name{...} "). */
static const char *
series(const struct buf *b, const char *prefix)
{
	static char val[64];
	size_t n = strlen(prefix);

	for (const char *p = b->data; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ') {
			size_t l = strcspn(p + n + 1, "\n");
			snprintf(val, sizeof(val), "%.*s", (int)l, p + n + 1);
			return val;
		}
	return NULL;
}

int
main(void)
{
	char err[256];

	/* who may scrape */
	ok(metrics_allowed("127.0.0.1 ::1", "127.0.0.1"), "loopback v4 in the default list");
	ok(metrics_allowed("127.0.0.1 ::1", "::1"), "loopback v6 in the default list");
	ok(!metrics_allowed("127.0.0.1 ::1", "127.0.0.2"), "another loopback address is not");
	ok(!metrics_allowed("127.0.0.1 ::1", NULL), "no REMOTE_ADDR: refused");
	ok(!metrics_allowed("127.0.0.1 ::1", "localhost"), "a name is no address");
	ok(metrics_allowed("10.0.0.0/8,192.0.2.7", "10.200.3.4"), "inside a /8");
	ok(!metrics_allowed("10.0.0.0/8,192.0.2.7", "11.0.0.1"), "outside it");
	ok(metrics_allowed("10.0.0.0/8,192.0.2.7", "192.0.2.7"), "comma-separated second entry");
	ok(metrics_allowed("192.0.2.128/25", "192.0.2.200"), "a /25: the upper half");
	ok(!metrics_allowed("192.0.2.128/25", "192.0.2.100"), "a /25: not the lower half");
	ok(metrics_allowed("2001:db8::/32", "2001:db8:1::5"), "an IPv6 prefix");
	ok(!metrics_allowed("2001:db8::/32", "2001:db9::5"), "outside the IPv6 prefix");
	ok(metrics_allowed("127.0.0.1", "::ffff:127.0.0.1"), "an IPv4-mapped address is its IPv4 one");
	ok(metrics_allowed("0.0.0.0/0", "203.0.113.9"), "/0: everyone (v4)");
	ok(!metrics_allowed("0.0.0.0/0", "2001:db8::1"), "... but not v6");
	ok(!metrics_allowed("", "127.0.0.1"), "an empty list: nobody");
	is_int(metrics_allow_check("127.0.0.1 ::1, 10.0.0.0/8 fd00::/8", err, sizeof(err)), 0, "a good list");
	is_int(metrics_allow_check("127.0.0.1 localhost", err, sizeof(err)), -1, "a name is refused");
	is_str(err, "metrics_allow: not an address or CIDR: 'localhost'", "... and named");
	is_int(metrics_allow_check("10.0.0.0/33", err, sizeof(err)), -1, "a v4 prefix over 32 bits");
	is_int(metrics_allow_check("10.0.0.0/", err, sizeof(err)), -1, "a slash without bits");
	is_int(metrics_allow_check("::/129", err, sizeof(err)), -1, "a v6 prefix over 128 bits");

	/* route labels */
	is_str(label("/api/info/"), "/api/info/", "a literal route is itself");
	is_str(label("/api/dandisets/(\\d{6})/versions/(draft|0\\.\\d{6}\\.\\d{4})/assets/"),
	    "/api/dandisets/{dandiset_id}/versions/{version_id}/assets/", "groups named after their segments");
	is_str(label("/api/zarr/([0-9a-f]{8}-[0-9a-f]{4})/files/"), "/api/zarr/{zarr_id}/files/",
	    "a segment without a plural s");
	is_str(label("/dashboard/user/([^/]{1,150})/"), "/dashboard/user/{user_id}/", "a class with a slash in it");
	is_str(label("/api/audit/events/asset"), "/api/audit/events/asset", "no trailing slash kept so");

	struct buf lv;
	buf_init(&lv);
	metrics_label_value(&lv, "a\"b\\c\nd/é");
	is_str(lv.data, "a\\\"b\\\\c\\nd/é", "a label value: quote, backslash, newline escaped; UTF-8 kept");
	buf_free(&lv);

	/* the region: two forked writers and the parent's reading */
	const struct route routes[] = {
		{ "GET", "/api/info/", NULL, 0, 0 },
		{ "GET", "/api/dandisets/(\\d{6})/", NULL, 0, 0 },
	};
	struct buf b;
	buf_init(&b);
	metrics_render(&b, routes, 2);
	is_int(b.len, 0, "no region: nothing rendered");
	metrics_request_end(0, "GET", 200, 0.001);	/* and nothing counted, no crash */
	is_int(metrics_open(2, 2, err, sizeof(err)), 0, "the region maps");
	for (int w = 0; w < 2; w++) {
		pid_t pid = fork();
		if (pid == 0) {
			metrics_worker(w);
			for (int i = 0; i < 3 + w; i++) {
				metrics_request_begin();
				metrics_request_end(0, "GET", 200, 0.003);
			}
			metrics_request_end(1, "HEAD", 404, 0.2);
			metrics_request_end(-1, "BREW", 418, 20);
			metrics_db_reconnect();	/* the first: not counted */
			metrics_db_reconnect();
			metrics_s3_request("PUT", 0.07, w == 1);
			metrics_request_begin();	/* left in flight */
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
	}
	metrics_worker_restarted(1);
	metrics_render(&b, routes, 2);
	is_str(series(&b, "dandi_http_requests_total{route=\"/api/info/\",method=\"GET\",status=\"200\"}"), "7",
	    "both workers' requests summed");
	is_str(series(&b, "dandi_http_requests_total{route=\"/api/dandisets/{dandiset_id}/\",method=\"HEAD\","
	    "status=\"404\"}"), "2", "by route label, method and status");
	is_str(series(&b, "dandi_http_requests_total{route=\"unmatched\",method=\"other\",status=\"other\"}"), "2",
	    "no route, an unknown method and status");
	is_str(series(&b, "dandi_http_request_duration_seconds_bucket{route=\"/api/info/\",le=\"0.001\"}"), NULL,
	    "no 0.001 bucket");
	is_str(series(&b, "dandi_http_request_duration_seconds_bucket{route=\"/api/info/\",le=\"0.005\"}"), "7",
	    "3 ms in the 5 ms bucket");
	is_str(series(&b, "dandi_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"10\"}"), "0",
	    "20 s is past the 10 s bucket");
	is_str(series(&b, "dandi_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"}"), "2",
	    "... and in +Inf");
	is_str(series(&b, "dandi_http_request_duration_seconds_sum{route=\"/api/info/\"}"), "0.021000",
	    "the sum in seconds");
	is_str(series(&b, "dandi_http_request_duration_seconds_count{route=\"/api/info/\"}"), "7", "the count");
	is_str(series(&b, "dandi_http_requests_in_flight"), "1",
	    "the restarted worker's request is no longer in flight, the other's is");
	is_str(series(&b, "dandi_api_worker_restarts_total"), "1", "the restart counted");
	is_str(series(&b, "dandi_db_reconnects_total"), "2", "a reconnect per process after its first connection");
	is_str(series(&b, "dandi_s3_requests_total{method=\"PUT\"}"), "2", "S3 requests");
	is_str(series(&b, "dandi_s3_request_errors_total{method=\"PUT\"}"), "1", "S3 errors");
	is_str(series(&b, "dandi_s3_request_duration_seconds_bucket{method=\"PUT\",le=\"0.1\"}"), "2", "S3 latency");
	ok(strstr(b.data, "# TYPE dandi_http_requests_total counter\n") != NULL, "TYPE lines");
	metrics_close();
	buf_free(&b);
	return done_testing();
}
