-- 35_diff: what changed between two versions of a dandiset, asset side
-- (GET .../versions/{a}/diff/{b}/, src/api/diff.c): the moves (renames)
-- and one side of a changed asset as the answer shows it.
-- needs: 001_core

-- A file of version vfrom whose path version vto has no file at: did its
-- content (the same blob, or the same zarr) move to a path of vto that
-- vfrom has no file at? Copies of one content pair up in path order: the
-- k-th gone path of a content (by path) with its k-th new path, so that
-- each side of a move names the other, whichever version is asked about
-- first. Returns the path in vto, or NULL (removed, or added when asked
-- from the other side). An index probe per copy of the content
-- (assets_blob, assets_zarr) and per path (asset_paths' unique key).
CREATE OR REPLACE FUNCTION dandi_diff_moved(vfrom bigint, vto bigint, a assets) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH same AS (
        SELECT x.path, av.version_id AS vid
        FROM (SELECT * FROM assets x WHERE x.blob_id = a.blob_id
              UNION ALL SELECT * FROM assets x WHERE x.zarr_id = a.zarr_id) x
        JOIN asset_versions av ON av.asset_id = x.id AND av.version_id IN (vfrom, vto)
    ), gone AS (
        SELECT s.path FROM same s WHERE s.vid = vfrom AND NOT EXISTS (
            SELECT 1 FROM asset_paths p WHERE p.version_id = vto AND p.path = s.path AND p.asset_id IS NOT NULL)
    ), arrived AS (
        SELECT s.path FROM same s WHERE s.vid = vto AND NOT EXISTS (
            SELECT 1 FROM asset_paths p WHERE p.version_id = vfrom AND p.path = s.path AND p.asset_id IS NOT NULL)
    )
    SELECT path FROM arrived ORDER BY path
    OFFSET (SELECT count(*) FROM gone WHERE gone.path < a.path) LIMIT 1
$$;

-- A zarr as version vid has it: the snapshot taken when vid was published
-- (sql/020_zarr_snapshots.sql), or the live zarr (the draft, or a version
-- published before snapshots): (size, checksum).
CREATE OR REPLACE FUNCTION dandi_diff_zarr(vid bigint, zid bigint, OUT size bigint, OUT checksum text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(s.size, z.size), coalesce(s.checksum, z.checksum)::text
    FROM zarrs z
    LEFT JOIN version_zarr_snapshots vzs ON vzs.version_id = vid AND vzs.zarr_id = z.id
    LEFT JOIN zarr_snapshots s ON s.id = vzs.snapshot_id
    WHERE z.id = zid
$$;

-- (Before snapshots it took no version.)
DROP FUNCTION IF EXISTS dandi_diff_asset(assets);
-- One side of a changed file in version vid: {asset_id, path, size, blob,
-- zarr, digest} (digest as in the asset's metadata: dandi-etag and, once
-- computed, sha2-256; a zarr's checksum as of vid), NULL for no asset.
CREATE OR REPLACE FUNCTION dandi_diff_asset(a assets, vid bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a.id IS NULL THEN NULL ELSE (
        SELECT json_build_object('asset_id', a.asset_id, 'path', a.path,
            'size', coalesce(b.size, zv.size), 'blob', b.blob_id, 'zarr', z.zarr_id,
            'digest', CASE WHEN b.id IS NOT NULL THEN
                    jsonb_strip_nulls(jsonb_build_object('dandi:dandi-etag', b.etag, 'dandi:sha2-256', b.sha256))
                ELSE jsonb_build_object('dandi:dandi-zarr-checksum', zv.checksum) END)
        FROM (SELECT 1) one
        LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id
        LEFT JOIN LATERAL dandi_diff_zarr(vid, a.zarr_id) zv ON a.zarr_id IS NOT NULL) END
$$;

-- An asset's metadata without what the server writes into it (the
-- computed fields and the publish stamp): what its uploader said.
CREATE OR REPLACE FUNCTION dandi_diff_user_metadata(md jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT md - ARRAY['id', 'access', 'path', 'identifier', 'contentUrl', 'contentSize', 'digest',
                      '@context', 'datePublished', 'publishedBy']
$$;

-- The asset differences from version va to vb with a path after "after"
-- ('' for the start), within a window: the first n files of each version
-- after that path, both read in path order by asset_paths' unique index
-- (a range, never the whole version). Paths up to hi (the smaller last
-- path of a full side; NULL when both sides reached their end) are
-- complete on both sides: the caller takes the changes up to hi and asks
-- again after hi; at most lim changes (the rest of a page), the caller
-- then going on after the last one. One row per change in path order, each an entry
-- {type, path, old, new, changed} (type added, removed, modified or
-- renamed; a move is one "renamed" entry at its new path and its old path
-- is left out; changed, of a modified file: "content", "metadata"), every
-- row with hi; one row with NULLs but hi when the window has no change.
-- A file's asset row is shared by the versions that have it unchanged, so
-- equal rows are the same file. No JIT: the window is small, compiling
-- it would cost more than running it.
CREATE OR REPLACE FUNCTION dandi_diff_window(va bigint, vb bigint, after text, n bigint, lim bigint)
RETURNS TABLE (hi text, path text, entry json)
LANGUAGE sql STABLE SET jit = off AS $$
    WITH x AS MATERIALIZED (
        SELECT p.path, p.asset_id FROM asset_paths p
        WHERE p.version_id = va AND p.path > after AND p.asset_id IS NOT NULL ORDER BY p.path LIMIT n
    ), y AS MATERIALIZED (
        SELECT p.path, p.asset_id FROM asset_paths p
        WHERE p.version_id = vb AND p.path > after AND p.asset_id IS NOT NULL ORDER BY p.path LIMIT n
    ), w AS (
        SELECT CASE WHEN (SELECT count(*) FROM x) < n AND (SELECT count(*) FROM y) < n THEN NULL
                    WHEN (SELECT count(*) FROM x) < n THEN (SELECT max(y.path) FROM y)
                    WHEN (SELECT count(*) FROM y) < n THEN (SELECT max(x.path) FROM x)
                    ELSE least((SELECT max(x.path) FROM x), (SELECT max(y.path) FROM y)) END AS hi
    )
    SELECT w.hi::text, c.path::text, c.entry FROM w LEFT JOIN LATERAL (
        SELECT d.path, json_build_object(
            'type', CASE WHEN d.old_id IS NULL THEN CASE WHEN mv.moved_from IS NULL THEN 'added' ELSE 'renamed' END
                         WHEN d.new_id IS NULL THEN 'removed' ELSE 'modified' END,
            'path', d.path,
            'old', CASE WHEN d.old_id IS NOT NULL THEN dandi_diff_asset(o, va) ELSE dandi_diff_asset(m, va) END,
            'new', dandi_diff_asset(nw, vb),
            'changed', CASE WHEN d.old_id IS NOT NULL AND d.new_id IS NOT NULL THEN to_json(array_remove(ARRAY[
                    CASE WHEN o.blob_id IS DISTINCT FROM nw.blob_id OR o.zarr_id IS DISTINCT FROM nw.zarr_id
                              OR (o.zarr_id IS NOT NULL AND (dandi_diff_zarr(va, o.zarr_id)).checksum
                                  IS DISTINCT FROM (dandi_diff_zarr(vb, nw.zarr_id)).checksum)
                         THEN 'content' END,
                    CASE WHEN dandi_diff_user_metadata(o.metadata) <> dandi_diff_user_metadata(nw.metadata)
                         THEN 'metadata' END], NULL)) END) AS entry
        -- Sorted before the per-change work, so that it stops at lim.
        FROM (SELECT coalesce(x.path, y.path) AS path, x.asset_id AS old_id, y.asset_id AS new_id
              FROM x FULL JOIN y ON x.path = y.path
              WHERE x.asset_id IS DISTINCT FROM y.asset_id
                AND (w.hi IS NULL OR coalesce(x.path, y.path) <= w.hi)
              ORDER BY 1) d
        LEFT JOIN assets o ON o.id = d.old_id
        LEFT JOIN assets nw ON nw.id = d.new_id
        CROSS JOIN LATERAL (SELECT
            CASE WHEN d.new_id IS NULL THEN dandi_diff_moved(va, vb, o) END AS moved_to,
            CASE WHEN d.old_id IS NULL THEN dandi_diff_moved(vb, va, nw) END AS moved_from) mv
        LEFT JOIN assets m ON m.id = (SELECT p.asset_id FROM asset_paths p
                                      WHERE p.version_id = va AND p.path = mv.moved_from)
        WHERE mv.moved_to IS NULL
        ORDER BY d.path LIMIT lim
    ) c ON true
    ORDER BY c.path
$$;

-- How many files were added, removed, modified and renamed from va to vb:
-- one pass over both versions' files (the first page of a diff shows it).
-- A move is one removed and one added path that pair up: counted once,
-- as renamed.
CREATE OR REPLACE FUNCTION dandi_diff_summary(va bigint, vb bigint,
    OUT added bigint, OUT removed bigint, OUT modified bigint, OUT renamed bigint)
LANGUAGE sql STABLE SET jit = off AS $$
    SELECT count(*) FILTER (WHERE k.kind = 'added'),
           count(*) FILTER (WHERE k.kind = 'removed') - count(*) FILTER (WHERE k.kind = 'renamed'),
           count(*) FILTER (WHERE k.kind = 'modified'),
           count(*) FILTER (WHERE k.kind = 'renamed')
    FROM (SELECT CASE WHEN x.asset_id IS NULL THEN
                     CASE WHEN dandi_diff_moved(vb, va, n) IS NULL THEN 'added' ELSE 'renamed' END
                 WHEN y.asset_id IS NULL THEN 'removed' ELSE 'modified' END AS kind
          FROM (SELECT p.path, p.asset_id FROM asset_paths p WHERE p.version_id = va AND p.asset_id IS NOT NULL) x
          FULL JOIN (SELECT p.path, p.asset_id FROM asset_paths p WHERE p.version_id = vb AND p.asset_id IS NOT NULL) y
            ON x.path = y.path
          LEFT JOIN assets n ON n.id = y.asset_id AND x.asset_id IS NULL
          WHERE x.asset_id IS DISTINCT FROM y.asset_id) k
$$;

-- The counts of dandi_diff_summary, kept in version_diff_counts
-- (sql/021_diff_counts.sql) under the state of both versions' asset lists
-- (versions.paths_folded while no folder deltas are pending; none while
-- they are: every asset write leaves one, and its fold counts on), so a
-- repeated first page is an index probe and a write to the draft makes
-- the next one count again. kept: the counts came from the table.
CREATE OR REPLACE FUNCTION dandi_diff_counts(va bigint, vb bigint,
    OUT added bigint, OUT removed bigint, OUT modified bigint, OUT renamed bigint, OUT kept boolean)
LANGUAGE plpgsql AS $$
DECLARE
    sa bigint;
    sb bigint;
    lt text;
BEGIN
    -- The states before the count (each statement here sees what was
    -- committed when it started): the counts are never older than the
    -- states they are kept under.
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM asset_path_deltas x WHERE x.version_id = v.id)
                THEN v.paths_folded END INTO sa FROM versions v WHERE v.id = va;
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM asset_path_deltas x WHERE x.version_id = v.id)
                THEN v.paths_folded END INTO sb FROM versions v WHERE v.id = vb;
    IF sa IS NOT NULL AND sb IS NOT NULL THEN
        SELECT c.added, c.removed, c.modified, c.renamed INTO added, removed, modified, renamed
        FROM version_diff_counts c
        WHERE c.from_id = va AND c.to_id = vb AND c.from_state = sa AND c.to_state = sb;
        IF FOUND THEN
            kept := true;
            RETURN;
        END IF;
    END IF;
    SELECT s.added, s.removed, s.modified, s.renamed INTO added, removed, modified, renamed
    FROM dandi_diff_summary(va, vb) s;
    kept := false;
    IF sa IS NULL OR sb IS NULL THEN
        RETURN;
    END IF;
    -- Kept if that is quick: the key check waits on a version row locked
    -- for a write (publish, a metadata save); a reader does not wait long
    -- for it, it only keeps nothing.
    lt := current_setting('lock_timeout');
    BEGIN
        PERFORM set_config('lock_timeout', '200ms', true);
        INSERT INTO version_diff_counts AS c
            (from_id, to_id, from_state, to_state, added, removed, modified, renamed)
        VALUES (va, vb, sa, sb, added, removed, modified, renamed)
        ON CONFLICT (from_id, to_id) DO UPDATE
        SET from_state = excluded.from_state, to_state = excluded.to_state, added = excluded.added,
            removed = excluded.removed, modified = excluded.modified, renamed = excluded.renamed;
    EXCEPTION WHEN lock_not_available OR deadlock_detected OR foreign_key_violation
                   OR serialization_failure OR read_only_sql_transaction THEN
        NULL;
    END;
    PERFORM set_config('lock_timeout', lt, true);
END $$;
