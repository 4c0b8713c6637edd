-- 90_jobs: the job queue (004_publish's jobs, 014_job_kinds): the one way
-- every producer, in the API and in dandi-jobs, queues a job.
-- needs: 014_job_kinds

-- Queues a job of job_kind for job_key (stored as args.key: jobs_one_queued
-- keeps one queued job per kind and key). Returns the job's id, or NULL
-- when one of the kind and key was queued already and the kind does not
-- requeue. An unknown kind is an error (jobs_kind_fkey).
CREATE OR REPLACE FUNCTION dandi_enqueue(job_kind text, job_key text, job_args jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    queued bigint;
BEGIN
    IF (SELECT k.requeue FROM job_kinds k WHERE k.kind = job_kind) THEN
        -- On a queued job being worked (locked by its claim), this waits
        -- for the run; the row is then no longer queued and ours goes in.
        INSERT INTO jobs (kind, args) VALUES (job_kind, job_args || jsonb_build_object('key', job_key))
        ON CONFLICT (kind, (args->>'key')) WHERE state = 'queued' DO UPDATE SET modified = now()
        RETURNING id INTO queued;
    ELSE
        INSERT INTO jobs (kind, args) VALUES (job_kind, job_args || jsonb_build_object('key', job_key))
        ON CONFLICT (kind, (args->>'key')) WHERE state = 'queued' DO NOTHING
        RETURNING id INTO queued;
    END IF;
    RETURN queued;
END
$$;
