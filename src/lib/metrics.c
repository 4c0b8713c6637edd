/*
 * metrics.c - the pool's counters in shared memory (metrics.h says why) and
 * their rendering in Prometheus's text format.
 *
 * Layout: a header the supervisor alone writes (restarts, start time), then
 * one slot per worker, each a whole number of cache lines. A slot is a
 * fixed part (in flight, database, S3, body refusals) followed by the
 * request counters of every route: requests by (route, method, status),
 * the latency histogram's buckets by route, and the latency sum by route.
 * Row nroutes of each is "no route" (a 404, an answer before routing).
 *
 * A slot has one writer, its worker; a scrape (another worker) reads while
 * it writes. Every access is a relaxed atomic load or store of an aligned
 * 64-bit word, so a reader never sees a torn value and the writer pays a
 * plain load and store (no locked instruction: nobody else writes there);
 * only the S3 counters, which a worker's threads may share, take a locked
 * add.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "metrics.h"
#include "router.h"
#include "runslots.h"

/* Prometheus's default buckets, in seconds; the last bucket is +Inf. */
static const double	bucket_le[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS	(sizeof(bucket_le) / sizeof(bucket_le[0]) + 1)

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other" };
#define NMETHODS	(sizeof(methods) / sizeof(methods[0]))

/* The statuses the API and nginx's FastCGI side can answer; any other is
 * counted as "other". */
static const int	statuses[] = { 200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403,
	404, 405, 406, 409, 410, 412, 413, 414, 415, 416, 422, 423, 429, 431, 500, 501, 502, 503, 504 };
#define NSTATUSES	(sizeof(statuses) / sizeof(statuses[0]) + 1)

struct slot {
	uint64_t	in_flight;	/* 0 or 1: a worker works one request at a time */
	uint64_t	body_refused;
	uint64_t	db_errors;
	uint64_t	db_connect_failed;
	uint64_t	db_reconnects;
	uint64_t	db_unavailable_answers;
	uint64_t	s3_requests[NMETHODS];
	uint64_t	s3_errors[NMETHODS];
	uint64_t	s3_buckets[NMETHODS][NBUCKETS];
	uint64_t	s3_sum_us[NMETHODS];
	/* requests[(nroutes + 1) * NMETHODS * NSTATUSES], then
	 * buckets[(nroutes + 1) * NBUCKETS], then sum_us[nroutes + 1] */
	uint64_t	route[];
};

struct region {
	uint64_t	restarts;	/* the supervisor's */
	double		started;	/* the supervisor's start, Unix seconds */
	size_t		nroutes;
	size_t		nslots;
	size_t		workers;	/* serving now (a reload's old ones aside) */
	size_t		slot_size;	/* bytes, a multiple of 64 */
	size_t		size;		/* the whole mapping */
};

static struct region	*region;
static struct slot	*self;		/* this worker's; NULL outside a worker */
static bool		 had_connection;	/* this process connected once already */

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
/* Single writer: a plain read-modify-write, stored atomically. */
#define ADD(p, n)	__atomic_store_n((p), LOAD(p) + (n), __ATOMIC_RELAXED)
/* S3 requests may come from several threads of one worker (a blob read
 * back in parallel ranges, src/lib/rangefeed.c): a locked add for those,
 * whose cost is nothing beside an HTTP request's. */
#define ADD_MT(p, n)	__atomic_fetch_add((p), (n), __ATOMIC_RELAXED)

static size_t
route_words(size_t nroutes)
{
	return (nroutes + 1) * (NMETHODS * NSTATUSES + NBUCKETS + 1);
}

static struct slot *
slot_at(size_t i)
{
	return (struct slot *)((char *)region + 64 * ((sizeof(struct region) + 63) / 64) + i * region->slot_size);
}

int
metrics_open(size_t nroutes, int nslots, char *err, size_t errlen)
{
	size_t	slot_size = sizeof(struct slot) + route_words(nroutes) * sizeof(uint64_t);
	size_t	head = 64 * ((sizeof(struct region) + 63) / 64);

	slot_size = 64 * ((slot_size + 63) / 64);
	size_t size = head + (size_t)nslots * slot_size;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "metrics: cannot map %zu bytes of shared memory", size);
		return -1;
	}
	region = p;	/* zero-filled by mmap */
	region->nroutes = nroutes;
	region->nslots = (size_t)nslots;
	region->slot_size = slot_size;
	region->size = size;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	region->started = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	return 0;
}

