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


/* ---- DANDI schemas ---- */

#define DANDI_BASE "https://raw.githubusercontent.com/dandi/schema/master/releases/0.6.9/"

static const char *const dandi_files[] = {
	"dandiset.json", "asset.json", "published-dandiset.json",
	"published-asset.json", NULL
};

static const char valid_dandiset[] =
    "{\"id\": \"DANDI:000123/draft\", \"identifier\": \"DANDI:000123\","
    " \"name\": \"Hippocampal recordings\","
    " \"description\": \"Silicon probe recordings in CA1 of freely moving mice.\","
    " \"contributor\": [{\"schemaKey\": \"Person\", \"name\": \"Lovelace, Augusta Ada\","
    "   \"email\": \"ada@example.org\", \"identifier\": \"0000-0002-1825-0097\","
    "   \"roleName\": [\"dcite:Author\", \"dcite:ContactPerson\"], \"includeInCitation\": true},"
    "  {\"schemaKey\": \"Organization\", \"name\": \"Example Institute\","
    "   \"roleName\": [\"dcite:Sponsor\"], \"identifier\": \"https://ror.org/0abcd1234\"}],"
    " \"license\": [\"spdx:CC-BY-4.0\"],"
    " \"citation\": \"Lovelace (2024) Hippocampal recordings (Version draft) [Data set]. DANDI archive.\","
    " \"assetsSummary\": {\"schemaKey\": \"AssetsSummary\", \"numberOfBytes\": 0, \"numberOfFiles\": 0},"
    " \"manifestLocation\": [\"https://api.dandiarchive.org/api/dandisets/000123/versions/draft/assets/\"],"
    " \"version\": \"draft\", \"schemaKey\": \"Dandiset\", \"schemaVersion\": \"0.6.9\","
    " \"dateCreated\": \"2024-01-02T03:04:05.123456+00:00\"}";

static const char valid_asset[] =
    "{\"id\": \"dandiasset:0b5f4e5c-9a2d-4f3e-8c1b-2a3b4c5d6e7f\","
    " \"identifier\": \"0b5f4e5c-9a2d-4f3e-8c1b-2a3b4c5d6e7f\","
    " \"schemaKey\": \"Asset\", \"schemaVersion\": \"0.6.9\", \"contentSize\": 18446744,"
    " \"encodingFormat\": \"application/x-nwb\", \"path\": \"sub-01/sub-01_ses-1_ecephys.nwb\","
    " \"digest\": {\"dandi:dandi-etag\": \"6f1b2c3d4e5f60718293a4b5c6d7e8f9-2\","
    "   \"dandi:sha2-256\": \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"},"
    " \"contentUrl\": [\"https://api.dandiarchive.org/api/assets/0b5f4e5c-9a2d-4f3e-8c1b-2a3b4c5d6e7f/download/\","
    "   \"https://dandiarchive.s3.amazonaws.com/blobs/6f1/b2c/6f1b2c3d\"],"
    " \"dateModified\": \"2024-01-02T03:04:05+00:00\","
    " \"blobDateModified\": \"2024-01-01T00:00:00+00:00\","
    " \"wasGeneratedBy\": [{\"schemaKey\": \"Session\", \"name\": \"ses-1\","
    "   \"identifier\": \"ses-1\", \"startDate\": \"2023-05-06T07:08:09+02:00\"},"
    "  {\"schemaKey\": \"Activity\", \"name\": \"Metadata generation\","
    "   \"startDate\": \"2024-01-02T03:04:05+00:00\", \"endDate\": \"2024-01-02T03:04:06+00:00\"}],"
    " \"wasAttributedTo\": [{\"schemaKey\": \"Participant\", \"identifier\": \"01\","
    "   \"species\": {\"schemaKey\": \"SpeciesType\", \"name\": \"Mus musculus - House mouse\","
    "     \"identifier\": \"http://purl.obolibrary.org/obo/NCBITaxon_10090\"},"
    "   \"sex\": {\"schemaKey\": \"SexType\", \"name\": \"Male\","
    "     \"identifier\": \"http://purl.obolibrary.org/obo/PATO_0000384\"},"
    "   \"age\": {\"schemaKey\": \"PropertyValue\", \"value\": \"P90D\", \"unitText\": \"ISO-8601 duration\","
    "     \"valueReference\": {\"schemaKey\": \"PropertyValue\", \"value\": \"dandi:BirthReference\"}}}],"
    " \"approach\": [{\"schemaKey\": \"ApproachType\", \"name\": \"electrophysiological approach\"}],"
    " \"measurementTechnique\": [{\"schemaKey\": \"MeasurementTechniqueType\", \"name\": \"spike sorting technique\"}],"
    " \"variableMeasured\": [{\"schemaKey\": \"PropertyValue\", \"value\": \"ElectricalSeries\"}]}";

