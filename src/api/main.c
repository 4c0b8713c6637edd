/*
 * main.c - dandi-api: a pre-forking FastCGI server. The supervisor opens the
 * unix socket, forks the workers and restarts any that die; each worker runs
 * its own accept loop with its own database connection. What workers share
 * is in memory the supervisor maps before forking: the metrics' counters
 * and group commit's queue of asset writes (groupcommit.h); more workers
 * (or more machines) is all scaling takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "extsvc.h"
#include "groupcommit.h"
#include "metrics.h"
#include "runslots.h"

#define MAX_WORKERS 256

static volatile sig_atomic_t	stopping, reloading;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGHUP (systemctl reload): the supervisor re-reads the configuration. */
static void
on_hup(int sig)
{
	(void)sig;
	reloading = 1;
}

/* SIGALRM: only wakes the supervisor's waitpid while workers drain. */
static void
on_alarm(int sig)
{
	(void)sig;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Unknown";
	}
}

static const char *
param(FCGX_Request *rq, const char *name)
{
	return FCGX_GetParam(name, rq->envp);
}

/* Fills req from the FastCGI environment; answers errors itself. Returns 0
 * when the request should be routed. */
static int
read_request(FCGX_Request *rq, struct request *req, const struct config *cfg)
{
	const char *m = param(rq, "REQUEST_METHOD");
	const char *uri = param(rq, "REQUEST_URI");
	const char *cl = param(rq, "CONTENT_LENGTH");
	int64_t len = 0;

	/* First, so that every answer and log line names it, errors here too. */
	request_id_set(req, param(rq, "REQUEST_ID"), param(rq, "HTTP_X_REQUEST_ID"));
	log_context(req->request_id, NULL);
	req->method = arena_strdup(&req->arena, m ? m : "GET");
	req->head = strcmp(req->method, "HEAD") == 0;
	req->authorization = param(rq, "HTTP_AUTHORIZATION");
	req->cookie = param(rq, "HTTP_COOKIE");
	req->csrf_header = param(rq, "HTTP_X_CSRFTOKEN");
	req->access_header = param(rq, "HTTP_X_DANDI_ACCESS");
	req->origin = param(rq, "HTTP_ORIGIN");
	req->cors_method = param(rq, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
	req->remote_addr = param(rq, "REMOTE_ADDR");
	req->if_none_match = param(rq, "HTTP_IF_NONE_MATCH");
	req->content_type = param(rq, "CONTENT_TYPE");
	if (request_parse_uri(req, uri ? uri : "/") != 0)
		return -1;

	if (cl != NULL && *cl != '\0' && (!parse_int64(cl, &len) || len < 0))
		return resp_detail(req, 400, "Bad Content-Length."), -1;
	if ((size_t)len > cfg->max_body) {
		metrics_body_refused();
		return resp_detail(req, 413, "Request body too large."), -1;
	}
	char *body = arena_alloc(&req->arena, (size_t)len + 1);
	int got = len > 0 ? FCGX_GetStr(body, (int)len, rq->in) : 0;
	if (got != len)
		return resp_detail(req, 400, "Incomplete request body."), -1;
	body[len] = '\0';
	req->body = body;
	req->body_len = (size_t)len;
	return 0;
}

/*
 * The response goes out as FastCGI STDOUT records. libfcgi's stream wraps
 * whatever is put into it in records of its 8 KB buffer, one write(2)
 * each: 4 writes for a 24 KB page. An answer that fits the buffer still
 * goes through it (FCGX_Finish_r then writes it with the end records in
 * one write); a larger one is written here as records of up to 64 KB with
 * writev(2), and FCGX_Finish_r adds only the empty STDOUT record and
 * END_REQUEST. The protocol is the same either way: STDOUT records of the
 * request's id, in order, then the end of the stream and of the request.
 */
#define FCGI_STREAM_ROOM	(8192 - 8)	/* libfcgi's writer: 8 KB less a record header */
#define FCGI_RECORD_MAX		65528		/* contentLength is 16 bits; kept a multiple of 8 */
#define FCGI_STDOUT_TYPE	6
#define FCGI_IOV_BATCH		48		/* 16 records of 3 parts: ~1 MB a writev */

/* writev until all of iov is written (a signal can cut a write short).
 * 0, or -1 when the connection failed. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Writes the two parts (the head, then the body) as STDOUT records of
 * rq's request straight to its connection. 0, or -1 on a failed write. */
static int
write_records(FCGX_Request *rq, const char *head, size_t hlen, const char *body, size_t blen)
{
	unsigned char	hdr[FCGI_IOV_BATCH / 3][8];
	struct iovec	iov[FCGI_IOV_BATCH];
	const char	*part[2] = { head, body };
	size_t		 left[2] = { hlen, blen };
	int		 p = 0;

	while (left[0] + left[1] > 0) {
		int niov = 0, nrec = 0;
		while (left[0] + left[1] > 0 && nrec < FCGI_IOV_BATCH / 3) {
			size_t clen = left[0] + left[1];
			if (clen > FCGI_RECORD_MAX)
				clen = FCGI_RECORD_MAX;
			unsigned char *h = hdr[nrec++];
			h[0] = 1;	/* FCGI_VERSION_1 */
			h[1] = FCGI_STDOUT_TYPE;
			h[2] = (unsigned char)(rq->requestId >> 8);
			h[3] = (unsigned char)rq->requestId;
			h[4] = (unsigned char)(clen >> 8);
			h[5] = (unsigned char)clen;
			h[6] = h[7] = 0;	/* no padding, reserved */
			iov[niov++] = (struct iovec){ h, 8 };
			for (size_t rest = clen; rest > 0; ) {
				while (left[p] == 0)
					p++;
				size_t n = left[p] < rest ? left[p] : rest;
				iov[niov++] = (struct iovec){ (void *)part[p], n };
				part[p] += n, left[p] -= n, rest -= n;
			}
		}
		if (writev_all(rq->ipcFd, iov, niov) != 0)
			return -1;
	}
	return 0;
}

static void
write_response(FCGX_Request *rq, struct request *req, struct buf *head)
{
	bool no_body = req->head || req->status == 204 || req->status == 304;
	size_t blen = no_body ? 0 : req->out.len;

	head->len = 0;
	buf_printf(head, "Status: %d %s\r\n", req->status, reason(req->status));
	if (req->content_type_out != NULL && req->status != 304)
		buf_printf(head, "Content-Type: %s\r\n", req->content_type_out);
	if (req->accel_redirect != NULL)
		buf_printf(head, "X-Accel-Redirect: %s\r\n", req->accel_redirect);
	else if (req->status != 204 && req->status != 304)
		buf_printf(head, "Content-Length: %lu\r\n", (unsigned long)req->out.len);
	/* Origin: the CORS headers depend on it (django-cors-headers adds it
	 * to every answer). */
	buf_puts(head, "Vary: Accept, Authorization, Origin\r\n");
	for (int i = 0; i < req->nhdr; i++)
		buf_printf(head, "%s: %s\r\n", req->hdr_name[i], req->hdr_value[i]);
	buf_puts(head, "\r\n");
	if (head->len + blen > FCGI_STREAM_ROOM) {
		if (write_records(rq, head->data, head->len, req->out.data, blen) != 0)
			log_warn("writing the response to nginx: %s", strerror(errno));
		return;
	}
	FCGX_PutStr(head->data, (int)head->len, rq->out);
	if (blen > 0)
		FCGX_PutStr(req->out.data, (int)blen, rq->out);
}

/* True when all nginx sends for the request has been read: the body and
 * the empty STDIN record that ends it. Nothing more can then arrive on the
 * connection, so it may be closed at once: libfcgi's close otherwise
 * shuts down our side and waits for nginx to close its own (reading
 * whatever comes meanwhile, lest an unread byte reset the connection),
 * and the worker sits idle until nginx gets round to it. A request whose
 * body was left unread (a 413) keeps that lingering close: nginx may
 * still be sending it. */
static bool
request_drained(FCGX_Request *rq)
{
	return FCGX_GetChar(rq->in) == EOF && FCGX_GetError(rq->in) == 0;
}

/* Whether the request gets dandi-api's own access line (request_log):
 * nginx logs every request, so by default only what nginx cannot tell
 * apart (which 5xx, who, how slow inside the app) costs a write. */
static bool
request_logged(const struct config *cfg, int status, double seconds)
{
	switch (cfg->request_log[0]) {
	case 'a':	/* all */
		return true;
	case 'e':	/* errors */
		return status >= 500 || seconds * 1000.0 >= cfg->request_log_slow_ms;
	default:	/* off */
		return false;
	}
}

/* The next connection from nginx, or -1 when stopping. The worker keeps
 * SIGTERM and SIGINT blocked but while it waits here (epoll_pwait opens
 * them), so a stop or a reload interrupts the wait for a connection and
 * never the reading of one just accepted: libfcgi would drop that one, and
 * nginx answer its request 502. Under load a connection is always queued
 * and the worker never waits: it looks at its pending signals instead. The
 * listening socket is non-blocking (a connection two workers were woken
 * for is taken by one; the other waits again) and EPOLLEXCLUSIVE wakes one
 * idle worker a connection. Two system calls a request under load (there
 * were four: libfcgi's accept and select, and unblocking and blocking the
 * signals around each request). */
static int
next_connection(int sock, int ep, const sigset_t *open)
{
	for (;;) {
		sigset_t pending;

		if (sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)))
			stopping = 1;	/* blocked, so not yet handled */
		if (stopping)
			return -1;
		int fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct epoll_event ev;

			(void)epoll_pwait(ep, &ev, 1, -1, open);	/* -1 (EINTR): a signal */
		} else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
			log_error("accepting a connection: %s", strerror(errno));
			return -1;	/* the supervisor starts another worker */
		}
	}
}

