/* doi-jobs.h - DataCite work of dandi-jobs: registering the DOI of a
 * published version (kind doi) and deleting the draft DOI of a deleted
 * version (kind doi_delete). The HTTP calls run outside any transaction,
 * never holding a publish or a delete. */
#ifndef DANDI_DOI_JOBS_H
#define DANDI_DOI_JOBS_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"

void	doi_jobs_init(const struct config *);
void	doi_jobs_close(void);
/* Job handlers as dandi-jobs wants them: 0 done, -1 retry, -2 failed.
 * doi {version}: register the version's DOI from its stored metadata.
 * doi_delete {doi}: delete the DOI at DataCite if it is a draft there. */
int	doi_job_register(struct json_object *args, char *err, size_t errlen);
int	doi_job_delete(struct json_object *args, char *err, size_t errlen);

#endif
