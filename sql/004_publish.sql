-- 004_publish: the job queue the cron utilities drain. The functions of
-- publishing are in sql/functions/40_publish.sql.

-- Background work. A worker claims a job with FOR UPDATE SKIP LOCKED and
-- keeps that row lock in an open transaction while it works: two workers on
-- two machines never take the same job, and a worker that dies releases
-- it (its connection goes, so does the lock) for the next run.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         varchar(32) NOT NULL,
    args         jsonb NOT NULL DEFAULT '{}',
    state        varchar(8) NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 5,
    run_after    timestamptz NOT NULL DEFAULT now(),
    last_error   text NOT NULL DEFAULT '',
    created      timestamptz NOT NULL DEFAULT now(),
    modified     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready ON jobs (run_after, id) WHERE state = 'queued';
-- One queued job per kind and subject (e.g. one publish per draft).
CREATE UNIQUE INDEX jobs_one_queued ON jobs (kind, (args->>'key')) WHERE state = 'queued';

