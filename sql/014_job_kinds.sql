-- 014_job_kinds: the kinds of queued job, one row each (dandi-jobs.c lists
-- the same; t/08-statements.t compares the two), and dandi_enqueue(), the
-- one way every producer, in the API and in dandi-jobs, queues a job.
CREATE TABLE job_kinds (
    kind    varchar(32) PRIMARY KEY,
    -- A request made while this kind's job for the same key is being
    -- worked waits for that run to end and queues another, since the run
    -- may have read what the request changed (manifests). Otherwise the
    -- job queued or running is enough.
    requeue boolean NOT NULL DEFAULT false
);
INSERT INTO job_kinds (kind, requeue) VALUES
    ('publish', false), ('sha256', false), ('unembargo', false), ('blob_untag', false),
    ('zarr_ingest', false), ('doi', false), ('doi_delete', false), ('manifests', true);

-- New jobs must be of a known kind; rows already there are left as they
-- are (dandi-jobs fails a job of a kind it does not know, visibly).
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_fkey FOREIGN KEY (kind) REFERENCES job_kinds (kind) NOT VALID;

-- dandi_enqueue(), the one way to queue a job: sql/functions/90_jobs.sql.
