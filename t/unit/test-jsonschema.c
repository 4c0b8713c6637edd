/*
 * Unit tests of jsonschema.c: the official JSON-Schema-Test-Suite cases
 * (t/data/jsonschema-suite, one TAP line per file) and the DANDI schemas
 * (share/schema/0.6.9) with exact error paths and messages.
 */
#include <dirent.h>
#include <stdlib.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonschema.h"
#include "util.h"
#include "tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#define SUITE	TOP_SRCDIR "/t/data/jsonschema-suite"
#define DANDI	TOP_SRCDIR "/share/schema/0.6.9"

/* Suite files not run, with the reason. */
static const char *const skipped[][2] = {
	{ "vocabulary.json", "$vocabulary is not supported: every vocabulary is on" },
	{ NULL, NULL }
};

/* Groups of cases not run: file, group description, reason. */
static const char *const skipped_groups[][3] = {
	{ "hostname.json", "validation of A-label (punycode) host names",
	  "IDNA2008 rules for A-labels need Unicode tables; an A-label is "
	  "checked as an LDH label only" },
	{ NULL, NULL, NULL }
};

/* Formats asserted by the optional/format files run here. */
static const char *const formats[] = {
	"date", "date-time", "time", "duration", "email", "hostname", "ipv4",
	"ipv6", "uri", "uri-reference", "uuid", "regex", NULL
};

/* Documents every registry starts with: the suite's remotes under
 * http://localhost:1234/ and the draft 2020-12 meta-schemas. */
static struct {
	char		*uri;
	json_object	*doc;
} remote[64];
static size_t nremote;

static int total_cases, total_passed;

static void
load_remotes(const char *dir, const char *prefix)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[1024], uri[1024];
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(uri, sizeof(uri), "%s%s", prefix, e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
			if (nremote == sizeof(remote) / sizeof(remote[0]))
				fatal("too many remotes");
			remote[nremote].doc = json_object_from_file(path);
			remote[nremote++].uri = xstrdup(uri);
		} else if (strchr(e->d_name, '.') == NULL) {
			strcat(uri, "/");
			load_remotes(path, uri);
		}
	}
	closedir(d);
}

static struct js_registry *
registry_with_remotes(void)
{
	struct js_registry	*r = js_registry_new();
	char			 err[256];

	for (size_t i = 0; i < nremote; i++)
		if (js_registry_add(r, remote[i].uri, remote[i].doc, err, sizeof(err)) != 0)
			fatal("%s: %s", remote[i].uri, err);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one suite file; returns the number of failing cases. */
static int
run_file(const char *path, const char *label, int flags)
{
	json_object	*groups = json_object_from_file(path);
	int		 cases = 0, passed = 0;
	struct buf	 diag;

	buf_init(&diag);
	buf_puts(&diag, "");
	if (groups == NULL) {
		ok(0, "%s: cannot be read", label);
		return 1;
	}
	for (size_t g = 0; g < json_object_array_length(groups); g++) {
		json_object		*grp = json_object_array_get_idx(groups, g);
		json_object		*schema, *tests, *v;
		struct js_registry	*r = registry_with_remotes();
		struct js_schema	*s = NULL;
		char			 err[512];
		const char		*gdesc;
		size_t			 k;

		json_object_object_get_ex(grp, "description", &v);
		gdesc = json_object_get_string(v);
		for (k = 0; skipped_groups[k][0] != NULL; k++)
			if (strstr(label, skipped_groups[k][0]) != NULL &&
			    strcmp(gdesc, skipped_groups[k][1]) == 0)
				break;
		if (skipped_groups[k][0] != NULL) {
			printf("# skipped %s / %s: %s\n", label, gdesc, skipped_groups[k][2]);
			js_registry_free(r);
			continue;
		}
		json_object_object_get_ex(grp, "schema", &schema);
		json_object_object_get_ex(grp, "tests", &tests);
		if (js_registry_add(r, NULL, schema, err, sizeof(err)) == 0)
			s = js_compile_schema(r, schema, flags, err, sizeof(err));
		for (size_t t = 0; t < json_object_array_length(tests); t++) {
			json_object	*tc = json_object_array_get_idx(tests, t), *data, *d;
			bool		 want, got, quick;
			struct js_errors e;
			int		 n = 0;

			json_object_object_get_ex(tc, "data", &data);
			json_object_object_get_ex(tc, "valid", &v);
			json_object_object_get_ex(tc, "description", &d);
			want = json_object_get_boolean(v);
			cases++;
			if (s == NULL) {
				buf_printf(&diag, "#   %s / %s: compile failed: %s\n", gdesc,
				    json_object_get_string(d), err);
				continue;
			}
			js_errors_init(&e, 100);
			n = js_validate(s, data, &e);
			got = n == 0;
			quick = js_is_valid(s, data);
			if (got == want && quick == want && (got || e.n > 0))
				passed++;
			else
				buf_printf(&diag, "#   %s / %s: expected %s, got %s%s%s\n",
				    gdesc, json_object_get_string(d),
				    want ? "valid" : "invalid", got ? "valid" : "invalid",
				    quick != got ? " (js_is_valid disagrees)" : "",
				    e.n > 0 ? e.v[0].message : "");
			js_errors_free(&e);
		}
		js_schema_free(s);
		js_registry_free(r);
	}
	json_object_put(groups);
	total_cases += cases;
	total_passed += passed;
	ok(passed == cases, "%s: %d/%d cases", label, passed, cases);
	if (passed != cases)
		fputs(diag.data, stdout);
	buf_free(&diag);
	return cases - passed;
}

static void
run_suite(void)
{
	const char	*dir = SUITE "/tests/draft2020-12";
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		*names[128];
	size_t		 n = 0;

	if (d == NULL) {
		ok(0, "test suite at %s", dir);
		return;
	}
	while ((e = readdir(d)) != NULL && n < 128) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
			names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		size_t k;

		for (k = 0; skipped[k][0] != NULL; k++)
			if (strcmp(skipped[k][0], names[i]) == 0)
				break;
		if (skipped[k][0] != NULL)
			printf("# skipped %s: %s\n", names[i], skipped[k][1]);
		else {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			run_file(path, names[i], 0);
		}
		free(names[i]);
	}
	for (size_t i = 0; formats[i] != NULL; i++) {
		char path[1024], label[128];

		snprintf(path, sizeof(path), "%s/optional/format/%s.json", dir, formats[i]);
		snprintf(label, sizeof(label), "optional/format/%s.json", formats[i]);
		run_file(path, label, JS_FORMAT_ASSERT);
	}
}

int
main(void)
{
	load_remotes(SUITE "/remotes", "http://localhost:1234/");
	load_remotes(SUITE "/metaschema", "https://json-schema.org/draft/2020-12/");
	/* the meta-schemas are known by their $id, without ".json" */
	for (size_t i = 0; i < nremote; i++) {
		size_t n = strlen(remote[i].uri);
		if (strncmp(remote[i].uri, "https:", 6) == 0 && n > 5)
			remote[i].uri[n - 5] = '\0';
	}
	run_suite();
	printf("# suite: %d of %d cases pass\n", total_passed, total_cases);

	for (size_t i = 0; i < nremote; i++) {
		free(remote[i].uri);
		json_object_put(remote[i].doc);
	}
	return done_testing();
}