void
metrics_close(void)
{
	if (region != NULL)
		munmap(region, region->size);
	region = NULL;
	self = NULL;
}

bool
metrics_on(void)
{
	return region != NULL;
}

void
metrics_worker(int i)
{
	if (region == NULL || i < 0 || (size_t)i >= region->nslots)
		return;
	self = slot_at((size_t)i);
	__atomic_store_n(&self->in_flight, 0, __ATOMIC_RELAXED);
}

void
metrics_worker_restarted(int i)
{
	if (region == NULL || i < 0 || (size_t)i >= region->nslots)
		return;
	ADD(&region->restarts, 1);
	__atomic_store_n(&slot_at((size_t)i)->in_flight, 0, __ATOMIC_RELAXED);
}

void
metrics_set_workers(int n)
{
	if (region != NULL && n >= 0)
		__atomic_store_n(&region->workers, (size_t)n, __ATOMIC_RELAXED);
}

void
metrics_request_begin(void)
{
	if (self != NULL)
		__atomic_store_n(&self->in_flight, 1, __ATOMIC_RELAXED);
}

static size_t
method_index(const char *m)
{
	for (size_t i = 0; i + 1 < NMETHODS; i++)
		if (strcmp(m, methods[i]) == 0)
			return i;
	return NMETHODS - 1;
}

static size_t
status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUSES; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUSES - 1;
}

static size_t
bucket_index(double seconds)
{
	size_t b = 0;

	while (b + 1 < NBUCKETS && seconds > bucket_le[b])
		b++;
	return b;
}

static uint64_t
to_us(double seconds)
{
	return seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0;
}

void
metrics_request_end(long route, const char *method, int status, double seconds)
{
	if (self == NULL)
		return;
	size_t	n = region->nroutes;
	size_t	r = route >= 0 && (size_t)route < n ? (size_t)route : n;
	uint64_t *requests = self->route;
	uint64_t *buckets = requests + (n + 1) * NMETHODS * NSTATUSES;
	uint64_t *sum = buckets + (n + 1) * NBUCKETS;

	ADD(&requests[(r * NMETHODS + method_index(method ? method : "")) * NSTATUSES + status_index(status)], 1);
	ADD(&buckets[r * NBUCKETS + bucket_index(seconds)], 1);
	ADD(&sum[r], to_us(seconds));
	__atomic_store_n(&self->in_flight, 0, __ATOMIC_RELAXED);
}

void
metrics_body_refused(void)
{
	if (self != NULL)
		ADD(&self->body_refused, 1);
}

void
metrics_db_error(void)
{
	if (self != NULL)
		ADD(&self->db_errors, 1);
}

void
metrics_db_connect_failed(void)
{
	if (self != NULL)
		ADD(&self->db_connect_failed, 1);
}

void
metrics_db_reconnect(void)
{
	/* The first connection of a process is its start, not a reconnect. */
	if (!had_connection) {
		had_connection = true;
		return;
	}
	if (self != NULL)
		ADD(&self->db_reconnects, 1);
}

void
metrics_db_unavailable_answer(void)
{
	if (self != NULL)
		ADD(&self->db_unavailable_answers, 1);
}

void
metrics_s3_request(const char *method, double seconds, bool failed)
{
	if (self == NULL)
		return;
	size_t m = method_index(method ? method : "");

	ADD_MT(&self->s3_requests[m], 1);
	if (failed)
		ADD_MT(&self->s3_errors[m], 1);
	ADD_MT(&self->s3_buckets[m][bucket_index(seconds)], 1);
	ADD_MT(&self->s3_sum_us[m], to_us(seconds));
}

/* ---- rendering ---- */

/* The sum over the slots of the word at byte offset off of each. */
static uint64_t
sum_at(size_t off)
{
	uint64_t total = 0;

	for (size_t i = 0; i < region->nslots; i++)
		total += LOAD((uint64_t *)((char *)slot_at(i) + off));
	return total;
}

