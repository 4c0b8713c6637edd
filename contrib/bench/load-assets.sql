-- load-assets.sql - the bulk load of contrib/bench/bench-assets: N assets
-- in the draft of dandiset DS, as the API would have stored them, for a
-- benchmark. Not a migration: run it with psql into a migrated database,
--
--   psql -v N=100000 [-v DS=1] [-v OWNER=bench] [-v FOLDER=1000] [-v SPARE=10000] \
--        [-v STATUS=Valid] -f contrib/bench/load-assets.sql dandi
--
-- The data: one blob per asset (its own blob_id, S3 key, etag, sha256 and
-- a size between 100 kB and 4 GB), paths sub-NNNN/sub-NNNN_ses-MMMM_ecephys.nwb
-- with FOLDER files a folder, and the stripped metadata the dandi client
-- sends (a few hundred bytes). SPARE more blobs are uploaded but in no
-- asset: new assets (POST) take those. DS and its draft are created when
-- missing (owned by OWNER); the draft must not have assets yet.
--
-- Every value is a function of the asset's number g (1..N), so that a
-- benchmark can name an asset without a list (pgbench):
--   assets.id     = A0 + g          (A0: max(assets.id) before the load)
--   blobs.id      = B0 + g          (B0: max(blobs.id) before the load)
--   asset_id      = md5(DS || '/asset/' || g)::uuid
--   blob_id       = md5(DS || '/blob/' || g)::uuid
--   created       = 2024-01-01T00:00:00Z + g * 10 ms (the list's order)
-- Everything else (asset_versions' own columns, the folder tree of
-- asset_paths with its totals) is derived below from these rows with SQL,
-- as the app's triggers and functions would: when the schema of the write
-- path changes (a migration sql/0NN_*.sql), this is the one file to adapt.

\set ON_ERROR_STOP 1
\if :{?N}
\else
\set N 1000000
\endif
\if :{?DS}
\else
\set DS 1
\endif
\if :{?OWNER}
\else
\set OWNER bench
\endif
\if :{?FOLDER}
\else
\set FOLDER 1000
\endif
\if :{?SPARE}
\else
\set SPARE 10000
\endif
\if :{?STATUS}
\else
\set STATUS Valid
\endif

BEGIN;

INSERT INTO dandisets (id) VALUES (:DS) ON CONFLICT DO NOTHING;
INSERT INTO dandiset_owners (dandiset_id, user_id)
SELECT :DS, id FROM users WHERE username = :'OWNER' ON CONFLICT DO NOTHING;
INSERT INTO versions (dandiset_id, name, metadata, version, status)
VALUES (:DS, 'Bench: ' || :N || ' assets', jsonb_build_object(
    'schemaKey', 'Dandiset', 'schemaVersion', '0.7.0', 'name', 'Bench: ' || :N || ' assets',
    'description', 'A benchmark dandiset: one blob per asset, folders of ' || :FOLDER || '.',
    'license', jsonb_build_array('spdx:CC-BY-4.0'),
    'contributor', jsonb_build_array(jsonb_build_object('schemaKey', 'Person', 'name', 'Bench, Ben',
        'email', 'b@example.org', 'roleName', jsonb_build_array('dcite:ContactPerson'),
        'includeInCitation', true))), 'draft', 'Pending')
ON CONFLICT DO NOTHING;

SELECT id AS vid FROM versions WHERE dandiset_id = :DS AND version = 'draft' \gset
SELECT coalesce(max(id), 0) AS a0 FROM assets \gset
SELECT coalesce(max(id), 0) AS b0 FROM blobs \gset

-- The blobs: N for the assets and SPARE uploaded for later. The trigger
-- of 010 (blob_integrity) fires as for an upload.
INSERT INTO blobs (id, blob_id, blob, etag, sha256, size, created, modified)
SELECT :b0 + g, u, 'blobs/' || substr(u::text, 1, 3) || '/' || substr(u::text, 4, 3) || '/' || u,
       md5('etag/' || :DS || '/' || g) || '-' || (1 + size / 67108864),
       encode(sha256(convert_to(u::text, 'UTF8')), 'hex'), size,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '10 ms',
       timestamptz '2024-01-01 00:00:00+00' + g * interval '10 ms'
FROM generate_series(1, :N + :SPARE) g,
     LATERAL (SELECT md5(:DS || '/blob/' || g)::uuid AS u,
                     100000 + ('x' || substr(md5('size/' || g), 1, 12))::bit(48)::bigint % 4000000000 AS size) x;
SELECT setval(pg_get_serial_sequence('blobs', 'id'), (SELECT max(id) FROM blobs));

-- The assets, with the metadata the dandi client sends (less what the
-- server owns: path, digest, contentSize, ... are stripped on write).
INSERT INTO assets (id, asset_id, path, blob_id, metadata, status, created, modified)
SELECT :a0 + g, md5(:DS || '/asset/' || g)::uuid, sub || '/' || sub || '_ses-' || ses || '_ecephys.nwb', :b0 + g,
       jsonb_build_object(
           'schemaKey', 'Asset', 'schemaVersion', '0.7.0', 'encodingFormat', 'application/x-nwb',
           'dateModified', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
           'blobDateModified', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
           'wasGeneratedBy', jsonb_build_array(jsonb_build_object('schemaKey', 'Session',
               'identifier', 'ses-' || ses, 'name', 'Acquisition session ' || ses,
               'startDate', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))),
           'wasAttributedTo', jsonb_build_array(jsonb_build_object('schemaKey', 'Participant',
               'identifier', sub, 'species', jsonb_build_object('schemaKey', 'SpeciesType',
                   'identifier', 'http://purl.obolibrary.org/obo/NCBITaxon_10090', 'name', 'Mus musculus - House mouse'),
               'sex', jsonb_build_object('schemaKey', 'SexType',
                   'identifier', 'http://purl.obolibrary.org/obo/PATO_0000384', 'name', 'Male'))),
           'approach', jsonb_build_array(jsonb_build_object('schemaKey', 'ApproachType',
               'name', 'electrophysiological approach')),
           'measurementTechnique', jsonb_build_array(jsonb_build_object('schemaKey', 'MeasurementTechniqueType',
               'name', 'spike sorting technique')),
           'variableMeasured', jsonb_build_array(jsonb_build_object('schemaKey', 'PropertyValue',
               'value', 'ElectricalSeries'))),
       :'STATUS', t, t
