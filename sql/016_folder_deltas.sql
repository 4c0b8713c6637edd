-- 016_folder_deltas: writers to one draft no longer take turns.
--
-- Until now every asset write locked the draft's row and updated the
-- totals of each folder above the file in place, so writers to one draft
-- were serialised on those rows. Now an asset write takes a shared lock
-- on the draft (publish still takes it exclusively), keeps the tree's
-- nodes exact (a unique (version, path) node per file and folder: two
-- writers cannot put a file and a folder, or two files, at one path)
-- and appends the change of each folder's totals to asset_path_deltas.
-- Readers add a node's pending deltas to its stored totals, so the
-- totals are exact at any moment. The fold (dandi_asset_paths_fold: by
-- dandi-jobs run and fold-paths, by the API every so many writes, and by
-- publish) moves deltas into the nodes and removes emptied folders.
CREATE TABLE asset_path_deltas (
    id         bigserial,
    version_id bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    path       varchar(512) COLLATE "C" NOT NULL,  -- a folder; '' only marks a change
    files      bigint NOT NULL,
    size       bigint NOT NULL
);
CREATE INDEX asset_path_deltas_path ON asset_path_deltas (version_id, path);

-- Folded deltas: a version's count grows with every fold that moved a
-- change into its tree. With no pending deltas it names the state of the
-- version's asset list (the page cache's key, src/api/pagecache.c).
ALTER TABLE versions ADD COLUMN paths_folded bigint NOT NULL DEFAULT 0;

-- Folders left empty wait here for the fold to remove them.
CREATE INDEX asset_paths_empty ON asset_paths (version_id) WHERE aggregate_files = 0;

-- The same columns as asset_versions_pkey: one index too many on every
-- asset write.
DROP INDEX IF EXISTS asset_versions_version;


-- dandi_asset_paths_put (sql/functions/30_assets.sql) replaces it: it
-- answers why a file could not be added.
DROP FUNCTION IF EXISTS dandi_asset_paths_add(bigint, assets);
-- and dandi_path_folders the prefixes it listed with a query.
DROP FUNCTION IF EXISTS dandi_path_prefixes(text);
