-- 015_blob_access: an embargoed blob is for those entitled to it
-- (dandi_blob_attachable, sql/functions/15_access.sql), not for whoever
-- learns its blob_id.
--
-- A blob remembers the dandiset its upload was made for, so that its
-- uploader may attach it before any asset holds it. Kept only while that
-- dandiset exists: a later dandiset under a reused identifier inherits
-- nothing.
ALTER TABLE blobs ADD COLUMN upload_dandiset_id bigint REFERENCES dandisets(id) ON DELETE SET NULL;
CREATE INDEX blobs_upload_dandiset ON blobs (upload_dandiset_id) WHERE upload_dandiset_id IS NOT NULL;

-- The dandi-etag is no longer unique: someone who may not use an embargoed
-- blob is not told it exists, and uploads a copy of the same bytes, a blob
-- of its own (its own S3 object and blob_id). Uploads look a blob up by
-- etag among those the caller may use, and serialise on the etag
-- themselves (src/api/uploads.c).
ALTER TABLE blobs DROP CONSTRAINT blobs_etag_key;
CREATE INDEX blobs_etag ON blobs (etag);
