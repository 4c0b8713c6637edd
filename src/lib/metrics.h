/* metrics.h - the dandi-api pool's counters for GET /metrics (Prometheus
 * text format). The supervisor maps one shared region before it forks;
 * each worker writes only its own slot of it (no locks, no contended
 * cache lines) and a scrape sums the slots, so the counts are the whole
 * pool's and outlive a worker's restart (the slot belongs to the
 * supervisor's mapping). In a process without the region (dandi-jobs,
 * dandi-admin, metrics = off) every counting call does nothing. */
#ifndef DANDI_METRICS_H
#define DANDI_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct route;

/* The advisory lock class (key1 of the two-key form) that dandi-jobs run
 * holds on a job while it works it (src/jobs/queue.c, key2 the job id):
 * the scrape counts running jobs by it in pg_locks. */
#define METRICS_JOB_LOCK	"7294017"

/* Supervisor, before forking: the region for nroutes routes and nslots
 * workers. 0, or -1 with err set. */
int	 metrics_open(size_t nroutes, int nslots, char *err, size_t errlen);
void	 metrics_close(void);
bool	 metrics_on(void);
/* In a worker, first thing: it counts into slot i from now on. */
void	 metrics_worker(int slot);
/* Supervisor: worker i died and is being replaced (a request it was
 * working on is no longer in flight). */
void	 metrics_worker_restarted(int slot);
/* Supervisor: the workers serving now (the dandi_api_workers gauge). */
void	 metrics_set_workers(int n);

/* One request: begin when it is accepted, end when its answer is out.
 * route is the index of the matched row of the table, -1 for none. */
void	 metrics_request_begin(void);
void	 metrics_request_end(long route, const char *method, int status, double seconds);
/* A request body refused for its size (max_body). */
void	 metrics_body_refused(void);

/* From the library: db.c and http.c, s3.c. */
void	 metrics_db_error(void);		/* a statement failed (not a constraint) */
void	 metrics_db_connect_failed(void);	/* connecting, or the connection was lost */
void	 metrics_db_reconnect(void);	/* a connection made after the process's first */
void	 metrics_db_unavailable_answer(void);	/* a 503 for want of the database */
/* One S3 HTTP attempt (a retry is another): its method, how long it took
 * and whether it failed (transport error or 5xx). */
void	 metrics_s3_request(const char *method, double seconds, bool failed);

/* The pool's counters in the text exposition format (version 0.0.4),
 * routes labelled by their patterns as templates (routes[i].pattern with
 * each capture group named after the path segment before it). */
void	 metrics_render(struct buf *, const struct route *routes, size_t nroutes);
/* A label's value as the text format writes it (backslash, double quote
 * and newline escaped). */
void	 metrics_label_value(struct buf *, const char *value);
/* The label of a route pattern: "/api/dandisets/(\d{6})/" ->
 * "/api/dandisets/{dandiset_id}/". out has room for len bytes. */
void	 metrics_route_label(const char *pattern, char *out, size_t len);

/* metrics_allow: addresses and CIDRs (IPv4, IPv6), space- or
 * comma-separated. metrics_allow_check: 0, or -1 with what is wrong in err.
 * metrics_allowed: whether addr (REMOTE_ADDR) is in the list. */
int	 metrics_allow_check(const char *list, char *err, size_t errlen);
bool	 metrics_allowed(const char *list, const char *addr);

#endif
