/*
 * s3.c - AWS Signature Version 4 and the S3 calls the archive makes.
 *
 * One signer serves both uses: presigned query-string URLs handed to
 * clients (UNSIGNED-PAYLOAD, host the only signed header) and requests the
 * server makes itself through libcurl (Authorization header, the payload's
 * real sha256). Written from the SigV4 specification; see
 * t/unit/test-s3.c for the published examples it reproduces.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "metrics.h"
#include "runslots.h"
#include "s3.h"
#include "util.h"

/* --- signing ---------------------------------------------------------------- */

static void
hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n);
}

void
s3_signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char out[32])
{
	char		*k = xasprintf("AWS4%s", secret);
	unsigned char	 a[32], b[32], c[32];

	hmac(k, strlen(k), date8, a);
	hmac(a, 32, region, b);
	hmac(b, 32, service, c);
	hmac(c, 32, "aws4_request", out);
	free(k);
}

char *
s3_uri_encode(const char *s, bool keep_slash)
{
	struct buf b;

	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
		    (keep_slash && *p == '/'))
			buf_append(&b, (const char *)p, 1);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	buf_append(&b, "", 1);
	return b.data;
}

/* scheme, host[:port] and whether TLS, from an endpoint URL. */
struct endpoint {
	char	scheme[8];
	char	host[256];
};

static int
endpoint_parse(const char *url, struct endpoint *e)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL || (size_t)(p - url) >= sizeof(e->scheme))
		return -1;
	snprintf(e->scheme, sizeof(e->scheme), "%.*s", (int)(p - url), url);
	p += 3;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(e->host))
		return -1;
	snprintf(e->host, sizeof(e->host), "%.*s", (int)n, p);
	return 0;
}

/* Host header and URL prefix (up to the key) for bucket on endpoint. */
static void
target(const struct s3 *s, const char *endpoint, char *host, size_t hostlen,
    char *prefix, size_t prefixlen)
{
	struct endpoint e;

	if (endpoint_parse(endpoint, &e) != 0) {
		snprintf(host, hostlen, "invalid");
		snprintf(prefix, prefixlen, "invalid://invalid/");
		return;
	}
	if (s->path_style) {
		snprintf(host, hostlen, "%s", e.host);
		snprintf(prefix, prefixlen, "%s://%s/%s/", e.scheme, e.host, s->bucket);
	} else {
		snprintf(host, hostlen, "%s.%s", s->bucket, e.host);
		snprintf(prefix, prefixlen, "%s://%s.%s/", e.scheme, s->bucket, e.host);
	}
}

static int
param_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* "k=v&k2=v2" of the params (encoded, sorted), for the canonical request
 * and the URL alike. A bare sub-resource is "k=" as SigV4 wants it. */
static char *
canonical_query(const struct s3_param *params, size_t n)
{
	char		**pairs = xcalloc(n + 1, sizeof(char *));
	struct buf	  b;

	for (size_t i = 0; i < n; i++) {
		char *k = s3_uri_encode(params[i].key, false);
		char *v = s3_uri_encode(params[i].value ? params[i].value : "", false);
		pairs[i] = xasprintf("%s=%s", k, v);
		free(k);
		free(v);
	}
	qsort(pairs, n, sizeof(char *), param_cmp);
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append(&b, "&", 1);
		buf_puts(&b, pairs[i]);
		free(pairs[i]);
	}
	buf_append(&b, "", 1);
	free(pairs);
	return b.data;
}

static void
sha256_hex(const void *data, size_t n, char out[65])
{
	digest_sha256_hex(data, n, out);
}

static void
amz_dates(time_t now, char amz[17], char date8[9])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(amz, 17, "%Y%m%dT%H%M%SZ", &tm);
	strftime(date8, 9, "%Y%m%d", &tm);
}

/* hex signature of the canonical request for the given scope. */
static void
sign(const struct s3 *s, const char *canonical, const char *amz, const char *date8, char out[65])
{
	char		 creq_hash[65], *sts;
	unsigned char	 key[32], sig[32];

	sha256_hex(canonical, strlen(canonical), creq_hash);
	sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amz, date8, s->region, creq_hash);
	s3_signing_key(s->secret_key, date8, s->region, "s3", key);
	hmac(key, 32, sts, sig);
	hex_encode(sig, 32, out);
	free(sts);
}

/* Path part of the canonical request: the bucket for path style, then
 * the key with every segment encoded. */
static char *
canonical_path(const struct s3 *s, const char *key)
{
	char *k = s3_uri_encode(key, true), *out;

	if (s->path_style)
		out = xasprintf("/%s/%s", s->bucket, k);
	else
		out = xasprintf("/%s", k);
	free(k);
	return out;
}

char *
s3_presign(const struct s3 *s, const char *method, const char *key,
    const struct s3_param *params, size_t nparams, long expires, time_t now)
{
	return s3_presign_headers(s, method, key, params, nparams, NULL, 0, expires, now);
}

static int
header_cmp(const void *a, const void *b)
{
	return strcmp(((const struct s3_param *)a)->key, ((const struct s3_param *)b)->key);
}

