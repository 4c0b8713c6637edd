/*
 * fuzz-zarrsum - the zarr checksum's input: the object keys of a zarr
 * (client-chosen paths) in S3 listing order, their sizes, and the saved
 * state a stopped ingest resumes from (zarrsum_add, _finish, _save,
 * _load, zarrsum_parse). The input is lines "path<TAB>size"; they are fed
 * once as given (out of order: refused, not crashed) and once sorted as S3
 * lists them. Checked: no memory error; stopping half-way, saving, loading
 * and going on gives the same checksum as one run; the checksum parses and
 * counts the files added. The input is also read as a saved state.
 */
#include <inttypes.h>

#include "fuzz.h"
#include "zarrsum.h"

struct entry {
	const char	*path;
	int64_t		 size;
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static const char *const md5s[] = {
	"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
	"900150983cd24fb0d6963f7d28e17f72",
};

/* Adds e[from..to) to z; -1 at the first refusal. */
static int
add_range(struct zarrsum *z, const struct entry *e, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (zarrsum_add(z, e[i].path, e[i].size, md5s[(uint64_t)e[i].size % 3]) != 0)
			return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz_cstr(data, size), *save = NULL, *line;
	struct entry e[64];
	size_t n = 0;
	char out[ZARRSUM_LEN], out2[ZARRSUM_LEN];

	/* The input as a saved state first (strtok_r below writes into copy). */
	struct zarrsum *z = zarrsum_load(copy);
	if (z != NULL) {
		if (zarrsum_finish(z, out) == 0)
			FUZZ_CHECK(zarrsum_parse(out, NULL, NULL, NULL), "loaded state gives %s", out);
		zarrsum_free(z);
	}
	for (line = strtok_r(copy, "\n", &save); line != NULL && n < 64; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		e[n].size = 0;
		if (tab != NULL) {
			*tab = '\0';
			/* S3 objects hold at most 5 TiB. */
			e[n].size = strtoll(tab + 1, NULL, 10) % 5497558138880LL;
			if (e[n].size < 0)
				e[n].size = -e[n].size;
		}
		e[n].path = line;
		(void)zarrsum_path_error(line, false);
		n++;
	}

	/* As given. */
	z = zarrsum_new();
	if (add_range(z, e, 0, n) == 0)
		(void)zarrsum_finish(z, out);
	else
		FUZZ_CHECK(*zarrsum_error(z) != '\0', "refused without a reason");
	zarrsum_free(z);

	/* In S3 order, in one go and resumed from a saved state half-way. */
	qsort(e, n, sizeof(e[0]), entry_cmp);
	z = zarrsum_new();
	int rc = add_range(z, e, 0, n);
	int64_t leaves = zarrsum_leaves(z);
	if (rc == 0)
		rc = zarrsum_finish(z, out);
	zarrsum_free(z);
	if (rc != 0) {
		free(copy);
		return 0;
	}
	int64_t count, bytes;
	FUZZ_CHECK(zarrsum_parse(out, NULL, &count, &bytes), "checksum %s does not parse", out);
	FUZZ_CHECK(count == leaves, "checksum %s counts %" PRId64 " files of %" PRId64, out, count, leaves);

	z = zarrsum_new();
	FUZZ_CHECK(add_range(z, e, 0, n / 2) == 0, "first half refused");
	char *state = zarrsum_save(z);
	zarrsum_free(z);
	z = zarrsum_load(state);
	FUZZ_CHECK(z != NULL, "saved state does not load: %s", state);
	FUZZ_CHECK(add_range(z, e, n / 2, n) == 0, "second half refused after resuming: %s", zarrsum_error(z));
	FUZZ_CHECK(zarrsum_finish(z, out2) == 0, "resumed finish failed");
	FUZZ_CHECK(strcmp(out, out2) == 0, "resumed checksum %s, not %s", out2, out);
	zarrsum_free(z);
	free(state);
	free(copy);
	return 0;
}
