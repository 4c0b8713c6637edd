/* blobsum.c - see blobsum.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "blobsum.h"
#include "rangefeed.h"
#include "s3.h"
#include "util.h"

#define MiB		(1024LL * 1024)
#define PART_SIZE	(64 * MiB)		/* dandischema's default */
#define MAX_PARTS	10000
#define MIN_PART	(5 * MiB)
#define MAX_PART	(5 * 1024 * MiB)
#define MAX_FILE	(5LL * 1024 * 1024 * MiB)	/* 5 TiB */

int
dandi_part_plan(int64_t size, int64_t *part_size, int64_t *nparts, int64_t *last)
{
	int64_t ps = PART_SIZE;

	if (size > MAX_FILE)
		return -1;
	if ((size + ps - 1) / ps >= MAX_PARTS)
		ps = (size + MAX_PARTS - 1) / MAX_PARTS;
	if (ps < MIN_PART || ps > MAX_PART)
		return -1;
	*nparts = size / ps;
	*last = size % ps;
	if (*last == 0)
		*last = ps;
	else
		(*nparts)++;
	if (*nparts == 1)
		ps = *last;
	*part_size = ps;
	return 0;
}

struct summing {
	EVP_MD_CTX	*sha;
	EVP_MD_CTX	*part;		/* md5 of the current part (NULL: no etag) */
	EVP_MD_CTX	*parts;		/* md5 of the part digests */
	int64_t		 part_size;
	int64_t		 in_part;	/* bytes of the current part so far */
	int64_t		 nparts;	/* parts finished */
	int64_t		 bytes;
};

/* Ends the current part: its md5 goes into the digest of digests. */
static int
part_end(struct summing *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(s->part, md, &n) != 1 || EVP_DigestUpdate(s->parts, md, n) != 1 ||
	    EVP_DigestInit_ex(s->part, EVP_md5(), NULL) != 1)
		return -1;
	s->nparts++;
	s->in_part = 0;
	return 0;
}

static int
sum_sink(void *arg, const char *data, size_t len)
{
	struct summing *s = arg;

	s->bytes += (int64_t)len;
	if (EVP_DigestUpdate(s->sha, data, len) != 1)
		return -1;
	/* The part md5s: a chunk may straddle part boundaries. */
	while (s->part != NULL && len > 0) {
		size_t take = len;
		if ((int64_t)take > s->part_size - s->in_part)
			take = (size_t)(s->part_size - s->in_part);
		if (EVP_DigestUpdate(s->part, data, take) != 1)
			return -1;
		s->in_part += (int64_t)take;
		data += take;
		len -= take;
		if (s->in_part == s->part_size && part_end(s) != 0)
			return -1;
	}
	return 0;
}

/* A worker's S3 handle (its own connection) and the object it reads. */
struct fetcher {
	struct s3	*s3;
	const char	*key;
	int64_t		 size;
};

static int
put_range(void *range, const char *data, size_t len)
{
	return rangefeed_put(range, data, len);
}

/* One range by a GET that must answer exactly its bytes of an object of
 * the expected size (s3_get_exact): a resized object fails every range. */
static int
fetch_range(void *ctx, struct rangefeed_range *r)
{
	struct fetcher *w = ctx;
	int rc = r->whole ? s3_get_exact(w->s3, w->key, -1, -1, w->size, put_range, r) :
	    s3_get_exact(w->s3, w->key, r->first, r->first + r->len - 1, w->size, put_range, r);

	if (rc != S3_OK)
		snprintf(r->err, sizeof(r->err), "%s", w->s3->err);
	return rc == S3_OK ? 0 : rc;
}

int
blobsum_compute(struct s3 *s3, const char *key, int64_t size, bool want_etag,
    const struct rangefeed_opts *opts, struct blobsum *out, char *err, size_t errlen)
{
	struct summing s = { .sha = EVP_MD_CTX_new() };
	struct rangefeed_opts o = { BLOBSUM_STREAMS, BLOBSUM_RANGE_SIZE };
	struct s3 clones[16];
	struct fetcher fetchers[16];
	void *ctx[16];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int64_t nparts = 0, last = 0;
	int rc = S3_ERROR, nclones = 0;

	memset(out, 0, sizeof(*out));
	if (opts != NULL && opts->streams > 0)
		o.streams = opts->streams < 16 ? opts->streams : 16;
	if (opts != NULL && opts->range_size > 0)
		o.range_size = opts->range_size;
	/* No etag when no plan fits: the size alone then says it is wrong. */
	if (want_etag && (size == 0 || dandi_part_plan(size, &s.part_size, &nparts, &last) == 0)) {
		s.part = EVP_MD_CTX_new();
		s.parts = EVP_MD_CTX_new();
		if (s.part == NULL || s.parts == NULL || EVP_DigestInit_ex(s.part, EVP_md5(), NULL) != 1 ||
		    EVP_DigestInit_ex(s.parts, EVP_md5(), NULL) != 1) {
			snprintf(err, errlen, "md5 unavailable");
			goto out;
		}
	}
	if (s.sha == NULL || EVP_DigestInit_ex(s.sha, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "sha256 unavailable");
		goto out;
	}
	/* Worker 0 reads with the caller's handle (its connection kept for
	 * the next blob); the others with copies of their own. Only as many
	 * as there are ranges. */
	int64_t nranges = size == 0 ? 1 : (size + (int64_t)o.range_size - 1) / (int64_t)o.range_size;
	if (o.streams > nranges)
		o.streams = (int)nranges;
	for (int i = 0; i < o.streams; i++) {
		struct s3 *h = s3;
		if (i > 0) {
			s3_clone(&clones[nclones], s3);
			h = &clones[nclones++];
		}
		fetchers[i] = (struct fetcher){ h, key, size };
		ctx[i] = &fetchers[i];
	}
	rc = rangefeed_run(size, &o, fetch_range, ctx, sum_sink, &s, err, errlen);
	rc = rc == 0 ? S3_OK : rc == S3_NOT_FOUND ? S3_NOT_FOUND : S3_ERROR;
	if (rc != S3_OK)
		goto out;
	out->bytes = s.bytes;
	EVP_DigestFinal_ex(s.sha, md, &n);
	hex_encode(md, 32, out->sha256);
	if (s.part != NULL) {
		if (s.in_part > 0 && part_end(&s) != 0) {
			snprintf(err, errlen, "md5 failed");
			rc = S3_ERROR;
			goto out;
		}
		char hex[33];
		EVP_DigestFinal_ex(s.parts, md, &n);
		hex_encode(md, 16, hex);
		snprintf(out->etag, sizeof(out->etag), "%s-%lld", hex, (long long)s.nparts);
	}
out:
	for (int i = 0; i < nclones; i++)
		s3_free(&clones[i]);
	EVP_MD_CTX_free(s.sha);
	EVP_MD_CTX_free(s.part);
	EVP_MD_CTX_free(s.parts);
	return rc;
}
