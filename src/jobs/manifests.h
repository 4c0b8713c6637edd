/* manifests.h - the manifest files of a version (job kind "manifests"):
 * dandiset.jsonld, dandiset.yaml, assets.jsonld, assets.yaml and
 * collection.jsonld under dandisets/<6-digit id>/<version>/ in S3,
 * streamed from PostgreSQL to multipart uploads with flat memory. */
#ifndef DANDI_MANIFESTS_H
#define DANDI_MANIFESTS_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"

/* Queues one manifests job per version id in $1 (a bigint[] literal).
 * A version has at most one queued job (the jobs_one_queued index): a
 * request for a version whose job is queued and idle changes nothing, and
 * one for a version whose job is being worked waits for that run to end
 * and then queues a new one, so no request is lost to a run that read
 * the version before the change. Shared by every statement table that
 * queues manifests. */
#define MANIFESTS_ENQUEUE_SQL \
	"INSERT INTO jobs (kind, args)" \
	" SELECT 'manifests', jsonb_build_object('key', v.id::text, 'version_id', v.id)" \
	" FROM versions v WHERE v.id = ANY ($1::bigint[]) ORDER BY v.id" \
	" ON CONFLICT (kind, (args->>'key')) WHERE state = 'queued'" \
	" DO UPDATE SET modified = now() RETURNING id"

/* The five files, in the order they are written. */
extern const char *const manifest_files[5];

/* dandisets/<6-digit id>/<version>/<file> into out. */
void	manifest_key(char *out, size_t outlen, long long dandiset_id, const char *version,
	    const char *file);

void	manifests_init(const struct config *);
void	manifests_close(void);
/* Job kind "manifests" {version_id}: 0 done, -1 retry, -2 failed. */
int	manifests_job(struct json_object *args, char *err, size_t errlen);
/* dandi-jobs manifests VERSION...: queue (VERSION is a version's row id
 * or DANDISET/VERSION, e.g. 000123/draft); --all queues every version
 * (a backfill). Exit code. */
int	manifests_cmd(int argc, char **argv);

#endif