static struct js_registry *
dandi_registry(void)
{
	struct js_registry	*r = js_registry_new();
	char			 path[1024], uri[1024], err[256];

	for (size_t i = 0; dandi_files[i] != NULL; i++) {
		json_object *doc;

		snprintf(path, sizeof(path), "%s/%s", DANDI, dandi_files[i]);
		snprintf(uri, sizeof(uri), "%s%s", DANDI_BASE, dandi_files[i]);
		doc = json_object_from_file(path);
		ok(doc != NULL && js_registry_add(r, uri, doc, err, sizeof(err)) == 0,
		    "DANDI %s loads", dandi_files[i]);
		json_object_put(doc);
	}
	return r;
}

static struct js_schema *
dandi_compile(struct js_registry *r, const char *file, int flags)
{
	char			 uri[1024], err[256] = "";
	struct js_schema	*s;

	snprintf(uri, sizeof(uri), "%s%s", DANDI_BASE, file);
	s = js_compile(r, uri, flags, err, sizeof(err));
	ok(s != NULL, "DANDI %s compiles%s%s", file, s ? "" : ": ", err);
	return s;
}

/* Validates a modified copy of doc (set key to value, or delete key when
 * value is NULL) and compares the errors with want: "pointer|keyword|message"
 * lines, in order. */
static void
check_errors(const struct js_schema *s, const char *doc, const char *edit,
    const char *const *want, const char *name)
{
	json_object	*x = json_tokener_parse(doc), *patch;
	struct js_errors e;
	struct buf	 got, exp;
	int		 n;

	/* edit: a JSON object whose members replace those of x; null deletes */
	patch = json_tokener_parse(edit);
	json_object_object_foreach(patch, k, v) {
		if (v == NULL)
			json_object_object_del(x, k);
		else
			json_object_object_add(x, k, json_object_get(v));
	}
	js_errors_init(&e, 0);
	n = js_validate(s, x, &e);
	buf_init(&got);
	buf_init(&exp);
	buf_puts(&got, "");
	buf_puts(&exp, "");
	for (size_t i = 0; i < e.n; i++)
		buf_printf(&got, "%s|%s|%s\n", e.v[i].pointer, e.v[i].keyword,
		    e.v[i].message);
	for (size_t i = 0; want[i] != NULL; i++)
		buf_printf(&exp, "%s\n", want[i]);
	is_str(got.data, exp.data, name);
	is_int(n, e.n, "js_validate returns the error count");
	js_errors_free(&e);
	buf_free(&got);
	buf_free(&exp);
	json_object_put(patch);
	json_object_put(x);
}

