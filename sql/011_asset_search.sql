-- 011: asset-level dandiset search (GET /api/dandisets/search/,
-- /api/search/genotypes/, /api/search/species/).
--
-- A materialized view rather than live joins: the filters look into asset
-- metadata across every version, too slow to do per request. It is rebuilt
-- by `dandi-jobs refresh-search` (every 10 minutes), so results lag edits.
-- The inner join with blobs leaves zarr assets out, as the original does.
CREATE MATERIALIZED VIEW asset_search AS
SELECT DISTINCT v.dandiset_id, a.asset_id, a.metadata AS asset_metadata,
       COALESCE(a.metadata->'wasAttributedTo'->0->'species'->>'name', '') AS species,
       b.size AS asset_size
FROM assets a
JOIN blobs b ON b.id = a.blob_id
JOIN asset_versions av ON av.asset_id = a.id
JOIN versions v ON v.id = av.version_id;

-- REFRESH ... CONCURRENTLY needs a unique index.
CREATE UNIQUE INDEX asset_search_dandiset_asset ON asset_search (dandiset_id, asset_id);
CREATE INDEX asset_search_size ON asset_search (asset_size);
CREATE INDEX asset_search_technique ON asset_search USING gin ((asset_metadata->'measurementTechnique'));
CREATE INDEX asset_search_species ON asset_search (species);
-- pg_trgm comes with 001_core.sql.
CREATE INDEX asset_search_species_trgm ON asset_search USING gin (upper(species) gin_trgm_ops);
CREATE INDEX asset_search_genotype ON asset_search ((asset_metadata #> '{wasAttributedTo,0,genotype,name}'));
CREATE INDEX asset_search_format_trgm ON asset_search
    USING gin (upper(asset_metadata->>'encodingFormat') gin_trgm_ops);

-- Which filters a row matches, dandi_asset_search_match, takes a row of this
-- view: sql/functions/80_search.sql (needs: 011_asset_search).
