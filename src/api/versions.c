/*
 * versions.c - /api/dandisets/{id}/versions/...: list, raw metadata, info,
 * and the draft metadata update. Invalid metadata is stored (and later
 * marked Invalid by validation), never refused for schema reasons.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "datacite.h"

enum { VL_JSON = PAGE_COUNTED_ITEM, VL_TOTAL = PAGE_COUNTED_TOTAL, VL_NCOLS };
static const struct db_sql version_list = { "version_list", VL_NCOLS,
	"SELECT dandi_version_json(v, $2::bigint), count(*) OVER ()"
	" FROM versions v WHERE v.dandiset_id = $1::bigint"
	" ORDER BY CASE WHEN $3 = '-created' THEN v.created END DESC, v.created, v.id"
	" LIMIT $4::bigint OFFSET $5::bigint" };

/* One version by its id ($1). */
enum { VM_METADATA, VM_NCOLS };
static const struct db_sql version_metadata = { "version_metadata", VM_NCOLS,
	"SELECT v.metadata FROM versions v WHERE v.id = $1::bigint" };

enum { VI_JSON, VI_NCOLS };
static const struct db_sql version_info = { "version_info", VI_NCOLS,
	"SELECT dandi_version_info_json(v, $2::bigint) FROM versions v WHERE v.id = $1::bigint" };

