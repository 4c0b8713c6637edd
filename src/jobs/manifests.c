/*
 * manifests.c - writes the five manifest files of a version to S3, as the
 * original's write_manifest_files does (spec model-and-jobs 2.3):
 *
 *   dandiset.jsonld   the version's metadata, compact JSON
 *   dandiset.yaml     the same as YAML (keys sorted)
 *   assets.jsonld     [ the full metadata of every asset, in created order ]
 *   assets.yaml       the same as a YAML sequence, one document per asset
 *   collection.jsonld {"@context", "id", "@type": "prov:Collection",
 *                      "hasMember": ["dandiasset:<uuid>", ...]}
 *   zarr/<zarr_id>.json  per zarr snapshot of a published version: its
 *                      keys' S3 version ids, sizes and ETags (below)
 *
 * Nothing is held whole: the assets are read in keyset pages of the
 * asset_versions_order index inside one REPEATABLE READ transaction (one
 * consistent snapshot, so the three asset files agree with each other),
 * each asset is written to the three asset files as it comes, and every
 * file is uploaded in parts as it grows (s3_stream). A run that dies
 * leaves its job queued and the next run writes all five files again;
 * the objects are replaced whole, so a rerun is harmless.
 *
 * In an embargoed dandiset the objects carry the embargo tag
 * (embargoed=true, as the blobs) from the moment they are created.
 *
 * `dandi-jobs manifests --all | VERSION...` queues jobs by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "jobs.h"
#include "log.h"
#include "util.h"
#include "vmeta.h"

#define PAGE_ROWS	"500"
#define EMIT_CHUNK	65536

const char *const manifest_files[5] = {
	"dandiset.jsonld", "dandiset.yaml", "assets.jsonld", "assets.yaml", "collection.jsonld",
};

/* Must be the first statement of its transaction. */
static const struct db_sql mf_snapshot = { "mf_snapshot", 0,
	"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY" };
enum { VERSION_METADATA, VERSION_VERSION, VERSION_DANDISET, VERSION_EMBARGO, VERSION_NCOLS };
static const struct db_sql mf_version = { "mf_version", VERSION_NCOLS,
	"SELECT v.metadata::text, v.version, d.id, d.embargo_status"
	" FROM versions v JOIN dandisets d ON d.id = v.dandiset_id WHERE v.id = $1::bigint" };
/* One page of the version's assets in the API's default order (created,
 * then row id), after the cursor row ($2, $3). */
enum { ASSETS_CREATED, ASSETS_ROW, ASSETS_UUID, ASSETS_METADATA, ASSETS_NCOLS };
static const struct db_sql mf_assets = { "mf_assets", ASSETS_NCOLS,
	"SELECT page.asset_created, page.asset_id, a.asset_id::text, dandi_asset_metadata(a, $4, $5)::text"
	" FROM (SELECT asset_id, asset_created FROM asset_versions WHERE version_id = $1::bigint"
	"       AND ($2::timestamptz IS NULL OR (asset_created, asset_id) > ($2, $3::bigint))"
	"       ORDER BY asset_created, asset_id LIMIT " PAGE_ROWS ") page"
	" JOIN assets a ON a.id = page.asset_id"
	" ORDER BY page.asset_created, page.asset_id" };
/* A version has at most one queued job (dandi_enqueue): a request for a
 * version whose job is queued and idle changes nothing, and one for a
 * version whose job is being worked waits for that run to end and then
 * queues a new one (manifests requeues, in job_kinds), so no request is
 * lost to a run that read the version before the change. Ids in order, so
 * two requests for the same versions cannot deadlock. */
enum { ENQUEUED_ID, ENQUEUED_NCOLS };
const struct db_sql manifests_enqueue = { "manifests_enqueue", ENQUEUED_NCOLS,
	"SELECT dandi_enqueue('manifests', v.id::text, jsonb_build_object('version_id', v.id))"
	" FROM (SELECT id FROM versions WHERE id = ANY ($1::bigint[]) ORDER BY id) v" };
enum { VID_ID, VID_NCOLS };
static const struct db_sql mf_resolve = { "mf_resolve", VID_NCOLS,
	"SELECT v.id FROM versions v WHERE v.dandiset_id = $1::bigint AND v.version = $2" };
