/*
 * publish.c - POST /api/dandisets/{id}/versions/draft/publish/: checks and
 * locks the draft (status Publishing) and queues the publish job; the
 * dandi-jobs utility makes the published version. 202, as the original.
 */
#include <string.h>

#include "api.h"

/* A draft with zarr assets publishes as a snapshot of each zarr (the
 * publish job, src/jobs/zarr-snapshot.c), once every zarr is Complete and
 * its checksum is the one its assets claim: an unpublished asset's digest
 * is the zarr's own, a published (frozen) one must still match. */
enum { PLD_ID, PLD_STATUS, PLD_ASSETS_INVALID, PLD_ZARR_NOT_READY, PLD_NCOLS };
static const struct db_sql publish_lock_draft = { "publish_lock_draft", PLD_NCOLS,
	"SELECT v.id, v.status, EXISTS (SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	"   WHERE av.version_id = v.id AND a.status <> 'Valid'),"
	" EXISTS (SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id JOIN zarrs z ON z.id = a.zarr_id"
	"   WHERE av.version_id = v.id AND (z.status <> 'Complete' OR (a.published AND"
	"     a.metadata->'digest'->>'dandi:dandi-zarr-checksum' IS DISTINCT FROM z.checksum)))"
	" FROM versions v WHERE v.dandiset_id = $1::bigint AND v.version = 'draft' FOR UPDATE" };

static const struct db_sql publish_mark = { "publish_mark", 0,
	"UPDATE versions SET status = 'Publishing', release_notes = $2 WHERE id = $1::bigint" };

enum { PE_JOB, PE_NCOLS };	/* unread */
static const struct db_sql publish_enqueue = { "publish_enqueue", PE_NCOLS,
	"SELECT dandi_enqueue('publish', $1::text,"
	" jsonb_build_object('dandiset', $2::bigint, 'draft', $1::bigint, 'user', $3::bigint))" };

const struct db_sql *const publish_sql[] = {
	&publish_lock_draft, &publish_mark, &publish_enqueue, NULL
};

/* The original's error for a draft that is not publishable, by status. */
static int
not_publishable(struct request *req, const char *status, bool assets_invalid)
{
	if (strcmp(status, "Published") == 0)
		return resp_string(req, 400, "There have been no changes to the draft version since the last publish.");
	if (strcmp(status, "Publishing") == 0)
		return resp_string(req, 423, "Dandiset is currently being published");
	if (strcmp(status, "Validating") == 0)
		return resp_string(req, 409, "Dandiset is currently being validated");
	if (strcmp(status, "Pending") == 0)
		return resp_string(req, 409, "Metadata validation is pending for this dandiset, please try again later.");
	if (strcmp(status, "Invalid") == 0 || assets_invalid)
		return resp_string(req, 400, "Dandiset metadata or asset metadata is not valid");
	return -1;
}

/* After the owner check (the target), as the original: the version in the
 * path, the body, the embargo, then the draft's state under its lock. */
int
versions_publish(struct request *req)
{
	const char	*id = req->dandiset->id, *notes = "";
	PGresult	*r;

	if (strcmp(req->params[1], "draft") != 0)
		return resp_string(req, 405, "Only draft versions can be published");

	/* An optional {"release_notes": "..."}; an empty body is fine. */
	if (req->body_len > 0) {
		struct json_object *body, *rn;
		if ((body = req_json_body(req)) == NULL)
			return 0;
		if (json_object_is_type(body, json_type_object) &&
		    json_object_object_get_ex(body, "release_notes", &rn) && rn != NULL) {
			if (!json_object_is_type(rn, json_type_string))
				return resp_field_error(req, "release_notes", "Not a valid string.");
			notes = json_object_get_string(rn);
			bool bad = false, nul = false;
			json_scan_text(rn, &bad, &nul);
			if (bad || nul)
				return resp_field_error(req, "release_notes", "Not a valid string.");
			if (utf8_chars(notes, strlen(notes)) > 5000)
				return resp_field_error(req, "release_notes",
				    "Ensure this field has no more than 5000 characters.");
		}
	}
	if (strcmp(req->dandiset->embargo_status, "OPEN") != 0)
		return resp_string(req, 400, "Operation only allowed on OPEN dandisets");

	const char *p1[1] = { id };
	if ((r = req_query(req, &publish_lock_draft, 1, p1)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	const char *draft = arena_strdup(&req->arena, PQgetvalue(r, 0, PLD_ID));
	const char *status = arena_strdup(&req->arena, PQgetvalue(r, 0, PLD_STATUS));
	bool assets_invalid = PQgetvalue(r, 0, PLD_ASSETS_INVALID)[0] == 't';
	if (strcmp(status, "Valid") != 0 || assets_invalid) {
		not_publishable(req, status, assets_invalid);
		return 0;
	}
	if (PQgetvalue(r, 0, PLD_ZARR_NOT_READY)[0] == 't') {
		resp_string(req, 409, "A zarr archive of this dandiset is not Complete or has changed since its"
		    " asset was made; finalize it and update its asset, then publish");
		return 0;
	}
	const char *mark[2] = { draft, notes };
	const char *job[3] = { draft, id, req->user_id_str };
	if (req_query(req, &publish_mark, 2, mark) == NULL ||
	    req_query(req, &publish_enqueue, 3, job) == NULL || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 202);
}
