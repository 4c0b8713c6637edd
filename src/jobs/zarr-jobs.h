/* zarr-jobs.h - the zarr ingest of dandi-jobs (kind zarr_ingest): the
 * dandi-zarr-checksum, file count and size of a finalized zarr, computed
 * from ListObjectsV2 pages, resumable from its last checkpoint. */
#ifndef DANDI_ZARR_JOBS_H
#define DANDI_ZARR_JOBS_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"

void	zarr_jobs_init(const struct config *);
void	zarr_jobs_close(void);
/* A job handler as dandi-jobs wants it: 0 done, -1 retry, -2 failed. */
int	zarr_job_ingest(struct json_object *args, char *err, size_t errlen);
/* dandi-jobs zarr-ingest [--force] ZARR_ID: queue an ingest. */
int	zarr_cmd_ingest(int argc, char **argv);

#endif
