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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "emit.h"
#include "log.h"
#include "manifests.h"
#include "s3.h"
#include "util.h"
#include "vmeta.h"

#define PAGE_ROWS	"500"
#define EMIT_CHUNK	65536

const char *const manifest_files[5] = {
	"dandiset.jsonld", "dandiset.yaml", "assets.jsonld", "assets.yaml", "collection.jsonld",
};

static const struct db_stmt mstmts[] = {
	/* Must be the first statement of its transaction. */
	{ "mf_snapshot",
	  "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY" },
	{ "mf_version",
	  "SELECT v.metadata::text, v.version, d.id, d.embargo_status"
	  " FROM versions v JOIN dandisets d ON d.id = v.dandiset_id WHERE v.id = $1::bigint" },
	/* One page of the version's assets in the API's default order
	 * (created, then row id), after the cursor row ($2, $3). */
	{ "mf_assets",
	  "SELECT page.asset_created, page.asset_id, a.asset_id::text, dandi_asset_metadata(a, $4, $5)::text"
	  " FROM (SELECT asset_id, asset_created FROM asset_versions WHERE version_id = $1::bigint"
	  "       AND ($2::timestamptz IS NULL OR (asset_created, asset_id) > ($2, $3::bigint))"
	  "       ORDER BY asset_created, asset_id LIMIT " PAGE_ROWS ") page"
	  " JOIN assets a ON a.id = page.asset_id"
	  " ORDER BY page.asset_created, page.asset_id" },
	{ "mf_enqueue", MANIFESTS_ENQUEUE_SQL },
	{ "mf_resolve",
	  "SELECT v.id FROM versions v WHERE v.dandiset_id = $1::bigint AND v.version = $2" },
	/* Every version, for a backfill (manifests --all). */
	{ "mf_all",
	  "SELECT v.id FROM versions v ORDER BY v.id" },
};

static const struct config	*mcfg;
static struct db		 mdb;
static bool			 mdb_ready;
static struct s3		 ms3;
static bool			 ms3_ready;

void
manifests_init(const struct config *cfg)
{
	mcfg = cfg;
}

void
manifests_close(void)
{
	if (mdb_ready)
		db_close(&mdb);
	if (ms3_ready)
		s3_free(&ms3);
	mdb_ready = ms3_ready = false;
}

static PGresult *
mq(const char *stmt, int n, const char *const *params, char *err, size_t errlen)
{
	if (!mdb_ready) {
		db_init(&mdb, mcfg->db, mstmts, sizeof(mstmts) / sizeof(mstmts[0]));
		mdb_ready = true;
	}
	return db_query(&mdb, stmt, n, params, err, errlen);
}

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

	return n > 7 && strcmp(file + n - 7, ".jsonld") == 0 ? "application/ld+json" : "application/octet-stream";
}

/* One manifest file being written: the S3 object and the writer feeding it. */
struct mfile {
	struct s3_stream	stream;
	struct emit_out		out;
	bool			open;
};

static void
mfile_open(struct mfile *f, const char *key, const char *file, const char *tagging)
{
	s3_stream_open(&f->stream, &ms3, key, content_type(file), tagging, mcfg->manifest_part_size);
	emit_init(&f->out, EMIT_CHUNK, s3_stream_write, &f->stream);
	f->open = true;
}

/* Finishes the object; 0, or -1 with the reason in err. Called for a file
 * that failed too, to free it and abort its upload. */
static int
mfile_close(struct mfile *f, const char *key, bool ok, char *err, size_t errlen)
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
			snprintf(err, errlen, "writing %s: %s", key, ms3.err);
		rc = -1;
	} else
		log_info("manifest %s: %lld bytes, %zu part(s)", key, (long long)f->stream.size,
		    f->stream.nparts);
	emit_free(&f->out);
	return rc;
}

/* The version's metadata as one file (dandiset.jsonld or dandiset.yaml). */
static int
write_metadata_file(const char *key, const char *file, const char *tagging, struct json_object *md,
    bool yaml, char *err, size_t errlen)
{
	struct mfile f;

	mfile_open(&f, key, file, tagging);
	if (yaml)
		emit_yaml_document(&f.out, md, "", "");
	else
		emit_json_value(&f.out, md);
	return mfile_close(&f, key, true, err, errlen);
}

