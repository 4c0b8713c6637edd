/* jobs.h - dandi-jobs: the context every job and command runs in (job.c),
 * the job kinds and the commands, one entry each, listed in dandi-jobs.c
 * as routes.c lists the API's routes. */
#ifndef DANDI_JOBS_H
#define DANDI_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "jsonread.h"
#include "s3.h"
#include "sentry.h"

/* How a job ended: done, failed for now (retried later with backoff), or
 * failed for good (no retry can help; the row is marked failed at once). */
enum job_result { JOB_DONE = 0, JOB_RETRY = -1, JOB_GIVE_UP = -2 };

/* What a job or a command runs with; one per process. */
struct job {
	const struct config	*cfg;
	struct arena		 arena;		/* freed after each job (job_reset) */
	struct db		 db;		/* the work connection */
	struct json_object	*args;		/* the job's arguments; NULL in a command */
	char			 err[1024];	/* why it failed */
	struct s3		 s3;		/* job_s3(): made on first use */
	bool			 s3_ready;
	struct sentry		*sentry;	/* error reports; NULL: no sentry_dsn */
};

/* A job kind: jobs.kind, and a row of job_kinds in SQL (t/08-statements.t
 * keeps the two lists in step). */
struct job_kind {
	const char		*name;
	enum job_result		(*run)(struct job *);
	/* After the last failure, so that nothing stays stuck (optional). */
	void			(*gave_up)(struct job *);
	const struct db_sql *const *sql;	/* the statements it runs */
};

/* A command: dandi-jobs NAME ARGS. run returns the exit status; 2 has main
 * print the usage line. */
struct job_cmd {
	const char		*name;
	int			(*run)(struct job *, int argc, char **argv);
	const struct db_sql *const *sql;
	const char		*usage;		/* arguments */
	const char		*help;
};
#define JOB_USAGE	2

/* dandi-jobs.c */
extern const struct job_kind *const	job_kinds[];	/* NULL-terminated */
extern const struct job_cmd		job_cmds[];	/* ends with a NULL name */

/* job.c */
/* Connects nothing yet: the connection is made on first use, with the
 * statements of every kind and command prepared. */
void		 job_init(struct job *, const struct config *);
void		 job_free(struct job *);
/* Records the end of a command's run in job_runs (GET /metrics reports
 * it): started in Unix seconds, how long it took, whether it succeeded.
 * A failure to record is logged, nothing more. */
void		 job_record_run(struct job *, const char *command, double started, double seconds,
		    bool ok);
/* Ends a job: rolls back what it left open and frees its arena. */
void		 job_reset(struct job *);
/* Runs a statement; its result is freed with the arena (job_query_in:
 * with the given one, for a loop's pages; job_query_on: on another
 * connection). NULL with job->err set. */
PGresult	*job_query(struct job *, const struct db_sql *, int n, const char *const *params);
PGresult	*job_query_in(struct job *, struct arena *, const struct db_sql *, int n,
		    const char *const *params);
PGresult	*job_query_on(struct job *, struct db *, const struct db_sql *, int n,
		    const char *const *params);
/* job_query for a statement whose result is not read: 0 or -1. */
int		 job_exec(struct job *, const struct db_sql *, int n, const char *const *params);
int		 job_begin(struct job *);	/* 0 or -1 with job->err set */
int		 job_commit(struct job *);
void		 job_rollback(struct job *);
/* The S3 client, made once per process; NULL with job->err set. */
struct s3	*job_s3(struct job *);
/* A string argument of the job, or NULL. */
const char	*job_arg(struct job *, const char *key);
/* Stored JSON read with the archive's one parser (jsonread), put with the
 * arena; NULL, with job->err saying what (e.g. "the draft's metadata")
 * cannot be read and why, when text is not JSON or is null. */
