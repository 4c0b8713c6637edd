/*
 * pagecache.c - asset-list pages rendered once, then served by nginx as
 * files (page_cache_dir; off when empty).
 *
 * Clients walk a version's asset list from page 1 by next links, so pages
 * repeat; a published version never changes and a draft changes only by
 * asset writes. Every request still comes to the API, which checks who
 * may read the version (the route's target, as for any list) and looks up
 * the state of its list: the number of folds so far, or none while writes
 * left folder deltas to fold (struct version.list_gen,
 * sql/016_folder_deltas.sql). A write always leaves deltas, so a page
 * stored under one state can never be served after a change: until the
 * fold the list is rendered for every request ("bypass"), after it the
 * state is a new one. Under that key the answer is a symlink named by the
 * request's URI to the page's file named by its ETag:
 *
 *   <dir>/<version id>/<state>/k-<sha256 of the URI>  ->  b-<etag>.json
 *
 * A hit answers with the ETag (304 when it matches If-None-Match) and
 * X-Accel-Redirect to /.dandi-page-cache/...: nginx sends the file (the
 * site's internal location, conf/nginx/dandi-site.conf.in, adds back the
 * CORS and Vary headers it would drop). A miss renders the page and stores
 * it (temporary file, then rename: readers never see half a page). Writers
 * of a new state remove the states before the previous one of that
 * version. Any error only costs the cache: the page is rendered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "api.h"

#define PAGE_CACHE_URI	"/.dandi-page-cache/"
#define CACHE_HEADER	"X-Dandi-Page-Cache"

static bool
enabled(const struct request *req)
{
	return req->cfg->page_cache_dir != NULL && req->cfg->page_cache_dir[0] != '\0';
}

/* The request's key: the hex SHA-256 of its raw URI (path and query: the
 * links of a page repeat both). */
static void
uri_key(const struct request *req, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	EVP_Digest(req->uri, strlen(req->uri), md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, hex);
}

int
pagecache_lookup(struct request *req)
{
	const struct version *v = req->version;
	char key[65], target[128];

	if (!enabled(req))
		return 0;
	if (v->list_gen == NULL) {
		resp_header(req, CACHE_HEADER, "bypass");
		return 0;
	}
	uri_key(req, key);
	const char *link = arena_printf(&req->arena, "%s/%s/%s/k-%s", req->cfg->page_cache_dir, v->id,
	    v->list_gen, key);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	/* b-<32 hex>.json */
	if (n != 2 + SERVER_ETAG_HEX - 1 + 5 || strncmp(target, "b-", 2) != 0) {
		resp_header(req, CACHE_HEADER, "miss");
		return 0;
	}
	target[n] = '\0';
	char hex[SERVER_ETAG_HEX];
	memcpy(hex, target + 2, SERVER_ETAG_HEX - 1);
	hex[SERVER_ETAG_HEX - 1] = '\0';
	req->status = 200;
	req->content_type_out = "application/json";
	req->out.len = 0;
	req->accel_redirect = arena_printf(&req->arena, PAGE_CACHE_URI "%s/%s/%s", v->id, v->list_gen, target);
	resp_header(req, CACHE_HEADER, "hit");
	server_etag_set(req, hex);	/* a 304 drops the redirect */
	return 1;
}

/* Removes a state's directory of files and links. */
static void
remove_state(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}

/* A new state of a version: the states before the previous one go (a
 * reader may still be on the previous one's files). */
static void
prune_states(struct request *req, const char *vdir, long long gen)
{
	DIR *d = opendir(vdir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long long g = strtoll(e->d_name, &end, 10);
		if (e->d_name[0] != '.' && *end == '\0' && g < gen - 1)
			remove_state(arena_printf(&req->arena, "%s/%s", vdir, e->d_name));
	}
	closedir(d);
}

static int
mkdir_ok(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes the page and its link; -1 (errno set) on failure. */
static int
store_files(struct request *req, const char *key, const char *hex)
{
	const struct version *v = req->version;
	const char *vdir = arena_printf(&req->arena, "%s/%s", req->cfg->page_cache_dir, v->id);
	const char *sdir = arena_printf(&req->arena, "%s/%s", vdir, v->list_gen);

	if (mkdir_ok(req->cfg->page_cache_dir) != 0 || mkdir_ok(vdir) != 0)
		return -1;
	if (mkdir(sdir, 0755) == 0)
		prune_states(req, vdir, strtoll(v->list_gen, NULL, 10));
	else if (errno != EEXIST)
		return -1;

	/* The page, unless a worker stored the same bytes before. */
	const char *body = arena_printf(&req->arena, "%s/b-%s.json", sdir, hex);
	const char *tmp = arena_printf(&req->arena, "%s/.t-%ld-%s", sdir, (long)getpid(), key);
	if (access(body, F_OK) != 0) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		size_t off = 0;
		while (off < req->out.len) {
			ssize_t w = write(fd, req->out.data + off, req->out.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (close(fd) != 0 || off != req->out.len || rename(tmp, body) != 0) {
			int e = errno;
			(void)unlink(tmp);
			errno = e;
			return -1;
		}
	}
	/* Then the link that finds it. */
	(void)unlink(tmp);
	if (symlink(arena_printf(&req->arena, "b-%s.json", hex), tmp) != 0 ||
	    rename(tmp, arena_printf(&req->arena, "%s/k-%s", sdir, key)) != 0) {
		int e = errno;
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

void
pagecache_store(struct request *req)
{
	char key[65], hex[SERVER_ETAG_HEX];

	if (!enabled(req) || req->version->list_gen == NULL || req->status != 200 || req->out.len == 0 ||
	    server_etag_hex(req->out.data, req->out.len, hex) != 0)
		return;
	uri_key(req, key);
	if (store_files(req, key, hex) != 0)
		log_warn("page cache of version %s: %s", req->version->id, strerror(errno));
}