char *
s3_presign_headers(const struct s3 *s, const char *method, const char *key,
    const struct s3_param *params, size_t nparams, const struct s3_param *headers,
    size_t nheaders, long expires, time_t now)
{
	char		 amz[17], date8[9], host[300], prefix[600], sig[65], exp[24], *cred;
	struct s3_param	*all;
	size_t		 n = nparams + 5;
	struct buf	 creq, url;

	if (expires < 1 || expires > 604800)
		return NULL;
	amz_dates(now, amz, date8);
	target(s, s->public_endpoint && *s->public_endpoint ? s->public_endpoint : s->endpoint,
	    host, sizeof(host), prefix, sizeof(prefix));
	cred = xasprintf("%s/%s/%s/s3/aws4_request", s->access_key, date8, s->region);
	snprintf(exp, sizeof(exp), "%ld", expires);
	all = xcalloc(n, sizeof(*all));
	if (nparams > 0)
		memcpy(all, params, nparams * sizeof(*params));
	all[nparams] = (struct s3_param){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
	all[nparams + 1] = (struct s3_param){ "X-Amz-Credential", cred };
	all[nparams + 2] = (struct s3_param){ "X-Amz-Date", amz };
	all[nparams + 3] = (struct s3_param){ "X-Amz-Expires", exp };
	/* Signed headers (lower-case names), host among them, sorted. */
	struct s3_param *hs = xcalloc(nheaders + 1, sizeof(*hs));
	if (nheaders > 0)
		memcpy(hs, headers, nheaders * sizeof(*headers));
	hs[nheaders] = (struct s3_param){ "host", host };
	qsort(hs, nheaders + 1, sizeof(*hs), header_cmp);
	struct buf names, canon;
	buf_init(&names);
	buf_init(&canon);
	for (size_t i = 0; i <= nheaders; i++) {
		buf_printf(&names, "%s%s", i ? ";" : "", hs[i].key);
		buf_printf(&canon, "%s:%s\n", hs[i].key, hs[i].value);
	}
	buf_append(&names, "", 1);
	buf_append(&canon, "", 1);
	free(hs);
	all[nparams + 4] = (struct s3_param){ "X-Amz-SignedHeaders", names.data };
	char *query = canonical_query(all, n);
	char *path = canonical_path(s, key);

	buf_init(&creq);
	buf_printf(&creq, "%s\n%s\n%s\n%s\n%s\nUNSIGNED-PAYLOAD", method, path, query, canon.data, names.data);
	buf_free(&names);
	buf_free(&canon);
	sign(s, creq.data, amz, date8, sig);
	buf_init(&url);
	/* The URL's path is the canonical one (prefix already names the
	 * bucket for path style). */
	char *k = s3_uri_encode(key, true);
	buf_printf(&url, "%s%s?%s&X-Amz-Signature=%s", prefix, k, query, sig);
	buf_append(&url, "", 1);
	free(k);
	free(query);
	free(path);
	free(cred);
	free(all);
	buf_free(&creq);
	return url.data;
}

/* --- requests ----------------------------------------------------------------- */

int
s3_init(struct s3 *s, const struct config *cfg)
{
	memset(s, 0, sizeof(*s));
	if (cfg->s3_endpoint == NULL || *cfg->s3_endpoint == '\0' || *cfg->s3_access_key == '\0' ||
	    *cfg->s3_secret_key == '\0' || *cfg->s3_bucket == '\0')
		return -1;
	s->endpoint = xstrdup(cfg->s3_endpoint);
	for (size_t n = strlen(s->endpoint); n > 0 && s->endpoint[n - 1] == '/'; n--)
		s->endpoint[n - 1] = '\0';
	s->public_endpoint = xstrdup(cfg->s3_public_endpoint && *cfg->s3_public_endpoint ?
	    cfg->s3_public_endpoint : s->endpoint);
	for (size_t n = strlen(s->public_endpoint); n > 0 && s->public_endpoint[n - 1] == '/'; n--)
		s->public_endpoint[n - 1] = '\0';
	s->region = xstrdup(*cfg->s3_region ? cfg->s3_region : "us-east-1");
	s->bucket = xstrdup(cfg->s3_bucket);
	s->access_key = xstrdup(cfg->s3_access_key);
	s->secret_key = xstrdup(cfg->s3_secret_key);
	if (strcmp(cfg->s3_path_style, "true") == 0)
		s->path_style = true;
	else if (strcmp(cfg->s3_path_style, "false") == 0)
		s->path_style = false;
	else
		s->path_style = strstr(s->endpoint, "amazonaws.com") == NULL;
	s->timeout_ms = 30000;
	s->retries = 3;
	return 0;
}

void
s3_clone(struct s3 *dst, const struct s3 *src)
{
	*dst = *src;
	dst->endpoint = xstrdup(src->endpoint);
	dst->public_endpoint = xstrdup(src->public_endpoint);
	dst->region = xstrdup(src->region);
	dst->bucket = xstrdup(src->bucket);
	dst->access_key = xstrdup(src->access_key);
	dst->secret_key = xstrdup(src->secret_key);
	dst->curl = NULL;
	dst->status = 0;
	dst->code[0] = dst->err[0] = '\0';
}

void
s3_free(struct s3 *s)
{
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	free(s->endpoint);
	free(s->public_endpoint);
	free(s->region);
	free(s->bucket);
	free(s->access_key);
	free(s->secret_key);
	memset(s, 0, sizeof(*s));
}

void
s3_object_free(struct s3_object *o)
{
	free(o->etag);
	free(o->content_type);
	memset(o, 0, sizeof(*o));
}

struct response {
	long		 status;
	struct buf	 body;		/* unless streamed */
	int		(*sink)(void *, const char *, size_t);
	void		*ctx;
	bool		 sink_failed;
	char		*etag;
	int64_t		 length;
	char		*content_type;
	/* s3_get_exact: what the answer must be, checked before the first
	 * byte reaches the sink (exact_err says what differed) */
	bool		 exact;
	int64_t		 exp_first, exp_last, exp_total;	/* exp_first < 0: a whole-object GET */
	bool		 exact_checked;
	bool		 has_range;
	int64_t		 range_first, range_last, range_total;	/* Content-Range */
	char		 exact_err[200];
};

/* Is the answer the bytes s3_get_exact asked for? "" in exact_err if so. */
static bool
exact_check(struct response *r)
{
	r->exact_checked = true;
	if (r->exp_first < 0) {
		if (r->status != 200 || r->length != r->exp_total)
			snprintf(r->exact_err, sizeof(r->exact_err), "HTTP %ld with %lld bytes, expected 200 with %lld",
			    r->status, (long long)r->length, (long long)r->exp_total);
	} else if (r->status != 206 || !r->has_range || r->range_first != r->exp_first ||
	    r->range_last != r->exp_last || r->range_total != r->exp_total) {
		snprintf(r->exact_err, sizeof(r->exact_err), "HTTP %ld bytes %lld-%lld/%lld, expected 206 bytes %lld-%lld/%lld",
		    r->status, (long long)r->range_first, (long long)r->range_last, (long long)r->range_total,
		    (long long)r->exp_first, (long long)r->exp_last, (long long)r->exp_total);
	}
	return r->exact_err[0] == '\0';
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;

	/* Stream only a successful body; errors are small XML we parse. */
	if (r->sink != NULL && r->status >= 200 && r->status < 300) {
		if (r->exact && !r->exact_checked && !exact_check(r))
			return 0;
		if (r->sink(r->ctx, data, len) != 0) {
			r->sink_failed = true;
			return 0;
		}
		return len;
	}
	if (r->body.len < 1 << 20)
		buf_append(&r->body, data, len);
	return len;
}

static char *
header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	const char *v = line + n + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char *out = xmalloc((size_t)(end - v) + 1);
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return out;
}

