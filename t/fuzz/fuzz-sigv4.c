/*
 * fuzz-sigv4 - the SigV4 canonical request and the presigned URLs built
 * from names clients choose (object keys from asset and zarr paths,
 * response-content-disposition from file names, signed headers such as
 * Content-MD5 from the client's base64md5): s3_presign_headers,
 * s3_uri_encode, s3_object_url, s3_complete_result. The input is
 * NUL-separated: endpoint, method, key, then query parameter and header
 * name/value pairs. Checked: no memory error; the URL's key decodes back to
 * the key; the URL has no byte that needs encoding; the result XML has no
 * raw '<' from the key.
 */
#include "fuzz.h"
#include "s3.h"

/* Bytes a URL may carry as they are. */
static bool
url_clean(const char *u)
{
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
		    *p == '^' || *p == '`' || *p == '{' || *p == '|' || *p == '}')
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[16];
	size_t n;
	char *copy = fuzz_split(data, size, '\0', f, 16, &n);
	struct s3 s = {
		.endpoint = f[0], .public_endpoint = "", .region = "us-east-1", .bucket = "dandi",
		.access_key = "AKIDEXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.path_style = size & 1,
	};
	struct s3_param params[4], headers[2];
	size_t np = 0, nh = 0;
	const char *method = f[1], *key = f[2];

	for (size_t i = 3; i + 1 < 16 && np < 4; i += 2) {
		params[np].key = f[i];
		params[np].value = *f[i + 1] ? f[i + 1] : NULL;
		np++;
	}
	for (size_t i = 11; i + 1 < 16 && nh < 2; i += 2) {
		headers[nh].key = f[i];
		headers[nh].value = f[i + 1];
		nh++;
	}
	char *url = s3_presign_headers(&s, method, key, params, np, headers, nh, 3600, 1767225600);
	FUZZ_CHECK(url != NULL, "no URL");
	char *q = strchr(url, '?');
	FUZZ_CHECK(q != NULL && strstr(q, "&X-Amz-Signature=") != NULL, "unsigned URL %s", url);
	if (url_clean(s.endpoint) && strstr(s.endpoint, "://") != NULL)
		FUZZ_CHECK(url_clean(url), "URL %s needs encoding", url);

	/* The key, as the URL spells it, decodes back to the key. */
	char *enc = s3_uri_encode(key, true);
	FUZZ_CHECK(url_clean(enc), "key encodes to %s", enc);
	char *dec = xstrdup(enc);
	FUZZ_CHECK(url_decode(dec, false) == 0 && strcmp(dec, key) == 0, "%s decodes to %s, not %s",
	    enc, dec, key);
	free(dec);
	free(enc);

	char *obj = s3_object_url(&s, key);
	char *xml = s3_complete_result(&s, key, *f[3] ? f[3] : NULL);
	const char *k = strstr(xml, "<Key>") + 5, *kend = strstr(k, "</Key>");
	FUZZ_CHECK(kend != NULL && memchr(k, '<', (size_t)(kend - k)) == NULL, "key not escaped: %s", xml);
	free(xml);
	free(obj);
	free(url);
	free(copy);
	return 0;
}
