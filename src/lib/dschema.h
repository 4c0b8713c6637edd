/* dschema.h - the DANDI metadata schemas shipped with the archive and the
 * validation of dandiset and asset metadata, as dandischema's validate()
 * does it for the original (see dschema.c). */
#ifndef DANDI_DSCHEMA_H
#define DANDI_DSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "config.h"

#define DANDI_SCHEMA_VERSION	"0.7.0"

/* The schemaVersions accepted for validation, in dandischema's order
 * (ALLOWED_VALIDATION_SCHEMAS: the current one first). */
extern const char *const dschema_validation_versions[];
extern const size_t dschema_nvalidation_versions;
/* ... and as /api/info/ lists them (ALLOWED_INPUT_SCHEMAS, ascending). */
extern const char *const dschema_input_versions[];
extern const size_t dschema_ninput_versions;
bool	dschema_allowed(const char *version);

enum dmodel { DM_DANDISET, DM_ASSET, DM_PUBLISHED_DANDISET, DM_PUBLISHED_ASSET, DM_N };
/* "Dandiset" ... "PublishedAsset" -> model, or -1. */
int	dmodel_parse(const char *name);
const char *dmodel_name(enum dmodel);	/* the inverse */

/* The schema document of a model in a version, read from
 * <schema_dir>/<version>/<file>.json; the current version's patterns carry
 * the configured instance name and DOI prefix. NULL with err set. */
struct json_object *dschema_load(const struct config *, const char *version, enum dmodel,
	    char *err, size_t errlen);

/* Compiled schemas, made on first use per (version, model) and kept. */
struct dvalidator;
struct dvalidator *dvalidator_new(const struct config *);
void	dvalidator_free(struct dvalidator *);

/* Validates doc as model (DM_PUBLISHED_DANDISET or DM_PUBLISHED_ASSET),
 * as the original: unsupported schemaVersion -> one error with field "";
 * else JSON Schema errors (sorted, field = path joined with "."); only if
 * there are none, the model rules JSON Schema cannot express (field = the
 * top-level key, "Value error, ..." messages). Returns a new array of
 * {"field", "message"} objects, empty when valid. */
struct json_object *dvalidate(struct dvalidator *, enum dmodel, struct json_object *doc);

#endif