static char *
unquote(char *s)
{
	size_t n;

	if (s != NULL && (n = strlen(s)) >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	char *v;

	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): start over. */
		sscanf(data, "HTTP/%*s %ld", &r->status);
		free(r->etag);
		r->etag = NULL;
	} else if ((v = header_value(data, len, "ETag")) != NULL) {
		free(r->etag);
		r->etag = unquote(v);
	} else if ((v = header_value(data, len, "Content-Length")) != NULL) {
		r->length = strtoll(v, NULL, 10);
		free(v);
	} else if ((v = header_value(data, len, "Content-Range")) != NULL) {
		long long a, b, t;
		r->has_range = sscanf(v, "bytes %lld-%lld/%lld", &a, &b, &t) == 3;
		if (r->has_range)
			r->range_first = a, r->range_last = b, r->range_total = t;
		free(v);
	} else if ((v = header_value(data, len, "Content-Type")) != NULL) {
		free(r->content_type);
		r->content_type = v;
	}
	return len;
}

/* The text of <tag>...</tag> in xml (entity-decoded when decode); NULL
 * if absent. *from advances past it, for repeated elements. */
static char *
xml_find(const char *xml, const char *tag, const char **from, bool decode)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((a = strstr(from ? *from : xml, open)) == NULL)
		return NULL;
	a += strlen(open);
	if ((b = strstr(a, close)) == NULL)
		return NULL;
	if (from)
		*from = b + strlen(close);
	struct buf out;
	buf_init(&out);
	if (!decode) {
		buf_append(&out, a, (size_t)(b - a));
		buf_append(&out, "", 1);
		return out.data;
	}
	for (const char *p = a; p < b; p++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&quot;", '"' }, { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&apos;", '\'' },
			{ "&#34;", '"' }, { "&#39;", '\'' },
		};
		size_t k;
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
			if (strncmp(p, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		if (k < sizeof(ents) / sizeof(ents[0])) {
			buf_append(&out, &ents[k].c, 1);
			p += strlen(ents[k].ent) - 1;
		} else
			buf_append(&out, p, 1);
	}
	buf_append(&out, "", 1);
	return out.data;
}

static char *
xml_text(const char *xml, const char *tag, const char **from)
{
	return xml_find(xml, tag, from, true);
}

/* One signed request. body/len is the payload (may be NULL); extra headers
 * are "name: value" lines, x-amz-* ones signed. Retries transport errors
 * and 5xx with backoff. Returns the HTTP status (0 on transport failure). */
static long
request(struct s3 *s, const char *method, const char *key, const struct s3_param *params,
    size_t nparams, const char *const *headers, size_t nheaders, const void *body, size_t len,
    struct response *r)
{
	char	 amz[17], date8[9], host[300], prefix[600], sig[65], payload_hash[65];
	char	*query = canonical_query(params, nparams), *path = canonical_path(s, key ? key : "");
	long	 status = 0;

	sha256_hex(body ? body : "", body ? len : 0, payload_hash);
	target(s, s->endpoint, host, sizeof(host), prefix, sizeof(prefix));
	if (s->curl == NULL)
		s->curl = curl_easy_init();
	for (int attempt = 0; attempt <= s->retries; attempt++) {
		CURL *c = s->curl;
		struct curl_slist *hl = NULL;
		struct buf creq, signed_names, canon_headers, url;

		if (attempt > 0)
			usleep((useconds_t)(200000 << (attempt - 1)));
		amz_dates(time(NULL), amz, date8);
		/* Signed headers, sorted by name: host, x-amz-*. */
		const char *names[16];
		const char *values[16];
		size_t nh = 0;
		names[nh] = "host", values[nh++] = host;
		names[nh] = "x-amz-content-sha256", values[nh++] = payload_hash;
		names[nh] = "x-amz-date", values[nh++] = amz;
		char lower[16][64];
		for (size_t i = 0; i < nheaders && nh < 16; i++) {
			const char *colon = strchr(headers[i], ':');
			if (colon == NULL)	/* before any arithmetic on it */
				continue;
			size_t nl = (size_t)(colon - headers[i]);
			if (nl >= 64 || strncasecmp(headers[i], "x-amz-", 6) != 0)
				continue;
			for (size_t j = 0; j < nl; j++)
				lower[nh][j] = (char)tolower((unsigned char)headers[i][j]);
			lower[nh][nl] = '\0';
			const char *v = colon + 1;
			while (*v == ' ')
				v++;
			names[nh] = lower[nh], values[nh++] = v;
		}
		for (size_t i = 1; i < nh; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				const char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t;
				t = values[j]; values[j] = values[j - 1]; values[j - 1] = t;
			}
		buf_init(&signed_names);
		buf_init(&canon_headers);
		for (size_t i = 0; i < nh; i++) {
			buf_printf(&signed_names, "%s%s", i ? ";" : "", names[i]);
			buf_printf(&canon_headers, "%s:%s\n", names[i], values[i]);
		}
		buf_init(&creq);
		buf_printf(&creq, "%s\n%s\n%s\n%s\n%s\n%s", method, path, query, canon_headers.data,
		    signed_names.data, payload_hash);
		sign(s, creq.data, amz, date8, sig);

		hl = curl_slist_append(hl, "Expect:");
		for (size_t i = 0; i < nheaders; i++)
			hl = curl_slist_append(hl, headers[i]);
		char line[1024];
		snprintf(line, sizeof(line), "x-amz-content-sha256: %s", payload_hash);
		hl = curl_slist_append(hl, line);
		snprintf(line, sizeof(line), "x-amz-date: %s", amz);
		hl = curl_slist_append(hl, line);
		snprintf(line, sizeof(line), "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request,"
		    " SignedHeaders=%s, Signature=%s", s->access_key, date8, s->region, signed_names.data, sig);
		hl = curl_slist_append(hl, line);

		buf_init(&url);
		char *k = s3_uri_encode(key ? key : "", true);
		buf_printf(&url, "%s%s%s%s", prefix, k, *query ? "?" : "", query);
		free(k);

		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url.data);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_USERAGENT, S3_USER_AGENT);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->sink ? 0L : s->timeout_ms);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
		if (strcmp(method, "HEAD") == 0)
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		/* A streamed body in curl's default 16 KiB reads costs 65,536
		 * recv() calls per GiB; larger ones cut that (curl caps it). */
		if (r->sink != NULL)
			curl_easy_setopt(c, CURLOPT_BUFFERSIZE, s->read_buffer > 0 ? s->read_buffer : S3_READ_BUFFER);
		if (body != NULL || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		}
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
		r->status = 0;
		r->body.len = 0;
		r->has_range = r->exact_checked = false;
		r->length = 0;
		r->exact_err[0] = '\0';
		double t0 = mono_seconds();
		runslots_release();	/* waiting on the network: another worker may run */
		CURLcode cc = curl_easy_perform(c);
		status = r->status;
		metrics_s3_request(method, mono_seconds() - t0, cc != CURLE_OK || status >= 500);
		curl_slist_free_all(hl);
		buf_free(&url);
		buf_free(&creq);
		buf_free(&signed_names);
		buf_free(&canon_headers);
		if (r->sink_failed || r->exact_err[0])
			break;
		if (cc != CURLE_OK) {
			snprintf(s->err, sizeof(s->err), "%s %s: %s", method, key ? key : "", curl_easy_strerror(cc));
			status = 0;
			/* A stream already handed bytes to the sink: no retry. */
			if (r->sink != NULL)
				break;
			continue;
		}
		if (status >= 500 && status != 501)
			continue;
		break;
	}
	free(query);
	free(path);
	s->status = status;
	s->code[0] = '\0';
	if (status >= 300 || status == 0) {
		buf_append(&r->body, "", 1);
		char *code = r->body.data ? xml_text(r->body.data, "Code", NULL) : NULL;
		if (status != 0)
			snprintf(s->err, sizeof(s->err), "%s %s: HTTP %ld %s", method, key ? key : "", status,
			    code ? code : "");
		snprintf(s->code, sizeof(s->code), "%s", code ? code : "");
		free(code);
	}
	return status;
}