#define SUM(field)	sum_at(offsetof(struct slot, field))
#define ROUTE_OFF(k)	(offsetof(struct slot, route) + (k) * sizeof(uint64_t))

void
metrics_route_label(const char *pattern, char *out, size_t len)
{
	size_t	o = 0;
	/* The segment being read and the one before it (the name of a group
	 * that follows a "/"). */
	const char *seg = NULL, *prev = NULL;
	size_t	segn = 0, prevn = 0;

	if (len == 0)
		return;
	for (const char *p = pattern; *p != '\0' && o + 1 < len; p++) {
		if (*p == '(') {
			/* Skip the group (nested ones, classes, escapes included). */
			int depth = 0;
			for (; *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '[') {
					for (p++; *p != '\0' && *p != ']'; p++)
						if (*p == '\\' && p[1] != '\0')
							p++;
				} else if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0)
					break;
			}
			/* dandisets -> dandiset_id, zarr -> zarr_id, user -> user_id */
			const char *name = segn > 0 ? seg : prev;
			size_t n = segn > 0 ? segn : prevn;
			if (n > 1 && name[n - 1] == 's')
				n--;
			int w = n > 0 ? snprintf(out + o, len - o, "{%.*s_id}", (int)n, name)
			    : snprintf(out + o, len - o, "{param}");
			o += (size_t)w < len - o ? (size_t)w : len - o - 1;
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;	/* an escaped literal: the character itself */
		if (*p == '/') {
			if (segn > 0)
				prev = seg, prevn = segn;
			seg = p + 1;
			segn = 0;
		} else if (seg != NULL)
			segn++;
		out[o++] = *p;
	}
	out[o] = '\0';
}

void
metrics_label_value(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

static void
help(struct buf *b, const char *name, const char *type, const char *text)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A histogram's series from per-bucket counts (not cumulative), sum in
 * microseconds; labels is "" or `name="value",` pairs. */
static void
histogram(struct buf *b, const char *name, const char *labels, const uint64_t *counts, uint64_t sum_us)
{
	uint64_t cum = 0;

	for (size_t k = 0; k < NBUCKETS; k++) {
		cum += counts[k];
		if (k + 1 < NBUCKETS)
			buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bucket_le[k],
			    (unsigned long long)cum);
		else
			buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
	}
	/* The labels without their trailing comma, for _sum and _count. */
	size_t ln = strlen(labels);
	if (ln > 0)
		ln--;
	buf_printf(b, "%s_sum%s%.*s%s %.6f\n", name, ln ? "{" : "", (int)ln, labels, ln ? "}" : "",
	    (double)sum_us / 1e6);
	buf_printf(b, "%s_count%s%.*s%s %llu\n", name, ln ? "{" : "", (int)ln, labels, ln ? "}" : "",
	    (unsigned long long)cum);
}

