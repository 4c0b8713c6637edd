-- 80_search: the asset-level dandiset search over the asset_search view.
-- needs: 011_asset_search (the view's row type is an argument)

-- Which of the search filters an asset row matches: NULL for a filter that
-- was not given. One definition serves both the "has a matching asset"
-- test (all given filters) and the per-filter asset_counts.
CREATE OR REPLACE FUNCTION dandi_asset_search_match(s asset_search, p_types text[],
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