static void
response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
}

static void
response_free(struct response *r)
{
	buf_free(&r->body);
	free(r->etag);
	free(r->content_type);
}

static int
status_of(long st)
{
	if (st >= 200 && st < 300)
		return S3_OK;
	return st == 404 ? S3_NOT_FOUND : S3_ERROR;
}

int
s3_head(struct s3 *s, const char *key, struct s3_object *out)
{
	struct response r;
	int rc;

	response_init(&r);
	rc = status_of(request(s, "HEAD", key, NULL, 0, NULL, 0, NULL, 0, &r));
	if (rc == S3_OK && out != NULL) {
		out->size = r.length;
		out->etag = r.etag ? xstrdup(r.etag) : NULL;
		out->content_type = r.content_type ? xstrdup(r.content_type) : NULL;
	}
	response_free(&r);
	return rc;
}

int
s3_get(struct s3 *s, const char *key, int64_t first, int64_t last,
    int (*sink)(void *ctx, const char *data, size_t len), void *ctx)
{
	struct response	r;
	char		range[80];
	const char	*h[1] = { range };
	int		rc;

	response_init(&r);
	r.sink = sink;
	r.ctx = ctx;
	if (last >= 0)
		snprintf(range, sizeof(range), "Range: bytes=%lld-%lld", (long long)first, (long long)last);
	else
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)first);
	rc = status_of(request(s, "GET", key, NULL, 0, h, first > 0 || last >= 0 ? 1 : 0, NULL, 0, &r));
	if (r.sink_failed) {
		snprintf(s->err, sizeof(s->err), "GET %s: stopped by the reader", key);
		rc = S3_ERROR;
	}
	response_free(&r);
	return rc;
}

int
s3_get_exact(struct s3 *s, const char *key, int64_t first, int64_t last, int64_t total,
    int (*sink)(void *ctx, const char *data, size_t len), void *ctx)
{
	struct response	r;
	char		range[80];
	const char	*h[1] = { range };
	int		rc;

	response_init(&r);
	r.sink = sink;
	r.ctx = ctx;
	r.exact = true;
	r.exp_first = first;
	r.exp_last = last;
	r.exp_total = total;
	snprintf(range, sizeof(range), "Range: bytes=%lld-%lld", (long long)first, (long long)last);
	rc = status_of(request(s, "GET", key, NULL, 0, h, first >= 0 ? 1 : 0, NULL, 0, &r));
	/* An empty body never reached on_body: check it now. */
	if (rc == S3_OK && !r.exact_checked)
		exact_check(&r);
	if (r.exact_err[0]) {
		snprintf(s->err, sizeof(s->err), "GET %s: %s", key, r.exact_err);
		rc = S3_ERROR;
	} else if (r.sink_failed) {
		snprintf(s->err, sizeof(s->err), "GET %s: stopped by the reader", key);
		rc = S3_ERROR;
	}
	response_free(&r);
	return rc;
}

int
s3_put(struct s3 *s, const char *key, const void *data, size_t len, const char *content_type,
    const char *tagging)
{
	struct response r;
	char ct[300], tg[600];
	const char *h[2];
	size_t nh = 0;
	int rc;

	snprintf(ct, sizeof(ct), "Content-Type: %s", content_type ? content_type : "application/octet-stream");
	h[nh++] = ct;
	if (tagging != NULL) {
		snprintf(tg, sizeof(tg), "x-amz-tagging: %s", tagging);
		h[nh++] = tg;
	}
	response_init(&r);
	rc = status_of(request(s, "PUT", key, NULL, 0, h, nh, data ? data : "", len, &r));
	response_free(&r);
	return rc;
}

int
s3_copy(struct s3 *s, const char *src_key, const char *dst_key)
{
	struct response r;
	char *src = s3_uri_encode(src_key, true);
	char *hdr = xasprintf("x-amz-copy-source: /%s/%s", s->bucket, src);
	const char *h[1] = { hdr };
	int rc;

	response_init(&r);
	long st = request(s, "PUT", dst_key, NULL, 0, h, 1, "", 0, &r);
	rc = status_of(st);
	/* A copy can fail after the 200 has started: the body says so. */
	if (rc == S3_OK && r.body.data != NULL) {
		buf_append(&r.body, "", 1);
		if (strstr(r.body.data, "<Error>") != NULL) {
			snprintf(s->err, sizeof(s->err), "copy %s: error in the reply", src_key);
			rc = S3_ERROR;
		}
	}
	response_free(&r);
	free(src);
	free(hdr);
	return rc;
}

