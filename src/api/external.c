/*
 * external.c - GET /api/external-services/: the viewers the web app
 * offers under "Open with" on a landing page and per file (extsvc.h), from
 * the instance configuration (external_services_file; the original web
 * app's list when unset). Not in the original's API: its app has the list
 * built in. Checked when dandi-api starts; each worker keeps the text.
 */
#include <stdlib.h>

#include "api.h"
#include "extsvc.h"

static char *cached;

int
external_services_get(struct request *req)
{
	char err[512];

	if (cached == NULL) {
		struct json_object *o = extsvc_load(req->cfg, err, sizeof(err));
		if (o == NULL) {
			log_error("external services: %s", err);
			return resp_detail(req, 500, "The external services configuration is invalid.");
		}
		cached = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	return resp_raw_json(req, 200, cached);
}