FROM generate_series(1, :N) g,
     LATERAL (SELECT 'sub-' || lpad(((g - 1) / :FOLDER + 1)::text, 4, '0') AS sub,
                     lpad(((g - 1) % :FOLDER + 1)::text, 4, '0') AS ses,
                     timestamptz '2024-01-01 00:00:00+00' + g * interval '10 ms' AS t) x;
SELECT setval(pg_get_serial_sequence('assets', 'id'), (SELECT max(id) FROM assets));

-- Membership: only the keys; the triggers fill the rest (asset_created).
INSERT INTO asset_versions (asset_id, version_id)
SELECT id, :vid FROM assets WHERE id > :a0 ORDER BY id;

-- The folder tree from the version's assets: a node per path prefix with
-- the files and bytes below it (what dandi_asset_paths_put adds up one
-- asset at a time), the leaf pointing at its asset.
INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
SELECT :vid, p, max(CASE WHEN p = a.path THEN a.id END), count(*), sum(coalesce(b.size, z.size))
FROM asset_versions av JOIN assets a ON a.id = av.asset_id
LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id
CROSS JOIN LATERAL unnest(dandi_path_folders(a.path) || a.path::text) p
WHERE av.version_id = :vid
GROUP BY p;

UPDATE versions SET status = :'STATUS', modified = now() WHERE id = :vid;
COMMIT;

-- Index-only scans need the visibility map; the planner the statistics.
VACUUM ANALYZE;
