/*
 * schemas.c - GET /api/schemas/?model=Dandiset|Asset|PublishedDandiset|
 * PublishedAsset[&version=latest|<current>]: the JSON Schema of a model in
 * the current schemaVersion (what /api/info/'s schema_url points at), as
 * the original's schema_view. The files ship with the archive (schema_dir);
 * each worker reads a model once and keeps its text.
 * GET /api/schemas/available/: the model names ?model= takes, as the
 * original's schema_list_view (a plain JSON list).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"

static char *cached[DM_N];

int
schemas_get(struct request *req)
{
	const char	*model = query_get(req, "model");
	const char	*version = query_get(req, "version");
	char		 err[512];
	int		 m;

	/* DRF's ChoiceField messages. */
	if (model == NULL)
		return resp_field_error(req, "model", "This field is required.");
	if ((m = dmodel_parse(model)) < 0)
		return resp_field_error(req, "model", arena_printf(&req->arena,
		    "\"%s\" is not a valid choice.", model));
	if (version != NULL && *version && strcmp(version, "latest") != 0 &&
	    strcmp(version, DANDI_SCHEMA_VERSION) != 0)
		return resp_string(req, 400, "Invalid schema version %s. Server schema version is %s",
		    version, DANDI_SCHEMA_VERSION);
	if (cached[m] == NULL) {
		struct json_object *o = dschema_load(req->cfg, DANDI_SCHEMA_VERSION, (enum dmodel)m,
		    err, sizeof(err));
		if (o == NULL) {
			log_error("schemas: %s", err);
			return resp_detail(req, 500, "The schema is not installed.");
		}
		cached[m] = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	return resp_raw_json(req, 200, cached[m]);
}

int
schemas_available(struct request *req)
{
	struct json_object *a = json_object_new_array();

	/* dmodel_parse's names in enum order: the original's order too. */
	for (int m = 0; m < DM_N; m++)
		json_object_array_add(a, json_object_new_string(dmodel_name((enum dmodel)m)));
	return resp_json(req, 200, a);
}
