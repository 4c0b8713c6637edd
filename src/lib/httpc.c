/* httpc.c - see httpc.h. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "httpc.h"
#include "runslots.h"

#define HTTPC_MAX_BODY	(1024 * 1024)

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *out = arg;

	if (out->len + size * n > HTTPC_MAX_BODY)
		return 0;	/* curl stops with a write error */
	buf_append(out, data, size * n);
	return size * n;
}

int
httpc_request(const char *method, const char *url, const char *const *headers,
    const char *body, long *status, struct buf *out, char *err, size_t errlen)
{
	return httpc_request_opts(method, url, headers, body, NULL, status, out, err, errlen);
}

int
httpc_request_opts(const char *method, const char *url, const char *const *headers,
    const char *body, const struct httpc_opts *opts, long *status, struct buf *out,
    char *err, size_t errlen)
{
	CURL			*c = curl_easy_init();
	struct curl_slist	*hl = NULL;
	CURLcode		 rc;

	*status = 0;
	if (c == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dandi-archive-c");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (opts != NULL && opts->timeout_ms > 0) {
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opts->timeout_ms);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
	} else {
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, opts != NULL && opts->timeout > 0 ? opts->timeout : 15L);
	}
	if (opts != NULL && opts->username != NULL) {
		/* Separate options, so a ':' in either part needs no escaping. */
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, opts->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, opts->password != NULL ? opts->password : "");
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	runslots_release();	/* waiting on the network: another worker may run */
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	buf_append(out, "", 1);		/* NUL-terminated for the caller */
	out->len--;
	return rc == CURLE_OK ? 0 : -1;
}
