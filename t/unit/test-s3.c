/* test-s3.c - SigV4 against the published AWS examples, URI encoding,
 * the CompleteMultipartUpload body. */
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "util.h"
#include "tap.h"

static struct s3
example(bool path_style)
{
	struct s3 s = { 0 };

	s.endpoint = "https://s3.amazonaws.com";
	s.public_endpoint = "https://s3.amazonaws.com";
	s.region = "us-east-1";
	s.bucket = "examplebucket";
	s.access_key = "AKIAIOSFODNN7EXAMPLE";
	s.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	s.path_style = path_style;
	return s;
}

int
main(void)
{
	unsigned char	 key[32];
	char		 hex[65], *u;

	/* Signing key derivation, from the SigV4 documentation. */
	s3_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam", key);
	hex_encode(key, 32, hex);
	is_str(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", "signing key example");

	/* The S3 documentation's presigned GET example (2013-05-24, 86400 s). */
	struct s3 s = example(false);
	u = s3_presign(&s, "GET", "test.txt", NULL, 0, 86400, 1369353600);
	is_str(u, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
	    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
	    "presigned GET example");
	free(u);

	/* Path style puts the bucket in the path, and the signature changes. */
	struct s3 p = example(true);
	u = s3_presign(&p, "GET", "test.txt", NULL, 0, 86400, 1369353600);
	ok(strncmp(u, "https://s3.amazonaws.com/examplebucket/test.txt?", 48) == 0, "path style URL");
	ok(strstr(u, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") == NULL,
	    "path style signs another canonical request");
	free(u);

	/* Extra parameters are encoded and sorted into the query. */
	struct s3_param q[2] = { { "uploadId", "a/b+c" }, { "partNumber", "7" } };
	u = s3_presign(&s, "PUT", "blobs/abc/def/x y", q, 2, 3600, 1369353600);
	ok(strstr(u, "/blobs/abc/def/x%20y?X-Amz-Algorithm=") != NULL, "key encoded, '/' kept");
	ok(strstr(u, "&partNumber=7&uploadId=a%2Fb%2Bc&X-Amz-Signature=") != NULL, "params sorted and encoded");
	free(u);
	ok(s3_presign(&s, "GET", "k", NULL, 0, 0, 1369353600) == NULL, "expiry 0 refused");
	ok(s3_presign(&s, "GET", "k", NULL, 0, 604801, 1369353600) == NULL, "expiry over 7 days refused");

	u = s3_uri_encode("a b/c~d_e.f-g+h*i%é", true);
	is_str(u, "a%20b/c~d_e.f-g%2Bh%2Ai%25%C3%A9", "uri encode keeps unreserved and '/'");
	free(u);
	u = s3_uri_encode("a/b", false);
	is_str(u, "a%2Fb", "uri encode of a query value encodes '/'");
	free(u);

	struct s3_part parts[2] = { { 1, "abc" }, { 2, "\"def\"" } };
	u = s3_complete_body(parts, 2);
	ok(strstr(u, "<Part><PartNumber>1</PartNumber><ETag>\"abc\"</ETag></Part>"
	    "<Part><PartNumber>2</PartNumber><ETag>\"def\"</ETag></Part></CompleteMultipartUpload>") != NULL,
	    "complete body quotes each ETag once");
	free(u);
	return done_testing();
}
