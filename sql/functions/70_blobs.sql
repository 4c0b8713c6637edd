-- 70_blobs: blob verification (the trigger that enrols a blob) and
-- download counts (010_verify_analytics).
-- needs: none

-- A blob becomes verifiable when its sha256 is stored; a trigger keeps
-- blob_integrity complete without a scan of blobs on every run.
CREATE OR REPLACE FUNCTION dandi_blob_integrity_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_integrity (blob_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

-- Downloads of a dandiset: the counts of the blobs of the assets of all
-- its versions, each blob once.
CREATE OR REPLACE FUNCTION dandi_dandiset_downloads(ds bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(b.download_count), 0)::bigint FROM blobs b
    WHERE b.id IN (SELECT a.blob_id FROM versions v JOIN asset_versions av ON av.version_id = v.id
                   JOIN assets a ON a.id = av.asset_id WHERE v.dandiset_id = ds);
$$;
