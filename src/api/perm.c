/*
 * perm.c - every access rule of the API, and the look-ups the route table
 * names (route.target), which server_handle runs before a handler. No
 * handler inspects roles on its own.
 *
 *   anonymous       read OPEN dandisets
 *   any user        + unsafe requests only when APPROVED (or superuser)
 *   owner           + write own dandisets, read own embargoed ones
 *   superuser       everything, owner of every dandiset
 *   link holder     + read the one dandiset of a live access link
 *                   (req->link_dandiset, auth.c): its landing page,
 *                   metadata, assets, downloads, zarr files; nothing
 *                   else (no user: every write and user route refuses it
 *                   as anonymous; beside a user, what the user may)
 *
 * In SQL the owner rule is dandi_owned() (sql/), the read rule
 * SQL_READABLE (api.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define NO_PERM	"You do not have permission to perform this action."

/* A dandiset and the user's relation to it, in one round trip with
 * what else a target asks: $1 dandiset, $2 user, $3 superuser, $4 a
 * version of it (NULL: none), $5 the detail object when readable,
 * $6 the access link's dandiset (NULL: none). */
enum { PD_EMBARGO, PD_OWNER, PD_VERSION_ID, PD_VERSION, PD_JSON, PD_NCOLS };
static const struct db_sql perm_dandiset = { "perm_dandiset", PD_NCOLS,
	"SELECT d.embargo_status, o.owner, v.id, v.version,"
	" CASE WHEN $5::boolean AND (d.embargo_status = 'OPEN' OR o.owner OR d.id = $6::bigint)"
	"   THEN dandi_dandiset_json(d, $2::bigint, 'detail') END"
	" FROM dandisets d"
	" CROSS JOIN LATERAL (SELECT " SQL_OWNS("d.id", "$2::bigint", "$3::boolean") " AS owner) o"
	" LEFT JOIN versions v ON v.dandiset_id = d.id AND v.version = $4"
	" WHERE d.id = $1::bigint" };

/* A version with its dandiset: $1 dandiset, $2 version, $3 user,
 * $4 superuser. The _lock variants lock the version for a write. The
 * state of its asset list (the page cache's key): the folds so far,
 * NULL while writes left folder deltas to fold (sql/016_folder_deltas.sql). */
#define PV_COLUMNS_BASE "v.id, v.version, d.embargo_status, " SQL_OWNS("d.id", "$3::bigint", "$4::boolean")
#define PV_COLUMNS PV_COLUMNS_BASE "," \
	" CASE WHEN NOT EXISTS (SELECT 1 FROM asset_path_deltas x WHERE x.version_id = v.id)" \
	" THEN v.paths_folded END"
/* A writer has no use for the state: no probe of the deltas (a draft
 * being written has many, and the dead ones of the last fold). */
