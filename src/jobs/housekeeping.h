/* housekeeping.h - dandi-jobs work beyond publish and checksums: unembargo
 * (a job kind), the e-mail outbox (`dandi-jobs mail`) and the archive
 * statistics (`dandi-jobs stats`). Own database connection, so the claim
 * and work connections of dandi-jobs.c stay as they are. */
#ifndef DANDI_HOUSEKEEPING_H
#define DANDI_HOUSEKEEPING_H

#include <stddef.h>

#include <json-c/json.h>

struct config;

void	hk_init(const struct config *);
void	hk_close(void);
/* Job kind "unembargo" {dandiset, user}: 0 done, -1 retry, -2 give up. */
int	job_unembargo(struct json_object *args, char *err, size_t errlen);
void	job_unembargo_gave_up(struct json_object *args);
int	job_blob_untag(struct json_object *args, char *err, size_t errlen);
/* dandi-jobs mail [--max N]; dandi-jobs stats. Exit codes. */
int	cmd_mail(int argc, char **argv);
int	cmd_stats(void);
/* dandi-jobs pending-users-mail: the daily list of users waiting for
 * approval, to admin_email, once per UTC day across all hosts. */
int	cmd_pending_users_mail(void);
/* Rebuilds the asset_search materialized view (GET /api/dandisets/search/). */
int	cmd_refresh_search(void);

#endif
