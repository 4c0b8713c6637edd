/* extsvc.h - the external viewers the web app offers under "Open with"
 * (GET /api/external-services/): the original web app's list by default,
 * or the JSON file of the configuration key external_services_file. */
#ifndef DANDI_EXTSVC_H
#define DANDI_EXTSVC_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"

/* The validated list, { "dandiset": [...], "asset": [...] }; NULL with err
 * set when the file is unreadable or malformed. */
struct json_object *extsvc_load(const struct config *, char *err, size_t errlen);

#endif
