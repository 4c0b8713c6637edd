/* s3-tool - drives src/lib/s3.c from the shell for t/90-s3.t. The S3
 * settings come from the DANDI_S3_* environment, as for the server.
 *
 *   s3-tool put KEY FILE | get KEY [FIRST LAST] | head KEY | stat KEY | delete KEY
 *   s3-tool put-parts KEY FILE PARTSIZE   a multipart upload streamed from FILE
 *                                  (as the dandi client makes blobs; bounded memory)
 *   s3-tool sha256|blobsum KEY SIZE [STREAMS RANGESIZE [BUFFER]]
 *                                  the blob's sha256 as the sha256 job computes it
 *                                  (blobsum_compute); blobsum: "SHA256 DANDI-ETAG", as verify
 *   s3-tool put-many PREFIX N      N objects PREFIX0001.. whose bytes are their
 *                                  number, over one connection (a listing's fixture)
 *   s3-tool put-keys -             an object for each key read from stdin (one a
 *                                  line), its bytes the key (a bucket's fixture)
 *   s3-tool copy SRC DST | list PREFIX | tag KEY TAGS|- 
 *   s3-tool presign METHOD KEY EXPIRES [NAME=VALUE...]
 *   s3-tool mpu-create KEY [TAGS] | mpu-complete KEY UPLOADID N:ETAG... | mpu-abort KEY UPLOADID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blobsum.h"
#include "config.h"
#include "rangefeed.h"
#include "s3.h"
#include "util.h"

static int
to_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int
print_entry(void *ctx, const struct s3_listed *o)
{
	(void)ctx;
	printf("%s\t%lld\t%s\n", o->key, (long long)o->size, o->etag);
	return 0;
}

/* Every key under prefix, page after page. */
static int
list_all(struct s3 *s, const char *prefix)
{
	char	*token = NULL;
	bool	 more = true;
	int	 rc = S3_OK;

	while (more && rc == S3_OK) {
		char *next = NULL;
		rc = s3_list_page(s, prefix, NULL, token, -1, print_entry, NULL, &more, &next);
		free(token);
		token = next;
		more = more && token != NULL;
	}
	free(token);
	return rc;
}

static int
fail(struct s3 *s, int rc)
{
	fprintf(stderr, "s3-tool: %s (%s)\n", rc == S3_NOT_FOUND ? "not found" : "error", s->err);
	return rc == S3_NOT_FOUND ? 3 : 1;
}

