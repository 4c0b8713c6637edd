/*
 * datacite.h - DOIs of published versions and their registration with
 * DataCite (REST API, JSON:API documents). Registration is optional: it
 * happens only when datacite_configured(); the DOI string itself is given
 * to every published version, as the original does.
 */
#ifndef DANDI_DATACITE_H
#define DANDI_DATACITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "config.h"

/* Results of the calls below, the same as a dandi-jobs job handler's. */
#define DATACITE_OK	 0
#define DATACITE_RETRY	-1	/* network trouble, 5xx, 429: try again later */
#define DATACITE_FAIL	-2	/* refused (4xx) or unusable: retrying cannot help */

/* The DOI of a published version, "<prefix>/<instance name, lower
 * case>.<6-digit id>/<version>"; the prefix is doi_prefix, else DataCite's
 * test prefix 10.80507 (the original's placeholder). */
void	datacite_doi(const struct config *, int64_t dandiset_id, const char *version,
	    char *out, size_t outlen);

/* Whether DOIs are registered: datacite_api_url, datacite_username,
 * datacite_password and doi_prefix all set (as the original needs its four
 * DOI settings). */
bool	datacite_configured(const struct config *);

/* Whether registered DOIs are made Findable (datacite_publish). */
bool	datacite_publish(const struct config *);

/* The JSON:API document {"data": {"id": doi, "type": "dois", "attributes":
 * {...}}} for published version metadata md (which carries its doi), with
 * the attributes dandischema's to_datacite derives; "event": "publish"
 * when publish. NULL with err set when md cannot be described (no doi,
 * name or datePublished, a license that is not SPDX). */
struct json_object *datacite_document(const struct config *, struct json_object *md,
	    bool publish, char *err, size_t errlen);

/* Registers doi with the document body: POST to datacite_api_url, and
 * when DataCite answers 422 because the DOI exists (an earlier attempt got
 * through), PUT <datacite_api_url>/<doi>. DATACITE_* with err set. */
int	datacite_register(const struct config *, const char *doi, const char *body,
	    char *err, size_t errlen);

/* What datacite_delete_draft found. */
enum datacite_fate {
	DATACITE_DELETED,	/* a draft: deleted */
	DATACITE_KEPT,		/* registered or findable: permanent, left alone */
	DATACITE_UNKNOWN,	/* DataCite does not know it (404): nothing to do */
};

/* Deletes doi if DataCite holds it as a draft (only drafts can be
 * deleted; Findable DOIs stay); *fate says which. DATACITE_* with err set
 * on failure. */
int	datacite_delete_draft(const struct config *, const char *doi, enum datacite_fate *fate,
	    char *err, size_t errlen);

#endif
