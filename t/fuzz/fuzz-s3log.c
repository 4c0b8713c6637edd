/*
 * fuzz-s3log - lines of S3 server access logs as `dandi-jobs analytics`
 * reads them (s3log_parse, s3log_blob_uuid) and the names of log objects
 * (s3log_is_log_name). The input is one line. Checked: no memory error;
 * a parsed record's strings lie inside the line; a blob key's uuid is a
 * uuid.
 */
#include "fuzz.h"
#include "s3log.h"

static bool
inside(const char *s, const char *line, size_t size)
{
	return s == NULL || (s >= line && s + strlen(s) <= line + size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size);
	size_t len = strlen(line);
	struct s3log_record r;

	(void)s3log_is_log_name(line);
	if (s3log_parse(line, &r) == 0) {
		FUZZ_CHECK(inside(r.bucket, line, len) && inside(r.time, line, len) &&
		    inside(r.remote_ip, line, len) && inside(r.operation, line, len) &&
		    inside(r.key, line, len) && inside(r.request_uri, line, len) &&
		    inside(r.user_agent, line, len), "a field points outside the line");
		FUZZ_CHECK(r.bytes_sent >= 0, "bytes_sent %lld", (long long)r.bytes_sent);
		if (r.key != NULL) {
			const char *uuid = s3log_blob_uuid(r.key);
			if (uuid != NULL)
				FUZZ_CHECK(is_uuid(uuid), "blob uuid %s of key %s", uuid, r.key);
		}
	}
	free(line);
	return 0;
}