/* A DELETE of key with at most one query parameter (name NULL: none): the
 * object, one version of it, or a multipart upload. */
static int
delete_request(struct s3 *s, const char *key, const char *name, const char *value)
{
	struct response r;
	struct s3_param p[1] = { { name, value } };
	int rc;

	response_init(&r);
	rc = status_of(request(s, "DELETE", key, p, name != NULL ? 1 : 0, NULL, 0, NULL, 0, &r));
	response_free(&r);
	return rc;
}

int
s3_delete(struct s3 *s, const char *key)
{
	return delete_request(s, key, NULL, NULL);
}

int
s3_create_multipart(struct s3 *s, const char *key, const char *content_type,
    const char *tagging, char **upload_id)
{
	struct response r;
	struct s3_param p[1] = { { "uploads", NULL } };
	char ct[300], tg[600];
	const char *h[2];
	size_t nh = 0;
	int rc;

	snprintf(ct, sizeof(ct), "Content-Type: %s", content_type ? content_type : "application/octet-stream");
	h[nh++] = ct;
	if (tagging != NULL) {
		snprintf(tg, sizeof(tg), "x-amz-tagging: %s", tagging);
		h[nh++] = tg;
	}
	response_init(&r);
	*upload_id = NULL;
	rc = status_of(request(s, "POST", key, p, 1, h, nh, "", 0, &r));
	if (rc == S3_OK) {
		buf_append(&r.body, "", 1);
		*upload_id = xml_text(r.body.data, "UploadId", NULL);
		if (*upload_id == NULL || **upload_id == '\0') {
			snprintf(s->err, sizeof(s->err), "CreateMultipartUpload %s: no UploadId", key);
			free(*upload_id);
			*upload_id = NULL;
			rc = S3_ERROR;
		}
	}
	response_free(&r);
	return rc;
}

char *
s3_complete_body(const struct s3_part *parts, size_t nparts)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < nparts; i++) {
		const char *e = parts[i].etag;
		size_t n = strlen(e);
		/* ETags go in quoted, whether or not the client kept the quotes. */
		if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
			buf_printf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", parts[i].number, e);
		else
			buf_printf(&b, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>", parts[i].number, e);
	}
	buf_puts(&b, "</CompleteMultipartUpload>");
	buf_append(&b, "", 1);
	return b.data;
}

/* --- the CompleteMultipartUpload body, read back ------------------------------ */

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* p at "<tag>" exactly: returns the position after it, else NULL. */
static const char *
expect_tag(const char *p, const char *end, const char *tag)
{
	size_t n = strlen(tag);

	if ((size_t)(end - p) < n || memcmp(p, tag, n) != 0)
		return NULL;
	return p + n;
}

/* The text up to the next '<' (no markup inside the simple elements we
 * read), entity-decoded into out (outlen bytes with the NUL). NULL when it
 * is too long or holds an unknown entity. */
static const char *
element_text(const char *p, const char *end, char *out, size_t outlen)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&quot;", '"' }, { "&#34;", '"' }, { "&amp;", '&' }, { "&apos;", '\'' },
		{ "&lt;", '<' }, { "&gt;", '>' },
	};
	size_t n = 0;

	while (p < end && *p != '<') {
		char c = *p++;
		if (c == '&') {
			size_t k, left = (size_t)(end - p + 1);
			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
				if (left >= strlen(ents[k].ent) && memcmp(p - 1, ents[k].ent, strlen(ents[k].ent)) == 0)
					break;
			if (k == sizeof(ents) / sizeof(ents[0]))
				return NULL;
			c = ents[k].c;
			p += strlen(ents[k].ent) - 1;
		}
		if (n + 1 >= outlen)
			return NULL;
		out[n++] = c;
	}
	out[n] = '\0';
	return p < end ? p : NULL;
}

int
s3_complete_body_parse(const char *xml, size_t len, struct s3_part **parts_out, size_t *nparts_out,
    char *err, size_t errlen)
{
	const char	*p = xml, *end = xml + len, *q;
	struct s3_part	*parts = NULL;
	size_t		 n = 0, cap = 0;

	*parts_out = NULL;
	*nparts_out = 0;
#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)
	if (memchr(xml, '\0', len) != NULL)
		FAIL("The body holds a NUL byte.");
	p = skip_space(p, end);
	if ((q = expect_tag(p, end, "<?xml")) != NULL) {
		const char *close = NULL;
		for (const char *c = q; c + 1 < end; c++)
			if (c[0] == '?' && c[1] == '>') {
				close = c + 2;
				break;
			}
		if (close == NULL)
			FAIL("The XML declaration is not closed.");
		p = skip_space(close, end);
	}
	/* The root, with attributes (xmlns) or none. */
	if ((q = expect_tag(p, end, "<CompleteMultipartUpload")) == NULL || q >= end ||
	    (*q != '>' && skip_space(q, end) == q))
		FAIL("The body is not a CompleteMultipartUpload document.");
	while (q < end && *q != '>' && *q != '<')
		q++;
	if (q >= end || *q != '>')
		FAIL("The CompleteMultipartUpload element is not closed.");
	p = q + 1;
	for (;;) {
		char num[16], etag[80];
		bool have_num = false, have_etag = false;

		p = skip_space(p, end);
		if ((q = expect_tag(p, end, "</CompleteMultipartUpload>")) != NULL) {
			if (skip_space(q, end) != end)
				FAIL("Content follows the document.");
			break;
		}
		if ((p = expect_tag(p, end, "<Part>")) == NULL)
			FAIL("Expected a Part element (part %zu).", n + 1);
		for (;;) {
			p = skip_space(p, end);
			if ((q = expect_tag(p, end, "</Part>")) != NULL) {
				p = q;
				break;
			}
			if ((q = expect_tag(p, end, "<PartNumber>")) != NULL && !have_num) {
				if ((q = element_text(q, end, num, sizeof(num))) == NULL ||
				    (p = expect_tag(q, end, "</PartNumber>")) == NULL)
					FAIL("Part %zu has a malformed PartNumber.", n + 1);
				have_num = true;
			} else if ((q = expect_tag(p, end, "<ETag>")) != NULL && !have_etag) {
				if ((q = element_text(q, end, etag, sizeof(etag))) == NULL ||
				    (p = expect_tag(q, end, "</ETag>")) == NULL)
					FAIL("Part %zu has a malformed ETag.", n + 1);
				have_etag = true;
			} else
				FAIL("Part %zu holds an unexpected element.", n + 1);
		}
		if (!have_num || !have_etag)
			FAIL("Part %zu needs a PartNumber and an ETag.", n + 1);
		size_t digits = strspn(num, "0123456789");
		long number = digits > 0 && digits <= 5 && num[digits] == '\0' ? strtol(num, NULL, 10) : 0;
		if (number < 1 || number > 10000)
			FAIL("Part %zu: the PartNumber must be 1..10000.", n + 1);
		if (n > 0 && number <= parts[n - 1].number)
			FAIL("Part numbers must be in ascending order without repeats.");
		unquote(etag);
		size_t el = strlen(etag);
		if (el == 0 || el > 64 || strspn(etag, "0123456789abcdefABCDEF-") != el)
			FAIL("Part %ld has an invalid ETag.", number);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			parts = xrealloc(parts, cap * sizeof(*parts));
		}
		parts[n].number = (int)number;
		parts[n].etag = xstrdup(etag);
		n++;
	}