static int
worker_main(int sock, const struct config *cfg)
{
	FCGX_Request	 rq;
	struct buf	 head;	/* the response's status and header lines */
	char		 err[256];
	struct server	*srv = server_new(cfg, err, sizeof(err));

	if (srv == NULL) {
		log_error("worker start failed: %s", err);
		return 1;
	}
	/* Connect eagerly so the first request does not pay for it; a
	 * database that is down now is retried per request. */
	(void)db_ensure(server_db(srv));
	FCGX_InitRequest(&rq, sock, FCGI_FAIL_ACCEPT_ON_INTR);
	buf_init(&head);
	/* A stop or a reload interrupts a worker waiting for a request and
	 * never one serving a request: the signals are blocked but while it
	 * waits (next_connection). */
	sigset_t term, open;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &open);
	sigdelset(&open, SIGTERM);
	sigdelset(&open, SIGINT);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event listening = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sock, &listening) != 0) {
		log_error("worker start failed: epoll: %s", strerror(errno));
		buf_free(&head);
		server_free(srv);
		return 1;
	}
	for (;;) {
		/* A run slot first (runslots.h): kept from request to request. */
		runslots_take(&stopping, &open);
		if (stopping)
			break;
		int fd = next_connection(sock, ep, &open);
		if (fd < 0)
			break;
		/* libfcgi reads the request from the connection given to it
		 * (and accepts on its own only if that one fails: then it finds
		 * none queued, or one to serve); keepConnection stops the
		 * Finish it begins with from closing it. */
		rq.ipcFd = fd;
		rq.keepConnection = 1;
		if (FCGX_Accept_r(&rq) < 0)
			continue;	/* nginx went away before sending it */
		struct request req;
		double t0 = mono_seconds();

		runslots_busy();
		metrics_request_begin();
		request_init(&req, cfg, server_db(srv));
		if (read_request(&rq, &req, cfg) == 0)
			server_handle(srv, &req);
		server_finish(srv, &req);
		write_response(&rq, &req, &head);
		double secs = mono_seconds() - t0;
		metrics_request_end(req.route_row != NULL ? req.route_row - api_routes : -1, req.method, req.status, secs);
		if (request_logged(cfg, req.status, secs))
			log_access(req.method, req.uri, req.status, (long long)req.out.len,
			    secs, req.user ? req.user->username : NULL, req.user_id_str);
		/* libfcgi's "detached" request is closed without the wait. */
		if (request_drained(&rq))
			FCGX_Detach(&rq);
		FCGX_Finish_r(&rq);
		/* The answer is gone: an error report costs the client nothing. */
		server_report(srv, &req);
		request_finish(&req);
		log_context(NULL, NULL);
		runslots_idle();
	}
	close(ep);
	runslots_release();
	buf_free(&head);
	server_free(srv);
	return 0;
}

