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

-- Which of the search filters an asset row matches: NULL for a filter that
-- was not given. One definition serves both the "has a matching asset"
-- test (all given filters) and the per-filter asset_counts.
CREATE FUNCTION dandi_asset_search_match(s asset_search, p_types text[],
    p_size_min bigint, p_size_max bigint, p_genotypes text[], p_species text[],
    p_techniques text[])
-- SETOF (always one row) so the planner inlines it into the calling query,
-- which it does only for set-returning SQL functions.
RETURNS TABLE (file_type boolean, file_size boolean, genotype boolean,
    species boolean, measurement_technique boolean)
LANGUAGE sql IMMUTABLE AS $$
SELECT
    -- encodingFormat starts with the type, case-insensitively
    CASE WHEN p_types IS NULL THEN NULL ELSE EXISTS (
        SELECT 1 FROM unnest(p_types) t
        WHERE starts_with(upper(s.asset_metadata->>'encodingFormat'), upper(t))) END,
    CASE WHEN p_size_min IS NULL AND p_size_max IS NULL THEN NULL
         ELSE s.asset_size >= coalesce(p_size_min, 0)
          AND s.asset_size <= coalesce(p_size_max, s.asset_size) END,
    -- the genotype value equals the given string (a JSON string)
    CASE WHEN p_genotypes IS NULL THEN NULL ELSE coalesce(
        (s.asset_metadata #> '{wasAttributedTo,0,genotype}') IN (
            SELECT to_jsonb(g) FROM unnest(p_genotypes) g), false) END,
    CASE WHEN p_species IS NULL THEN NULL ELSE s.species = ANY (p_species) END,
    CASE WHEN p_techniques IS NULL THEN NULL ELSE EXISTS (
        SELECT 1 FROM unnest(p_techniques) t
        WHERE s.asset_metadata->'measurementTechnique'
              @> jsonb_build_array(jsonb_build_object('name', t))) END
$$;
