-- 006_asset_order: the asset list's default order (created, id) served from
-- an index on the version's own rows. Before, a page of a 1,000,000-asset
-- version joined and sorted every asset of the version; now a page is a
-- range of one index (index-only scan), and the JSON of only the rows on
-- the page is built.

-- An asset's creation time never changes, so a copy here cannot go stale.
ALTER TABLE asset_versions ADD COLUMN asset_created timestamptz;
UPDATE asset_versions av SET asset_created = a.created FROM assets a WHERE a.id = av.asset_id;
ALTER TABLE asset_versions ALTER COLUMN asset_created SET NOT NULL;

-- The trigger fills the copy on insert. Its function,
-- dandi_asset_versions_fill (sql/functions/30_assets.sql), is created
-- before this migration runs (dandi-admin migrate, sql/README.md); publish
-- (dandi_publish_assets) copies the column with the rows.
CREATE TRIGGER asset_versions_fill BEFORE INSERT ON asset_versions
    FOR EACH ROW EXECUTE FUNCTION dandi_asset_versions_fill();

CREATE INDEX asset_versions_order ON asset_versions (version_id, asset_created, asset_id);

