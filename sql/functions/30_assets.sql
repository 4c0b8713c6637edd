-- 30_assets: an asset's metadata as the API serves it, and the upkeep of a
-- version's folder tree (asset_paths) and of the asset list's order column.
-- Assets are immutable rows: a change makes a new asset that replaces the
-- old one in the draft, so published versions keep theirs. The asset
-- object of lists and info ({asset_id, blob, zarr, path, size, created,
-- modified[, metadata]}) is written by the API alone: asset_json() in
-- src/api/assets.c.
-- needs: 001_core

-- Size of the bytes behind an asset: its blob or its zarr.
CREATE OR REPLACE FUNCTION dandi_asset_size(a assets) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE n bigint;
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT size INTO n FROM blobs WHERE id = a.blob_id;
    ELSE
        SELECT size INTO n FROM zarrs WHERE id = a.zarr_id;
    END IF;
    RETURN n;
END $$;

-- The object URL without a query (s3_base ends with '/': the app builds it
-- from its S3 configuration, path-style or virtual-host).
CREATE OR REPLACE FUNCTION dandi_asset_s3_url(a assets, s3_base text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE k text;
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT blob INTO k FROM blobs WHERE id = a.blob_id;
        RETURN s3_base || k;
    END IF;
    SELECT 'zarr/' || zarr_id || '/' INTO k FROM zarrs WHERE id = a.zarr_id;
    RETURN s3_base || k;
END $$;

-- The stored metadata plus every field the server owns, in the original's
-- order: the stored keys first, then id, access, path, identifier,
-- contentUrl, contentSize, digest, @context (and encodingFormat for zarr).
CREATE OR REPLACE FUNCTION dandi_asset_metadata(a assets, api_url text, s3_base text) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    b blobs;
    z zarrs;
    emb boolean;
    until date;
    access jsonb;
    digest jsonb;
    size bigint;
    computed json;
    owned text[] := ARRAY['id', 'access', 'path', 'identifier', 'contentUrl', 'contentSize',
                          'digest', '@context'];
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT * INTO b FROM blobs WHERE id = a.blob_id;
        emb := b.embargoed;
        size := b.size;
        digest := jsonb_build_object('dandi:dandi-etag', b.etag);
        IF b.sha256 IS NOT NULL THEN
            digest := digest || jsonb_build_object('dandi:sha2-256', b.sha256);
        END IF;
        IF emb THEN
            -- A blob may sit in several dandisets: the earliest end date.
            SELECT min(d.embargo_end_date) INTO until
            FROM assets x JOIN asset_versions av ON av.asset_id = x.id
            JOIN versions v ON v.id = av.version_id JOIN dandisets d ON d.id = v.dandiset_id
            WHERE x.blob_id = a.blob_id;
        END IF;
    ELSE
        SELECT * INTO z FROM zarrs WHERE id = a.zarr_id;
        size := z.size;
        digest := jsonb_build_object('dandi:dandi-zarr-checksum', z.checksum);
        SELECT embargo_status <> 'OPEN', embargo_end_date INTO emb, until
        FROM dandisets WHERE id = z.dandiset_id;
        owned := owned || ARRAY['encodingFormat'];
    END IF;
    access := jsonb_build_object('schemaKey', 'AccessRequirements', 'status',
        CASE WHEN emb THEN 'dandi:EmbargoedAccess' ELSE 'dandi:OpenAccess' END);
    IF emb AND until IS NOT NULL THEN
        access := access || jsonb_build_object('embargoedUntil', to_char(until, 'YYYY-MM-DD'));
    END IF;
    computed := json_build_object(
        'id', 'dandiasset:' || a.asset_id,
        'access', json_build_array(access),
        'path', a.path,
        'identifier', a.asset_id::text,
        'contentUrl', json_build_array(api_url || '/api/assets/' || a.asset_id || '/download/',
                                       dandi_asset_s3_url(a, s3_base)),
        'contentSize', size,
        'digest', digest,
        '@context', 'https://raw.githubusercontent.com/dandi/schema/master/releases/'
                    || (a.metadata->>'schemaVersion') || '/context.json');
    RETURN (SELECT json_object_agg(k, v ORDER BY grp, ord) FROM (
        SELECT 0 AS grp, 0::bigint AS ord, e.key AS k, e.value::json AS v
        FROM jsonb_each(a.metadata) e WHERE NOT (e.key = ANY (owned))
        UNION ALL
        SELECT 1, c.ord, c.key, c.value FROM json_each(computed) WITH ORDINALITY c(key, value, ord)
        UNION ALL
        SELECT 2, 0, 'encodingFormat', to_json('application/x-zarr'::text) WHERE a.zarr_id IS NOT NULL
    ) kv);
END $$;

-- 'a/b/c' -> {a, a/b, a/b/c}
CREATE OR REPLACE FUNCTION dandi_path_prefixes(p text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_agg(array_to_string((string_to_array(p, '/'))[1:n], '/') ORDER BY n)
    FROM generate_series(1, array_length(string_to_array(p, '/'), 1)) n
$$;

-- The folder tree: adding a file adds its size and one file to the file's
-- node and every folder above it, creating the nodes that are missing.
CREATE OR REPLACE FUNCTION dandi_asset_paths_add(vid bigint, a assets) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE size bigint := dandi_asset_size(a);
BEGIN
    INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
    SELECT vid, p, CASE WHEN p = a.path THEN a.id END, 1, size
    FROM unnest(dandi_path_prefixes(a.path)) p
    ON CONFLICT (version_id, path) DO UPDATE
        SET aggregate_files = asset_paths.aggregate_files + 1,
            aggregate_size = asset_paths.aggregate_size + EXCLUDED.aggregate_size,
            asset_id = coalesce(EXCLUDED.asset_id, asset_paths.asset_id);
END $$;

-- ... and removing one takes them away again; emptied nodes go.
CREATE OR REPLACE FUNCTION dandi_asset_paths_remove(vid bigint, a assets) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    prefixes text[] := dandi_path_prefixes(a.path);
    size bigint;
BEGIN
    SELECT aggregate_size INTO size FROM asset_paths WHERE version_id = vid AND path = a.path;
    UPDATE asset_paths SET aggregate_files = aggregate_files - 1,
                           aggregate_size = aggregate_size - coalesce(size, 0)
    WHERE version_id = vid AND path = ANY (prefixes);
    DELETE FROM asset_paths WHERE version_id = vid AND path = ANY (prefixes) AND aggregate_files = 0;
END $$;

-- Trigger of asset_versions (006_asset_order): a new row gets its asset's
-- creation time, the column the asset list is ordered by.
CREATE OR REPLACE FUNCTION dandi_asset_versions_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.asset_created IS NULL THEN
        SELECT created INTO NEW.asset_created FROM assets WHERE id = NEW.asset_id;
    END IF;
    RETURN NEW;
END $$;
