/*
 * fuzz-config - the configuration file (`key = value` lines, config.c) and
 * what each program makes of it at start: the CORS lists and patterns
 * (cors_new), the S3 client (s3_init), the log level. The input is the
 * file's text. Checked: no memory error; a refused file says why; an
 * accepted one has api_url and web_url without a trailing slash and
 * s3_multipart_complete archive or s3.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "cors.h"
#include "fuzz.h"
#include "s3.h"

static int	fd = -1;
static char	path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	/* The file lives in memory; config_load opens it by name. */
	fd = memfd_create("dandi-fuzz.conf", 0);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512] = "";

	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (config_load(&cfg, path, 1, err, sizeof(err)) != 0) {
		FUZZ_CHECK(*err != '\0', "refused without a reason");
		config_free(&cfg);
		return 0;
	}
	size_t a = strlen(cfg.api_url), w = strlen(cfg.web_url);
	FUZZ_CHECK((a == 0 || cfg.api_url[a - 1] != '/') && (w == 0 || cfg.web_url[w - 1] != '/'),
	    "trailing slash kept: %s %s", cfg.api_url, cfg.web_url);
	FUZZ_CHECK(strcmp(cfg.s3_multipart_complete, "archive") == 0 ||
	    strcmp(cfg.s3_multipart_complete, "s3") == 0, "s3_multipart_complete %s", cfg.s3_multipart_complete);
	(void)log_level_parse(cfg.log_level);

	struct cors *c = cors_new(&cfg, err, sizeof(err));
	if (c != NULL) {
		(void)cors_origin_allowed(c, cfg.web_url);
		(void)cors_origin_allowed(c, "https://example.org");
		cors_free(c);
	} else
		FUZZ_CHECK(*err != '\0', "CORS refused without a reason");
	(void)web_app_url(&cfg, cfg.api_url);

	struct s3 s;
	if (s3_init(&s, &cfg) == 0) {
		char *u = s3_object_url(&s, "blobs/abc/def/x");
		free(u);
		s3_free(&s);
	}
	config_free(&cfg);
	return 0;
}
