/*
 * fuzz-json-body - a request body the way PUT .../versions/draft/ and POST
 * /api/dandisets/ read it: the strict JSON parser (req_json_body) and the
 * {"name", "metadata"} checks (metadata_body_parse); then what the archive
 * does with accepted metadata: the server-owned fields (vmeta.c), the
 * DANDI schema validation as published dandiset and as published asset
 * (dschema.c, jsonschema.c and its formats), the DataCite document, and
 * the JSON and YAML writers of the manifests. Checked: no memory error; a
 * body is either answered 400 with a JSON body or accepted; the validator
 * answers an array of {field, message}.
 */
#include <json-c/json.h>

#include "api.h"
#include "datacite.h"
#include "emit.h"
#include "fuzz.h"

static struct config	 cfg;
static struct dvalidator *validator;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	fuzz_config(&cfg);
	free(cfg.doi_prefix);
	cfg.doi_prefix = xstrdup("10.80507");
	validator = dvalidator_new(&cfg);
	return 0;
}

static int
sink(void *ctx, const char *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

static void
check_errors(struct json_object *errs)
{
	FUZZ_CHECK(json_object_is_type(errs, json_type_array), "validator answer is not a list");
	for (size_t i = 0; i < json_object_array_length(errs); i++) {
		struct json_object *e = json_object_array_get_idx(errs, i), *f, *m;
		FUZZ_CHECK(json_object_object_get_ex(e, "field", &f) && json_object_is_type(f, json_type_string) &&
		    json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string),
		    "validation error %zu is not {field, message}", i);
	}
}

static void
write_manifests(struct json_object *v)
{
	struct emit_out o;

	emit_init(&o, 0, sink, NULL);
	emit_json_value(&o, v);
	emit_yaml_document(&o, v, NULL, NULL);
	emit_yaml_document(&o, v, "- ", "  ");
	emit_finish(&o);
	emit_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	const char	*name = NULL;
	char		*body = fuzz_cstr(data, size);

	request_init(&req, &cfg, NULL);
	req.method = "PUT";
	req.path = "/api/dandisets/000001/versions/draft/";
	req.body = body;
	req.body_len = size;
	struct json_object *md = metadata_body_parse(&req, &name);
	if (md == NULL) {
		FUZZ_CHECK(req.status == 400, "refused with %d", req.status);
		FUZZ_CHECK(req.out.len > 0, "refused without a body");
		struct json_object *answer = json_tokener_parse(req.out.data);
		FUZZ_CHECK(answer != NULL, "the 400 body is not JSON: %s", req.out.data);
		json_object_put(answer);
		request_finish(&req);
		free(body);
		return 0;
	}
	FUZZ_CHECK(name != NULL && json_object_is_type(md, json_type_object), "accepted a non-object");

	/* As versions_update stores it, then as publish sees it. */
	struct json_object *copy = NULL;
	FUZZ_CHECK(json_object_deep_copy(md, &copy, NULL) == 0, "deep copy");
	metadata_strip_version(copy);
	if (!json_object_object_get_ex(copy, "schemaVersion", NULL))
		json_object_object_add(copy, "schemaVersion", json_object_new_string(DANDI_SCHEMA_VERSION));
	struct version_ctx v = {
		.dandiset_id = 1, .version = (size & 1) ? "draft" : "0.260101.1200", .name = name,
		.created_iso = "2026-01-02T03:04:05.123456+00:00",
		.embargo_status = (size & 2) ? "EMBARGOED" : "OPEN",
		.embargo_end = (size & 2) ? "2027-01-01" : NULL,
		.doi = (size & 1) ? NULL : "10.80507/dandi.000001/0.260101.1200",
	};
	metadata_populate_version(&cfg, &v, copy);

	struct json_object *errs = dvalidate(validator, DM_PUBLISHED_DANDISET, copy);
	check_errors(errs);
	write_manifests(errs);
	json_object_put(errs);
	errs = dvalidate(validator, DM_PUBLISHED_ASSET, md);
	check_errors(errs);
	json_object_put(errs);

	char err[256];
	struct json_object *doc = datacite_document(&cfg, copy, (size & 4) != 0, err, sizeof(err));
	if (doc != NULL)
		write_manifests(doc);
	json_object_put(doc);
	write_manifests(copy);
	json_object_put(copy);
	request_finish(&req);
	free(body);
	return 0;
}