int
main(int argc, char **argv)
{
	struct config	cfg;
	struct s3	s;
	char		err[256];
	int		rc;

	if (argc < 3 || config_load(&cfg, "/nonexistent", 0, err, sizeof(err)) != 0 || s3_init(&s, &cfg) != 0) {
		fprintf(stderr, "usage: s3-tool CMD ARGS (with DANDI_S3_* set)\n");
		return 2;
	}
	const char *cmd = argv[1], *key = argv[2];
	if (strcmp(cmd, "put") == 0 && argc == 4) {
		FILE *f = fopen(argv[3], "rb");
		struct buf b;
		char chunk[65536];
		size_t n;
		buf_init(&b);
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, n);
		if (f)
			fclose(f);
		rc = s3_put(&s, key, b.data ? b.data : "", b.len, NULL, NULL);
		buf_free(&b);
	} else if (strcmp(cmd, "put-many") == 0 && argc == 4) {
		long n = atol(argv[3]);
		rc = S3_OK;
		for (long i = 1; i <= n && rc == S3_OK; i++) {
			char k[1024], body[32];
			snprintf(k, sizeof(k), "%s%04ld", key, i);
			snprintf(body, sizeof(body), "%ld", i);
			rc = s3_put(&s, k, body, strlen(body), NULL, NULL);
		}
	} else if (strcmp(cmd, "put-keys") == 0 && argc == 3) {
		char line[1024];
		rc = S3_OK;
		while (rc == S3_OK && fgets(line, sizeof(line), stdin) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (*line)
				rc = s3_put(&s, line, line, strlen(line), NULL, NULL);
		}
	} else if (strcmp(cmd, "put-parts") == 0 && argc == 5) {
		struct s3_stream st;
		FILE *f = fopen(argv[3], "rb");
		static char chunk[1 << 20];
		size_t n;
		s3_stream_open(&st, &s, key, NULL, NULL, (size_t)atoll(argv[4]));
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && s3_stream_write(&st, chunk, n) == 0)
			;
		rc = f && !ferror(f) ? s3_stream_close(&st) : (s3_stream_close(&st), S3_ERROR);
		if (f)
			fclose(f);
	} else if ((strcmp(cmd, "sha256") == 0 || strcmp(cmd, "blobsum") == 0) && argc >= 4) {
		struct rangefeed_opts o = { argc > 5 ? atoi(argv[4]) : cfg.blob_read_streams,
		    argc > 5 ? (size_t)atoll(argv[5]) : cfg.blob_read_range_size };
		struct blobsum sum;
		if (argc > 6)
			s.read_buffer = atol(argv[6]);
		bool etag = strcmp(cmd, "blobsum") == 0;
		if ((rc = blobsum_compute(&s, key, atoll(argv[3]), etag, &o, &sum, err, sizeof(err))) == S3_OK)
			printf("%s%s%s\n", sum.sha256, etag ? " " : "", sum.etag);
		else
			snprintf(s.err, sizeof(s.err), "%s", err);
	} else if (strcmp(cmd, "get") == 0) {
		rc = s3_get(&s, key, argc > 4 ? atoll(argv[3]) : 0, argc > 4 ? atoll(argv[4]) : -1, to_stdout, NULL);
	} else if (strcmp(cmd, "head") == 0) {
		struct s3_object o = { 0 };
		if ((rc = s3_head(&s, key, &o)) == S3_OK)
			printf("%lld %s\n", (long long)o.size, o.etag ? o.etag : "");
		s3_object_free(&o);
	} else if (strcmp(cmd, "stat") == 0) {
		struct s3_object o = { 0 };
		if ((rc = s3_head(&s, key, &o)) == S3_OK)
			printf("%lld %s %s\n", (long long)o.size, o.etag ? o.etag : "", o.content_type ? o.content_type : "");
		s3_object_free(&o);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = s3_delete(&s, key);
	} else if (strcmp(cmd, "copy") == 0 && argc == 4) {
		rc = s3_copy(&s, key, argv[3]);
	} else if (strcmp(cmd, "list") == 0) {
		rc = list_all(&s, key);
	} else if (strcmp(cmd, "tags") == 0) {
		char *t = s3_get_tagging(&s, key);
		if (t != NULL)
			printf("%s\n", t);
		rc = t != NULL ? S3_OK : S3_ERROR;
		free(t);
	} else if (strcmp(cmd, "tag") == 0 && argc == 4) {
		rc = s3_put_tagging(&s, key, strcmp(argv[3], "-") == 0 ? NULL : argv[3]);
	} else if (strcmp(cmd, "presign") == 0 && argc >= 5) {
		struct s3_param p[8];
		int np = 0;
		for (int i = 5; i < argc && np < 8; i++) {
			char *eq = strchr(argv[i], '=');
			if (eq)
				*eq++ = '\0';
			p[np++] = (struct s3_param){ argv[i], eq };
		}
		char *u = s3_presign(&s, argv[2], argv[3], p, (size_t)np, atol(argv[4]), time(NULL));
		rc = u ? S3_OK : S3_ERROR;
		if (u)
			printf("%s\n", u);
		free(u);
	} else if (strcmp(cmd, "mpu-create") == 0) {
		char *id = NULL;
		if ((rc = s3_create_multipart(&s, key, NULL, argc > 3 ? argv[3] : NULL, &id)) == S3_OK)
			printf("%s\n", id);
		free(id);
	} else if (strcmp(cmd, "mpu-complete") == 0 && argc >= 5) {
		size_t n = (size_t)(argc - 4);
		struct s3_part *parts = xcalloc(n, sizeof(*parts));
		for (size_t i = 0; i < n; i++) {
			parts[i].number = atoi(argv[4 + i]);
			parts[i].etag = strchr(argv[4 + i], ':') + 1;
		}
		char *etag = NULL;
		if ((rc = s3_complete_multipart(&s, key, argv[3], parts, n, &etag)) == S3_OK)
			printf("%s\n", etag ? etag : "");
		free(etag);
		free(parts);
	} else if (strcmp(cmd, "mpu-abort") == 0 && argc == 4) {
		rc = s3_abort_multipart(&s, key, argv[3]);
	} else {
		fprintf(stderr, "s3-tool: unknown command\n");
		rc = 2;
	}
	int out = rc == S3_OK ? 0 : rc == 2 ? 2 : fail(&s, rc);
	s3_free(&s);
	config_free(&cfg);
	return out;
}
