/* test-s3.c - SigV4 against the published AWS examples, URI encoding,
 * the CompleteMultipartUpload body. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "s3.h"
#include "vmeta.h"
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

	/* ...and read back: what we write parses to the same parts. */
	struct s3_part good[3] = { { 1, "0123456789abcdef0123456789abcdef" }, { 2, "\"fedcba9876543210fedcba9876543210\"" },
	    { 10000, "00000000000000000000000000000000" } };
	char *body = s3_complete_body(good, 3), err[160];
	struct s3_part *got;
	size_t n;
	ok(s3_complete_body_parse(body, strlen(body), &got, &n, err, sizeof(err)) == 0 && n == 3 &&
	    got[0].number == 1 && strcmp(got[0].etag, "0123456789abcdef0123456789abcdef") == 0 &&
	    got[1].number == 2 && strcmp(got[1].etag, "fedcba9876543210fedcba9876543210") == 0 &&
	    got[2].number == 10000, "complete body round trip (quotes removed)");
	if (n == 3)
		s3_parts_free(got, n);
	free(body);
	free(u);
	static const struct { const char *xml; const char *why; } bad[] = {
		{ "", "The body is not a CompleteMultipartUpload document." },
		{ "<CompleteMultipartUpload></CompleteMultipartUpload>", "The body names no parts." },
		{ "<CompleteMultipartUploadX><Part></Part></CompleteMultipartUploadX>",
		  "The body is not a CompleteMultipartUpload document." },
		{ "<?xml version=\"1.0\"<CompleteMultipartUpload>", "The XML declaration is not closed." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
		  "Part 1 needs a PartNumber and an ETag." },
		{ "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>ab</ETag></Part></CompleteMultipartUpload>",
		  "Part 1: the PartNumber must be 1..10000." },
		{ "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>ab</ETag></Part></CompleteMultipartUpload>",
		  "Part 1: the PartNumber must be 1..10000." },
		{ "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>ab</ETag></Part></CompleteMultipartUpload>",
		  "Part 1: the PartNumber must be 1..10000." },
		{ "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>ab</ETag></Part>"
		  "<Part><PartNumber>2</PartNumber><ETag>ab</ETag></Part></CompleteMultipartUpload>",
		  "Part numbers must be in ascending order without repeats." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a&lt;b</ETag></Part></CompleteMultipartUpload>",
		  "Part 1 has an invalid ETag." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&bogus;</ETag></Part></CompleteMultipartUpload>",
		  "Part 1 has a malformed ETag." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag></ETag></Part></CompleteMultipartUpload>",
		  "Part 1 has an invalid ETag." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber></Part>"
		  "</CompleteMultipartUpload>", "Part 1 holds an unexpected element." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>ab</ETag></Part>"
		  "</CompleteMultipartUpload><x/>", "Content follows the document." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>ab</ETag></Part>",
		  "Expected a Part element (part 2)." },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>ab", "Part 1 has a malformed ETag." },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = s3_complete_body_parse(bad[i].xml, strlen(bad[i].xml), &got, &n, err, sizeof(err));
		ok(rc == -1 && got == NULL && n == 0, "refused: %s", bad[i].xml);
		is_str(err, bad[i].why, "  with the reason");
	}
	/* Whitespace and an xmlns are fine; a NUL byte is not. */
	const char *spaced = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload\n"
	    " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Part>\n <ETag>&quot;ab&quot;</ETag>"
	    "<PartNumber>7</PartNumber> </Part>\n</CompleteMultipartUpload>\n";
	ok(s3_complete_body_parse(spaced, strlen(spaced), &got, &n, err, sizeof(err)) == 0 && n == 1 &&
	    got[0].number == 7 && strcmp(got[0].etag, "ab") == 0, "whitespace, namespace, either element order");
	if (n == 1)
		s3_parts_free(got, n);
	ok(s3_complete_body_parse("<Complete\0", 10, &got, &n, err, sizeof(err)) == -1, "a NUL byte is refused");

	/* The answer the archive gives in S3's place. */
	struct s3 ps = example(true);
	ps.public_endpoint = "http://files.example.org:9000";
	u = s3_complete_result(&ps, "blobs/a&b", "0123-2");
	is_str(u, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult"
	    " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://files.example.org:9000/examplebucket/"
	    "blobs/a%26b</Location><Bucket>examplebucket</Bucket><Key>blobs/a&amp;b</Key>"
	    "<ETag>&quot;0123-2&quot;</ETag></CompleteMultipartUploadResult>", "completion result");
	free(u);
	u = s3_complete_result(&ps, "k", NULL);
	ok(strstr(u, "<ETag>") == NULL, "no ETag element when none is known");
	free(u);
	u = s3_object_url(&s, "blobs/x y");
	is_str(u, "https://examplebucket.s3.amazonaws.com/blobs/x%20y", "object URL, virtual-host style");
	free(u);

	/* contentUrl's base: the public endpoint when set, in the client's
	 * addressing style. */
	char base[256];
	struct config c = { 0 };
	c.s3_bucket = "dandi";
	c.s3_endpoint = "http://10.0.0.5:7480/";
	c.s3_public_endpoint = "";
	c.s3_path_style = "auto";
	s3_base_url(&c, base, sizeof(base));
	is_str(base, "http://10.0.0.5:7480/dandi/", "base URL: the endpoint, path style");
	c.s3_public_endpoint = "https://s3.example.org";
	s3_base_url(&c, base, sizeof(base));
	is_str(base, "https://s3.example.org/dandi/", "base URL: s3_public_endpoint wins");
	c.s3_endpoint = "https://s3.us-east-2.amazonaws.com";
	c.s3_public_endpoint = "";
	s3_base_url(&c, base, sizeof(base));
	is_str(base, "https://dandi.s3.us-east-2.amazonaws.com/", "base URL: AWS, virtual-host style");
	c.s3_path_style = "true";
	s3_base_url(&c, base, sizeof(base));
	is_str(base, "https://s3.us-east-2.amazonaws.com/dandi/", "base URL: AWS with s3_path_style = true");
	return done_testing();
}