#undef FAIL
	if (n == 0) {
		snprintf(err, errlen, "The body names no parts.");
		goto fail;
	}
	*parts_out = parts;
	*nparts_out = n;
	return 0;
fail:
	s3_parts_free(parts, n);
	return -1;
}

void
s3_parts_free(struct s3_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(parts[i].etag);
	free(parts);
}

static void
xml_escape(struct buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		default: buf_append(b, s, 1);
		}
}

char *
s3_object_url(const struct s3 *s, const char *key)
{
	char host[300], prefix[600];
	char *k = s3_uri_encode(key, true);
	struct buf b;

	target(s, s->public_endpoint && *s->public_endpoint ? s->public_endpoint : s->endpoint,
	    host, sizeof(host), prefix, sizeof(prefix));
	buf_init(&b);
	buf_printf(&b, "%s%s", prefix, k);
	buf_append(&b, "", 1);
	free(k);
	return b.data;
}

char *
s3_complete_result(const struct s3 *s, const char *key, const char *etag)
{
	char *url = s3_object_url(s, key);
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>");
	xml_escape(&b, url);
	buf_puts(&b, "</Location><Bucket>");
	xml_escape(&b, s->bucket);
	buf_puts(&b, "</Bucket><Key>");
	xml_escape(&b, key);
	buf_puts(&b, "</Key>");
	if (etag != NULL) {
		buf_puts(&b, "<ETag>&quot;");
		xml_escape(&b, etag);
		buf_puts(&b, "&quot;</ETag>");
	}
	buf_puts(&b, "</CompleteMultipartUploadResult>");
	buf_append(&b, "", 1);
	free(url);
	return b.data;
}

int
s3_complete_multipart(struct s3 *s, const char *key, const char *upload_id,
    const struct s3_part *parts, size_t nparts, char **etag_out)
{
	struct response r;
	struct s3_param p[1] = { { "uploadId", upload_id } };
	const char *h[1] = { "Content-Type: application/xml" };
	char *body = s3_complete_body(parts, nparts);
	int rc;

	response_init(&r);
	*etag_out = NULL;
	/* AWS may take minutes over thousands of parts (it keeps the
	 * connection alive with whitespace meanwhile). */
	long timeout = s->timeout_ms;
	s->timeout_ms = timeout > 600000 ? timeout : 600000;
	rc = status_of(request(s, "POST", key, p, 1, h, 1, body, strlen(body), &r));
	s->timeout_ms = timeout;
	if (rc == S3_OK) {
		buf_append(&r.body, "", 1);
		/* A 200 can still carry an error that came up after the
		 * headers were sent. */
		if (strstr(r.body.data, "<Error>") != NULL) {
			char *code = xml_text(r.body.data, "Code", NULL);
			snprintf(s->err, sizeof(s->err), "CompleteMultipartUpload %s: %s", key, code ? code : "error");
			snprintf(s->code, sizeof(s->code), "%s", code ? code : "InternalError");
			s->status = 500;
			free(code);
			rc = S3_ERROR;
		} else {
			char *e = unquote(xml_text(r.body.data, "ETag", NULL));
			/* radosgw 16 answers with an empty ETag: ask the object. */
			if (e == NULL || *e == '\0') {
				struct s3_object o = { 0 };
				free(e);
				e = NULL;
				if (s3_head(s, key, &o) == S3_OK && o.etag != NULL)
					e = xstrdup(o.etag);
				s3_object_free(&o);
			}
			*etag_out = e;
		}
	}
	response_free(&r);
	free(body);
	return rc;
}

int
s3_abort_multipart(struct s3 *s, const char *key, const char *upload_id)
{
	return delete_request(s, key, "uploadId", upload_id);
}

int
s3_upload_part(struct s3 *s, const char *key, const char *upload_id, int number,
    const void *data, size_t len, char **etag_out)
{
	struct response r;
	char num[16];
	struct s3_param p[2] = { { "partNumber", num }, { "uploadId", upload_id } };
	int rc;

	snprintf(num, sizeof(num), "%d", number);
	response_init(&r);
	*etag_out = NULL;
	rc = status_of(request(s, "PUT", key, p, 2, NULL, 0, data ? data : "", len, &r));
	if (rc == S3_OK) {
		if (r.etag == NULL || *r.etag == '\0') {
			snprintf(s->err, sizeof(s->err), "UploadPart %s #%d: no ETag", key, number);
			rc = S3_ERROR;
		} else
			*etag_out = xstrdup(r.etag);
	}
	response_free(&r);
	return rc;
}

void
s3_stream_open(struct s3_stream *st, struct s3 *s, const char *key, const char *content_type,
    const char *tagging, size_t part_size)
{
	memset(st, 0, sizeof(*st));
	st->s3 = s;
	st->key = xstrdup(key);
	st->content_type = xstrdup(content_type ? content_type : "application/octet-stream");
	st->tagging = tagging ? xstrdup(tagging) : NULL;
	/* S3's smallest part (but the last) is 5 MiB. */
	st->part_size = part_size < 5u << 20 ? 5u << 20 : part_size;
	buf_init(&st->buf);
}