struct json_object *job_json(struct job *, const char *what, const char *text);
/* Sets job->err and returns result: `return job_fail(job, JOB_RETRY, ...)`. */
enum job_result	 job_fail(struct job *, enum job_result, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* For commands: prints job->err to stderr, returns exit status 1. */
int		 job_exit_err(struct job *);
/* The instance's RRID (instance_identifier or the original's). */
const char	*job_rrid(const struct job *);

/* queue.c: claims and works queued jobs */
extern const struct db_sql *const	queue_claim_sql[];	/* the claim connection's */
extern const struct db_sql *const	queue_sql[];
int	queue_run(struct job *, int argc, char **argv);
int	queue_list(struct job *, int argc, char **argv);
int	queue_retry(struct job *, int argc, char **argv);

/* publish.c */
extern const struct job_kind	publish_job;

/* sha256.c */
extern const struct job_kind	sha256_job;

/* validate.c: the sweep of Pending drafts and assets */
extern const struct db_sql *const	validate_sql[];
/* Batch by batch until none is left or max rows of each kind (-1: no
 * limit) are done; counts in *nversions, *nassets. 0, or -1 on a
 * database error. */
int	validate_sweep(struct job *, long max, long batch, long *nversions, long *nassets);
int	validate_cmd(struct job *, int argc, char **argv);

/* storage.c: the database and the bucket side by side */
extern const struct db_sql *const	storage_sql[];
int	storage_check_cmd(struct job *, int argc, char **argv);
extern const struct db_sql *const	embargo_tags_sql[];
int	embargo_tags_cmd(struct job *, int argc, char **argv);
/* gc.c */
extern const struct db_sql *const	gc_sql[];
int	gc_cmd(struct job *, int argc, char **argv);

/* unembargo.c: unembargo {dandiset, user} (or {dandiset, ended}: the end date's,
 * embargo.c), blob_untag {key} */
extern const struct job_kind	unembargo_job;
extern const struct job_kind	blob_untag_job;

/* embargo.c: the daily reminders and ends of embargoes */
extern const struct db_sql *const	embargo_ends_sql[];
int	embargo_ends_cmd(struct job *, int argc, char **argv);

/* housekeeping.c: the mail outbox, statistics, search view, pending users */
extern const struct db_sql *const	housekeeping_sql[];
int	mail_cmd(struct job *, int argc, char **argv);
int	stats_cmd(struct job *, int argc, char **argv);
int	pending_users_mail_cmd(struct job *, int argc, char **argv);
int	refresh_search_cmd(struct job *, int argc, char **argv);
int	fold_paths_cmd(struct job *, int argc, char **argv);
long	paths_fold_all(struct job *);	/* deltas moved, or -1 (job->err) */

/* zarr-jobs.c: zarr_ingest {zarr, force} */
extern const struct job_kind	zarr_ingest_job;
int	zarr_ingest_cmd(struct job *, int argc, char **argv);

/* zarr-snapshot.c: the zarr archives of a publish (sql/020) */
extern const struct db_sql *const	zarr_snapshot_sql[];
/* Before the publish transaction: a Complete snapshot of every zarr of
 * the draft, taken or resumed page by page. */
enum job_result	zarr_snapshots_take(struct job *, const char *draft);
/* In it: the new version's zarrs mapped to their snapshots. */
enum job_result	zarr_snapshots_attach(struct job *, const char *draft, const char *version);

/* doi-jobs.c: doi {version}, doi_delete {doi} */
extern const struct job_kind	doi_job;
extern const struct job_kind	doi_delete_job;

/* manifests.c: manifests {version_id} */
extern const struct job_kind	manifests_job;
/* Queues one manifests job per version id in $1 (a bigint[] literal); a
 * version whose job is being worked gets another after that run. */
extern const struct db_sql	manifests_enqueue;
/* The five files, in the order they are written. */
extern const char *const	manifest_files[5];
/* dandisets/<6-digit id>/<version>/<file> into out. */
void	manifest_key(char *out, size_t outlen, long long dandiset_id, const char *version,
	    const char *file);
int	manifests_cmd(struct job *, int argc, char **argv);

/* verify.c */
extern const struct db_sql *const	verify_sql[];
int	verify_cmd(struct job *, int argc, char **argv);

/* analytics.c */
extern const struct db_sql *const	analytics_sql[];
int	analytics_cmd(struct job *, int argc, char **argv);

#endif
