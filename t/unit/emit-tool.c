/* emit-tool - drives src/lib/emit.c from the shell for t/88-manifests.t,
 * which compares its output with Python's on random documents.
 *
 *   emit-tool yaml|seq|json < documents
 *
 * Reads one JSON document per line and writes each as YAML (yaml), as an
 * assets.yaml entry (seq: "- " / "  " line prefixes) or as compact JSON
 * (json), every output followed by a NUL byte. The writer's buffer is
 * flushed every 7 bytes, so documents cross many sink calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "jsonread.h"

static int
to_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;

	if (argc != 2 || (strcmp(argv[1], "yaml") != 0 && strcmp(argv[1], "seq") != 0 &&
	    strcmp(argv[1], "json") != 0)) {
		fprintf(stderr, "usage: emit-tool yaml|seq|json < documents\n");
		return 2;
	}
	while (getline(&line, &cap, stdin) > 0) {
		char err[256];
		/* Read as dandi-jobs reads what it writes out. */
		struct json_object *v = jsonread_str(line, err, sizeof(err));
		struct emit_out o;

		if (v == NULL) {
			fprintf(stderr, "emit-tool: not JSON (%s): %s", err, line);
			return 1;
		}
		emit_init(&o, 7, to_stdout, NULL);
		if (strcmp(argv[1], "json") == 0)
			emit_json_value(&o, v);
		else if (strcmp(argv[1], "seq") == 0)
			emit_yaml_document(&o, v, "- ", "  ");
		else
			emit_yaml_document(&o, v, "", "");
		if (emit_finish(&o) != 0)
			return 1;
		emit_free(&o);
		fputc('\0', stdout);
		json_object_put(v);
	}
	free(line);
	return 0;
}