/* Sends what is buffered as the next part, starting the upload first. */
static int
stream_send_part(struct s3_stream *st)
{
	char *etag = NULL;

	if (st->upload_id == NULL &&
	    s3_create_multipart(st->s3, st->key, st->content_type, st->tagging, &st->upload_id) != S3_OK)
		return -1;
	if (st->nparts >= 10000) {
		snprintf(st->s3->err, sizeof(st->s3->err), "%s: more than 10000 parts", st->key);
		return -1;
	}
	if (s3_upload_part(st->s3, st->key, st->upload_id, (int)st->nparts + 1, st->buf.data, st->buf.len,
	    &etag) != S3_OK)
		return -1;
	st->parts = xrealloc(st->parts, (st->nparts + 1) * sizeof(*st->parts));
	st->parts[st->nparts].number = (int)st->nparts + 1;
	st->parts[st->nparts].etag = etag;
	st->nparts++;
	st->buf.len = 0;
	return 0;
}

int
s3_stream_write(void *arg, const char *data, size_t len)
{
	struct s3_stream *st = arg;

	if (st->failed)
		return -1;
	buf_append(&st->buf, data, len);
	st->size += (int64_t)len;
	if (st->buf.len >= st->part_size && stream_send_part(st) != 0)
		st->failed = true;
	return st->failed ? -1 : 0;
}

int
s3_stream_close(struct s3_stream *st)
{
	int rc = S3_ERROR;

	if (!st->failed) {
		if (st->upload_id == NULL)
			rc = s3_put(st->s3, st->key, st->buf.data, st->buf.len, st->content_type, st->tagging);
		else if (st->buf.len == 0 || stream_send_part(st) == 0) {
			char *etag = NULL;
			rc = s3_complete_multipart(st->s3, st->key, st->upload_id, st->parts, st->nparts, &etag);
			free(etag);
		}
	}
	/* Parts of an upload that did not complete would be kept (and
	 * billed) until aborted. */
	if (rc != S3_OK && st->upload_id != NULL) {
		char saved[sizeof(st->s3->err)];
		memcpy(saved, st->s3->err, sizeof(saved));
		(void)s3_abort_multipart(st->s3, st->key, st->upload_id);
		memcpy(st->s3->err, saved, sizeof(saved));
	}
	for (size_t i = 0; i < st->nparts; i++)
		free(st->parts[i].etag);
	free(st->parts);
	free(st->upload_id);
	free(st->key);
	free(st->content_type);
	free(st->tagging);
	buf_free(&st->buf);
	st->parts = NULL;
	st->upload_id = st->key = st->content_type = st->tagging = NULL;
	return rc;
}

int
s3_put_tagging(struct s3 *s, const char *key, const char *tagging)
{
	return s3_put_tagging_version(s, key, NULL, tagging);
}

int
s3_put_tagging_version(struct s3 *s, const char *key, const char *version_id, const char *tagging)
{
	struct response r;
	struct s3_param p[2] = { { "tagging", NULL }, { "versionId", version_id } };
	size_t np = version_id != NULL ? 2 : 1;
	int rc;

	response_init(&r);
	{
		/* Tags removed by an empty TagSet, not DeleteObjectTagging:
		 * radosgw 16 answers that 204 and keeps the tags of the
		 * current version in a versioned bucket. */
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "<Tagging><TagSet>");
		char *copy = xstrdup(tagging ? tagging : ""), *save = NULL;
		for (char *t = strtok_r(copy, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(t, '=');
			if (eq)
				*eq++ = '\0';
			buf_printf(&b, "<Tag><Key>%s</Key><Value>%s</Value></Tag>", t, eq ? eq : "");
		}
		free(copy);
		buf_puts(&b, "</TagSet></Tagging>");
		buf_append(&b, "", 1);
		/* PutObjectTagging wants Content-MD5. */
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		char b64[64], hdr[96];
		EVP_Digest(b.data, strlen(b.data), md, &n, EVP_md5(), NULL);
		EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
		snprintf(hdr, sizeof(hdr), "Content-MD5: %s", b64);
		const char *h[1] = { hdr };
		rc = status_of(request(s, "PUT", key, p, np, h, 1, b.data, strlen(b.data), &r));
		buf_free(&b);
	}
	response_free(&r);
	return rc;
}

char *
s3_get_tagging(struct s3 *s, const char *key)
{
	return s3_get_tagging_version(s, key, NULL);
}

char *
s3_get_tagging_version(struct s3 *s, const char *key, const char *version_id)
{
	struct response r;
	struct s3_param p[2] = { { "tagging", NULL }, { "versionId", version_id } };
	struct buf out;
	char *res = NULL;

	response_init(&r);
	if (status_of(request(s, "GET", key, p, version_id != NULL ? 2 : 1, NULL, 0, NULL, 0, &r)) == S3_OK) {
		/* <Tag><Key>k</Key><Value>v</Value></Tag>... -> k=v&... */
		buf_init(&out);
		buf_append(&r.body, "", 1);
		for (const char *t = strstr(r.body.data, "<Key>"); t != NULL; t = strstr(t, "<Key>")) {
			const char *ke = strstr(t, "</Key>"), *v = ke ? strstr(ke, "<Value>") : NULL;
			const char *ve = v ? strstr(v, "</Value>") : NULL;
			if (ve == NULL)
				break;
			buf_printf(&out, "%s%.*s=%.*s", out.len ? "&" : "", (int)(ke - t - 5), t + 5,
			    (int)(ve - v - 7), v + 7);
			t = ve;
		}
		buf_append(&out, "", 1);
		res = out.data;
	}
	response_free(&r);
	return res;
}

/* A bucket listing's GET: the parameters p[0..n) and max-keys when it is
 * not negative (p has room for it). S3_OK with r's body NUL-terminated,
 * or the error with r freed. */
