-- 006_asset_order: the asset list's default order (created, id) served from
-- an index on the version's own rows. Before, a page of a 1,000,000-asset
-- version joined and sorted every asset of the version; now a page is a
-- range of one index (index-only scan), and the JSON of only the rows on
-- the page is built.

-- An asset's creation time never changes, so a copy here cannot go stale.
ALTER TABLE asset_versions ADD COLUMN asset_created timestamptz;
UPDATE asset_versions av SET asset_created = a.created FROM assets a WHERE a.id = av.asset_id;
ALTER TABLE asset_versions ALTER COLUMN asset_created SET NOT NULL;

CREATE FUNCTION dandi_asset_versions_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.asset_created IS NULL THEN
        SELECT created INTO NEW.asset_created FROM assets WHERE id = NEW.asset_id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER asset_versions_fill BEFORE INSERT ON asset_versions
    FOR EACH ROW EXECUTE FUNCTION dandi_asset_versions_fill();

CREATE INDEX asset_versions_order ON asset_versions (version_id, asset_created, asset_id);

-- Publish copies the order column with the rows (no per-row lookup).
CREATE OR REPLACE FUNCTION dandi_publish_assets(draft_id bigint, new_id bigint, api_url text, s3_base text,
                                     t timestamptz, instance text, rrid text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM asset_versions av JOIN assets a ON a.id = av.asset_id
               WHERE av.version_id = draft_id AND NOT a.published AND a.status <> 'Valid') THEN
        RAISE EXCEPTION 'an asset of the draft is not Valid' USING ERRCODE = 'P0001';
    END IF;
    INSERT INTO asset_versions (asset_id, version_id, asset_created)
    SELECT asset_id, new_id, asset_created FROM asset_versions WHERE version_id = draft_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE assets a SET
        metadata = dandi_asset_metadata(a, api_url, s3_base)::jsonb
                   || jsonb_build_object('publishedBy', dandi_published_by(t, instance, rrid),
                                         'datePublished', dandi_pyiso(t)),
        published = true
    FROM asset_versions av
    WHERE av.version_id = draft_id AND av.asset_id = a.id AND NOT a.published;
    INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
    SELECT new_id, path, asset_id, aggregate_files, aggregate_size
    FROM asset_paths WHERE version_id = draft_id;
    RETURN n;
END $$;