/* Every version, for a backfill (manifests --all). */
static const struct db_sql mf_all = { "mf_all", VID_NCOLS,
	"SELECT v.id FROM versions v ORDER BY v.id" };
/* The zarr snapshots of a published version (sql/020), with the
 * statistics their manifest starts with. */
#define ZARR_TIME	"'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"'"
enum { MZ_UUID, MZ_SNAPSHOT, MZ_CHECKSUM, MZ_FILES, MZ_SIZE, MZ_DEPTH, MZ_MODIFIED, MZ_NCOLS };
static const struct db_sql mf_zarrs = { "mf_zarrs", MZ_NCOLS,
	"SELECT z.zarr_id::text, s.id, s.checksum, s.file_count, s.size, st.depth,"
	" to_char(st.modified AT TIME ZONE 'UTC', " ZARR_TIME ")"
	" FROM version_zarr_snapshots vzs JOIN zarrs z ON z.id = vzs.zarr_id"
	" JOIN zarr_snapshots s ON s.id = vzs.snapshot_id,"
	" LATERAL (SELECT coalesce(max(length(e.key) - length(replace(e.key, '/', ''))), 0) AS depth,"
	"   max(e.last_modified) AS modified FROM zarr_snapshot_entries e WHERE e.snapshot_id = s.id) st"
	" WHERE vzs.version_id = $1::bigint ORDER BY z.zarr_id" };
#define ZARR_PAGE_ROWS	"5000"
enum { ME_KEY, ME_VERSION, ME_MODIFIED, ME_SIZE, ME_ETAG, ME_NCOLS };
static const struct db_sql mf_zarr_entries = { "mf_zarr_entries", ME_NCOLS,
	"SELECT key, version_id, to_char(last_modified AT TIME ZONE 'UTC', " ZARR_TIME "), size, etag"
	" FROM zarr_snapshot_entries WHERE snapshot_id = $1::bigint AND key > $2"
	" ORDER BY key LIMIT " ZARR_PAGE_ROWS };
static const struct db_sql *const manifests_sql[] = {
	&mf_snapshot, &mf_version, &mf_assets, &manifests_enqueue, &mf_resolve, &mf_all, &mf_zarrs,
	&mf_zarr_entries, NULL
};

void
manifest_key(char *out, size_t outlen, long long dandiset_id, const char *version, const char *file)
{
	snprintf(out, outlen, "dandisets/%06lld/%s/%s", dandiset_id, version, file);
}

/* As the original's storage guesses them from the name: .jsonld is
 * JSON-LD, .yaml has no registered guess and gets the default. */
static const char *
content_type(const char *file)
{
	size_t n = strlen(file);

	if (n > 5 && strcmp(file + n - 5, ".json") == 0)
		return "application/json";	/* the zarr manifests */
	return n > 7 && strcmp(file + n - 7, ".jsonld") == 0 ? "application/ld+json" : "application/octet-stream";
}

/* One manifest file being written: the S3 object and the writer feeding
 * it. In the job's arena, which aborts it if the job ends before it is
 * closed. */
struct mfile {
	struct s3		*s3;
	char			 key[512];
	struct s3_stream	 stream;
	struct emit_out		 out;
	bool			 open;
};

/* Finishes the object; 0, or -1 with the reason in err. A file that
 * failed (ok false) is freed and its upload aborted. */
static int
mfile_close(struct mfile *f, bool ok, char *err, size_t errlen)
{
	int rc = 0;

	if (!f->open)
		return 0;
	f->open = false;
	if (!ok)
		f->stream.failed = true;
	if (emit_finish(&f->out) != 0)
		f->stream.failed = true;
	if (s3_stream_close(&f->stream) != S3_OK) {
		if (ok)
			snprintf(err, errlen, "writing %s: %s", f->key, f->s3->err);
		rc = -1;
	} else
		log_info("manifest %s: %lld bytes, %zu part(s)", f->key, (long long)f->stream.size,
		    f->stream.nparts);
	emit_free(&f->out);
	return rc;
}

static void
mfile_abort(void *f)
{
	char err[8];

	mfile_close(f, false, err, sizeof(err));
}

/* The version whose files are written. */
struct manifest {
	const char		*vid;		/* its row */
	long long		 dandiset;
	const char		*version;
	const char		*tagging;	/* embargoed=true, or NULL */
	struct json_object	*md;
	struct s3		*s3;
};