void
metrics_render(struct buf *b, const struct route *routes, size_t nroutes)
{
	if (region == NULL)
		return;
	size_t	n = region->nroutes < nroutes ? region->nroutes : nroutes;
	size_t	nr = region->nroutes;
	size_t	req0 = 0, bucket0 = (nr + 1) * NMETHODS * NSTATUSES, sum0 = bucket0 + (nr + 1) * NBUCKETS;
	char	label[512];

	help(b, "dandi_http_requests_total", "counter",
	    "Requests answered by dandi-api, by route pattern (\"unmatched\": no route), method and status.");
	for (size_t r = 0; r <= nr; r++) {
		if (r < nr && r >= n)
			continue;
		if (r < nr)
			metrics_route_label(routes[r].pattern, label, sizeof(label));
		else
			snprintf(label, sizeof(label), "unmatched");
		for (size_t m = 0; m < NMETHODS; m++)
			for (size_t s = 0; s < NSTATUSES; s++) {
				uint64_t v = sum_at(ROUTE_OFF(req0 + (r * NMETHODS + m) * NSTATUSES + s));
				if (v == 0)
					continue;
				buf_puts(b, "dandi_http_requests_total{route=\"");
				metrics_label_value(b, label);
				if (s + 1 < NSTATUSES)
					buf_printf(b, "\",method=\"%s\",status=\"%d\"} %llu\n", methods[m], statuses[s],
					    (unsigned long long)v);
				else
					buf_printf(b, "\",method=\"%s\",status=\"other\"} %llu\n", methods[m],
					    (unsigned long long)v);
			}
	}

	help(b, "dandi_http_request_duration_seconds", "histogram",
	    "Time from accepting a request to its answer written, by route pattern.");
	for (size_t r = 0; r <= nr; r++) {
		uint64_t counts[NBUCKETS], total = 0;
		if (r < nr && r >= n)
			continue;
		for (size_t k = 0; k < NBUCKETS; k++)
			total += counts[k] = sum_at(ROUTE_OFF(bucket0 + r * NBUCKETS + k));
		if (total == 0)
			continue;
		if (r < nr)
			metrics_route_label(routes[r].pattern, label, sizeof(label));
		else
			snprintf(label, sizeof(label), "unmatched");
		struct buf lb;
		buf_init(&lb);
		buf_puts(&lb, "route=\"");
		metrics_label_value(&lb, label);
		buf_puts(&lb, "\",");
		histogram(b, "dandi_http_request_duration_seconds", lb.data, counts, sum_at(ROUTE_OFF(sum0 + r)));
		buf_free(&lb);
	}

	help(b, "dandi_http_requests_in_flight", "gauge",
	    "Requests being worked by the pool now (a scrape counts itself).");
	buf_printf(b, "dandi_http_requests_in_flight %llu\n", (unsigned long long)SUM(in_flight));
	help(b, "dandi_http_request_body_refusals_total", "counter",
	    "Requests refused with 413 for a body over max_body.");
	buf_printf(b, "dandi_http_request_body_refusals_total %llu\n", (unsigned long long)SUM(body_refused));

	help(b, "dandi_api_workers", "gauge", "Worker processes of the dandi-api pool.");
	buf_printf(b, "dandi_api_workers %zu\n", __atomic_load_n(&region->workers, __ATOMIC_RELAXED));
	help(b, "dandi_api_worker_restarts_total", "counter",
	    "Workers that exited and were restarted by the supervisor.");
	buf_printf(b, "dandi_api_worker_restarts_total %llu\n", (unsigned long long)LOAD(&region->restarts));
	help(b, "dandi_api_run_slots", "gauge",
	    "Workers that may run requests at once (running_workers; 0: no limit).");
	buf_printf(b, "dandi_api_run_slots %d\n", runslots_limit());
	help(b, "dandi_api_run_slot_waits_total", "counter",
	    "Times a worker waited for a run slot before accepting a request.");
	buf_printf(b, "dandi_api_run_slot_waits_total %llu\n", runslots_waits());
	char lent_help[96];
	snprintf(lent_help, sizeof(lent_help), "Requests run on the slot of a worker stuck in one request for %d ms or more.",
	    RUNSLOTS_STALL_MS);
	help(b, "dandi_api_run_slot_lent_total", "counter", lent_help);
	buf_printf(b, "dandi_api_run_slot_lent_total %llu\n", runslots_lent());
	help(b, "dandi_api_start_time_seconds", "gauge", "When the dandi-api supervisor started (Unix time).");
	buf_printf(b, "dandi_api_start_time_seconds %.3f\n", region->started);

	help(b, "dandi_db_errors_total", "counter",
	    "PostgreSQL statements that failed with an error other than a constraint violation.");
	buf_printf(b, "dandi_db_errors_total %llu\n", (unsigned long long)SUM(db_errors));
	help(b, "dandi_db_connection_failures_total", "counter",
	    "PostgreSQL connections that could not be made or were found lost.");
	buf_printf(b, "dandi_db_connection_failures_total %llu\n", (unsigned long long)SUM(db_connect_failed));
	help(b, "dandi_db_reconnects_total", "counter",
	    "PostgreSQL connections made by a worker after its first.");
	buf_printf(b, "dandi_db_reconnects_total %llu\n", (unsigned long long)SUM(db_reconnects));
	help(b, "dandi_db_unavailable_responses_total", "counter",
	    "Answers of 503 because the database was unavailable.");
	buf_printf(b, "dandi_db_unavailable_responses_total %llu\n",
	    (unsigned long long)SUM(db_unavailable_answers));

	help(b, "dandi_s3_requests_total", "counter", "HTTP requests to S3 by dandi-api (each retry counts), by method.");
	for (size_t m = 0; m < NMETHODS; m++) {
		uint64_t v = SUM(s3_requests[m]);
		if (v > 0)
			buf_printf(b, "dandi_s3_requests_total{method=\"%s\"} %llu\n", methods[m], (unsigned long long)v);
	}
	help(b, "dandi_s3_request_errors_total", "counter",
	    "S3 requests that failed: no answer (transport error) or a 5xx.");
	for (size_t m = 0; m < NMETHODS; m++) {
		uint64_t v = SUM(s3_errors[m]);
		if (SUM(s3_requests[m]) > 0)
			buf_printf(b, "dandi_s3_request_errors_total{method=\"%s\"} %llu\n", methods[m],
			    (unsigned long long)v);
	}
	help(b, "dandi_s3_request_duration_seconds", "histogram", "Time of one S3 request, by method.");
	for (size_t m = 0; m < NMETHODS; m++) {
		uint64_t counts[NBUCKETS], total = 0;
		char lb[32];
		for (size_t k = 0; k < NBUCKETS; k++)
			total += counts[k] = SUM(s3_buckets[m][k]);
		if (total == 0)
			continue;
		snprintf(lb, sizeof(lb), "method=\"%s\",", methods[m]);
		histogram(b, "dandi_s3_request_duration_seconds", lb, counts, SUM(s3_sum_us[m]));
	}
}

