/* Unit tests of s3log.c (S3 server access log lines) and the part plan
 * of blobsum.c. */
#include <stdlib.h>

#include "blobsum.h"
#include "s3log.h"
#include "tap.h"

#define OWNER	"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
#define UUID	"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define KEY	"blobs/0a1/b2c/" UUID

static int
parse(const char *text, struct s3log_record *rec, char *copy, size_t n)
{
	snprintf(copy, n, "%s", text);
	return s3log_parse(copy, rec);
}

int
main(void)
{
	struct s3log_record rec;
	char line[2048];

	/* A GET as S3 writes it, with every field after the user agent. */
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT " KEY
	    " \"GET /" KEY "?x-id=GetObject HTTP/1.1\" 200 - 1048576 1048576 70 10 \"-\""
	    " \"dandi/0.61.0 (Linux) \\\"quoted\\\" agent\" - s9lzHYrFp76Z= SigV4 ECDHE-RSA-AES128-GCM-SHA256"
	    " QueryString dandi.s3.amazonaws.com TLSv1.2 - -", &rec, line, sizeof(line)) == 0, "a GET parses");
	is_str(rec.bucket, "dandi", "bucket");
	is_str(rec.time, "06/Feb/2026:00:00:38 +0000", "time without brackets, with its space");
	is_str(rec.remote_ip, "192.0.2.3", "remote ip");
	is_str(rec.operation, "REST.GET.OBJECT", "operation");
	is_str(rec.key, KEY, "key");
	is_str(rec.request_uri, "GET /" KEY "?x-id=GetObject HTTP/1.1", "quoted request-uri without quotes");
	is_int(rec.status, 200, "status");
	is_int(rec.bytes_sent, 1048576, "bytes sent");
	is_str(rec.user_agent, "dandi/0.61.0 (Linux) \"quoted\" agent", "escaped quotes in the user agent");
	is_str(s3log_blob_uuid(rec.key), UUID, "a blob key gives its uuid");

	/* '-' for empty values; the older, shorter lines. */
	ok(parse(OWNER " dandi [06/Feb/2026:00:01:00 +0000] 192.0.2.4 - REQ2 REST.HEAD.OBJECT " KEY
	    " \"HEAD /" KEY " HTTP/1.1\" 404 NoSuchKey - - 2 - \"-\" \"-\"", &rec, line, sizeof(line)) == 0,
	    "a HEAD with '-' fields parses");
	is_int(rec.bytes_sent, 0, "'-' bytes sent: 0");
	ok(rec.user_agent == NULL, "'-' user agent: NULL");
	is_int(rec.status, 404, "status 404");
	ok(parse(OWNER " dandi [06/Feb/2026:00:02:00 +0000] 192.0.2.5 - REQ3 REST.GET.BUCKET - \"GET /?list-type=2"
	    " HTTP/1.1\" 200 - 512 - 9 8 \"-\" \"aws-cli\"", &rec, line, sizeof(line)) == 0, "a bucket listing");
	ok(rec.key == NULL, "'-' key: NULL");
	ok(s3log_blob_uuid(rec.key) == NULL, "no key: no blob");

	/* URL-encoded keys are decoded ('+' stays a plus). */
	ok(parse(OWNER " dandi [06/Feb/2026:00:03:00 +0000] 192.0.2.6 - REQ4 REST.GET.OBJECT"
	    " zarr/abc/a%20b%2Bc+d/%C3%A9 \"GET /zarr/abc/a%20b+c%2Bd/%C3%A9 HTTP/1.1\" 206 - 10 100 1 1 \"-\" \"x\"",
	    &rec, line, sizeof(line)) == 0, "an encoded key parses");
	is_str(rec.key, "zarr/abc/a b+c+d/\xc3\xa9", "the key is decoded");
	ok(s3log_blob_uuid(rec.key) == NULL, "a zarr key is no blob");
	ok(parse(OWNER " dandi [06/Feb/2026:00:03:00 +0000] 1.2.3.4 - R REST.GET.OBJECT blobs%2F0a1%2Fb2c%2F" UUID
	    " \"GET / HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"x\"\r", &rec, line, sizeof(line)) == 0,
	    "an encoded blob key (and a CR at the end)");
	is_str(s3log_blob_uuid(rec.key), UUID, "... is the blob");

	/* Malformed lines. */
	ok(parse("", &rec, line, sizeof(line)) == -1, "empty line: malformed");
	ok(parse("garbage here", &rec, line, sizeof(line)) == -1, "too few fields: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000 192.0.2.3 - R REST.GET.OBJECT " KEY " \"GET / HTTP/1.1\""
	    " 200 - 1 1 1 1 \"-\" \"x\"", &rec, line, sizeof(line)) == -1, "a bracket never closed: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000 192.0.2.3", &rec, line, sizeof(line)) == -1,
	    "an unterminated bracket: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - R REST.GET.OBJECT " KEY
	    " \"GET / HTTP/1.1 200 - 1 1 1 1", &rec, line, sizeof(line)) == -1, "an unterminated quote: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - R REST.GET.OBJECT " KEY
	    " \"GET / HTTP/1.1\" OK - 1 1 1 1 \"-\" \"x\"", &rec, line, sizeof(line)) == -1,
	    "a status that is no number: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - R REST.GET.OBJECT bad%zzkey"
	    " \"GET / HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"x\"", &rec, line, sizeof(line)) == -1,
	    "a bad %%-escape in the key: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - R REST.GET.OBJECT " KEY
	    " \"GET / HTTP/1.1\" 200 - lots 1 1 1 \"-\" \"x\"", &rec, line, sizeof(line)) == -1,
	    "bytes sent that are no number: malformed");
	ok(parse(OWNER " dandi [06/Feb/2026:00:00:38 +0000] 192.0.2.3 - R REST.GET.OBJECT " KEY
	    " \"GET / HTTP/1.1\"x 200 - 1 1 1 1 \"-\" \"x\"", &rec, line, sizeof(line)) == -1,
	    "text glued to a closing quote: malformed");

	/* Blob keys: the two directories must be the uuid's first six characters. */
	ok(s3log_blob_uuid("blobs/0a1/b2d/" UUID) == NULL, "wrong directory: no blob");
	ok(s3log_blob_uuid("blobs/0a1/b2c/" UUID "/x") == NULL, "longer key: no blob");
	ok(s3log_blob_uuid("xblobs/0a1/b2c/" UUID) == NULL, "other prefix: no blob");
	ok(s3log_blob_uuid("blobs/0a1/b2c/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4z") == NULL, "no uuid: no blob");

	/* Log object names. */
	ok(s3log_is_log_name("logs/2026-02-06-00-05-12-0123456789ABCDEF"), "a log name under a prefix");
	ok(s3log_is_log_name("2026-02-06-00-05-12-0123456789ABCDEF"), "a log name without prefix");
	ok(!s3log_is_log_name("logs/2026-02-06-00-05-12-0123456789abcdef"), "lower-case hex: no log");
	ok(!s3log_is_log_name("logs/2026-02-06-00-05-0123456789ABCDEF"), "a field short: no log");
	ok(!s3log_is_log_name("logs/readme.txt"), "another object: no log");

	/* dandischema's part plan (shared by uploads and verification). */
	int64_t ps, n, last;
	ok(dandi_part_plan(1, &ps, &n, &last) == 0 && ps == 1 && n == 1 && last == 1, "1 byte: one part");
	ok(dandi_part_plan(64LL << 20, &ps, &n, &last) == 0 && ps == 64LL << 20 && n == 1, "64 MiB: one part");
	ok(dandi_part_plan((64LL << 20) + 1, &ps, &n, &last) == 0 && ps == 64LL << 20 && n == 2 && last == 1,
	    "64 MiB + 1: two parts, the last of 1 byte");
	ok(dandi_part_plan(6LL << 40, &ps, &n, &last) == -1, "beyond 5 TiB: no plan");
	return done_testing();
}
