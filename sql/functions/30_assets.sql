-- 30_assets: an asset's metadata as the API serves it, and the upkeep of a
-- version's folder tree (asset_paths) and of the asset list's order column.
-- Assets are immutable rows: a change makes a new asset that replaces the
-- old one in the draft, so published versions keep theirs. The asset
-- object of lists and info ({asset_id, blob, zarr, path, size, created,
-- modified[, metadata]}) is written by the API alone: asset_json() in
-- src/api/assets.c.
-- needs: 001_core

-- Size of the bytes behind an asset: its blob or its zarr.
CREATE OR REPLACE FUNCTION dandi_asset_size(a assets) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE n bigint;
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT size INTO n FROM blobs WHERE id = a.blob_id;
    ELSE
        SELECT size INTO n FROM zarrs WHERE id = a.zarr_id;
    END IF;
    RETURN n;
END $$;

-- The object URL without a query (s3_base ends with '/': the app builds it
-- from its S3 configuration, path-style or virtual-host).
CREATE OR REPLACE FUNCTION dandi_asset_s3_url(a assets, s3_base text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE k text;
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT blob INTO k FROM blobs WHERE id = a.blob_id;
        RETURN s3_base || k;
    END IF;
    SELECT 'zarr/' || zarr_id || '/' INTO k FROM zarrs WHERE id = a.zarr_id;
    RETURN s3_base || k;
END $$;

-- The stored metadata plus every field the server owns, in the original's
-- order: the stored keys first, then id, access, path, identifier,
-- contentUrl, contentSize, digest, @context (and encodingFormat for zarr).
CREATE OR REPLACE FUNCTION dandi_asset_metadata(a assets, api_url text, s3_base text) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    b blobs;
    z zarrs;
    emb boolean;
    until date;
    access jsonb;
    digest jsonb;
    size bigint;
    computed json;
    owned text[] := ARRAY['id', 'access', 'path', 'identifier', 'contentUrl', 'contentSize',
                          'digest', '@context'];
BEGIN
    IF a.blob_id IS NOT NULL THEN
        SELECT * INTO b FROM blobs WHERE id = a.blob_id;
        emb := b.embargoed;
        size := b.size;
        digest := jsonb_build_object('dandi:dandi-etag', b.etag);
        IF b.sha256 IS NOT NULL THEN
            digest := digest || jsonb_build_object('dandi:sha2-256', b.sha256);
        END IF;
        IF emb THEN
            -- A blob may sit in several dandisets: the earliest end date.
            SELECT min(d.embargo_end_date) INTO until
            FROM assets x JOIN asset_versions av ON av.asset_id = x.id
            JOIN versions v ON v.id = av.version_id JOIN dandisets d ON d.id = v.dandiset_id
            WHERE x.blob_id = a.blob_id;
        END IF;
    ELSE
        SELECT * INTO z FROM zarrs WHERE id = a.zarr_id;
        size := z.size;
        digest := jsonb_build_object('dandi:dandi-zarr-checksum', z.checksum);
        -- A published zarr asset names the zarr's snapshot (sql/020): the
        -- size and checksum it was published with, whatever the draft
        -- zarr has become since.
        IF a.published AND jsonb_typeof(a.metadata->'digest') = 'object'
           AND jsonb_typeof(a.metadata->'contentSize') = 'number' THEN
            digest := a.metadata->'digest';
            size := (a.metadata->>'contentSize')::bigint;
        END IF;
        SELECT embargo_status <> 'OPEN', embargo_end_date INTO emb, until
        FROM dandisets WHERE id = z.dandiset_id;
        owned := owned || ARRAY['encodingFormat'];
    END IF;
    access := jsonb_build_object('schemaKey', 'AccessRequirements', 'status',
        CASE WHEN emb THEN 'dandi:EmbargoedAccess' ELSE 'dandi:OpenAccess' END);
    IF emb AND until IS NOT NULL THEN
        access := access || jsonb_build_object('embargoedUntil', to_char(until, 'YYYY-MM-DD'));
    END IF;
    computed := json_build_object(
        'id', 'dandiasset:' || a.asset_id,
        'access', json_build_array(access),
        'path', a.path,
        'identifier', a.asset_id::text,
        'contentUrl', json_build_array(api_url || '/api/assets/' || a.asset_id || '/download/',
                                       dandi_asset_s3_url(a, s3_base)),
        'contentSize', size,
        'digest', digest,
        '@context', 'https://raw.githubusercontent.com/dandi/schema/master/releases/'
                    || (a.metadata->>'schemaVersion') || '/context.json');
    RETURN (SELECT json_object_agg(k, v ORDER BY grp, ord) FROM (
        SELECT 0 AS grp, 0::bigint AS ord, e.key AS k, e.value::json AS v
        FROM jsonb_each(a.metadata) e WHERE NOT (e.key = ANY (owned))
        UNION ALL
        SELECT 1, c.ord, c.key, c.value FROM json_each(computed) WITH ORDINALITY c(key, value, ord)
        UNION ALL
        SELECT 2, 0, 'encodingFormat', to_json('application/x-zarr'::text) WHERE a.zarr_id IS NOT NULL
    ) kv);
END $$;

-- The folder tree (asset_paths, 016_folder_deltas): a node per file and
-- folder, unique per version and path. A file's node holds its own size;
-- a folder's totals are its stored aggregates plus its pending rows in
-- asset_path_deltas, which writers append instead of updating shared
-- folder rows (writers to one draft run side by side under a shared lock
-- of the draft). A folder whose live total is 0 files is gone for
-- readers; the fold removes it.
--
-- Locks: a writer takes FOR KEY SHARE on every folder above its file
-- (shared by all writers), in path order; the fold takes FOR UPDATE on an
-- empty folder before removing it, and so does a writer that puts a file
-- where an empty folder is: neither can remove a folder another writer
-- is adding to.

-- A node's live totals: stored + pending.
CREATE OR REPLACE FUNCTION dandi_path_live(vid bigint, p text, OUT files bigint, OUT size bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT n.aggregate_files + coalesce(d.files, 0), n.aggregate_size + coalesce(d.size, 0)
    FROM asset_paths n
    LEFT JOIN LATERAL (SELECT sum(x.files)::bigint AS files, sum(x.size)::bigint AS size
                       FROM asset_path_deltas x WHERE x.version_id = vid AND x.path = p) d ON true
    WHERE n.version_id = vid AND n.path = p
$$;

-- The folders above a path, shortest first: 'a/b/c' -> {a, a/b}. PL/pgSQL
-- string work, not a query: every asset write calls it (a SQL function's
-- query would be planned on each call from PL/pgSQL).
CREATE OR REPLACE FUNCTION dandi_path_folders(p text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    folders text[] := '{}';
    i int := position('/' in p);
    off int := 0;
BEGIN
    WHILE i > 0 LOOP
        off := off + i;
        folders := folders || left(p, off - 1);
        i := position('/' in substr(p, off + 1));
    END LOOP;
    RETURN folders;
END $$;

-- Adds asset a's node to version vid's tree and its size to the folders
-- above it. Returns NULL when added; else why not, as the API answers:
-- 'exists' (a file at that path) or the paths in the way, as a JSON
-- array: the files above it, or what is below a folder at its path.
CREATE OR REPLACE FUNCTION dandi_asset_paths_put(vid bigint, a assets) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    size bigint := coalesce(dandi_asset_size(a), 0);
    folders text[] := dandi_path_folders(a.path);
    f text;
    node asset_paths;
    blocking text[] := '{}';
    tries int;
BEGIN
    FOREACH f IN ARRAY folders LOOP
        tries := 0;
        LOOP
            -- Nearly always there already: lock it; else make it.
            SELECT * INTO node FROM asset_paths WHERE version_id = vid AND path = f FOR KEY SHARE;
            EXIT WHEN FOUND;
            INSERT INTO asset_paths (version_id, path) VALUES (vid, f) ON CONFLICT DO NOTHING;
            SELECT * INTO node FROM asset_paths WHERE version_id = vid AND path = f FOR KEY SHARE;
            EXIT WHEN FOUND;
            -- Removed as empty by the fold between the two: again.
            tries := tries + 1;
            IF tries > 100 THEN
                RAISE EXCEPTION 'folder % keeps disappearing', f;
            END IF;
        END LOOP;
        IF node.asset_id IS NOT NULL THEN
            blocking := blocking || f;
        END IF;
    END LOOP;
    IF cardinality(blocking) > 0 THEN
        RETURN to_json(blocking)::text;
    END IF;

    tries := 0;
    LOOP
        INSERT INTO asset_paths (version_id, path, asset_id, aggregate_files, aggregate_size)
        VALUES (vid, a.path, a.id, 1, size) ON CONFLICT DO NOTHING;
        EXIT WHEN FOUND;
        SELECT * INTO node FROM asset_paths WHERE version_id = vid AND path = a.path FOR UPDATE;
        IF FOUND THEN
            IF node.asset_id IS NOT NULL THEN
                RETURN 'exists';
            END IF;
            -- A folder: in the way unless everything below it is gone (a
            -- fresh statement: it sees what the writers we waited for did).
            IF (SELECT l.files FROM dandi_path_live(vid, a.path) l) > 0 THEN
                RETURN (SELECT to_json(array_agg(n.path ORDER BY n.path))::text
                        FROM asset_paths n CROSS JOIN LATERAL dandi_path_live(vid, n.path) l
                        WHERE n.version_id = vid AND n.path > a.path || '/' AND n.path < a.path || '0'
                          AND (n.asset_id IS NOT NULL OR l.files > 0));
            END IF;
            DELETE FROM asset_path_deltas WHERE version_id = vid
              AND (path = a.path OR (path > a.path || '/' AND path < a.path || '0'));
            DELETE FROM asset_paths WHERE version_id = vid
              AND (path = a.path OR (path > a.path || '/' AND path < a.path || '0'));
        END IF;
        -- Gone meanwhile (removed by its writer or the fold): again.
        tries := tries + 1;
        IF tries > 100 THEN
            RAISE EXCEPTION 'path % keeps changing', a.path;
        END IF;
    END LOOP;

    INSERT INTO asset_path_deltas (version_id, path, files, size)
    SELECT vid, x, 1, size FROM unnest(folders) x
    UNION ALL SELECT vid, '', 0, 0 WHERE cardinality(folders) = 0;
    RETURN NULL;
END $$;

-- ... and takes it away again: its node goes, its size leaves the folders
-- above it (a folder left empty is removed by the fold).
CREATE OR REPLACE FUNCTION dandi_asset_paths_remove(vid bigint, a assets) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    folders text[] := dandi_path_folders(a.path);
    size bigint;
BEGIN
    PERFORM 1 FROM asset_paths WHERE version_id = vid AND path = ANY (folders)
    ORDER BY path FOR KEY SHARE;
    DELETE FROM asset_paths WHERE version_id = vid AND path = a.path AND asset_id = a.id
    RETURNING aggregate_size INTO size;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO asset_path_deltas (version_id, path, files, size)
    SELECT vid, x, -1, -size FROM unnest(folders) x
    UNION ALL SELECT vid, '', 0, 0 WHERE cardinality(folders) = 0;
END $$;

-- Moves a version's pending deltas into its folders and removes the
-- folders left empty. Safe beside writers and on several hosts at once;
-- returns the number of deltas moved.
CREATE OR REPLACE FUNCTION dandi_asset_paths_fold(vid bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    r record;
BEGIN
    WITH d AS (DELETE FROM asset_path_deltas WHERE version_id = vid RETURNING path, files, size),
         s AS (SELECT path, sum(files) AS files, sum(size) AS size, count(*) AS n FROM d GROUP BY path),
         u AS (UPDATE asset_paths p SET aggregate_files = p.aggregate_files + s.files,
                                        aggregate_size = p.aggregate_size + s.size
               FROM s WHERE p.version_id = vid AND p.path = s.path)
    SELECT coalesce(sum(s.n), 0) INTO n FROM s;
    IF n > 0 THEN
        UPDATE versions SET paths_folded = paths_folded + 1 WHERE id = vid;
    END IF;
    -- Empty folders, each locked (skipping those a writer is adding to
    -- right now) and checked again in a statement of its own.
    FOR r IN SELECT id, path FROM asset_paths
             WHERE version_id = vid AND aggregate_files = 0 AND asset_id IS NULL
             FOR UPDATE SKIP LOCKED LOOP
        DELETE FROM asset_paths p WHERE p.id = r.id AND p.aggregate_files = 0
          AND NOT EXISTS (SELECT 1 FROM asset_path_deltas x WHERE x.version_id = vid AND x.path = r.path);
    END LOOP;
    RETURN n;
END $$;

-- Every version with pending deltas, folded: the paths_fold work of
-- dandi-jobs. Returns the number of deltas moved.
CREATE OR REPLACE FUNCTION dandi_asset_paths_fold_all() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint := 0;
    v bigint;
BEGIN
    FOR v IN SELECT DISTINCT version_id FROM asset_path_deltas LOOP
        n := n + dandi_asset_paths_fold(v);
    END LOOP;
    RETURN n;
END $$;

-- An asset write of the API (POST, PUT of .../assets/), in one call under
-- the draft's shared lock: the asset old_uuid (NULL for a POST) is
-- replaced by a new asset (new_uuid, path, blob or zarr, stripped
-- metadata md). zarr_ok false: the zarr belongs to another dandiset, an
-- error where the original finds it: for a PUT after the old asset's
-- look-up, for a POST after the path's checks. Returns
-- (result, asset): 'added' with the new asset's row; 'unchanged' with the
-- old one (nothing to do); 'missing' (no old_uuid in the draft); 'exists'
-- (another file at the path); 'zarr'; or the JSON array of the paths in
-- the way. The caller rolls back on anything but added/unchanged.
CREATE OR REPLACE FUNCTION dandi_asset_write(vid bigint, old_uuid uuid, new_uuid uuid, new_path text,
    blob bigint, zarr bigint, md jsonb, zarr_ok boolean, OUT result text, OUT asset bigint)
LANGUAGE plpgsql AS $$
DECLARE
    old assets;
    na assets;
BEGIN
    IF old_uuid IS NOT NULL THEN
        SELECT a.* INTO old FROM asset_versions av JOIN assets a ON a.id = av.asset_id
        WHERE av.version_id = vid AND a.asset_id = old_uuid;
        IF NOT FOUND THEN
            result := 'missing';
            RETURN;
        END IF;
        IF NOT zarr_ok THEN
            result := 'zarr';
            RETURN;
        END IF;
        IF old.path = new_path AND old.blob_id IS NOT DISTINCT FROM blob
           AND old.zarr_id IS NOT DISTINCT FROM zarr AND old.metadata = md THEN
            result := 'unchanged';
            asset := old.id;
            RETURN;
        END IF;
        -- A writer replacing the same asset right now got there first.
        DELETE FROM asset_versions WHERE version_id = vid AND asset_id = old.id;
        IF NOT FOUND THEN
            result := 'missing';
            RETURN;
        END IF;
        PERFORM dandi_asset_paths_remove(vid, old);
    END IF;
    INSERT INTO assets (asset_id, path, blob_id, zarr_id, metadata)
    VALUES (new_uuid, new_path, blob, zarr, md) RETURNING * INTO na;
    INSERT INTO asset_versions (asset_id, version_id, asset_created) VALUES (na.id, vid, na.created);
    result := dandi_asset_paths_put(vid, na);
    IF result IS NOT NULL THEN
        RETURN;
    END IF;
    IF NOT zarr_ok THEN
        result := 'zarr';
        RETURN;
    END IF;
    -- The draft changed: Pending again. Its modified time follows to the
    -- second, so that writers do not queue on the version's row.
    UPDATE versions SET status = 'Pending', modified = now()
    WHERE id = vid AND (status <> 'Pending' OR modified < now() - interval '1 second');
    result := 'added';
    asset := na.id;
END $$;

-- DELETE of .../assets/{id}/: the asset leaves the draft (its row stays
-- for the published versions that have it). False when it is not there.
CREATE OR REPLACE FUNCTION dandi_asset_detach(vid bigint, aid bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    a assets;
BEGIN
    DELETE FROM asset_versions WHERE version_id = vid AND asset_id = aid;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO a FROM assets WHERE id = aid;
    PERFORM dandi_asset_paths_remove(vid, a);
    UPDATE versions SET status = 'Pending', modified = now()
    WHERE id = vid AND (status <> 'Pending' OR modified < now() - interval '1 second');
    RETURN true;
END $$;

-- Trigger of asset_versions (006_asset_order): a new row gets its asset's
-- creation time, the column the asset list is ordered by.
CREATE OR REPLACE FUNCTION dandi_asset_versions_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.asset_created IS NULL THEN
        SELECT created INTO NEW.asset_created FROM assets WHERE id = NEW.asset_id;
    END IF;
    RETURN NEW;
END $$;

-- One asset write of a group commit (dandi_asset_write_batch): item is
-- {op: post|put|delete, v: version, d: dandiset, u: user, su: superuser,
-- un/ue/uf: the audit's user name, email and full name, old: the asset
-- replaced or removed, new, path, blob, zarr, md: as dandi_asset_write,
-- zok: the zarr is the dandiset's, unemb: the blob becomes public}.
-- The checks the API made before the item was queued (outside this
-- transaction) are made again under the draft's lock: the version is
-- there (else 'notfound'), the user owns it ('forbidden'), no unembargo
-- runs ('unembargoing'). Returns the new (or unchanged) asset's row, NULL
-- for a removal, and result: 'added', 'unchanged' or 'deleted'; a refusal raises SQLSTATE DAB01 with dandi_asset_write's
-- result (or one of the above) as its message, so that the caller's
-- subtransaction undoes whatever the item did.
CREATE OR REPLACE FUNCTION dandi_asset_batch_item(item jsonb, OUT result text, OUT asset bigint)
LANGUAGE plpgsql AS $$
DECLARE
    vid bigint := (item->>'v')::bigint;
    did bigint := (item->>'d')::bigint;
    uid bigint := (item->>'u')::bigint;
    su boolean := (item->>'su')::boolean;
    op text := item->>'op';
    st text;
    owner boolean;
    w record;
    rm record;
    details jsonb;
    n bigint;
BEGIN
    SELECT d.embargo_status, su OR EXISTS (SELECT FROM dandi_owned(uid, su) o WHERE o.id = d.id)
    INTO st, owner
    FROM versions v JOIN dandisets d ON d.id = v.dandiset_id
    WHERE v.id = vid AND d.id = did AND v.version = 'draft';
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'DAB01', MESSAGE = 'notfound';
    ELSIF NOT owner THEN
        RAISE EXCEPTION USING ERRCODE = 'DAB01', MESSAGE = 'forbidden';
    ELSIF st = 'UNEMBARGOING' THEN
        RAISE EXCEPTION USING ERRCODE = 'DAB01', MESSAGE = 'unembargoing';
    END IF;

    IF op = 'delete' THEN
        SELECT a.path, dandi_asset_detach(vid, a.id) AS done INTO rm
        FROM asset_versions av JOIN assets a ON a.id = av.asset_id
        WHERE av.version_id = vid AND a.asset_id = (item->>'old')::uuid;
        IF NOT FOUND OR NOT rm.done THEN
            RAISE EXCEPTION USING ERRCODE = 'DAB01', MESSAGE = 'missing';
        END IF;
        INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)
        VALUES (did, item->>'un', item->>'ue', item->>'uf', 'remove_asset',
                jsonb_build_object('path', rm.path, 'asset_id', item->>'old'));
        result := 'deleted';
        RETURN;
    END IF;

    SELECT * INTO w FROM dandi_asset_write(vid, (item->>'old')::uuid, (item->>'new')::uuid, item->>'path',
        (item->>'blob')::bigint, (item->>'zarr')::bigint, item->'md', (item->>'zok')::boolean);
    result := w.result;
    asset := w.asset;
    IF w.result = 'unchanged' THEN
        RETURN;
    ELSIF w.result <> 'added' THEN
        RAISE EXCEPTION USING ERRCODE = 'DAB01', MESSAGE = w.result;
    END IF;
    IF (item->>'unemb')::boolean THEN
        -- As the API's asset_blob_unembargo: public once in an open dandiset.
        WITH b AS (UPDATE blobs SET embargoed = false, modified = now()
                   WHERE id = (item->>'blob')::bigint AND embargoed
                     AND (SELECT embargo_status FROM dandisets WHERE id = did) = 'OPEN'
                   RETURNING blob_id)
        SELECT count(dandi_enqueue('blob_untag', blob_id::text, '{}')) INTO n FROM b;
    END IF;
    -- The audit details of the API's asset_after_write.
    SELECT jsonb_build_object('path', a.path, 'size', coalesce(b.size, z.size),
               'asset_blob_id', b.blob_id::text, 'zarr_archive_id', z.zarr_id::text,
               'asset_id', a.asset_id::text, 'checksum', coalesce(b.etag, z.checksum),
               'metadata', a.metadata)
    INTO details
    FROM assets a LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id
    WHERE a.id = w.asset;
    INSERT INTO audit_records (dandiset_id, username, user_email, user_fullname, record_type, details)
    VALUES (did, item->>'un', item->>'ue', item->>'uf',
            CASE WHEN op = 'put' THEN 'update_asset' ELSE 'add_asset' END, details);
END $$;

-- Group commit (src/lib/groupcommit.c): the asset writes of several
-- requests in the caller's one transaction. Each item (array element i,
-- from 0) runs in a subtransaction of its own, so that one item's refusal
-- or error undoes that item alone; the drafts are locked first, shared
-- (as a single write's FOR KEY SHARE), in id order; the items run in
-- (version, path) order, which keeps two batches from taking the same
-- paths in opposite orders. Returns a row per item, in item order: result
-- ('added', 'unchanged', 'deleted', a refusal of dandi_asset_batch_item,
-- 'retry' (see below), or 'error:' and the message), and for added and unchanged the asset's
-- served metadata and its ASSET_JSON_COLUMNS (src/api/api.h), read after
-- all the items (their own statement sees what the items wrote).
CREATE OR REPLACE FUNCTION dandi_asset_write_batch(items jsonb, api_url text, s3_base text)
RETURNS TABLE (i int, result text, asset bigint, metadata json, asset_uuid uuid, blob_uuid uuid,
    zarr_uuid uuid, path text, size bigint, created timestamp, modified timestamp)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
-- (the result's column names are variables too: in a query, columns win)
DECLARE
    k int;
    it jsonb;
    res text[] := '{}';
    ids bigint[] := '{}';
    idx int[] := '{}';
    r text;
    aid bigint;
BEGIN
    PERFORM 1 FROM versions
    WHERE id IN (SELECT DISTINCT (x->>'v')::bigint FROM jsonb_array_elements(items) x)
    ORDER BY id FOR KEY SHARE;
    -- Two batches can wait for each other (an item of each holding what
    -- one of the other's needs: paths, a replaced asset's row). Waiting
    -- is for another transaction's commit, a few ms; an item that waits
    -- longer gives up ('retry': its subtransaction undone, its worker
    -- writes it alone once this batch has committed) instead of sitting
    -- out the deadlock detector's second. A single write waits as before.
    IF jsonb_array_length(items) > 1 THEN
        PERFORM set_config('lock_timeout', '50ms', true);
    END IF;
    FOR k, it IN SELECT (e.n - 1)::int, e.x FROM jsonb_array_elements(items) WITH ORDINALITY e(x, n)
                 ORDER BY (e.x->>'v')::bigint, e.x->>'path', e.n LOOP
        BEGIN
            SELECT b.result, b.asset INTO r, aid FROM dandi_asset_batch_item(it) b;
        EXCEPTION
            WHEN SQLSTATE 'DAB01' THEN
                r := SQLERRM;
                aid := NULL;
            WHEN lock_not_available OR deadlock_detected THEN
                r := 'retry';
                aid := NULL;
            WHEN OTHERS THEN
                r := 'error:' || SQLERRM;
                aid := NULL;
        END;
        idx := idx || k;
        res := res || r;
        ids := ids || aid;
    END LOOP;
    RETURN QUERY
    SELECT x.i, x.result, x.asset,
           CASE WHEN a.id IS NOT NULL THEN dandi_asset_metadata(a, api_url, s3_base) END,
           a.asset_id, b.blob_id, z.zarr_id, a.path::text, coalesce(b.size, z.size)::bigint,
           a.created AT TIME ZONE 'UTC', a.modified AT TIME ZONE 'UTC'
    FROM unnest(idx, res, ids) x(i, result, asset)
    LEFT JOIN assets a ON a.id = x.asset
    LEFT JOIN blobs b ON b.id = a.blob_id LEFT JOIN zarrs z ON z.id = a.zarr_id
    ORDER BY x.i;
END $$;