/* ---- who may scrape ---- */

struct net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		bits;
};

/* An address, IPv4-mapped IPv6 as IPv4. */
static bool
addr_parse(const char *s, struct net *n)
{
	unsigned char a6[16];

	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, s, a6) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(a6, mapped, 12) == 0) {
		n->family = AF_INET;
		memcpy(n->addr, a6 + 12, 4);
		n->bits = 32;
	} else {
		n->family = AF_INET6;
		memcpy(n->addr, a6, 16);
		n->bits = 128;
	}
	return true;
}

/* "addr" or "addr/bits". */
static bool
net_parse(const char *s, size_t len, struct net *n)
{
	char	tmp[64];
	char	*slash, *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	slash = strchr(tmp, '/');
	if (slash != NULL)
		*slash = '\0';
	if (!addr_parse(tmp, n))
		return false;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			return false;
		long bits = strtol(slash + 1, &end, 10);
		int max = n->family == AF_INET ? 32 : 128;
		/* A v4-mapped v6 CIDR counts its bits over the v6 form. */
		if (n->family == AF_INET && strchr(tmp, ':') != NULL)
			bits -= 96;
		if (*end != '\0' || bits < 0 || bits > max)
			return false;
		n->bits = (int)bits;
	}
	return true;
}

static bool
net_contains(const struct net *net, const struct net *a)
{
	if (net->family != a->family)
		return false;
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, a->addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (a->addr[full] & mask);
}

/* The first entry of list (its length in *len), or NULL when none is left:
 * for (p = each_entry(list, &len); p; p = each_entry(p + len, &len)). */
static const char *
each_entry(const char *list, size_t *len)
{
	const char *p = list + strspn(list, " \t,");

	if (*p == '\0')
		return NULL;
	*len = strcspn(p, " \t,");
	return p;
}

int
metrics_allow_check(const char *list, char *err, size_t errlen)
{
	struct net	n;
	size_t		len;

	for (const char *p = each_entry(list, &len); p != NULL; p = each_entry(p + len, &len))
		if (!net_parse(p, len, &n)) {
			snprintf(err, errlen, "metrics_allow: not an address or CIDR: '%.*s'", (int)len, p);
			return -1;
		}
	return 0;
}

bool
metrics_allowed(const char *list, const char *addr)
{
	struct net	a, n;
	size_t		len;

	if (addr == NULL || !addr_parse(addr, &a))
		return false;
	for (const char *p = each_entry(list, &len); p != NULL; p = each_entry(p + len, &len))
		if (net_parse(p, len, &n) && net_contains(&n, &a))
			return true;
	return false;
}