static int
list_request(struct s3 *s, struct s3_param *p, size_t n, int max_keys, struct response *r)
{
	char	mk[24];
	int	rc;

	if (max_keys >= 0) {
		snprintf(mk, sizeof(mk), "%d", max_keys);
		p[n++] = (struct s3_param){ "max-keys", mk };
	}
	response_init(r);
	if ((rc = status_of(request(s, "GET", "", p, n, NULL, 0, NULL, 0, r))) != S3_OK) {
		response_free(r);
		return rc;
	}
	buf_append(&r->body, "", 1);
	return S3_OK;
}

int
s3_list_page(struct s3 *s, const char *prefix, const char *start_after, const char *token,
    int max_keys, int (*cb)(void *ctx, const struct s3_listed *), void *ctx,
    bool *truncated, char **next_token)
{
	struct response	 r;
	struct s3_param	 p[6];
	size_t		 n = 0;
	int		 rc;

	*truncated = false;
	if (next_token != NULL)
		*next_token = NULL;
	p[n++] = (struct s3_param){ "list-type", "2" };
	p[n++] = (struct s3_param){ "prefix", prefix };
	/* Keys come back URL-encoded: any byte survives the XML. */
	p[n++] = (struct s3_param){ "encoding-type", "url" };
	if (start_after != NULL && *start_after)
		p[n++] = (struct s3_param){ "start-after", start_after };
	if (token != NULL && *token)
		p[n++] = (struct s3_param){ "continuation-token", token };
	if ((rc = list_request(s, p, n, max_keys, &r)) != S3_OK)
		return rc;
	const char *at = r.body.data;
	char *contents;
	bool stop = false;
	while (!stop && (contents = xml_find(r.body.data, "Contents", &at, false)) != NULL) {
		char *k = xml_text(contents, "Key", NULL), *sz = xml_text(contents, "Size", NULL);
		char *e = unquote(xml_text(contents, "ETag", NULL));
		char *lm = xml_text(contents, "LastModified", NULL);
		if (k != NULL && url_decode(k, true) == 0) {
			struct s3_listed o = { k, sz ? strtoll(sz, NULL, 10) : 0, e ? e : "", lm ? lm : "" };
			if (cb(ctx, &o) != 0)
				stop = true;
		}
		free(k);
		free(sz);
		free(e);
		free(lm);
		free(contents);
	}
	char *trunc = xml_text(r.body.data, "IsTruncated", NULL);
	if (trunc != NULL && strcmp(trunc, "true") == 0) {
		*truncated = true;
		if (next_token != NULL)
			*next_token = xml_text(r.body.data, "NextContinuationToken", NULL);
	}
	free(trunc);
	response_free(&r);
	return stop ? S3_ERROR : S3_OK;
}

int
s3_list_versions_page(struct s3 *s, const char *prefix, const char *key_marker, const char *version_marker,
    int max_keys, int (*cb)(void *ctx, const struct s3_version *), void *ctx, bool *truncated,
    char **next_key, char **next_version)
{
	struct response	 r;
	struct s3_param	 p[6];
	size_t		 n = 0;
	int		 rc;

	*truncated = false;
	*next_key = *next_version = NULL;
	p[n++] = (struct s3_param){ "versions", NULL };
	p[n++] = (struct s3_param){ "prefix", prefix };
	p[n++] = (struct s3_param){ "encoding-type", "url" };
	if (key_marker != NULL && *key_marker) {
		p[n++] = (struct s3_param){ "key-marker", key_marker };
		if (version_marker != NULL && *version_marker)
			p[n++] = (struct s3_param){ "version-id-marker", version_marker };
	}
	if ((rc = list_request(s, p, n, max_keys, &r)) != S3_OK)
		return rc;
	/* <Version> and <DeleteMarker> elements interleave in key order. */
	const char *at = r.body.data;
	bool stop = false;
	while (!stop) {
		const char *v = strstr(at, "<Version>"), *d = strstr(at, "<DeleteMarker>");
		if (v == NULL && d == NULL)
			break;
		bool marker = v == NULL || (d != NULL && d < v);
		char *el = xml_find(at, marker ? "DeleteMarker" : "Version", &at, false);
		if (el == NULL)
			break;
		char *k = xml_text(el, "Key", NULL), *vid = xml_text(el, "VersionId", NULL);
		char *latest = xml_text(el, "IsLatest", NULL), *sz = xml_text(el, "Size", NULL);
		char *e = unquote(xml_text(el, "ETag", NULL)), *lm = xml_text(el, "LastModified", NULL);
		if (k != NULL && vid != NULL && url_decode(k, true) == 0) {
			struct s3_version o = { k, vid, latest != NULL && strcmp(latest, "true") == 0, marker,
			    sz ? strtoll(sz, NULL, 10) : 0, e ? e : "", lm ? lm : "" };
			if (cb(ctx, &o) != 0)
				stop = true;
		}
		free(k);
		free(vid);
		free(latest);
		free(sz);
		free(e);
		free(lm);
		free(el);
	}
	char *trunc = xml_text(r.body.data, "IsTruncated", NULL);
	if (trunc != NULL && strcmp(trunc, "true") == 0) {
		*truncated = true;
		*next_key = xml_text(r.body.data, "NextKeyMarker", NULL);
		*next_version = xml_text(r.body.data, "NextVersionIdMarker", NULL);
		/* encoding-type=url applies to the key marker too */
		if (*next_key != NULL && url_decode(*next_key, true) != 0) {
			free(*next_key);
			*next_key = NULL;
		}
	}
	free(trunc);
	response_free(&r);
	if (!stop && *truncated && (*next_key == NULL || **next_key == '\0')) {
		snprintf(s->err, sizeof(s->err), "ListObjectVersions %s: truncated without a NextKeyMarker", prefix);
		free(*next_key);
		free(*next_version);
		*next_key = *next_version = NULL;
		return S3_ERROR;
	}
	return stop ? S3_ERROR : S3_OK;
}

char *
s3_get_versioning(struct s3 *s)
{
	struct response r;
	struct s3_param p[1] = { { "versioning", NULL } };
	char *status = NULL;

	response_init(&r);
	if (status_of(request(s, "GET", "", p, 1, NULL, 0, NULL, 0, &r)) == S3_OK) {
		buf_append(&r.body, "", 1);
		status = xml_text(r.body.data, "Status", NULL);
		if (status == NULL)
			status = xstrdup("");
	}
	response_free(&r);
	return status;
}

int
s3_delete_version(struct s3 *s, const char *key, const char *version_id)
{
	return delete_request(s, key, "versionId", version_id);
}
