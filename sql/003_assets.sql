-- 003_assets: the indexes of asset listings. Its functions (the asset
-- metadata and the upkeep of a version's folder tree, asset_paths) are in
-- sql/functions/30_assets.sql. Assets are immutable rows: a change makes a
-- new asset that replaces the old one in the draft, so published versions
-- keep theirs.

-- Listing a version's assets by path (prefix, exact, ordering) and by age.
CREATE INDEX asset_versions_version ON asset_versions (version_id, asset_id);
CREATE INDEX assets_created ON assets (created, id);

