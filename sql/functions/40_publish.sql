-- 40_publish: publishing a draft (dandi-jobs publish): the version string,
-- the publish stamp, the assets summary and the asset side of the copy.
-- needs: none
-- uses: dandi_pyiso (10_serializers), dandi_asset_size and
-- dandi_asset_metadata, dandi_asset_paths_fold (30_assets)

-- 0.YYMMDD.HHMM from the UTC time; a string this dandiset already has
-- moves one minute on, as the original.
CREATE OR REPLACE FUNCTION dandi_next_version(did bigint, t timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    LOOP
        v := '0.' || to_char(t AT TIME ZONE 'UTC', 'YYMMDD.HH24MI');
        EXIT WHEN NOT EXISTS (SELECT 1 FROM versions WHERE dandiset_id = did AND version = v);
        t := t + interval '1 minute';
    END LOOP;
    RETURN v;
END $$;

-- The PublishActivity the original records on published versions and assets.
CREATE OR REPLACE FUNCTION dandi_published_by(t timestamptz, instance text, rrid text) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
    SELECT jsonb_build_object(
        'id', 'urn:uuid:' || gen_random_uuid(),
        'name', 'DANDI publish',
        'startDate', dandi_pyiso(t),
        'endDate', dandi_pyiso(t),
        'wasAssociatedWith', jsonb_build_array(jsonb_build_object(
            'id', 'urn:uuid:' || gen_random_uuid(),
            'identifier', rrid,
            'name', instance || ' API',
            'version', '0.1.0',
            'schemaKey', 'Software')),
        'schemaKey', 'PublishActivity')
$$;

-- Characters dandischema's sanitize_value turns into '-'.
CREATE OR REPLACE FUNCTION dandi_sanitize(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(s, '[_*\\/<>:|"''?%@;,.[:space:]]', '-', 'g')
$$;

-- assetsSummary of a version (dandischema's aggregate_assets_summary):
-- bytes and files; the distinct approaches, techniques, variables, species
-- and data standards in order of first appearance; subjects, samples and
-- cells counted from participants, biosample chains and BIDS-like names.
-- valid_only: drafts count only Valid assets, as the original.
CREATE OR REPLACE FUNCTION dandi_assets_summary(vid bigint, valid_only boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
WITH RECURSIVE a AS (
    SELECT x.id, x.path, x.metadata AS m, dandi_asset_size(x) AS size,
           regexp_replace(x.path, '^.*/', '') AS base
    FROM asset_versions av JOIN assets x ON x.id = av.asset_id
    WHERE av.version_id = vid AND (NOT valid_only OR x.status = 'Valid')
),
listed(key, val, aid, ord) AS (
    SELECT k, e, a.id, o FROM a, unnest(ARRAY['approach', 'measurementTechnique']) k,
        jsonb_array_elements(CASE WHEN jsonb_typeof(a.m->k) = 'array' THEN a.m->k ELSE '[]' END)
        WITH ORDINALITY AS t(e, o)
    UNION ALL
    SELECT 'variableMeasured', e->'value', a.id, o FROM a,
        jsonb_array_elements(CASE WHEN jsonb_typeof(a.m->'variableMeasured') = 'array'
                                  THEN a.m->'variableMeasured' ELSE '[]' END) WITH ORDINALITY AS t(e, o)
        WHERE jsonb_typeof(e) = 'object' AND e ? 'value'
    UNION ALL
    SELECT 'species', e->'species', a.id, o FROM a,
        jsonb_array_elements(CASE WHEN jsonb_typeof(a.m->'wasAttributedTo') = 'array'
                                  THEN a.m->'wasAttributedTo' ELSE '[]' END) WITH ORDINALITY AS t(e, o)
        WHERE jsonb_typeof(e) = 'object' AND e->>'schemaKey' = 'Participant' AND e ? 'species'
    UNION ALL
    SELECT 'dataStandard', s.std, a.id, s.o FROM a, LATERAL (VALUES
        (1, CASE WHEN a.m->>'encodingFormat' LIKE '%nwb%' THEN jsonb_build_object(
            'name', 'Neurodata Without Borders (NWB)', 'identifier', 'RRID:SCR_015242',
            'schemaKey', 'StandardsType') END),
        (2, CASE WHEN a.base = 'dataset_description.json' THEN jsonb_build_object(
            'name', 'Brain Imaging Data Structure (BIDS)', 'identifier', 'RRID:SCR_016124',
            'schemaKey', 'StandardsType') END),
        (3, CASE WHEN a.base ~ '^[^.]*\.ome\.zarr$' THEN jsonb_build_object(
            'name', 'OME/NGFF Standard', 'identifier', 'DOI:10.25504/FAIRsharing.9af712',
            'schemaKey', 'StandardsType') END)) AS s(o, std)
        WHERE s.std IS NOT NULL
),
firsts AS (
    SELECT key, val, min(aid) AS aid FROM listed GROUP BY key, val
),
ordered AS (
    SELECT f.key, f.val, (SELECT min(l.ord) FROM listed l WHERE l.key = f.key AND l.val = f.val
                          AND l.aid = f.aid) AS ord, f.aid FROM firsts f
),
lists AS (
    SELECT key, jsonb_agg(val ORDER BY aid, ord) AS vals FROM ordered GROUP BY key
),
-- Subjects: participants' identifiers (sanitized) and sub-<x> name parts.
subjects AS (
    SELECT dandi_sanitize(e->>'identifier') AS s FROM a,
        jsonb_array_elements(CASE WHEN jsonb_typeof(a.m->'wasAttributedTo') = 'array'
                                  THEN a.m->'wasAttributedTo' ELSE '[]' END) e
        WHERE jsonb_typeof(e) = 'object' AND e->>'schemaKey' = 'Participant'
          AND coalesce(e->>'identifier', '') <> ''
    UNION
    SELECT substr(p, 5) FROM a, unnest(string_to_array(split_part(a.base, '.', 1), '_')) p
        WHERE p LIKE 'sub-%'
),
-- Samples: the first BioSample of wasDerivedFrom, then its first, and so on.
chain(node, depth) AS (
    SELECT (SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.m->'wasDerivedFrom') = 'array'
                THEN a.m->'wasDerivedFrom' ELSE '[]' END) WITH ORDINALITY AS t(e, o)
            WHERE jsonb_typeof(e) = 'object' AND e->>'schemaKey' = 'BioSample' ORDER BY o LIMIT 1), 1
    FROM a
    UNION ALL
    SELECT (SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.node->'wasDerivedFrom') = 'array'
                THEN c.node->'wasDerivedFrom' ELSE '[]' END) WITH ORDINALITY AS t(e, o)
            WHERE jsonb_typeof(e) = 'object' AND e->>'schemaKey' = 'BioSample' ORDER BY o LIMIT 1),
           c.depth + 1
    FROM chain c WHERE c.node IS NOT NULL AND c.depth < 100
),
samples AS (
    SELECT node->'sampleType'->>'name' AS kind, dandi_sanitize(node->>'identifier') AS s FROM chain
        WHERE node IS NOT NULL AND jsonb_typeof(node->'sampleType') = 'object'
          AND node->'sampleType'->>'name' IN ('cell', 'slice', 'tissuesample')
    UNION
    SELECT 'tissuesample', substr(p, 8) FROM a, unnest(string_to_array(split_part(a.base, '.', 1), '_')) p
        WHERE p LIKE 'sample-%'
),
totals AS (
    SELECT count(*) AS files, coalesce(sum(size), 0) AS bytes FROM a
)
SELECT jsonb_strip_nulls(jsonb_build_object(
        'schemaKey', 'AssetsSummary',
        'numberOfBytes', t.bytes,
        'numberOfFiles', t.files,
        'numberOfSubjects', nullif((SELECT count(DISTINCT s) FROM subjects), 0),
        'numberOfSamples', nullif((SELECT count(*) FROM samples WHERE kind IN ('tissuesample', 'slice')), 0),
        'numberOfCells', nullif((SELECT count(*) FROM samples WHERE kind = 'cell'), 0)))
    || CASE WHEN t.files = 0 THEN '{}'::jsonb ELSE jsonb_build_object(
        'approach', coalesce((SELECT vals FROM lists WHERE key = 'approach'), '[]'),
        'measurementTechnique', coalesce((SELECT vals FROM lists WHERE key = 'measurementTechnique'), '[]'),
        'variableMeasured', coalesce((SELECT vals FROM lists WHERE key = 'variableMeasured'), '[]'),
        'species', coalesce((SELECT vals FROM lists WHERE key = 'species'), '[]'),
        'dataStandard', coalesce((SELECT vals FROM lists WHERE key = 'dataStandard'), '[]')) END
FROM totals t
$$;

-- The asset side of a publish: the new version gets the draft's assets
-- (shared rows, nothing copied; the order column comes along, no per-row
-- lookup), unpublished ones are frozen in place with their full metadata
-- and publish stamp, and the folder tree is the draft's. Returns the
-- number of assets.
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
    -- The draft is locked: its tree, folded, is exact and final.
    PERFORM dandi_asset_paths_fold(draft_id);
    INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
    SELECT new_id, path, asset_id, aggregate_files, aggregate_size
    FROM asset_paths WHERE version_id = draft_id;
    RETURN n;
END $$;