int
manifests_job(struct json_object *args, char *err, size_t errlen)
{
	struct json_object *v, *md = NULL;
	char vid[24], s3base[1024], keys[3][512], cursor_time[64] = "", cursor_row[24] = "";
	struct mfile files[3] = { { .open = false } };	/* assets.jsonld, assets.yaml, collection.jsonld */
	PGresult *r;
	int rc = -1;
	long long nassets = 0;

	if (!json_object_object_get_ex(args, "version_id", &v) || json_object_get_int64(v) <= 0) {
		snprintf(err, errlen, "manifests job without a version_id");
		return -2;
	}
	snprintf(vid, sizeof(vid), "%lld", (long long)json_object_get_int64(v));
	if (!ms3_ready) {
		if (s3_init(&ms3, mcfg) != 0) {
			snprintf(err, errlen, "S3 is not configured");
			return -1;
		}
		ms3_ready = true;
	}
	if (!mdb_ready) {
		db_init(&mdb, mcfg->db, mstmts, sizeof(mstmts) / sizeof(mstmts[0]));
		mdb_ready = true;
	}
	if (db_begin(&mdb) != DB_OK) {
		snprintf(err, errlen, "database unavailable");
		return -1;
	}
	if ((r = mq("mf_snapshot", 0, NULL, err, errlen)) == NULL)
		goto out;
	PQclear(r);
	const char *p1[1] = { vid };
	if ((r = mq("mf_version", 1, p1, err, errlen)) == NULL)
		goto out;
	if (PQntuples(r) == 0) {
		/* Deleted since it was queued: nothing to write. */
		PQclear(r);
		log_info("manifests of version %s: the version is gone", vid);
		rc = 0;
		goto out;
	}
	md = json_tokener_parse(PQgetvalue(r, 0, 0));
	char *version = xstrdup(PQgetvalue(r, 0, 1));
	long long dandiset = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	/* Not yet public while the unembargo is under way, either. */
	const char *tagging = strcmp(PQgetvalue(r, 0, 3), "OPEN") != 0 ? "embargoed=true" : NULL;
	PQclear(r);
	if (md == NULL || !json_object_is_type(md, json_type_object)) {
		snprintf(err, errlen, "version %s: metadata is not a JSON object", vid);
		free(version);
		rc = -2;
		goto out;
	}

	/* The version's own two files. */
	char key[512];
	manifest_key(key, sizeof(key), dandiset, version, "dandiset.jsonld");
	if (write_metadata_file(key, "dandiset.jsonld", tagging, md, false, err, errlen) != 0)
		goto free_version;
	manifest_key(key, sizeof(key), dandiset, version, "dandiset.yaml");
	if (write_metadata_file(key, "dandiset.yaml", tagging, md, true, err, errlen) != 0)
		goto free_version;

	/* The three asset files, filled together in one pass. */
	for (int i = 0; i < 3; i++) {
		manifest_key(keys[i], sizeof(keys[i]), dandiset, version, manifest_files[2 + i]);
		mfile_open(&files[i], keys[i], manifest_files[2 + i], tagging);
	}
	struct json_writer coll;
	struct json_object *ctx = NULL, *id = NULL;
	json_object_object_get_ex(md, "@context", &ctx);
	json_object_object_get_ex(md, "id", &id);
	emit_puts(&files[0].out, "[");
	jw_init(&coll, &files[2].out);
	jw_begin_object(&coll);
	jw_key(&coll, "@context");
	jw_value(&coll, ctx);
	jw_key(&coll, "id");
	jw_value(&coll, id);
	jw_key(&coll, "@type");
	jw_string(&coll, "prov:Collection");
	jw_key(&coll, "hasMember");
	jw_begin_array(&coll);

	s3_base_url(mcfg, s3base, sizeof(s3base));
	bool failed = false;
	for (;;) {
		const char *pa[5] = { vid, *cursor_time ? cursor_time : NULL, *cursor_row ? cursor_row : NULL,
		    mcfg->api_url, s3base };
		if ((r = mq("mf_assets", 5, pa, err, errlen)) == NULL) {
			failed = true;
			break;
		}
		int n = PQntuples(r);
		for (int i = 0; i < n; i++) {
			struct json_object *am = json_tokener_parse(PQgetvalue(r, i, 3));
			char member[64];

			if (nassets++ > 0)
				emit_puts(&files[0].out, ",");
			emit_json_value(&files[0].out, am);
			emit_yaml_document(&files[1].out, am, "- ", "  ");
			snprintf(member, sizeof(member), "dandiasset:%s", PQgetvalue(r, i, 2));
			jw_string(&coll, member);
			json_object_put(am);
		}
		if (n > 0) {
			snprintf(cursor_time, sizeof(cursor_time), "%s", PQgetvalue(r, n - 1, 0));
			snprintf(cursor_row, sizeof(cursor_row), "%s", PQgetvalue(r, n - 1, 1));
		}
		PQclear(r);
		/* A file whose upload failed stops the run early. */
		for (int k = 0; k < 3; k++)
			if (files[k].out.failed || files[k].stream.failed)
				failed = true;
		if (failed || n < atoi(PAGE_ROWS))
			break;
	}
	emit_puts(&files[0].out, "]");
	jw_end(&coll);
	jw_end(&coll);
	int bad = 0;
	for (int i = 0; i < 3; i++)
		bad |= mfile_close(&files[i], keys[i], !failed && !bad, err, errlen);
	if (failed && !*err)
		snprintf(err, errlen, "writing the asset manifests of version %s failed", vid);
	if (!failed && !bad) {
		log_info("manifests of dandiset %06lld version %s (row %s) written: %lld asset(s)%s",
		    dandiset, version, vid, nassets, tagging ? ", tagged embargoed" : "");
		rc = 0;
	}
free_version:
	free(version);
out:
	for (int i = 0; i < 3; i++)
		if (files[i].open)
			mfile_close(&files[i], keys[i], false, err, errlen);
	json_object_put(md);
	db_rollback(&mdb);	/* read only: nothing to keep */
	return rc;
}