static void
run_dandi(void)
{
	struct js_registry	*r = dandi_registry();
	struct js_schema	*ds, *as, *pds, *pas, *person, *fmt;
	json_object		*x;
	struct js_errors	 e;
	char			 err[256];

	ds = dandi_compile(r, "dandiset.json", 0);
	as = dandi_compile(r, "asset.json", 0);
	pds = dandi_compile(r, "published-dandiset.json", 0);
	pas = dandi_compile(r, "published-asset.json", 0);
	fmt = dandi_compile(r, "dandiset.json", JS_FORMAT_ASSERT);
	person = js_compile(r, DANDI_BASE "dandiset.json#/$defs/Person", 0, err, sizeof(err));
	ok(person != NULL, "a fragment of a DANDI schema compiles");
	if (ds == NULL || as == NULL || pds == NULL || pas == NULL || person == NULL ||
	    fmt == NULL)
		goto out;

	x = json_tokener_parse(valid_dandiset);
	js_errors_init(&e, 0);
	is_int(js_validate(ds, x, &e), 0, "a minimal Dandiset is valid");
	for (size_t i = 0; i < e.n; i++)
		printf("#   %s: %s\n", e.v[i].pointer, e.v[i].message);
	js_errors_free(&e);
	ok(js_is_valid(fmt, x), "... also with formats asserted");
	ok(!js_is_valid(pds, x), "... but not as a published Dandiset");
	json_object_put(x);
	x = json_tokener_parse(valid_asset);
	js_errors_init(&e, 0);
	is_int(js_validate(as, x, &e), 0, "a realistic asset is valid");
	for (size_t i = 0; i < e.n; i++)
		printf("#   %s: %s\n", e.v[i].pointer, e.v[i].message);
	js_errors_free(&e);
	json_object_put(x);

	check_errors(ds, valid_dandiset, "{\"name\": null}", (const char *[]){
	    "|required|'name' is a required property", NULL }, "missing name");
	check_errors(ds, valid_dandiset, "{\"license\": [\"spdx:CC-BY-4.0\", \"CC-BY\"]}",
	    (const char *[]){ "/license/1|enum|'CC-BY' is not one of "
	    "['spdx:CC0-1.0', 'spdx:CC-BY-4.0']", NULL }, "bad license");
	check_errors(ds, valid_dandiset, "{\"contributor\": [{\"schemaKey\": \"Person\","
	    " \"name\": \"Doe, Jane\", \"email\": 5}]}", (const char *[]){
	    "/contributor/0|oneOf|{'schemaKey': 'Person', 'name': 'Doe, Jane', 'email': 5}"
	    " is not valid under any of the given schemas", NULL },
	    "a bad contributor is one error at the oneOf");
	check_errors(person, "{\"schemaKey\": \"Person\", \"name\": \"Doe, Jane\"}",
	    "{\"email\": 5, \"roleName\": [\"dcite:Author\", \"Boss\"]}", (const char *[]){
	    "/email|type|5 is not of type 'string'",
	    "/roleName/1|enum|'Boss' is not one of ['dcite:Author', 'dcite:Conceptualization', "
	    "'dcite:ContactPerson', 'dcite:DataCollector', 'dcite:DataCurator', "
	    "'dcite:DataManager', 'dcite:FormalAnalysis', 'dcite:FundingAcquisition', "
	    "'dcite:Investigation', 'dcite:Maintainer', 'dcite:Methodology', 'dcite:Producer', "
	    "'dcite:ProjectLeader', 'dcite:ProjectManager', 'dcite:ProjectMember', "
	    "'dcite:ProjectAdministration', 'dcite:Researcher', 'dcite:Resources', "
	    "'dcite:Software', 'dcite:Supervision', 'dcite:Validation', 'dcite:Visualization', "
	    "'dcite:Funder', 'dcite:Sponsor', 'dcite:StudyParticipant', 'dcite:Affiliation', "
	    "'dcite:EthicsApproval', 'dcite:Other']", NULL },
	    "wrong type in a Person's email, bad role");
	check_errors(ds, valid_dandiset, "{\"identifier\": \"DANDI:12\", \"schemaKey\": \"Dataset\","
	    " \"description\": null, \"contributor\": [],"
	    " \"assetsSummary\": {\"schemaKey\": \"AssetsSummary\", \"numberOfBytes\": 1.0,"
	    "   \"numberOfFiles\": \"ten\"}}", (const char *[]){
	    "|required|'description' is a required property",
	    "/identifier|pattern|'DANDI:12' does not match '^DANDI\\\\:\\\\d{6}$'",
	    "/contributor|minItems|[] is too short",
	    "/assetsSummary/numberOfFiles|type|'ten' is not of type 'integer'",
	    "/schemaKey|const|'Dandiset' was expected", NULL },
	    "every error is collected, 1.0 is an integer");
	check_errors(fmt, valid_dandiset, "{\"dateCreated\": \"2024-02-30T00:00:00Z\"}",
	    (const char *[]){ "/dateCreated|format|'2024-02-30T00:00:00Z' is not a "
	    "'date-time'", NULL }, "format asserted when asked");
	check_errors(ds, valid_dandiset, "{\"dateCreated\": \"2024-02-30T00:00:00Z\"}",
	    (const char *[]){ NULL }, "format is an annotation by default");

	/* maxLength counts code points: 3000 two-byte characters fit */
	{
		struct buf d;
		char edit[8000];

		buf_init(&d);
		for (int i = 0; i < 3000; i++)
			buf_puts(&d, "\xc3\xa9");
		snprintf(edit, sizeof(edit), "{\"description\": \"%s\"}", d.data);
		check_errors(ds, valid_dandiset, edit, (const char *[]){ NULL },
		    "3000 characters in 6000 bytes are not too long");
		buf_free(&d);
	}

	/* the error cap */
	{
		json_object *y = json_tokener_parse("{\"contributor\": 1, \"license\": 2}");
		js_errors_init(&e, 2);
		js_validate(ds, y, &e);
		ok(e.n == 2 && e.truncated, "errors stop at the cap (%zu), truncated set", e.n);
		ok(e.n > 0 && json_object_array_length(e.v[0].path) == 0,
		    "a root error has an empty path");
		js_errors_free(&e);
		json_object_put(y);
	}

	/* speed: not asserted */
	{
		struct timespec	 t0, t1;
		int		 n = 20000, bad = 0;
		double		 secs;

		x = json_tokener_parse(valid_asset);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < n; i++)
			if (js_validate(as, x, NULL) != 0)
				bad++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("# speed: %d asset validations in %.3f s: %.0f per second\n", n,
		    secs, n / secs);
		is_int(bad, 0, "the asset stays valid over many validations");
		json_object_put(x);
	}