static struct mfile *
mfile_open(struct job *job, const struct manifest *m, const char *file)
{
	struct mfile *f = arena_zalloc(&job->arena, sizeof(*f));

	f->s3 = m->s3;
	manifest_key(f->key, sizeof(f->key), m->dandiset, m->version, file);
	s3_stream_open(&f->stream, m->s3, f->key, content_type(file), m->tagging, job->cfg->manifest_part_size);
	emit_init(&f->out, EMIT_CHUNK, s3_stream_write, &f->stream);
	f->open = true;
	arena_defer(&job->arena, mfile_abort, f);
	return f;
}

/* The version's metadata as one file (dandiset.jsonld or dandiset.yaml). */
static int
write_metadata_file(struct job *job, const struct manifest *m, const char *file, bool yaml)
{
	struct mfile *f = mfile_open(job, m, file);

	if (yaml)
		emit_yaml_document(&f->out, m->md, "", "");
	else
		emit_json_value(&f->out, m->md);
	return mfile_close(f, true, job->err, sizeof(job->err));
}

/* The three asset files, filled together in one pass over the assets. */
struct asset_files {
	struct mfile		*jsonld, *yaml, *collection;
	struct json_writer	 coll;
	long long		 n;
};

/* One page of assets after the cursor (which moves on) into the files:
 * the rows written, or -1. */
static int
write_asset_page(struct job *job, const struct manifest *m, struct asset_files *af, char cursor[2][64])
{
	char s3base[1024];
	struct arena page;
	PGresult *r;
	int n;

	s3_base_url(job->cfg, s3base, sizeof(s3base));
	const char *pa[5] = { m->vid, *cursor[0] ? cursor[0] : NULL, *cursor[1] ? cursor[1] : NULL, job->cfg->api_url,
	    s3base };
	arena_init(&page);
	if ((r = job_query_in(job, &page, &mf_assets, 5, pa)) == NULL) {
		arena_reset(&page);
		return -1;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		char member[64], err[256];
		struct json_object *am = jsonread_str(PQgetvalue(r, i, ASSETS_METADATA), err, sizeof(err));

		if (am == NULL) {	/* never null: written as null would be wrong */
			job_fail(job, JOB_GIVE_UP, "asset %s: metadata cannot be read: %s",
			    PQgetvalue(r, i, ASSETS_UUID), err[0] ? err : "null");
			arena_reset(&page);
			return -1;
		}

		if (af->n++ > 0)
			emit_puts(&af->jsonld->out, ",");
		emit_json_value(&af->jsonld->out, am);
		emit_yaml_document(&af->yaml->out, am, "- ", "  ");
		snprintf(member, sizeof(member), "dandiasset:%s", PQgetvalue(r, i, ASSETS_UUID));
		jw_string(&af->coll, member);
		json_object_put(am);
	}
	if (n > 0) {
		snprintf(cursor[0], 64, "%s", PQgetvalue(r, n - 1, ASSETS_CREATED));
		snprintf(cursor[1], 64, "%s", PQgetvalue(r, n - 1, ASSETS_ROW));
	}
	arena_reset(&page);
	return n;
}

