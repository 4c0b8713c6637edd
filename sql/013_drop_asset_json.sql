-- 013_drop_asset_json: the asset object of lists, info and write answers
-- ({asset_id, blob, zarr, path, size, created, modified[, metadata]}) is
-- written by the API alone (asset_json() in src/api/assets.c), one writer
-- for one shape; its SQL twin goes. Removing a function is a migration:
-- sql/functions/ only ever creates or replaces (sql/README.md).
DROP FUNCTION IF EXISTS dandi_asset_json(assets, boolean, text, text);