#define PV_COLUMNS_WRITE PV_COLUMNS_BASE ", NULL::bigint"
enum { PV_ID, PV_VERSION, PV_EMBARGO, PV_OWNER, PV_LIST_GEN, PV_NCOLS };
static const struct db_sql perm_version = { "perm_version", PV_NCOLS,
	"SELECT " PV_COLUMNS
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.dandiset_id = $1::bigint AND v.version = $2" };

static const struct db_sql perm_version_lock = { "perm_version_lock", PV_NCOLS,
	"SELECT " PV_COLUMNS_WRITE
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.dandiset_id = $1::bigint AND v.version = $2 FOR UPDATE OF v" };

/* The SHARED routes' lock: asset writers together, never beside a
 * publish or a version write (FOR UPDATE). */
static const struct db_sql perm_version_lock_shared = { "perm_version_lock_shared", PV_NCOLS,
	"SELECT " PV_COLUMNS_WRITE
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.dandiset_id = $1::bigint AND v.version = $2 FOR KEY SHARE OF v" };

/* Group commit's writers (server.c): the checks without the lock, which
 * the batch takes (dandi_asset_write_batch). */
static const struct db_sql perm_version_write = { "perm_version_write", PV_NCOLS,
	"SELECT " PV_COLUMNS_WRITE
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id"
	" WHERE v.dandiset_id = $1::bigint AND v.version = $2" };

/* An asset by its id alone ($1): are its bytes embargoed (its blob;
 * a zarr's: its dandiset not open), does user $2 (superuser $3) own a
 * dandiset with a version that has it, or is one of them $7 (the access
 * link's dandiset); what a download needs; with $4, when it may be read,
 * its metadata ($5 api url, $6 s3 base) and the info object's columns. */
enum {
	PA_ID, PA_EMBARGOED, PA_OWNER, PA_BLOB, PA_PATH, PA_CONTENT_TYPE, PA_ZARR,
	PA_METADATA, PA_ASSET, PA_NCOLS = PA_ASSET + ASSET_JSON_NCOLS,
};
static const struct db_sql perm_asset = { "perm_asset", PA_NCOLS,
	"SELECT a.id, x.embargoed, x.owner, b.blob, a.path,"
	" coalesce(a.metadata->>'encodingFormat', 'application/octet-stream'), a.zarr_id IS NOT NULL,"
	" CASE WHEN $4::boolean AND (NOT x.embargoed OR x.owner) THEN dandi_asset_metadata(a, $5, $6) END,"
	" " ASSET_JSON_COLUMNS
	" FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id"
	/* A published zarr asset's size is its snapshot's, as its metadata's
	 * contentSize (dandi_asset_metadata): the asset row is the draft's
	 * too until it is replaced, and a row is only published again with
	 * an unchanged zarr (same checksum: the same snapshot). */
	" LEFT JOIN LATERAL (SELECT zz.zarr_id, zz.dandiset_id, coalesce((SELECT s.size"
	"     FROM asset_versions av JOIN version_zarr_snapshots vzs ON vzs.version_id = av.version_id"
	"       AND vzs.zarr_id = zz.id JOIN zarr_snapshots s ON s.id = vzs.snapshot_id"
	"     WHERE a.published AND av.asset_id = a.id ORDER BY av.version_id DESC LIMIT 1), zz.size) AS size"
	"   FROM zarrs zz WHERE zz.id = a.zarr_id) z ON true"
	" CROSS JOIN LATERAL (SELECT coalesce(b.embargoed, (SELECT d.embargo_status <> 'OPEN'"
	"     FROM dandisets d WHERE d.id = z.dandiset_id), false) AS embargoed,"
	"   $3::boolean OR EXISTS (SELECT FROM asset_versions av JOIN versions v ON v.id = av.version_id"
	"     WHERE av.asset_id = a.id AND (v.dandiset_id = $7::bigint"
	"       OR " SQL_OWNS("v.dandiset_id", "$2::bigint", "false") ")) AS owner) x"
	" WHERE a.asset_id = $1::uuid" };

enum { STAFF_IS_STAFF, STAFF_NCOLS };
static const struct db_sql perm_user_is_staff = { "perm_user_is_staff", STAFF_NCOLS,
	"SELECT is_staff FROM users WHERE id = $1::bigint" };

const struct db_sql *const perm_sql[] = {
	&perm_dandiset, &perm_version, &perm_version_lock, &perm_version_lock_shared, &perm_version_write, &perm_asset, &perm_user_is_staff,
	NULL
};

static const char *
superuser(struct request *req)
{
	return req->user != NULL && req->user->is_superuser ? "t" : "f";
}

static int
perm_require_auth(struct request *req)
{
	if (req->user != NULL)
		return 0;
	resp_detail(req, 401, "Authentication credentials were not provided.");
	return -1;
}

/* DRF's IsApproved: approved, or a superuser. */
static int
perm_require_approved(struct request *req)
{
	if (perm_require_auth(req) != 0)
		return -1;
	if (req->user->is_superuser || strcmp(req->user->status, "APPROVED") == 0)
		return 0;
	resp_detail(req, 403, NO_PERM);
	return -1;
}

/* Django's IsAdminUser: staff or superuser. */
static int
perm_require_staff(struct request *req)
{
	PGresult *r;

	if (perm_require_auth(req) != 0)
		return -1;
	if (req->user->is_superuser)
		return 0;
	const char *params[1] = { req->user_id_str };
	if ((r = req_query(req, &perm_user_is_staff, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) == 1 && PQgetvalue(r, 0, STAFF_IS_STAFF)[0] == 't')
		return 0;
	resp_detail(req, 403, NO_PERM);
	return -1;
}

int
perm_access(struct request *req, unsigned access)
{
	switch (access) {
	case SIGNED_IN:
		return perm_require_auth(req);
	case APPROVED:
		return perm_require_approved(req);
	case STAFF:
		return perm_require_staff(req);
	}
	return 0;
}

/* dandiset_find with what a target asks too: the version named version
 * (when not NULL; *vout NULL when it has none) and the detail object (when
 * json). */
static int
dandiset_load(struct request *req, const char *id, const char *version, bool json,
    struct dandiset *out, struct version **vout)
{
	const char	*params[6] = { id, req->user_id_str, superuser(req), version, json ? "t" : "f",
	    req->link_dandiset };
	PGresult	*r = req_query(req, &perm_dandiset, 6, params);

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return 0;
	out->id = arena_strdup(&req->arena, id);
	out->embargo_status = arena_strdup(&req->arena, PQgetvalue(r, 0, PD_EMBARGO));
	out->owner = PQgetvalue(r, 0, PD_OWNER)[0] == 't';
	out->by_link = !out->owner && strcmp(out->embargo_status, "OPEN") != 0 && perm_link_for(req, id);
	out->json = PQgetisnull(r, 0, PD_JSON) ? NULL : arena_strdup(&req->arena, PQgetvalue(r, 0, PD_JSON));
	if (vout != NULL && (*vout = NULL, !PQgetisnull(r, 0, PD_VERSION_ID))) {
		struct version *v = arena_alloc(&req->arena, sizeof(*v));
		v->id = arena_strdup(&req->arena, PQgetvalue(r, 0, PD_VERSION_ID));
		v->version = arena_strdup(&req->arena, PQgetvalue(r, 0, PD_VERSION));
		v->draft = strcmp(v->version, "draft") == 0;
		v->list_gen = NULL;	/* not read here: no page cache for this version */
		*vout = v;
	}
	return 1;
}

int
dandiset_find(struct request *req, const char *id, struct dandiset *out)
{
	return dandiset_load(req, id, NULL, false, out, NULL);
}

bool
perm_link_for(const struct request *req, const char *id)
{
	return req->link_dandiset != NULL && id != NULL &&
	    strtoll(req->link_dandiset, NULL, 10) == strtoll(id, NULL, 10);
}

int
perm_read(struct request *req, const struct dandiset *d)
{
	if (strcmp(d->embargo_status, "OPEN") == 0 || d->owner || d->by_link)
		return 0;
	if (perm_require_auth(req) != 0)
		return -1;
	resp_detail(req, 403, NO_PERM);
	return -1;
}

/* The dandiset of the path, or NULL with 404 set. */
static struct dandiset *
dandiset_of_path(struct request *req)
{
	struct dandiset *d = arena_alloc(&req->arena, sizeof(*d));
	int found = dandiset_find(req, req->params[0], d);

	if (found == 0)
		resp_detail(req, 404, "Not found.");
	return found == 1 ? d : NULL;
}

const struct dandiset *
dandiset_visible(struct request *req, const char *id)
{
	struct dandiset *d = arena_alloc(&req->arena, sizeof(*d));
	int found = dandiset_find(req, id, d);

	if (found == 0)
		resp_detail(req, 404, "Not found.");
	if (found != 1 || perm_read(req, d) != 0)
		return NULL;
	return d;
}

/* T_DANDISET (json: with its detail object) and T_VERSION (version not
 * NULL): the dandiset of the path (404), the read rule, then the version
 * (404), from one statement. */
static int
dandiset_target(struct request *req, const char *version, bool json)
{
	struct dandiset *d = arena_alloc(&req->arena, sizeof(*d));
	struct version *v = NULL;
	int found = dandiset_load(req, req->params[0], version, json, d, &v);

	if (found == 0)
		resp_detail(req, 404, "Not found.");
	if (found != 1 || perm_read(req, d) != 0)
		return -1;
	req->dandiset = d;
	if (version != NULL && (req->version = v) == NULL)
		return resp_detail(req, 404, "Not found."), -1;
	return 0;
}

/* The version of the path of dandiset id, and its dandiset, by q (one of
 * the perm_version statements: no lock, or which lock): 0, or -1
 * with 404 (or an error) set. */
static int
version_load(struct request *req, const char *id, const char *version, const struct db_sql *q)
{
	const char	*params[4] = { id, version, req->user_id_str, superuser(req) };
	PGresult	*r = req_query(req, q, 4, params);

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found."), -1;
	struct version *v = arena_alloc(&req->arena, sizeof(*v));
	v->id = arena_strdup(&req->arena, PQgetvalue(r, 0, PV_ID));
	v->version = arena_strdup(&req->arena, PQgetvalue(r, 0, PV_VERSION));
	v->draft = strcmp(v->version, "draft") == 0;
	v->list_gen = PQgetisnull(r, 0, PV_LIST_GEN) ? NULL : arena_strdup(&req->arena, PQgetvalue(r, 0, PV_LIST_GEN));
	req->version = v;
	if (req->dandiset == NULL) {
		struct dandiset *d = arena_alloc(&req->arena, sizeof(*d));
		d->id = arena_strdup(&req->arena, id);
		d->embargo_status = arena_strdup(&req->arena, PQgetvalue(r, 0, PV_EMBARGO));
		d->owner = PQgetvalue(r, 0, PV_OWNER)[0] == 't';
		d->by_link = !d->owner && strcmp(d->embargo_status, "OPEN") != 0 && perm_link_for(req, id);
		req->dandiset = d;
	}
	return 0;
}

int
perm_assets_version(struct request *req, const char *id, const char *version)
{
	if (version_load(req, id, version, &perm_version) != 0)
		return -1;
	return perm_read(req, req->dandiset);
}

/*
 * Published versions remembered for their asset lists. A published
 * version's list never changes and anyone may read it: an embargoed
 * dandiset cannot be published, an open one never closes, and one with a
 * published version cannot be deleted. So a worker that has found one
 * keeps it for published_memo_seconds, and the pages of the clients' walk
 * of it are answered without the look-up (with a page cache hit: without
 * the database). What the look-up would say differently is only a
 * superuser's deletion of that version: seen by every worker once its
 * memory has aged out. Direct-mapped by dandiset and version; a worker
 * serves one request at a time.
 */
#define PUBLISHED_SLOTS	64
static struct published {
	char	 dandiset[24], version[32], id[24], list_gen[24];
	double	 until;		/* CLOCK_MONOTONIC seconds */
} published[PUBLISHED_SLOTS];

static struct published *
published_slot(const char *id, const char *version)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = version; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &published[h % PUBLISHED_SLOTS];
}

/* Fills req->version and req->dandiset from memory: true when this
 * published version is remembered and fresh. */
static bool
published_recall(struct request *req, const char *id, const char *version)
{
	struct published *m = published_slot(id, version);

	if (req->cfg->published_memo_seconds <= 0 || strcmp(version, "draft") == 0 ||
	    strcmp(m->dandiset, id) != 0 || strcmp(m->version, version) != 0 || mono_seconds() >= m->until)
		return false;
	struct version *v = arena_alloc(&req->arena, sizeof(*v));
	v->id = arena_strdup(&req->arena, m->id);
	v->version = arena_strdup(&req->arena, m->version);
	v->draft = false;
	v->list_gen = arena_strdup(&req->arena, m->list_gen);
	struct dandiset *d = arena_alloc(&req->arena, sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->id = arena_strdup(&req->arena, id);
	d->embargo_status = "OPEN";
	req->version = v;
	req->dandiset = d;
	return true;
}

/* Remembers the version just found when it is published, open and its
 * list settled (which a published version's always is). */
static void
published_remember(const struct request *req, const char *id, const char *version)
{
	const struct version *v = req->version;
	struct published *m = published_slot(id, version);

	if (req->cfg->published_memo_seconds <= 0 || v->draft || v->list_gen == NULL ||
	    strcmp(req->dandiset->embargo_status, "OPEN") != 0 || strlen(id) >= sizeof(m->dandiset) ||
	    strlen(version) >= sizeof(m->version) || strlen(v->id) >= sizeof(m->id) ||
	    strlen(v->list_gen) >= sizeof(m->list_gen))
		return;
	strcpy(m->dandiset, id);
	strcpy(m->version, version);
	strcpy(m->id, v->id);
	strcpy(m->list_gen, v->list_gen);
	m->until = mono_seconds() + req->cfg->published_memo_seconds;
}

/* T_ASSETS_LIST */
static int
assets_list_target(struct request *req)
{
	const char *id = req->params[0], *version = req->params[1];

	if (published_recall(req, id, version))
		return 0;
	if (perm_assets_version(req, id, version) != 0)
		return -1;
	published_remember(req, id, version);
	return 0;
}

int
perm_not_unembargoing(struct request *req, const char *embargo_status)
{
	if (strcmp(embargo_status, "UNEMBARGOING") != 0)
		return 0;
	resp_string(req, 400, "Dandiset modification not allowed during unembargo");
	return -1;
}

int
perm_draft_only(struct request *req)
{
	if (req->version->draft)
		return 0;
	resp_string(req, 405, "Only draft versions can be modified.");
	return -1;
}

/* Owners only after the read rule (the original's require_owner_perm). */
static int
owner_after_read(struct request *req)
{
	if (req->dandiset->owner)
		return 0;
	if (perm_require_auth(req) != 0)
		return -1;
	resp_detail(req, 403, NO_PERM);
	return -1;
}

/* The original's guardian decorator: 404 for no such dandiset, else an
 * empty 403 for anyone but an owner, without the read rule's messages
 * unless read_first (READ_FIRST). */
static int
guardian(struct request *req, bool read_first)
{
	if ((req->dandiset = dandiset_of_path(req)) == NULL)
		return -1;
	if (read_first && perm_read(req, req->dandiset) != 0)
		return -1;
	if (!req->dandiset->owner)
		return resp_empty(req, 403), -1;
	return 0;
}

/* T_VERSION_WRITE: the version a write changes, locked (shared: SHARED). */
static int
version_write(struct request *req, bool read_first, bool shared)
{
	if (guardian(req, read_first) != 0 || version_load(req, req->params[0], req->params[1],
	    req->group_commit ? &perm_version_write :
	    shared ? &perm_version_lock_shared : &perm_version_lock) != 0)
		return -1;
	return perm_not_unembargoing(req, req->dandiset->embargo_status);
}

/* T_ASSET: the asset's bytes decide, as the original's AssetViewSet; with
 * json its metadata and info objects come too. An access link reads the
 * assets of its dandiset's versions as an owner does. */
static int
asset_target(struct request *req, bool json)
{
	const char	*params[7] = { req->params[0], req->user_id_str, superuser(req), json ? "t" : "f",
	    req->cfg->api_url, json ? assets_s3_base(req) : NULL, req->link_dandiset };
	PGresult	*r = req_query(req, &perm_asset, 7, params);

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		return resp_detail(req, 404, "Not found."), -1;
	/* (PA_OWNER: an owner, or the access link's dandiset has it) */
	if (PQgetvalue(r, 0, PA_EMBARGOED)[0] == 't' && PQgetvalue(r, 0, PA_OWNER)[0] != 't') {
		if (perm_require_auth(req) != 0)
			return -1;
		return resp_detail(req, 403, NO_PERM), -1;
	}
	struct asset *a = arena_alloc(&req->arena, sizeof(*a));
	a->id = arena_strdup(&req->arena, PQgetvalue(r, 0, PA_ID));
	a->blob = arena_strdup(&req->arena, PQgetvalue(r, 0, PA_BLOB));
	a->path = arena_strdup(&req->arena, PQgetvalue(r, 0, PA_PATH));
	a->content_type = arena_strdup(&req->arena, PQgetvalue(r, 0, PA_CONTENT_TYPE));
	a->zarr = PQgetvalue(r, 0, PA_ZARR)[0] == 't';
	if (json) {
		struct buf b;

		a->metadata = arena_strdup(&req->arena, PQgetvalue(r, 0, PA_METADATA));
		buf_init(&b);
		asset_json(&b, r, 0, PA_ASSET, PA_METADATA);
		buf_append(&b, "", 1);
		a->info = arena_strdup(&req->arena, b.data);
		buf_free(&b);
	}
	req->asset = a;
	return 0;
}

int
perm_target(struct request *req, const struct route *route)
{
	bool read_first = (route->flags & READ_FIRST) != 0, json = (route->flags & WITH_JSON) != 0;
	bool shared = (route->flags & SHARED) != 0;

	switch (route->target) {
	case T_NONE:
		return 0;
	case T_DANDISET:
		return dandiset_target(req, NULL, json);
	case T_DANDISET_OWNER:
		if ((req->dandiset = dandiset_visible(req, req->params[0])) == NULL)
			return -1;
		return owner_after_read(req);
	case T_GUARDIAN:
		return guardian(req, read_first);
	case T_VERSION:
		return dandiset_target(req, req->params[1], false);
	case T_ASSETS_VERSION:
		return perm_assets_version(req, req->params[0], req->params[1]);
	case T_ASSETS_LIST:
		return assets_list_target(req);
	case T_VERSION_WRITE:
		return version_write(req, read_first, shared);
	case T_DRAFT_WRITE:
		return version_write(req, read_first, shared) != 0 ? -1 : perm_draft_only(req);
	case T_ASSET:
		return asset_target(req, json);
	case T_UPLOAD:
		return upload_target(req);
	case T_ZARR:
		return zarr_target(req, false);
	case T_ZARR_LOCKED:
		return zarr_target(req, true);
	}
	return resp_detail(req, 500, "Internal server error."), -1;
}