/* The draft and its dandiset, locked for the metadata update. */
enum {
	VLK_ID, VLK_NAME, VLK_METADATA, VLK_EMBARGO, VLK_EMBARGO_END, VLK_CREATED,
	VLK_DOI, VLK_NCOLS,
};
static const struct db_sql version_lock = { "version_lock", VLK_NCOLS,
	"SELECT v.id, v.name, v.metadata, d.embargo_status, d.embargo_end_date::text,"
	" dandi_pyiso(d.created), v.doi"
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.id = $1::bigint FOR UPDATE OF v, d" };

enum { VD_ID, VD_DOI, VD_NCOLS };
static const struct db_sql version_delete = { "version_delete", VD_NCOLS,
	"DELETE FROM versions WHERE dandiset_id = $1::bigint AND version = $2 RETURNING id, doi" };

/* The deleted version's DOI goes too if DataCite only holds it as a
 * draft: dandi-jobs asks DataCite, outside this transaction. */
enum { VDD_JOB, VDD_NCOLS };	/* unread */
static const struct db_sql version_doi_delete = { "version_doi_delete", VDD_NCOLS,
	"SELECT dandi_enqueue('doi_delete', $1::text, jsonb_build_object('doi', $1::text))" };

static const struct db_sql version_update = { "version_update", 0,
	"UPDATE versions SET name = $2, metadata = $3::jsonb, status = 'Pending',"
	" modified = now() WHERE id = $1::bigint" };

const struct db_sql *const versions_sql[] = {
	&version_list, &version_metadata, &version_info, &version_lock, &version_delete,
	&version_doi_delete, &version_update, NULL
};

int
versions_list(struct request *req)
{
	struct page	 pg;
	const char	*order = query_get(req, "order");
	char		 limit[24], offset[24];

	if (page_parse(req, &pg) != 0)
		return 0;
	if (order != NULL && *order && strcmp(order, "created") != 0 && strcmp(order, "-created") != 0)
		return resp_field_error(req, "order", arena_printf(&req->arena,
		    "Select a valid choice. %s is not one of the available choices.", order));
	snprintf(limit, sizeof(limit), "%lld", (long long)pg.size);
	snprintf(offset, sizeof(offset), "%lld", (long long)pg.offset);
	const char *params[5] = { req->params[0], req->user_id_str, order ? order : "", limit, offset };
	PGresult *r = req_query(req, &version_list, 5, params);
	if (r == NULL)
		return 0;
	return page_respond_counted(req, &pg, r);
}

/* A statement of the route's version ($1) and, when n is 2, the user. */
static PGresult *
version_row(struct request *req, const struct db_sql *stmt, int n)
{
	const char	*params[2] = { req->version->id, req->user_id_str };
	PGresult	*r;

	if ((r = req_query(req, stmt, n, params)) == NULL)
		return NULL;
	if (PQntuples(r) == 0) {	/* deleted since the target's look-up */
		resp_detail(req, 404, "Not found.");
		return NULL;
	}
	return r;
}

int
versions_get(struct request *req)
{
	PGresult *r = version_row(req, &version_metadata, 1);

	return r == NULL ? 0 : resp_raw_json(req, 200, PQgetvalue(r, 0, VM_METADATA));
}

int
versions_info(struct request *req)
{
	PGresult *r = version_row(req, &version_info, 2);

	return r == NULL ? 0 : resp_raw_json(req, 200, PQgetvalue(r, 0, VI_JSON));
}

static void
json_put_cb(void *o)
{
	json_object_put(o);
}

/* The target has the draft locked and checked; the dandiset row is locked
 * too here and its status checked again on it, so that an unembargo begun
 * meanwhile wins. */
int
versions_update(struct request *req)
{
	const char		*id = req->dandiset->id, *name;
	const char		*params[1] = { req->version->id };
	struct json_object	*md, *newmd = NULL, *oldmd;
	PGresult		*r;

	if ((r = req_query(req, &version_lock, 1, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (perm_not_unembargoing(req, PQgetvalue(r, 0, VLK_EMBARGO)) != 0 ||
	    (md = metadata_body_parse(req, &name)) == NULL)
		return 0;

	json_object_deep_copy(md, &newmd, NULL);
	arena_defer(&req->arena, json_put_cb, newmd);
	/* Unreadable stored metadata (never, with one parser) counts as changed. */
	oldmd = req_json_text(req, PQgetvalue(r, 0, VLK_METADATA));
	metadata_strip_version(newmd);
	if (json_object_is_type(oldmd, json_type_object))
		metadata_strip_version(oldmd);
	if (strcmp(name, PQgetvalue(r, 0, VLK_NAME)) == 0 && json_object_is_type(oldmd, json_type_object) &&
	    json_object_equal(newmd, oldmd)) {
		/* Nothing changed: no save, status and modified stay. */
		db_rollback(req->db);
		return versions_info(req);
	}

	int64_t did;
	parse_int64(id, &did);
	struct version_ctx v = {
		.dandiset_id = did, .version = "draft", .name = name,
		.created_iso = PQgetvalue(r, 0, VLK_CREATED),
		.embargo_status = PQgetvalue(r, 0, VLK_EMBARGO),
		.embargo_end = PQgetisnull(r, 0, VLK_EMBARGO_END) ? NULL : PQgetvalue(r, 0, VLK_EMBARGO_END),
		.doi = PQgetisnull(r, 0, VLK_DOI) ? NULL : PQgetvalue(r, 0, VLK_DOI),
	};
	if (!json_object_object_get_ex(newmd, "schemaVersion", NULL))
		json_object_object_add(newmd, "schemaVersion", json_object_new_string(DANDI_SCHEMA_VERSION));
	metadata_populate_version(req->cfg, &v, newmd);
	const char *text = json_object_to_json_string_ext(newmd, JSON_C_TO_STRING_PLAIN);
	const char *upd[3] = { PQgetvalue(r, 0, VLK_ID), name, text };
	if (req_query(req, &version_update, 3, upd) == NULL)
		return 0;
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "metadata", json_object_get(newmd));
	if (audit_write(req, id, "update_metadata", details) != 0 || req_commit(req) != 0)
		return 0;
	return versions_info(req);
}

/* Published versions are permanent for everyone but superusers; the draft
 * is never deleted on its own (it goes with the dandiset). */
int
versions_delete(struct request *req)
{
	const char	*params[2] = { req->params[0], req->params[1] };
	PGresult	*r;

	if (strcmp(req->params[1], "draft") == 0)
		return resp_string(req, 403, "Cannot delete draft versions");
	if (!req->user->is_superuser)
		return resp_string(req, 403, "Cannot delete published versions");
	if ((r = req_query(req, &version_delete, 2, params)) == NULL)
		return 0;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found.");
	if (!PQgetisnull(r, 0, VD_DOI) && *PQgetvalue(r, 0, VD_DOI) && datacite_configured(req->cfg)) {
		const char *p1[1] = { PQgetvalue(r, 0, VD_DOI) };
		if (req_query(req, &version_doi_delete, 1, p1) == NULL)
			return 0;
	}
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "version", json_object_new_string(req->params[1]));
	if (audit_write(req, req->params[0], "delete_version", details) != 0 || req_commit(req) != 0)
		return 0;
	return resp_empty(req, 204);
}
