/*
 * fuzz-s3-complete - the CompleteMultipartUpload body a client POSTs to
 * the archive's completion URL (s3_complete_body_parse). Checked: no
 * memory error; an accepted body has parts in strictly ascending order in
 * 1..10000 with ETags of hex digits and '-'; writing those parts back
 * (s3_complete_body, as the archive sends them to S3) and reading that
 * again gives the same parts.
 */
#include "fuzz.h"
#include "s3.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_part *parts, *again;
	size_t n, n2;
	char err[256];

	if (s3_complete_body_parse((const char *)data, size, &parts, &n, err, sizeof(err)) != 0) {
		FUZZ_CHECK(*err != '\0', "refused without a reason");
		return 0;
	}
	FUZZ_CHECK(n > 0, "accepted no parts");
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(parts[i].number >= 1 && parts[i].number <= 10000, "part number %d", parts[i].number);
		FUZZ_CHECK(i == 0 || parts[i].number > parts[i - 1].number, "part order");
		size_t el = strlen(parts[i].etag);
		FUZZ_CHECK(el > 0 && el <= 64 && strspn(parts[i].etag, "0123456789abcdefABCDEF-") == el,
		    "etag %s", parts[i].etag);
	}
	char *body = s3_complete_body(parts, n);
	FUZZ_CHECK(s3_complete_body_parse(body, strlen(body), &again, &n2, err, sizeof(err)) == 0,
	    "our own body is refused: %s: %s", err, body);
	FUZZ_CHECK(n2 == n, "%zu parts read back as %zu", n, n2);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(again[i].number == parts[i].number && strcmp(again[i].etag, parts[i].etag) == 0,
		    "part %zu read back differently", i);
	s3_parts_free(again, n2);
	free(body);
	s3_parts_free(parts, n);
	return 0;
}
