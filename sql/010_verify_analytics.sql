-- 010_verify_analytics: periodic re-verification of stored blobs
-- (`dandi-jobs verify`) and download counts from S3 server access logs
-- (`dandi-jobs analytics`, GET /api/stats/downloads/). Both go beyond the
-- original, which never re-read its blobs and dropped its log analytics in
-- 2025.

-- One row per blob whose sha256 is known: when it was last verified and
-- how that went. Verifiers lock these rows (FOR UPDATE SKIP LOCKED), not
-- the blobs, so a check that streams a large object for minutes never
-- holds up writes to the blob (download counts, unembargo).
CREATE TABLE blob_integrity (
    blob_id    bigint PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
    checked_at timestamptz,                 -- NULL: never verified
    ok         boolean,
    detail     text NOT NULL DEFAULT ''
);
-- Never verified first, then the oldest check.
CREATE INDEX blob_integrity_due ON blob_integrity (checked_at NULLS FIRST, blob_id);
CREATE INDEX blob_integrity_failed ON blob_integrity (blob_id) WHERE NOT ok;

-- Every check, for the record (failures are kept, good checks pruned after
-- 90 days by the verifier).
CREATE TABLE blob_verifications (
    id         bigserial PRIMARY KEY,
    blob_id    bigint NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,
    checked_at timestamptz NOT NULL DEFAULT now(),
    ok         boolean NOT NULL,
    detail     text NOT NULL DEFAULT ''
);
CREATE INDEX blob_verifications_blob ON blob_verifications (blob_id, checked_at);
CREATE INDEX blob_verifications_checked ON blob_verifications (checked_at) WHERE ok;

-- A blob becomes verifiable when its sha256 is stored; a trigger keeps
-- blob_integrity complete without a scan of blobs on every run. Its
-- function, dandi_blob_integrity_row (sql/functions/70_blobs.sql), is
-- created before this migration runs.
CREATE TRIGGER blobs_integrity_row AFTER INSERT OR UPDATE OF sha256 ON blobs
    FOR EACH ROW WHEN (NEW.sha256 IS NOT NULL) EXECUTE FUNCTION dandi_blob_integrity_row();
INSERT INTO blob_integrity (blob_id) SELECT id FROM blobs WHERE sha256 IS NOT NULL;

-- Successful GETs of the blob's object counted from the access logs.
ALTER TABLE blobs ADD COLUMN download_count bigint NOT NULL DEFAULT 0 CHECK (download_count >= 0);

-- Each access-log object is counted once: its row is inserted in the
-- transaction that adds its counts, so a run that dies counts nothing and
-- two runs never count one log twice.
CREATE TABLE processed_s3_logs (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,      -- the log object's key
    processed_at timestamptz NOT NULL DEFAULT now(),
    lines        bigint NOT NULL DEFAULT 0, -- lines read
    skipped      bigint NOT NULL DEFAULT 0, -- malformed lines
    downloads    bigint NOT NULL DEFAULT 0  -- downloads of known blobs counted
);
CREATE INDEX processed_s3_logs_at ON processed_s3_logs (processed_at, name);

-- (a dandiset's downloads, dandi_dandiset_downloads: sql/functions/70_blobs.sql)