int
manifests_cmd(int argc, char **argv)
{
	char err[512];
	struct buf ids;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: dandi-jobs manifests --all | VERSION... (a version row id, or DANDISET/VERSION)\n");
		return 2;
	}
	buf_init(&ids);
	if (argc == 3 && strcmp(argv[2], "--all") == 0) {
		PGresult *r = mq("mf_all", 0, NULL, err, sizeof(err));
		if (r == NULL) {
			fprintf(stderr, "dandi-jobs: %s\n", err);
			buf_free(&ids);
			return 1;
		}
		for (int i = 0; i < PQntuples(r); i++)
			buf_printf(&ids, "%s%s", ids.len ? "," : "{", PQgetvalue(r, i, 0));
		PQclear(r);
		argc = 2;	/* no arguments left to read */
	}
	for (int i = 2; i < argc; i++) {
		const char *slash = strchr(argv[i], '/');
		char id[24];
		int64_t n;

		if (slash != NULL) {
			char ds[24];
			snprintf(ds, sizeof(ds), "%.*s", (int)(slash - argv[i]), argv[i]);
			const char *p[2] = { ds, slash + 1 };
			PGresult *r;
			if (!parse_int64(ds, &n) || (r = mq("mf_resolve", 2, p, err, sizeof(err))) == NULL) {
				fprintf(stderr, "dandi-jobs: no version %s\n", argv[i]);
				rc = 1;
				continue;
			}
			if (PQntuples(r) == 0) {
				fprintf(stderr, "dandi-jobs: no version %s\n", argv[i]);
				rc = 1;
				PQclear(r);
				continue;
			}
			snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
			PQclear(r);
		} else if (parse_int64(argv[i], &n) && n > 0)
			snprintf(id, sizeof(id), "%lld", (long long)n);
		else {
			fprintf(stderr, "dandi-jobs: not a version: %s\n", argv[i]);
			rc = 1;
			continue;
		}
		buf_printf(&ids, "%s%s", ids.len ? "," : "{", id);
	}
	if (ids.len > 0) {
		buf_puts(&ids, "}");
		const char *p[1] = { ids.data };
		PGresult *r = mq("mf_enqueue", 1, p, err, sizeof(err));
		if (r == NULL) {
			fprintf(stderr, "dandi-jobs: %s\n", err);
			rc = 1;
		} else {
			for (int i = 0; i < PQntuples(r); i++)
				printf("queued manifests job %s\n", PQgetvalue(r, i, 0));
			PQclear(r);
		}
	}
	buf_free(&ids);
	return rc;
}
