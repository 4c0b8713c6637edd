/*
 * extsvc.c - the "Open with" viewers. Two lists:
 *  - "dandiset": { name, endpoint } for a whole dandiset (the landing page);
 *  - "asset": { name, regex, maxsize, endpoint[, public_only] } offered for
 *    a file whose path matches regex (a JavaScript regular expression, the
 *    browser tests it) and whose size is at most maxsize bytes (null: no
 *    limit); public_only: not for embargoed dandisets (the viewer reads the
 *    bucket directly).
 * Endpoints are URL templates with the original web app's placeholders:
 * $dandiset_id$, $dandiset_version$, $asset_url$ (the S3 URL, or the
 * archive's download URL for embargoed dandisets), $asset_dandi_url$,
 * $asset_dandi_metadata_url$, $asset_s3_url$, $asset_path$, and
 * $neuroglancer_state$ (the Neuroglancer viewer state of the original's
 * Neuroglancer link, URL-encoded). The defaults are the original's
 * (web/src/utils/externalServices.ts and the landing page's Neurosift link).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "extsvc.h"
#include "jsonread.h"

static const char default_services[] =
"{\"dandiset\": ["
"  {\"name\": \"Neurosift\", \"endpoint\": \"https://neurosift.app/dandiset/$dandiset_id$?dandisetVersion=$dandiset_version$\"}"
" ],"
" \"asset\": ["
"  {\"name\": \"Bioimagesuite/Viewer\", \"regex\": \"\\\\.nii(\\\\.gz)?$\", \"maxsize\": 1000000000,"
"   \"endpoint\": \"https://bioimagesuiteweb.github.io/unstableapp/viewer.html?image=$asset_url$\"},"
"  {\"name\": \"MetaCell/NWBExplorer\", \"regex\": \"\\\\.nwb$\", \"maxsize\": 1000000000,"
"   \"endpoint\": \"http://nwbexplorer.opensourcebrain.org/nwbfile=$asset_url$\"},"
"  {\"name\": \"VTK/ITK Viewer\", \"regex\": \"\\\\.ome\\\\.zarr$\", \"maxsize\": null,"
"   \"endpoint\": \"https://kitware.github.io/itk-vtk-viewer/app/?gradientOpacity=0.3&image=$asset_url$\"},"
"  {\"name\": \"OME Zarr validator\", \"regex\": \"\\\\.(ome|nii)\\\\.zarr$\", \"maxsize\": null,"
"   \"endpoint\": \"https://ome.github.io/ome-ngff-validator/?source=$asset_url$\"},"
"  {\"name\": \"Neurosift\", \"regex\": \"\\\\.nii(\\\\.gz)?$\", \"maxsize\": null,"
"   \"endpoint\": \"https://neurosift.app/dandiset/$dandiset_id$?tab=$asset_path$\"},"
"  {\"name\": \"Neurosift\", \"regex\": \"\\\\.nwb$\", \"maxsize\": null,"
"   \"endpoint\": \"https://neurosift.app/nwb?url=$asset_dandi_url$&dandisetId=$dandiset_id$&dandisetVersion=$dandiset_version$\"},"
"  {\"name\": \"Neurosift\", \"regex\": \"\\\\.nwb\\\\.lindi\\\\.(json|tar)$\", \"maxsize\": null,"
"   \"endpoint\": \"https://neurosift.app/nwb?url=$asset_dandi_url$&st=lindi&dandisetId=$dandiset_id$&dandisetVersion=$dandiset_version$\"},"
"  {\"name\": \"Neurosift\", \"regex\": \"\\\\.avi$\", \"maxsize\": null,"
"   \"endpoint\": \"https://v1.neurosift.app?p=/avi&url=$asset_dandi_url$&dandisetId=$dandiset_id$&dandisetVersion=$dandiset_version$\"},"
"  {\"name\": \"Neuroglancer\", \"regex\": \"\\\\.nii(\\\\.gz)?$|\\\\.zarr$\", \"maxsize\": null, \"public_only\": true,"
"   \"endpoint\": \"https://neuroglancer-demo.appspot.com/#!$neuroglancer_state$\"},"
"  {\"name\": \"NeuroGlass\", \"regex\": \"\\\\.nii(\\\\.gz)?$|\\\\.(ome|nii)\\\\.zarr$\", \"maxsize\": null,"
"   \"endpoint\": \"https://www.neuroglass.io/new?resource=$asset_dandi_metadata_url$\"}"
" ]}";

static int
check_string(struct json_object *e, const char *key, size_t max, bool url, char *why, size_t whylen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(e, key, &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(why, whylen, "%s must be a string", key);
		return -1;
	}
	const char *s = json_object_get_string(v);
	if (*s == '\0' || strlen(s) > max) {
		snprintf(why, whylen, "%s must have 1 to %zu characters", key, max);
		return -1;
	}
	if (url && strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
		snprintf(why, whylen, "%s must be an http(s) URL template", key);
		return -1;
	}
	return 0;
}

/* One list's entries: what the web app relies on. */
static int
check_list(struct json_object *doc, const char *list, bool asset, const char *where, char *err, size_t errlen)
{
	struct json_object *a, *v;
	char why[160];

	if (!json_object_object_get_ex(doc, list, &a) || !json_object_is_type(a, json_type_array)) {
		snprintf(err, errlen, "%s: \"%s\" must be a list", where, list);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		why[0] = '\0';
		if (!json_object_is_type(e, json_type_object))
			snprintf(why, sizeof(why), "not an object");
		else if (check_string(e, "name", 100, false, why, sizeof(why)) != 0 ||
		    check_string(e, "endpoint", 2000, true, why, sizeof(why)) != 0)
			;
		else if (asset) {
			if (check_string(e, "regex", 500, false, why, sizeof(why)) == 0) {
				int ec;
				PCRE2_SIZE eo;
				json_object_object_get_ex(e, "regex", &v);
				pcre2_code *re = pcre2_compile((PCRE2_SPTR)json_object_get_string(v),
				    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
				if (re == NULL)
					snprintf(why, sizeof(why), "regex does not compile");
				pcre2_code_free(re);
			}
			if (!why[0] && json_object_object_get_ex(e, "maxsize", &v) && v != NULL &&
			    !((json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) &&
			    json_object_get_double(v) >= 0))
				snprintf(why, sizeof(why), "maxsize must be a number of bytes or null");
			if (!why[0] && json_object_object_get_ex(e, "public_only", &v) &&
			    !json_object_is_type(v, json_type_boolean))
				snprintf(why, sizeof(why), "public_only must be true or false");
		}
		if (why[0]) {
			snprintf(err, errlen, "%s: \"%s\" entry %zu: %s", where, list, i + 1, why);
			return -1;
		}
	}
	return 0;
}

struct json_object *
extsvc_load(const struct config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->external_services_file;
	struct json_object *doc;

	err[0] = '\0';
	if (path == NULL || *path == '\0') {
		doc = jsonread_str(default_services, err, errlen);
		path = "(built-in external services)";
	} else if ((doc = jsonread_file(path, err, errlen)) == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: null", path);
		return NULL;
	}
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_object_put(doc);
		return NULL;
	}
	if (check_list(doc, "dandiset", false, path, err, errlen) != 0 ||
	    check_list(doc, "asset", true, path, err, errlen) != 0) {
		json_object_put(doc);
		return NULL;
	}
	return doc;
}
