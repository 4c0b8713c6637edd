-- diff-versions.sql - the data of contrib/bench/bench-diff: after
-- load-assets.sql filled the draft of dandiset DS, the draft is published
-- as version 0.240101.0000 the way dandi_publish_assets does it (shared
-- asset rows, the folder tree copied), then CHANGES assets of the draft
-- change through the API's own write functions (dandi_asset_write,
-- dandi_asset_detach), spread over the whole path range: a quarter
-- replaced (same path, a spare blob), a quarter removed, a quarter renamed
-- (same blob, a new path), a quarter added (spare blobs, new paths). Not
-- a migration: run it with psql after load-assets.sql,
--
--   psql -v DS=1 -v CHANGES=4000 -f contrib/bench/diff-versions.sql dandi
--
-- Assets are numbered as load-assets.sql numbers them (g = 1..N); the
-- spare blobs (SPARE of load-assets.sql, default 10000) must cover
-- CHANGES / 2.

\set ON_ERROR_STOP 1
\if :{?DS}
\else
\set DS 1
\endif
\if :{?CHANGES}
\else
\set CHANGES 4000
\endif

BEGIN;
SELECT id AS vid FROM versions WHERE dandiset_id = :DS AND version = 'draft' \gset
SELECT count(*) AS n FROM asset_versions WHERE version_id = :vid \gset
SELECT min(asset_id) - 1 AS a0 FROM asset_versions WHERE version_id = :vid \gset
-- The spare blobs: in no asset yet.
SELECT min(b.id) AS s0 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.blob_id = b.id) \gset

INSERT INTO versions (dandiset_id, name, metadata, version, status)
SELECT dandiset_id, name, metadata || jsonb_build_object('version', '0.240101.0000'), '0.240101.0000', 'Valid'
FROM versions WHERE id = :vid;
SELECT id AS pid FROM versions WHERE dandiset_id = :DS AND version = '0.240101.0000' \gset
INSERT INTO asset_versions (asset_id, version_id, asset_created)
SELECT asset_id, :pid, asset_created FROM asset_versions WHERE version_id = :vid;
UPDATE assets a SET published = true FROM asset_versions av WHERE av.version_id = :vid AND av.asset_id = a.id;
SELECT dandi_asset_paths_fold(:vid);
INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
SELECT :pid, path, asset_id, aggregate_files, aggregate_size FROM asset_paths WHERE version_id = :vid;

-- Change k (0 .. CHANGES-1) touches asset g = 1 + k * N / CHANGES; its
-- kind is k % 4.
CREATE TEMP TABLE change AS
SELECT k, k % 4 AS kind, a.*
FROM generate_series(0, :CHANGES - 1) k
JOIN assets a ON a.id = :a0 + 1 + k * (:n / :CHANGES);

SELECT count(*) FILTER (WHERE w.result <> 'added') AS failed FROM (
    -- 0: replaced: a new blob at the same path
    SELECT (dandi_asset_write(:vid, c.asset_id, gen_random_uuid(), c.path, :s0 + c.k, NULL, c.metadata, true)).result
    FROM change c WHERE c.kind = 0
    UNION ALL
    -- 2: renamed: the same blob at a new path
    SELECT (dandi_asset_write(:vid, c.asset_id, gen_random_uuid(), 'renamed/' || c.path, c.blob_id, NULL,
                              c.metadata, true)).result
    FROM change c WHERE c.kind = 2
    UNION ALL
    -- 3: added: a new file beside it
    SELECT (dandi_asset_write(:vid, NULL, gen_random_uuid(), replace(c.path, '.nwb', '_new.nwb'), :s0 + c.k,
                              NULL, c.metadata, true)).result
    FROM change c WHERE c.kind = 3
) w \gset
\if :failed
\echo a write failed
\quit 1
\endif
-- 1: removed
SELECT count(*) FROM change c WHERE c.kind = 1 AND dandi_asset_detach(:vid, c.id);
SELECT dandi_asset_paths_fold(:vid);
COMMIT;
VACUUM ANALYZE;
