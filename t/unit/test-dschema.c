/*
 * Unit tests of dschema.c: the shipped schemas load for every accepted
 * schemaVersion, the current one carries the instance's patterns, and
 * dvalidate's errors for the cases the database never lets through the
 * API (digest rules) or that need no database (versions).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "dschema.h"
#include "util.h"
#include "tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static const char *
errors_text(struct json_object *e)
{
	return json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
}

static struct json_object *
asset(const char *digest, const char *version)
{
	char text[2048];

	snprintf(text, sizeof(text),
	    "{\"schemaKey\": \"Asset\", \"schemaVersion\": \"%s\", \"encodingFormat\": \"application/x-nwb\","
	    " \"id\": \"dandiasset:0b7d7fa4-7d1a-4a50-9a5b-2e1c4fbf6e1a\","
	    " \"identifier\": \"0b7d7fa4-7d1a-4a50-9a5b-2e1c4fbf6e1a\","
	    " \"contentUrl\": [\"https://example.org/a\"], \"contentSize\": 10, \"path\": \"a.nwb\","
	    " \"access\": [{\"schemaKey\": \"AccessRequirements\", \"status\": \"dandi:OpenAccess\"}],"
	    " \"digest\": %s, \"datePublished\": \"2025-01-02T03:04:05.123456+00:00\","
	    " \"publishedBy\": {\"id\": \"urn:uuid:0b7d7fa4-7d1a-4a50-9a5b-2e1c4fbf6e1a\", \"name\": \"DANDI publish\","
	    " \"startDate\": \"2025-01-02T03:04:05.123456+00:00\", \"endDate\": \"2025-01-02T03:04:05.123456+00:00\","
	    " \"schemaKey\": \"PublishActivity\"}}", version, digest);
	return json_tokener_parse(text);
}

static void
check(struct dvalidator *v, const char *digest, const char *version, const char *want, const char *name)
{
	struct json_object *doc = asset(digest, version);
	struct json_object *e = dvalidate(v, DM_PUBLISHED_ASSET, doc);

	is_str(errors_text(e), want, name);
	json_object_put(e);
	json_object_put(doc);
}

int
main(void)
{
	struct config cfg;
	char err[512];

	setenv("DANDI_SCHEMA_DIR", TOP_SRCDIR "/share/schema", 1);
	setenv("DANDI_INSTANCE_NAME", "EMBER", 1);
	setenv("DANDI_DOI_PREFIX", "10.82754", 1);
	if (config_load(&cfg, NULL, 0, err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < dschema_ninput_versions; i++)
		for (int m = 0; m < DM_N; m++) {
			struct json_object *o = dschema_load(&cfg, dschema_input_versions[i], m, err, sizeof(err));
			ok(o != NULL, "schema %d of %s loads%s%s", m, dschema_input_versions[i], o ? "" : ": ", o ? "" : err);
			json_object_put(o);
		}
	ok(dschema_load(&cfg, "0.1.0", DM_ASSET, err, sizeof(err)) == NULL, "0.1.0 is not shipped");

	struct json_object *pd = dschema_load(&cfg, DANDI_SCHEMA_VERSION, DM_PUBLISHED_DANDISET, err, sizeof(err));
	struct json_object *props, *p, *pat;
	json_object_object_get_ex(pd, "properties", &props);
	json_object_object_get_ex(props, "id", &p);
	json_object_object_get_ex(p, "pattern", &pat);
	is_str(json_object_get_string(pat), "^EMBER:\\d{6}/\\d+\\.\\d+\\.\\d+$", "instance name in the id pattern");
	json_object_object_get_ex(props, "doi", &p);
	json_object_object_get_ex(p, "pattern", &pat);
	is_str(json_object_get_string(pat), "^10\\.82754/ember\\.\\d{6}/\\d+\\.\\d+\\.\\d+$", "DOI prefix in the doi pattern");
	ok(!json_object_object_get_ex(p, "default", NULL), "with a DOI prefix the doi has no default");
	struct json_object *req;
	json_object_object_get_ex(pd, "required", &req);
	is_str(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
	    "[\"assetsSummary\",\"citation\",\"contributor\",\"datePublished\",\"description\",\"doi\",\"id\","
	    "\"identifier\",\"license\",\"manifestLocation\",\"name\",\"publishedBy\",\"schemaKey\",\"url\",\"version\"]",
	    "... and is required, in pydantic's sorted place");
	json_object_object_get_ex(props, "identifier", &p);
	json_object_object_get_ex(p, "pattern", &pat);
	is_str(json_object_get_string(pat), "^EMBER:\\d{6}$", "instance name in the identifier pattern");
	json_object_put(pd);

	struct dvalidator *v = dvalidator_new(&cfg);
	const char *sha = "\"dandi:sha2-256\": \"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\"";
	char d[512];
	snprintf(d, sizeof(d), "{\"dandi:dandi-etag\": \"0123456789abcdef0123456789abcdef-1\", %s}", sha);
	check(v, d, "0.7.0", "[]", "a complete published asset is valid");
	check(v, d, "0.6.4", "[]", "in an older accepted version too");
	check(v, "{\"dandi:dandi-etag\": \"0123456789abcdef0123456789abcdef-1\"}", "0.7.0",
	    "[{\"field\":\"digest\",\"message\":\"Value error, A non-zarr asset must have a sha2_256.\"}]",
	    "no sha256");
	check(v, "{\"dandi:dandi-etag\": \"0123456789abcdef0123456789abcdef-1\", \"dandi:sha2-256\": \"xyz\"}", "0.7.0",
	    "[{\"field\":\"digest\",\"message\":\"Value error, Digest must have an appropriate sha2_256 value. Got xyz\"}]",
	    "bad sha256");
	snprintf(d, sizeof(d), "{\"dandi:dandi-etag\": \"0123456789abcdef0123456789abcdef\", %s}", sha);
	check(v, d, "0.7.0", "[{\"field\":\"digest\",\"message\":\"Value error, Digest must have an appropriate "
	    "dandi-etag value. Got 0123456789abcdef0123456789abcdef\"}]", "an etag without its part count");
	check(v, d, "9.9.9", "[{\"field\":\"\",\"message\":\"Metadata version 9.9.9 is not allowed. Allowed are: "
	    "0.7.0, 0.4.4, 0.5.1, 0.5.2, 0.6.0, 0.6.1, 0.6.2, 0.6.3, 0.6.4, 0.6.5, 0.6.6, 0.6.7, 0.6.8, 0.6.9, 0.6.10.\"}]",
	    "unknown schemaVersion");
	/* Many documents through one compiled schema (valgrind: no growth). */
	for (int i = 0; i < 200; i++) {
		struct json_object *doc = asset("{}", "0.7.0"), *e = dvalidate(v, DM_PUBLISHED_ASSET, doc);
		json_object_put(e);
		json_object_put(doc);
	}
	ok(1, "200 documents validated");
	dvalidator_free(v);
	config_free(&cfg);
	return done_testing();
}