static int
write_asset_files(struct job *job, const struct manifest *m, long long *nassets)
{
	struct asset_files af = { .jsonld = mfile_open(job, m, "assets.jsonld"),
	    .yaml = mfile_open(job, m, "assets.yaml"), .collection = mfile_open(job, m, "collection.jsonld") };
	struct json_object *ctx = NULL, *id = NULL;
	char cursor[2][64] = { "", "" };	/* asset_created, row id */
	bool failed = false;
	int n, bad = 0;

	json_object_object_get_ex(m->md, "@context", &ctx);
	json_object_object_get_ex(m->md, "id", &id);
	emit_puts(&af.jsonld->out, "[");
	jw_init(&af.coll, &af.collection->out);
	jw_begin_object(&af.coll);
	jw_key(&af.coll, "@context");
	jw_value(&af.coll, ctx);
	jw_key(&af.coll, "id");
	jw_value(&af.coll, id);
	jw_key(&af.coll, "@type");
	jw_string(&af.coll, "prov:Collection");
	jw_key(&af.coll, "hasMember");
	jw_begin_array(&af.coll);
	do {
		n = write_asset_page(job, m, &af, cursor);
		/* A file whose upload failed stops the run early. */
		failed = n < 0 || af.jsonld->stream.failed || af.yaml->stream.failed || af.collection->stream.failed ||
		    af.jsonld->out.failed || af.yaml->out.failed || af.collection->out.failed;
	} while (!failed && n == atoi(PAGE_ROWS));
	emit_puts(&af.jsonld->out, "]");
	jw_end(&af.coll);
	jw_end(&af.coll);
	bad |= mfile_close(af.jsonld, !failed && !bad, job->err, sizeof(job->err));
	bad |= mfile_close(af.yaml, !failed && !bad, job->err, sizeof(job->err));
	bad |= mfile_close(af.collection, !failed && !bad, job->err, sizeof(job->err));
	if (failed && !*job->err)
		snprintf(job->err, sizeof(job->err), "writing the asset manifests of version %s failed", m->vid);
	*nassets = af.n;
	return failed || bad ? -1 : 0;
}

/* The entries tree of a zarr manifest as the sorted keys stream by: the
 * directories open above the last key (a key's directories are contiguous
 * in byte order), each with whether it has a member yet. */
struct ztree {
	struct emit_out	*out;
	char		**dirs;
	bool		*members;	/* [0]: the entries object itself */
	size_t		 depth, cap;
};

static void
ztree_member(struct ztree *t, const char *name, size_t len)
{
	if (t->members[t->depth])
		emit_puts(t->out, ",");
	t->members[t->depth] = true;
	emit_json_string(t->out, name, len);
	emit_puts(t->out, ":");
}

static void
ztree_add(struct ztree *t, const char *key, const char *fields)
{
	size_t level = 0;
	const char *p = key, *slash;

	/* The directories this key shares with the open ones stay open. */
	while ((slash = strchr(p, '/')) != NULL && level < t->depth &&
	    strlen(t->dirs[level]) == (size_t)(slash - p) && memcmp(t->dirs[level], p, (size_t)(slash - p)) == 0) {
		level++;
		p = slash + 1;
	}
	for (; t->depth > level; t->depth--) {
		free(t->dirs[t->depth - 1]);
		emit_puts(t->out, "}");
	}
	for (; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		if (t->depth + 2 > t->cap) {
			t->cap = t->cap ? 2 * t->cap : 16;
			t->dirs = xrealloc(t->dirs, t->cap * sizeof(*t->dirs));
			t->members = xrealloc(t->members, (t->cap + 1) * sizeof(*t->members));
		}
		ztree_member(t, p, (size_t)(slash - p));
		emit_puts(t->out, "{");
		char *d = xmalloc((size_t)(slash - p) + 1);
		memcpy(d, p, (size_t)(slash - p));
		d[slash - p] = '\0';
		t->dirs[t->depth++] = d;
		t->members[t->depth] = false;
	}
	ztree_member(t, p, strlen(p));
	emit_puts(t->out, fields);
}

static void
ztree_close(struct ztree *t)
{
	for (; t->depth > 0; t->depth--) {
		free(t->dirs[t->depth - 1]);
		emit_puts(t->out, "}");
	}
	free(t->dirs);
	free(t->members);
}

/* One zarr manifest, dandisets/<id>/<version>/zarr/<zarr_id>.json, in the
 * format of the original's design (README: "Zarr manifests"): the entries
 * as a tree of [versionId, lastModified, size, ETag], read in keyset
 * pages, written as they come (flat memory; a multipart upload when big). */