out:
	js_schema_free(ds);
	js_schema_free(as);
	js_schema_free(pds);
	js_schema_free(pas);
	js_schema_free(person);
	js_schema_free(fmt);
	js_registry_free(r);
}


/* ---- the API and messages, on small schemas ---- */

/* Compiles schema text (added without a URI) and returns the errors of
 * instance text as "pointer|keyword|message" lines. */
static char *
errors_of(const char *schema, const char *instance)
{
	struct js_registry	*r = js_registry_new();
	json_object		*sch = json_tokener_parse(schema);
	json_object		*x = json_tokener_parse(instance);
	struct js_schema	*s;
	struct js_errors	 e;
	struct buf		 b;
	char			 err[256];

	buf_init(&b);
	buf_puts(&b, "");
	if (js_registry_add(r, NULL, sch, err, sizeof(err)) != 0 ||
	    (s = js_compile_schema(r, sch, JS_FORMAT_ASSERT, err, sizeof(err))) == NULL)
		buf_printf(&b, "compile: %s", err);
	else {
		js_errors_init(&e, 0);
		js_validate(s, x, &e);
		for (size_t i = 0; i < e.n; i++)
			buf_printf(&b, "%s%s|%s|%s", i ? "\n" : "", e.v[i].pointer,
			    e.v[i].keyword, e.v[i].message);
		js_errors_free(&e);
		js_schema_free(s);
	}
	json_object_put(sch);
	json_object_put(x);
	js_registry_free(r);
	return b.data;
}

#define IS_ERR(schema, instance, want) do {				\
	char *got_ = errors_of((schema), (instance));			\
	is_str(got_, (want), instance " against " schema);		\
	free(got_);							\
} while (0)

