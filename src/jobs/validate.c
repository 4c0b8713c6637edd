/*
 * validate.c - the validation sweep (`dandi-jobs validate`, and the end of
 * every `dandi-jobs run`): the Pending drafts and the Pending assets that
 * are ready are validated against the published-model schemas, as the
 * original's validate_version_metadata / validate_asset_metadata tasks do,
 * batch by batch, each batch one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datacite.h"
#include "dschema.h"
#include "jobs.h"
#include "log.h"
#include "util.h"
#include "vmeta.h"

/* The rows of a batch stay locked (FOR UPDATE SKIP LOCKED) until their
 * results are written in the same transaction: two sweepers never take the
 * same row, and a change that sets a row back to Pending waits for the
 * result and then overrides it, never the reverse. */
enum { VV_ID, VV_METADATA, VV_NOTES, VV_DANDISET, VV_NEXT_VERSION, VV_NOW, VV_PUBLISHED_BY, VV_HAS_FILES,
	VV_HAS_BYTES, VV_NCOLS };
static const struct db_sql val_versions = { "val_versions", VV_NCOLS,
	"SELECT v.id, v.metadata::text, v.release_notes, v.dandiset_id,"
	" dandi_next_version(v.dandiset_id, now()), dandi_pyiso(now()),"
	" dandi_published_by(now(), $2, $3)::text,"
	" EXISTS (SELECT 1 FROM asset_versions av WHERE av.version_id = v.id),"
	" EXISTS (SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id"
	"   LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	"   WHERE av.version_id = v.id AND coalesce(b.size, z.size, 0) > 0)"
	" FROM versions v WHERE v.status = 'Pending' AND v.version = 'draft'"
	" LIMIT $1::bigint FOR UPDATE OF v SKIP LOCKED" };
/* The draft's assetsSummary over its Valid assets is refreshed with the
 * result, as the original's aggregate task does after a sweep. Returns
 * the ids written, as do val_assets_store and val_touch_drafts. */
enum { IDS_ID, IDS_NCOLS };
static const struct db_sql val_versions_store = { "val_versions_store", IDS_NCOLS,
	"UPDATE versions v SET status = r.status, validation_errors = r.errors, modified = now(),"
	" metadata = jsonb_set(v.metadata, '{assetsSummary}', dandi_assets_summary(v.id, true))"
	" FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, status text, errors jsonb)"
	" WHERE v.id = r.id AND v.status = 'Pending' RETURNING v.id" };
/* Pending assets that are ready: sha256 known, or the zarr ingested. The
 * document is the full metadata plus a fresh publish stamp. */
enum { VA_ID, VA_DOCUMENT, VA_NCOLS };
static const struct db_sql val_assets = { "val_assets", VA_NCOLS,
	"SELECT a.id, (dandi_asset_metadata(a, $2, $3)::jsonb || jsonb_build_object("
	"   'publishedBy', dandi_published_by(now(), $4, $5), 'datePublished', dandi_pyiso(now())))::text"
	" FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id"
	" WHERE a.status = 'Pending' AND NOT a.published"
	"   AND (b.sha256 IS NOT NULL OR (z.checksum IS NOT NULL AND z.status = 'Complete'))"
	" LIMIT $1::bigint FOR UPDATE OF a SKIP LOCKED" };
static const struct db_sql val_assets_store = { "val_assets_store", IDS_NCOLS,
	"UPDATE assets a SET status = r.status, validation_errors = r.errors, modified = now()"
	" FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, status text, errors jsonb)"
	" WHERE a.id = r.id AND a.status = 'Pending' AND NOT a.published RETURNING a.id" };
/* As the original, the drafts holding a validated asset are touched; locks
 * taken in id order so two sweepers cannot deadlock. */
static const struct db_sql val_touch_drafts = { "val_touch_drafts", IDS_NCOLS,
	"WITH l AS (SELECT v.id FROM versions v WHERE v.version = 'draft' AND v.id IN"
	"   (SELECT av.version_id FROM asset_versions av WHERE av.asset_id = ANY ($1::bigint[]))"
	"   ORDER BY v.id FOR UPDATE)"
	" UPDATE versions v SET modified = now() FROM l WHERE v.id = l.id RETURNING v.id" };
/* Once per sweep, the drafts whose assets it validated get their
 * assetsSummary over the Valid assets again (the drafts are swept before
 * the assets, so their own refresh came too early). */
static const struct db_sql val_summary_refresh = { "val_summary_refresh", 0,
	"UPDATE versions v SET"
	" metadata = jsonb_set(v.metadata, '{assetsSummary}', dandi_assets_summary(v.id, true))"
	" WHERE v.id = ANY ($1::bigint[]) AND v.version = 'draft'" };
