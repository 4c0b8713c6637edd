/*
 * fuzz.h - what the libFuzzer harnesses of t/fuzz/ share: splitting an
 * input into fields, a quiet log, a configuration that reaches nothing
 * outside the process, and a check that aborts (a crash libFuzzer keeps)
 * when a property of the code under test does not hold.
 *
 * Every harness defines LLVMFuzzerTestOneInput; built by `make fuzz`, run
 * by contrib/fuzz/run (see README, "Security and reliability").
 */
#ifndef DANDI_FUZZ_H
#define DANDI_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property of the code under test failed: report and crash, so that
 * libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz check failed at %s:%d: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		abort();						\
	}								\
} while (0)

/* The input as a C string (cut at its first NUL byte, as any C string
 * the archive receives would be). malloc'd. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits the input at every sep byte into at most max fields (the last
 * one takes the rest, separators included); fields not present are "".
 * Returns the copy the fields point into (free it), *n the count found. */
static inline char *
fuzz_split(const uint8_t *data, size_t size, char sep, char **fields, size_t max, size_t *n)
{
	char *copy = fuzz_cstr(data, size), *p = copy;
	size_t k = 0;

	for (size_t i = 0; i < max; i++)
		fields[i] = "";
	while (k < max) {
		fields[k++] = p;
		if (k == max)
			break;
		char *e = memchr(p, sep, (size_t)(copy + size - p));
		if (e == NULL)
			break;
		*e = '\0';
		p = e + 1;
	}
	if (n != NULL)
		*n = k;
	return copy;
}

/* Logs go nowhere: an error logged per input would only slow the run. */
static inline void
fuzz_quiet(void)
{
	log_open("/dev/null", "fuzz", LOG_ERROR);
}

/* The defaults of every key, with the schemas and the OpenAPI document
 * of the source tree, and a database that cannot be reached: a handler
 * that gets to its first query is answered 503 there, with no I/O but a
 * failed connect() on a socket that does not exist. */
static inline void
fuzz_config(struct config *cfg)
{
	char err[256];

	if (config_load(cfg, NULL, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: config: %s\n", err);
		abort();
	}
	free(cfg->db);
	cfg->db = xstrdup("host=/nonexistent/dandi-fuzz port=1 user=fuzz dbname=fuzz connect_timeout=1");
	free(cfg->schema_dir);
	cfg->schema_dir = xstrdup(FUZZ_TOP_SRCDIR "/share/schema");
	free(cfg->openapi_file);
	cfg->openapi_file = xstrdup(FUZZ_TOP_SRCDIR "/share/openapi/openapi.json");
	free(cfg->log_file);
	cfg->log_file = xstrdup("/dev/null");
}

#endif