static void
run_api(void)
{
	struct js_registry	*r = js_registry_new();
	struct js_schema	*s;
	struct js_errors	 e;
	json_object		*a, *b, *x;
	char			 err[256];

	IS_ERR("{\"type\": \"integer\"}", "\"abc\"", "|type|'abc' is not of type 'integer'");
	IS_ERR("{\"type\": \"integer\"}", "1.0", "");
	IS_ERR("{\"type\": [\"string\", \"null\"]}", "1.5",
	    "|type|1.5 is not of type 'null', 'string'");
	IS_ERR("{\"maximum\": 3}", "5", "|maximum|5 is greater than the maximum of 3");
	IS_ERR("{\"minimum\": 3.5}", "1", "|minimum|1 is less than the minimum of 3.5");
	IS_ERR("{\"exclusiveMaximum\": 3}", "3",
	    "|exclusiveMaximum|3 is greater than or equal to the maximum of 3");
	IS_ERR("{\"multipleOf\": 0.0001}", "0.0075", "");
	IS_ERR("{\"multipleOf\": 0.01}", "19.99", "");
	IS_ERR("{\"multipleOf\": 1e-8}", "12391239123", "");
	IS_ERR("{\"multipleOf\": 3}", "9007199254740994", "|multipleOf|9007199254740994 is "
	    "not a multiple of 3");
	IS_ERR("{\"multipleOf\": 1.5}", "35", "|multipleOf|35 is not a multiple of 1.5");
	IS_ERR("{\"pattern\": \"^[0-9]+$\"}", "\"x\"", "|pattern|'x' does not match '^[0-9]+$'");
	IS_ERR("{\"pattern\": \"^\\\\d+$\"}", "\"\xd9\xa3\"",
	    "|pattern|'\xd9\xa3' does not match '^\\\\d+$'");
	IS_ERR("{\"pattern\": \"^\\\\p{L}{2}$\"}", "\"\xc3\xa9t\"", "");
	IS_ERR("{\"pattern\": \"^.$\"}", "\"\xf0\x9f\x90\xb2\"", "");
	IS_ERR("{\"enum\": [\"a\", \"b\"]}", "\"foo\"", "|enum|'foo' is not one of ['a', 'b']");
	IS_ERR("{\"enum\": [1, {\"a\": [true, null]}]}", "{\"a\": [true, null]}", "");
	IS_ERR("{\"const\": {\"a\": 1, \"b\": 2.0}}", "{\"b\": 2, \"a\": 1.0}", "");
	IS_ERR("{\"const\": false}", "0", "|const|False was expected");
	IS_ERR("{\"minLength\": 3}", "\"\xc3\xa9\xc3\xa9\"", "|minLength|'\xc3\xa9\xc3\xa9' is too short");
	IS_ERR("{\"maxLength\": 2}", "\"\xc3\xa9\xc3\xa9\"", "");
	IS_ERR("{\"required\": [\"name\", \"id\"]}", "{\"id\": 1}",
	    "|required|'name' is a required property");
	IS_ERR("{\"properties\": {\"a\": {}}, \"additionalProperties\": false}",
	    "{\"a\": 1, \"b\": 2, \"c\": 3}",
	    "|additionalProperties|Additional properties are not allowed ('b', 'c' were unexpected)");
	IS_ERR("{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 10}]}", "5",
	    "|anyOf|5 is not valid under any of the given schemas");
	IS_ERR("{\"oneOf\": [{\"minimum\": 1}, {\"maximum\": 10}]}", "5",
	    "|oneOf|5 is valid under each of {'minimum': 1}, {'maximum': 10}");
	IS_ERR("{\"not\": {\"type\": \"string\"}}", "\"s\"",
	    "|not|'s' should not be valid under {'type': 'string'}");
	IS_ERR("{\"items\": false}", "[1]", "|items|[1] is expected to be empty");
	IS_ERR("{\"properties\": {\"a\": false}}", "{\"a\": \"it's\"}",
	    "/a|false|False schema does not allow \"it's\"");
	IS_ERR("{\"uniqueItems\": true}", "[1, 1.0]", "|uniqueItems|[1, 1.0] has non-unique elements");
	IS_ERR("{\"dependentRequired\": {\"foo\": [\"bar\"]}}", "{\"foo\": 1}",
	    "|dependentRequired|'bar' is a dependency of 'foo'");
	IS_ERR("{\"minItems\": 2, \"maxProperties\": 0}", "[null]", "|minItems|[None] is too short");
	IS_ERR("{\"contains\": {\"type\": \"integer\"}, \"maxContains\": 1}", "[1, 2, \"x\"]",
	    "|maxContains|[1, 2, 'x'] has too many items matching the given schema "
	    "(expected at most 1)");
	IS_ERR("{\"format\": \"email\"}", "\"nobody\"", "|format|'nobody' is not a 'email'");
	IS_ERR("{\"format\": \"x-unknown\"}", "\"anything\"", "");
	IS_ERR("{\"pattern\": \"(\"}", "1", "compile: bad regex '(': missing closing "
	    "parenthesis at 1");
	IS_ERR("{\"$ref\": \"#/$defs/missing\"}", "1",
	    "compile: cannot resolve reference urn:x-jsonschema:anonymous:1#/$defs/missing");
	IS_ERR("{\"$defs\": {\"a/b\": {\"type\": \"integer\"}, \"c~d\": {\"minimum\": 5},"
	    " \"e%f\": {\"maximum\": 7}}, \"allOf\": [{\"$ref\": \"#/$defs/a~1b\"},"
	    " {\"$ref\": \"#/$defs/c~0d\"}, {\"$ref\": \"#/$defs/e%25f\"}]}", "8.5",
	    "|type|8.5 is not of type 'integer'\n|maximum|8.5 is greater than the maximum of 7");
	IS_ERR("{\"properties\": {\"kids\": {\"items\": {\"$ref\": \"#\"}}}, \"required\": [\"n\"]}",
	    "{\"n\": 1, \"kids\": [{\"n\": 2, \"kids\": [{\"n\": 3}, {\"kids\": []}]}]}",
	    "/kids/0/kids/1|required|'n' is a required property");
	IS_ERR("{\"$ref\": \"#\"}", "1", "|$ref|1 is nested too deeply (recursive schema?)");

	/* refs across documents: by an explicit URI, by $id, relative */
	a = json_tokener_parse("{\"$defs\": {\"Person\": {\"type\": \"object\","
	    " \"properties\": {\"name\": {\"type\": \"string\"}}, \"required\": [\"name\"]},"
	    " \"Named\": {\"$anchor\": \"named\", \"required\": [\"name\"]}}}");
	b = json_tokener_parse("{\"$id\": \"https://example/sub/list.json\", \"type\": \"array\","
	    " \"items\": {\"allOf\": [{\"$ref\": \"../dandiset.json#/$defs/Person\"},"
	    " {\"$ref\": \"https://example/dandiset.json#named\"}]}}");
	ok(js_registry_add(r, "https://example/dandiset.json", a, err, sizeof(err)) == 0 &&
	    js_registry_add(r, NULL, b, err, sizeof(err)) == 0, "two documents added");
	json_object_put(a);
	json_object_put(b);
	s = js_compile(r, "https://example/sub/list.json", 0, err, sizeof(err));
	ok(s != NULL, "a schema referring to another document compiles");
	x = json_tokener_parse("[{\"name\": \"a\"}, {\"name\": 5}, {}]");
	js_errors_init(&e, 0);
	is_int(js_validate(s, x, &e), 3, "three errors across documents");
	if (e.n == 3) {
		is_str(e.v[0].pointer, "/1/name", "pointer of the nested error");
		is_str(json_object_to_json_string_ext(e.v[0].path, JSON_C_TO_STRING_PLAIN),
		    "[1,\"name\"]", "path tokens: index, then key");
		is_str(e.v[1].message, "'name' is a required property", "required across documents");
		is_str(e.v[2].pointer, "/2", "the anchor's required too");
	}
	js_errors_free(&e);
	json_object_put(x);
	js_schema_free(s);
	s = js_compile(r, "https://example/nowhere.json", 0, err, sizeof(err));
	ok(s == NULL && strstr(err, "nowhere") != NULL, "an unknown URI does not compile: %s", err);
	js_registry_free(r);

	{
		struct buf rb;
		x = json_tokener_parse("[1.0, 1e300, 0.1, -2, true, null, \"a\\nb\", {\"k\": []}]");
		buf_init(&rb);
		js_repr(&rb, x, 0);
		is_str(rb.data, "[1.0, 1e+300, 0.1, -2, True, None, 'a\\nb', {'k': []}]",
		    "js_repr writes Python reprs");
		buf_free(&rb);
		json_object_put(x);
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
	run_dandi();
	run_api();

	for (size_t i = 0; i < nremote; i++) {
		free(remote[i].uri);
		json_object_put(remote[i].doc);
	}
	return done_testing();
}