static int
write_zarr_manifest(struct job *job, const struct manifest *m, PGresult *z, int row)
{
	const char *sid = PQgetvalue(z, row, MZ_SNAPSHOT);
	struct mfile *f = mfile_open(job, m, arena_printf(&job->arena, "zarr/%s.json", PQgetvalue(z, row, MZ_UUID)));
	struct ztree t = { .out = &f->out, .cap = 16 };
	char cursor[2100] = "";
	struct arena page;
	bool failed = false;
	long long n = 0;
	int got;

	t.dirs = xcalloc(t.cap, sizeof(*t.dirs));
	t.members = xcalloc(t.cap + 1, sizeof(*t.members));
	emit_puts(&f->out, "{\"schemaVersion\":2,\"fields\":[\"versionId\",\"lastModified\",\"size\",\"ETag\"],"
	    "\"statistics\":{\"entries\":");
	emit_puts(&f->out, PQgetvalue(z, row, MZ_FILES));
	emit_puts(&f->out, ",\"depth\":");
	emit_puts(&f->out, PQgetvalue(z, row, MZ_DEPTH));
	emit_puts(&f->out, ",\"totalSize\":");
	emit_puts(&f->out, PQgetvalue(z, row, MZ_SIZE));
	emit_puts(&f->out, ",\"lastModified\":");
	if (PQgetisnull(z, row, MZ_MODIFIED))
		emit_puts(&f->out, "null");
	else
		emit_json_string(&f->out, PQgetvalue(z, row, MZ_MODIFIED), strlen(PQgetvalue(z, row, MZ_MODIFIED)));
	emit_puts(&f->out, ",\"zarrChecksum\":");
	emit_json_string(&f->out, PQgetvalue(z, row, MZ_CHECKSUM), strlen(PQgetvalue(z, row, MZ_CHECKSUM)));
	emit_puts(&f->out, "},\"entries\":{");
	arena_init(&page);
	do {
		PGresult *r;
		const char *pe[2] = { sid, cursor };
		arena_reset(&page);
		if ((r = job_query_in(job, &page, &mf_zarr_entries, 2, pe)) == NULL) {
			failed = true;
			break;
		}
		got = PQntuples(r);
		for (int i = 0; i < got; i++) {
			struct buf fields;
			buf_init(&fields);
			buf_puts(&fields, "[");
			buf_json_string(&fields, PQgetvalue(r, i, ME_VERSION));
			buf_puts(&fields, ",");
			buf_json_string(&fields, PQgetvalue(r, i, ME_MODIFIED));
			buf_printf(&fields, ",%s,", PQgetvalue(r, i, ME_SIZE));
			buf_json_string(&fields, PQgetvalue(r, i, ME_ETAG));
			buf_puts(&fields, "]");
			ztree_add(&t, PQgetvalue(r, i, ME_KEY), fields.data);
			buf_free(&fields);
		}
		n += got;
		if (got > 0)
			snprintf(cursor, sizeof(cursor), "%s", PQgetvalue(r, got - 1, ME_KEY));
		failed = f->stream.failed || f->out.failed;
	} while (!failed && got == atoi(ZARR_PAGE_ROWS));
	arena_reset(&page);
	ztree_close(&t);
	emit_puts(&f->out, "}}");
	if (mfile_close(f, !failed, job->err, sizeof(job->err)) != 0 || failed) {
		if (!*job->err)
			snprintf(job->err, sizeof(job->err), "writing the manifest of zarr %s failed",
			    PQgetvalue(z, row, MZ_UUID));
		return -1;
	}
	log_info("zarr manifest %s: %lld entries", f->key, n);
	return 0;
}

static int
write_zarr_manifests(struct job *job, const struct manifest *m)
{
	const char *p1[1] = { m->vid };
	PGresult *z = job_query(job, &mf_zarrs, 1, p1);

	if (z == NULL)
		return -1;
	for (int i = 0; i < PQntuples(z); i++)
		if (write_zarr_manifest(job, m, z, i) != 0)
			return -1;
	return 0;
}

/* Reads the version in a read-only snapshot: JOB_DONE with m filled, or
 * with m->md NULL when the version is gone; else the job's end. */
static enum job_result
version_read(struct job *job, struct manifest *m)
{
	const char *p1[1] = { m->vid };
	PGresult *r;

	if (job_begin(job) != 0 || job_exec(job, &mf_snapshot, 0, NULL) != 0 ||
	    (r = job_query(job, &mf_version, 1, p1)) == NULL)
		return JOB_RETRY;
	if (PQntuples(r) == 0)
		return JOB_DONE;
	m->md = job_json(job, arena_printf(&job->arena, "version %s: metadata", m->vid),
	    PQgetvalue(r, 0, VERSION_METADATA));
	if (m->md == NULL)
		return JOB_GIVE_UP;
	if (!json_object_is_type(m->md, json_type_object))
		return job_fail(job, JOB_GIVE_UP, "version %s: metadata is not a JSON object", m->vid);
	m->version = PQgetvalue(r, 0, VERSION_VERSION);
	m->dandiset = strtoll(PQgetvalue(r, 0, VERSION_DANDISET), NULL, 10);
	/* Not yet public while the unembargo is under way, either. */
	m->tagging = strcmp(PQgetvalue(r, 0, VERSION_EMBARGO), "OPEN") != 0 ? "embargoed=true" : NULL;
	return JOB_DONE;
}