const struct db_sql *const validate_sql[] = {
	&val_versions, &val_versions_store, &val_assets, &val_assets_store, &val_touch_drafts,
	&val_summary_refresh, NULL
};

struct sweep {
	struct dvalidator	*validator;
	struct arena		 batch;		/* reset after each batch */
	struct buf		 touched;	/* ids of drafts holding an asset validated: "1,2" */
	struct buf		 validated;	/* ids of drafts whose metadata was validated */
};

/* Adds column col of every row to a list of ids. */
static void
ids_add(struct buf *ids, PGresult *r, int col)
{
	for (int i = 0; i < PQntuples(r); i++)
		buf_printf(ids, "%s%s", ids->len ? "," : "", PQgetvalue(r, i, col));
}

static void
result_add(struct json_object *results, const char *id, struct json_object *errs)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "id", json_object_new_int64(strtoll(id, NULL, 10)));
	json_object_object_add(r, "status", json_object_new_string(
	    json_object_array_length(errs) == 0 ? "Valid" : "Invalid"));
	json_object_object_add(r, "errors", errs);
	json_object_array_add(results, r);
}

/* The errors of a stored document that cannot be read (which the API's
 * parser, the same, never lets in): one, with field "", as for an
 * unsupported schemaVersion, instead of a validation of nothing. */
static struct json_object *
unreadable(const char *err)
{
	struct json_object *errs = json_object_new_array(), *e = json_object_new_object();

	json_object_object_add(e, "field", json_object_new_string(""));
	json_object_object_add(e, "message", json_object_new_string(err[0] ? err : "the metadata is null"));
	json_object_array_add(errs, e);
	return errs;
}

/* The document the original validates for a draft: its metadata as if
 * published now (publish stamp, release notes, the next version's id and
 * url, a dummy DOI) with an assetsSummary that only says whether there
 * are files and bytes. NULL, with err set, when the metadata cannot be
 * read. */
static struct json_object *
version_document(const struct config *cfg, PGresult *r, int i, char *err, size_t errlen)
{
	struct json_object *md = jsonread_str(PQgetvalue(r, i, VV_METADATA), err, errlen);
	char id6[16], buf[1024];
	const char *next = PQgetvalue(r, i, VV_NEXT_VERSION);

	if (md == NULL)
		return NULL;
	if (!json_object_is_type(md, json_type_object)) {
		json_object_put(md);
		md = json_object_new_object();
	}
	snprintf(id6, sizeof(id6), "%06lld", strtoll(PQgetvalue(r, i, VV_DANDISET), NULL, 10));

	json_object_object_add(md, "publishedBy", jsonread_str(PQgetvalue(r, i, VV_PUBLISHED_BY), NULL, 0));
	json_object_object_add(md, "datePublished", json_object_new_string(PQgetvalue(r, i, VV_NOW)));
	if (*PQgetvalue(r, i, VV_NOTES))
		json_object_object_add(md, "releaseNotes", json_object_new_string(PQgetvalue(r, i, VV_NOTES)));
	snprintf(buf, sizeof(buf), "%s:%s/%s", cfg->instance_name, id6, next);
	json_object_object_add(md, "id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%s/dandiset/%s/%s", cfg->web_url, id6, next);
	json_object_object_add(md, "url", json_object_new_string(buf));
	datacite_doi(cfg, 123456, "0.123456.1234", buf, sizeof(buf));
	json_object_object_add(md, "doi", json_object_new_string(buf));
	struct json_object *sum = json_object_new_object();
	json_object_object_add(sum, "schemaKey", json_object_new_string("AssetsSummary"));
	json_object_object_add(sum, "numberOfBytes", json_object_new_int(PQgetvalue(r, i, VV_HAS_BYTES)[0] == 't'));
	json_object_object_add(sum, "numberOfFiles", json_object_new_int(PQgetvalue(r, i, VV_HAS_FILES)[0] == 't'));
	json_object_object_add(md, "assetsSummary", sum);
	return md;
}

/* The batch's rows, locked: drafts or ready assets. */
static PGresult *
batch_take(struct job *job, struct sweep *sw, bool assets, long batch)
{
	const struct config *cfg = job->cfg;
	char *lim = arena_printf(&sw->batch, "%ld", batch), s3base[1024];

	if (!assets) {
		const char *p[3] = { lim, cfg->instance_name, job_rrid(job) };
		return job_query_in(job, &sw->batch, &val_versions, 3, p);
	}
	s3_base_url(cfg, s3base, sizeof(s3base));
	const char *p[5] = { lim, cfg->api_url, s3base, cfg->instance_name, job_rrid(job) };
	return job_query_in(job, &sw->batch, &val_assets, 5, p);
}

/* One batch of one kind in one transaction. Returns the rows taken (and
 * adds the rows written to *written), or -1 on a database error. */
