-- 017_job_runs: the last run of every dandi-jobs command on every host,
-- which GET /metrics reports (last success, its duration, runs and
-- failures) so that a timer that stopped firing, or a command that keeps
-- failing, shows. One row per command and host, upserted at the end of
-- each run: hosts never write each other's rows, and a run that dies
-- without an end (killed, the machine lost) leaves its last success to
-- age, which is what the alert watches.
CREATE TABLE job_runs (
    command          varchar(64) NOT NULL,
    host             varchar(255) NOT NULL,
    last_started     timestamptz NOT NULL,
    last_duration    double precision NOT NULL CHECK (last_duration >= 0),  -- seconds
    last_ok          boolean NOT NULL,
    last_success     timestamptz,                 -- NULL: never succeeded here
    success_duration double precision CHECK (success_duration >= 0),   -- of last_success
    runs             bigint NOT NULL DEFAULT 0 CHECK (runs >= 0),
    failures         bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    PRIMARY KEY (command, host)
);

-- Failed jobs by kind, counted at every scrape without reading the done
-- ones (queued ones have jobs_ready and jobs_one_queued).
CREATE INDEX jobs_failed ON jobs (kind) WHERE state = 'failed';