/* A worker killed by a signal (a crash: nginx answered its request 502)
 * or exiting with an error, to Sentry; after the new one has started. */
static void
report_worker_exit(struct sentry *sentry, pid_t pid, int status)
{
	char msg[128];

	if (sentry == NULL || stopping || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return;
	if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "worker %ld killed by signal %d (%s)", (long)pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(msg, sizeof(msg), "worker %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
	struct sentry_event ev = { .message = msg };
	(void)sentry_capture(sentry, &ev);
}

static pid_t
spawn_worker(int sock, const struct config *cfg, int slot)
{
	pid_t pid = fork();

	if (pid == 0) {
		metrics_worker(slot);
		gc_worker(slot);
		struct sigaction sa = { .sa_handler = on_term };
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_IGN);	/* the supervisor's to act on */
		signal(SIGALRM, SIG_DFL);
		_exit(worker_main(sock, cfg));
	}
	if (pid < 0)
		log_error("fork: %s", strerror(errno));
	return pid;
}

/* Gives the socket the group nginx runs as (a name or a number); with none
 * it keeps the process's. chmod again: 0660 whatever the file system did. */
static int
socket_set_group(const char *path, const char *group, char *err, size_t errlen)
{
	if (group != NULL && *group != '\0') {
		struct group *gr = getgrnam(group);
		char *end;
		long gid = strtol(group, &end, 10);

		if (gr != NULL)
			gid = (long)gr->gr_gid;
		else if (*end != '\0' || gid < 0) {
			snprintf(err, errlen, "socket_group: no group '%s'", group);
			return -1;
		}
		/* A process may only give a file a group it is a member of. */
		if (chown(path, (uid_t)-1, (gid_t)gid) != 0) {
			snprintf(err, errlen, "socket_group: cannot give the socket the group '%s': %s",
			    group, strerror(errno));
			return -1;
		}
	}
	if (chmod(path, 0660) != 0) {
		snprintf(err, errlen, "cannot chmod the socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The configuration as the command line makes it: the file (or the
 * environment), then -s and -n. 0, or -1 with err set. */
static int
load_config(struct config *cfg, const char *path, int explicit_cfg, const char *sockpath, int workers,
    char *err, size_t errlen)
{
	if (config_load(cfg, path, explicit_cfg, err, errlen) != 0)
		return -1;
	if (sockpath != NULL) {
		free(cfg->socket);
		cfg->socket = xstrdup(sockpath);
	}
	if (workers > 0)
		cfg->workers = workers;
	if (cfg->workers < 1 || cfg->workers > MAX_WORKERS) {
		snprintf(err, errlen, "workers must be 1..%d", MAX_WORKERS);
		config_free(cfg);
		return -1;
	}
	return 0;
}

/* What the workers build from a configuration, built once here: a bad
 * one fails the start, or a reload, instead of every worker. */
static int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	struct cors *cors = cors_new(cfg, err, errlen);

	if (cors == NULL)
		return -1;
	cors_free(cors);
	if (metrics_allow_check(cfg->metrics_allow, err, errlen) != 0)
		return -1;
	struct json_object *ext = extsvc_load(cfg, err, errlen);
	if (ext == NULL)
		return -1;
	json_object_put(ext);
	err[0] = '\0';
	struct sentry *sentry = sentry_new(cfg, "dandi-api", err, errlen);
	if (sentry == NULL && err[0] != '\0')
		return -1;
	sentry_free(sentry);
	return 0;
}

/* The workers: the generation serving, and the one before a reload while
 * it finishes its requests. Each generation counts into its own half of
 * the metrics slots, so that an old worker and its successor never write
 * one slot at once. */
#define DRAIN_SECONDS	300	/* then what is left is killed: nginx's fastcgi_read_timeout */
struct pool {
	pid_t	pids[MAX_WORKERS];
	int	n;		/* workers of the serving generation */
	int	size;		/* workers at most: the start's, the slots of one half */
	int	base;		/* its first metrics slot: 0 or size */
	pid_t	draining[MAX_WORKERS];
	int	ndraining;
	time_t	drain_until;
};

/* Whether pid was a draining worker (then forgotten). */
static bool
pool_drained(struct pool *p, pid_t pid)
{
	for (int i = 0; i < p->ndraining; i++) {
		if (p->draining[i] != pid)
			continue;
		p->draining[i] = p->draining[--p->ndraining];
		if (p->ndraining == 0)
			log_info("reload: the previous workers have finished");
		return true;
	}
	return false;
}

/* How many workers run at once (running_workers, runslots.h): 0 asks for
 * the cores when PostgreSQL shares them (a unix socket or a loopback host),
 * else none; a limit at or over the pool's size is none. */
static int
run_limit(const struct config *cfg)
{
	int n = cfg->running_workers;

	if (n == 0 && db_conninfo_local(cfg->db)) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (int)cores : 0;
	}
	return n >= cfg->workers ? 0 : n;
}

/* SIGHUP: a new generation of workers with the configuration read again
 * (the log file opened again too: after logrotate), then the old ones are
 * told to stop; each finishes the request it serves. The listening socket
 * stays open throughout, so nginx's connections wait in its backlog at
 * worst and none is refused. What needs a restart (the socket, more
 * workers than at the start, metrics on or off) is kept and said. */
static void
pool_reload(struct pool *p, struct config *cfg, const char *path, int explicit_cfg, const char *sockpath,
    int workers, int sock, struct sentry **sentry)
{
	struct config	next;
	char		err[512];

	if (load_config(&next, path, explicit_cfg, sockpath, workers, err, sizeof(err)) != 0) {
		log_error("reload: %s; the running configuration stays", err);
		return;
	}
	if (config_check(&next, err, sizeof(err)) != 0) {
		log_error("reload: %s; the running configuration stays", err);
		config_free(&next);
		return;
	}
	if (strcmp(next.socket, cfg->socket) != 0) {
		log_warn("reload: a new socket needs a restart; still listening on %s", cfg->socket);
		free(next.socket);
		next.socket = xstrdup(cfg->socket);
	}
	if (next.workers > p->size) {
		log_warn("reload: more than %d workers needs a restart; starting %d", p->size, p->size);
		next.workers = p->size;
	}
	if (next.metrics != cfg->metrics) {
		log_warn("reload: turning metrics on or off needs a restart");
		next.metrics = cfg->metrics;
	}
	log_open(next.log_file, "dandi-api", log_level_parse(next.log_level));
	sentry_free(*sentry);
	*sentry = sentry_new(&next, "dandi-api", err, sizeof(err));

	for (int i = 0; i < p->n; i++) {
		if (p->pids[i] <= 0)
			continue;
		p->draining[p->ndraining++] = p->pids[i];
	}
	p->base = p->base == 0 ? p->size : 0;
	p->n = next.workers;
	for (int i = 0; i < p->n; i++)
		p->pids[i] = spawn_worker(sock, &next, p->base + i);
	for (int i = 0; i < p->ndraining; i++)
		kill(p->draining[i], SIGTERM);
	p->drain_until = time(NULL) + DRAIN_SECONDS;
	metrics_set_workers(p->n);
	runslots_set_limit(run_limit(&next));
	config_free(cfg);
	*cfg = next;
	log_info("reload: %d workers started with the configuration read again; %d finishing their requests;"
	    " %d running at once (0: all)", p->n, p->ndraining, runslots_limit());
}

static void
usage(void)
{
	fprintf(stderr, "usage: dandi-api [-c config] [-s socket] [-n workers] [-p pidfile]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct config	 cfg;
	const char	*cfgpath = DANDI_CONFIG_DEFAULT, *sockpath = NULL, *pidfile = NULL;
	int		 explicit_cfg = 0, workers = -1, ch;
	char		 err[512];
	static struct pool pool;

	while ((ch = getopt(argc, argv, "c:s:n:p:h")) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; explicit_cfg = 1; break;
		case 's': sockpath = optarg; break;
		case 'n': workers = atoi(optarg); break;
		case 'p': pidfile = optarg; break;
		default: usage();
		}
	}
	if (load_config(&cfg, cfgpath, explicit_cfg, sockpath, workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	log_open(cfg.log_file, "dandi-api", log_level_parse(cfg.log_level));

	/* Fail at start, not per request, on a bad route table. */
	struct router *check = router_new(api_routes, api_nroutes, err, sizeof(err));
	if (check == NULL || server_routes_check(api_routes, api_nroutes, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	router_free(check);
	if (config_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	/* The supervisor's own reports: workers that die (each worker makes
	 * its own reporter for its requests). */
	struct sentry *sentry = sentry_new(&cfg, "dandi-api", err, sizeof(err));

	if (FCGX_Init() != 0) {
		fprintf(stderr, "dandi-api: FCGX_Init failed\n");
		return 1;
	}
	/* Only the owner and the group (nginx's) may connect. The socket is
	 * made under a name of its own (0660 by the umask, never open to all
	 * even for a moment), given its group, then renamed into place: what
	 * appears at cfg.socket is complete and listening. */
	char tmp_socket[256];	/* more than a unix socket's path may hold */
	snprintf(tmp_socket, sizeof(tmp_socket), "%s.%ld", cfg.socket, (long)getpid());
	unlink(tmp_socket);
	mode_t old_umask = umask(0117);
	int sock = FCGX_OpenSocket(tmp_socket, 256);
	umask(old_umask);
	if (sock < 0) {
		fprintf(stderr, "dandi-api: cannot listen on %s: %s\n", cfg.socket, strerror(errno));
		return 1;
	}
	/* Workers accept without blocking (next_connection). */
	if (fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) != 0) {
		fprintf(stderr, "dandi-api: %s: %s\n", cfg.socket, strerror(errno));
		unlink(tmp_socket);
		return 1;
	}
	if (socket_set_group(tmp_socket, cfg.socket_group, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		unlink(tmp_socket);
		return 1;
	}
	if (rename(tmp_socket, cfg.socket) != 0) {
		fprintf(stderr, "dandi-api: cannot create %s: %s\n", cfg.socket, strerror(errno));
		unlink(tmp_socket);
		return 1;
	}
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");
		if (f != NULL) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
	}

	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct sigaction hup = { .sa_handler = on_hup }, alrm = { .sa_handler = on_alarm };
	sigaction(SIGHUP, &hup, NULL);
	sigaction(SIGALRM, &alrm, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The pool's counters: mapped here, shared by every worker forked;
	 * two halves, one a generation (struct pool). */
	pool.size = pool.n = cfg.workers;
	if (cfg.metrics && metrics_open(api_nroutes, 2 * cfg.workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	/* Group commit's queue (groupcommit.h): a slot per metrics slot;
	 * mapped whatever write_batch says, so that a reload may turn it on. */
	if (gc_open(2 * cfg.workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	/* The run slots (runslots.h), shared by the generations of a reload. */
	if (runslots_open(err, sizeof(err)) != 0) {
		fprintf(stderr, "dandi-api: %s\n", err);
		return 1;
	}
	runslots_set_limit(run_limit(&cfg));
	metrics_set_workers(pool.n);
	for (int i = 0; i < pool.n; i++)
		pool.pids[i] = spawn_worker(sock, &cfg, pool.base + i);
	log_info("listening on %s with %d workers, %d running at once (0: all)", cfg.socket, cfg.workers,
	    runslots_limit());

	time_t last_spawn = 0;
	while (!stopping) {
		/* One reload at a time: the next waits for the last one's
		 * old workers to finish. */
		if (reloading && pool.ndraining == 0) {
			reloading = 0;
			pool_reload(&pool, &cfg, cfgpath, explicit_cfg, sockpath, workers, sock, &sentry);
		}
		if (pool.ndraining > 0)
			alarm(1);
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		alarm(0);
		if (pid < 0) {
			if (errno != EINTR)
				break;
			if (pool.ndraining > 0 && time(NULL) >= pool.drain_until) {
				log_warn("reload: %d old workers still busy after %d s; killing them", pool.ndraining,
				    DRAIN_SECONDS);
				for (int i = 0; i < pool.ndraining; i++)
					kill(pool.draining[i], SIGKILL);
				pool.drain_until = time(NULL) + DRAIN_SECONDS;
			}
			continue;
		}
		runslots_reap(pid);	/* a slot of a worker that died holding it */
		if (pool_drained(&pool, pid))
			continue;
		for (int i = 0; i < pool.n; i++) {
			if (pool.pids[i] != pid)
				continue;
			log_context(NULL, NULL);
			log_warn("worker %ld exited (status %d); restarting", (long)pid, status);
			/* A worker that dies at once every time must not spin. */
			if (time(NULL) == last_spawn)
				sleep(1);
			last_spawn = time(NULL);
			if (!stopping)
				metrics_worker_restarted(pool.base + i);
			pool.pids[i] = stopping ? 0 : spawn_worker(sock, &cfg, pool.base + i);
			report_worker_exit(sentry, pid, status);
		}
	}

	/* Idle workers wait for a connection; SIGTERM interrupts the wait.
	 * Busy ones finish their request first (next_connection). */
	for (int i = 0; i < pool.n; i++)
		if (pool.pids[i] > 0)
			kill(pool.pids[i], SIGTERM);
	for (int i = 0; i < pool.ndraining; i++)
		kill(pool.draining[i], SIGTERM);
	for (int i = 0; i < pool.n; i++)
		if (pool.pids[i] > 0)
			waitpid(pool.pids[i], NULL, 0);
	for (int i = 0; i < pool.ndraining; i++)
		waitpid(pool.draining[i], NULL, 0);
	unlink(cfg.socket);
	if (pidfile != NULL)
		unlink(pidfile);
	log_info("stopped");
	sentry_free(sentry);
	metrics_close();
	gc_close();
	runslots_close();
	config_free(&cfg);
	return 0;
}