static long
validate_batch(struct job *job, struct sweep *sw, bool assets, long batch, long *written)
{
	PGresult *r, *stored;

	arena_reset(&sw->batch);
	if (job_begin(job) != 0 || (r = batch_take(job, sw, assets, batch)) == NULL) {
		log_error("validate: %s", job->err);
		job_rollback(job);
		return -1;
	}
	long n = PQntuples(r);
	if (n == 0) {
		job_rollback(job);
		return 0;
	}
	struct json_object *results = json_object_new_array();
	for (int i = 0; i < n; i++) {
		char err[256];
		struct json_object *doc = assets ? jsonread_str(PQgetvalue(r, i, VA_DOCUMENT), err, sizeof(err)) :
		    version_document(job->cfg, r, i, err, sizeof(err));
		result_add(results, PQgetvalue(r, i, assets ? VA_ID : VV_ID), doc == NULL ? unreadable(err) :
		    dvalidate(sw->validator, assets ? DM_PUBLISHED_ASSET : DM_PUBLISHED_DANDISET, doc));
		json_object_put(doc);
	}
	const char *p[1] = { json_object_to_json_string_ext(results, JSON_C_TO_STRING_PLAIN) };
	stored = job_query_in(job, &sw->batch, assets ? &val_assets_store : &val_versions_store, 1, p);
	json_object_put(results);
	if (stored == NULL || job_commit(job) != 0) {
		log_error("validate: %s", job->err);
		job_rollback(job);
		return -1;
	}
	*written += PQntuples(stored);
	if (!assets) {
		/* Drafts whose metadata was validated: their manifests. */
		ids_add(&sw->validated, stored, IDS_ID);
		return n;
	}
	struct buf ids;
	buf_init(&ids);
	ids_add(&ids, r, VA_ID);
	const char *pt[1] = { arena_printf(&sw->batch, "{%s}", ids.data) };
	buf_free(&ids);
	if ((stored = job_query_in(job, &sw->batch, &val_touch_drafts, 1, pt)) != NULL)
		ids_add(&sw->touched, stored, IDS_ID);
	else
		log_warn("validate: %s", job->err);
	return n;
}

/* Once per sweep: the assetsSummary of the drafts whose assets it
 * validated, then, as the original's sweep, the manifest files of the
 * drafts it validated (metadata or assets), after their assetsSummary is
 * current. Queued last: a request for a draft whose manifests job is
 * running waits for that run to end. */
static void
sweep_finish(struct job *job, struct sweep *sw)
{
	const char *touched = arena_printf(&sw->batch, "{%s}", sw->touched.len ? sw->touched.data : "");
	const char *all = arena_printf(&sw->batch, "{%s%s%s}", sw->touched.len ? sw->touched.data : "",
	    sw->touched.len && sw->validated.len ? "," : "", sw->validated.len ? sw->validated.data : "");

	if (sw->touched.len > 0 && job_query_in(job, &sw->batch, &val_summary_refresh, 1, &touched) == NULL)
		log_warn("validate: %s", job->err);
	if ((sw->touched.len > 0 || sw->validated.len > 0) && *job->cfg->s3_endpoint &&
	    job_query_in(job, &sw->batch, &manifests_enqueue, 1, &all) == NULL)
		log_warn("validate: %s", job->err);
}

int
validate_sweep(struct job *job, long max, long batch, long *nversions, long *nassets)
{
	struct sweep sw = { .validator = dvalidator_new(job->cfg) };
	int rc = 0;

	arena_init(&sw.batch);
	buf_init(&sw.touched);
	buf_init(&sw.validated);
	for (int kind = 0; kind < 2 && rc == 0; kind++) {
		long *count = kind ? nassets : nversions, taken = 0;
		for (;;) {
			long want = batch;
			if (max >= 0 && max - taken < want)
				want = max - taken;
			if (want <= 0)
				break;
			long got = validate_batch(job, &sw, kind == 1, want, count);
			if (got < 0) {
				rc = -1;
				break;
			}
			taken += got;
			if (got < want)
				break;
		}
	}
	sweep_finish(job, &sw);
	arena_reset(&sw.batch);
	buf_free(&sw.touched);
	buf_free(&sw.validated);
	dvalidator_free(sw.validator);
	return rc;
}

int
validate_cmd(struct job *job, int argc, char **argv)
{
	long max = -1, batch = 200, nv = 0, na = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc && (batch = strtol(argv[++i], NULL, 10)) > 0)
			;
		else
			return JOB_USAGE;
	}
	int rc = validate_sweep(job, max, batch, &nv, &na);
	printf("validated %ld version(s), %ld asset(s)\n", nv, na);
	return rc == 0 ? 0 : 1;
}