static enum job_result
manifests_run(struct job *job)
{
	struct json_object *v;
	struct manifest m = { NULL };
	enum job_result rc;
	long long nassets;

	if (!json_object_object_get_ex(job->args, "version_id", &v) || json_object_get_int64(v) <= 0)
		return job_fail(job, JOB_GIVE_UP, "manifests job without a version_id");
	m.vid = arena_printf(&job->arena, "%lld", (long long)json_object_get_int64(v));
	if ((m.s3 = job_s3(job)) == NULL)
		return JOB_RETRY;
	if ((rc = version_read(job, &m)) != JOB_DONE)
		return rc;
	if (m.md == NULL) {
		/* Deleted since it was queued: nothing to write. */
		log_info("manifests of version %s: the version is gone", m.vid);
		return JOB_DONE;
	}
	if (write_metadata_file(job, &m, "dandiset.jsonld", false) != 0 ||
	    write_metadata_file(job, &m, "dandiset.yaml", true) != 0 || write_asset_files(job, &m, &nassets) != 0 ||
	    write_zarr_manifests(job, &m) != 0)
		return JOB_RETRY;
	log_info("manifests of dandiset %06lld version %s (row %s) written: %lld asset(s)%s",
	    m.dandiset, m.version, m.vid, nassets, m.tagging ? ", tagged embargoed" : "");
	return JOB_DONE;	/* the snapshot, read only, is rolled back */
}

/* A version id of the command line (a row id, or DANDISET/VERSION), or
 * NULL (said on stderr). */
static const char *
version_id(struct job *job, const char *arg)
{
	const char *slash = strchr(arg, '/');
	int64_t n;
	PGresult *r;

	if (slash == NULL) {
		if (parse_int64(arg, &n) && n > 0)
			return arena_printf(&job->arena, "%lld", (long long)n);
		fprintf(stderr, "dandi-jobs: not a version: %s\n", arg);
		return NULL;
	}
	const char *p[2] = { arena_strndup(&job->arena, arg, (size_t)(slash - arg)), slash + 1 };
	if (!parse_int64(p[0], &n) || (r = job_query(job, &mf_resolve, 2, p)) == NULL || PQntuples(r) == 0) {
		fprintf(stderr, "dandi-jobs: no version %s\n", arg);
		return NULL;
	}
	return PQgetvalue(r, 0, VID_ID);
}

int
manifests_cmd(struct job *job, int argc, char **argv)
{
	struct buf ids;
	PGresult *r;
	int rc = 0;

	if (argc < 3)
		return JOB_USAGE;
	buf_init(&ids);
	if (argc == 3 && strcmp(argv[2], "--all") == 0) {
		if ((r = job_query(job, &mf_all, 0, NULL)) == NULL) {
			buf_free(&ids);
			return job_exit_err(job);
		}
		for (int i = 0; i < PQntuples(r); i++)
			buf_printf(&ids, "%s%s", ids.len ? "," : "{", PQgetvalue(r, i, VID_ID));
		argc = 2;	/* no arguments left to read */
	}
	for (int i = 2; i < argc; i++) {
		const char *id = version_id(job, argv[i]);
		if (id == NULL)
			rc = 1;
		else
			buf_printf(&ids, "%s%s", ids.len ? "," : "{", id);
	}
	if (ids.len > 0) {
		buf_puts(&ids, "}");
		const char *p[1] = { ids.data };
		if ((r = job_query(job, &manifests_enqueue, 1, p)) == NULL)
			rc = job_exit_err(job);
		for (int i = 0; r != NULL && i < PQntuples(r); i++)
			printf("queued manifests job %s\n", PQgetvalue(r, i, ENQUEUED_ID));
	}
	buf_free(&ids);
	return rc;
}

const struct job_kind manifests_job = { "manifests", manifests_run, NULL, manifests_sql };
