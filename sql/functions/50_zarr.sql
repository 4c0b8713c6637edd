-- 50_zarr: zarr archives: the JSON shape and the end of an ingest.
-- needs: 001_core
-- uses: dandi_asset_paths_put and dandi_asset_paths_remove (30_assets)

-- The zarr object of the API, keys in the original's declared order.
CREATE OR REPLACE FUNCTION dandi_zarr_json(z zarrs) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'name', z.name,
        'dandiset', lpad(z.dandiset_id::text, 6, '0'),
        'zarr_id', z.zarr_id,
        'status', z.status,
        'checksum', z.checksum,
        'file_count', z.file_count,
        'size', z.size)
$$;

-- The end of an ingest (transaction 2 of the original): the zarr gets its
-- checksum, count and size and is Complete; the draft folder tree picks up
-- the new size; the drafts holding it and its unpublished assets go back
-- to Pending. False when the zarr is no longer Ingesting (changed since).
CREATE OR REPLACE FUNCTION dandi_zarr_ingested(zid bigint, sum text, files bigint, bytes bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    z zarrs;
    r record;
BEGIN
    SELECT * INTO z FROM zarrs WHERE id = zid FOR UPDATE;
    IF NOT FOUND OR z.status <> 'Ingesting' THEN
        RETURN false;
    END IF;
    FOR r IN SELECT av.version_id, a FROM assets a
             JOIN asset_versions av ON av.asset_id = a.id
             JOIN versions v ON v.id = av.version_id AND v.version = 'draft'
             WHERE a.zarr_id = zid LOOP
        PERFORM dandi_asset_paths_remove(r.version_id, r.a);
    END LOOP;
    UPDATE zarrs SET checksum = sum, file_count = files, size = bytes, status = 'Complete',
                     modified = now()
    WHERE id = zid;
    FOR r IN SELECT av.version_id, a FROM assets a
             JOIN asset_versions av ON av.asset_id = a.id
             JOIN versions v ON v.id = av.version_id AND v.version = 'draft'
             WHERE a.zarr_id = zid LOOP
        PERFORM dandi_asset_paths_put(r.version_id, r.a);
    END LOOP;
    UPDATE versions SET status = 'Pending', modified = now()
    WHERE dandiset_id = z.dandiset_id AND version = 'draft';
    UPDATE assets SET status = 'Pending', modified = now()
    WHERE zarr_id = zid AND NOT published;
    DELETE FROM zarr_ingest_progress WHERE zarr_id = zid;
    RETURN true;
END $$;
