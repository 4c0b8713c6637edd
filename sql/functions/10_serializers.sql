-- 10_serializers: the JSON shapes of dandisets and versions, built here
-- once so every statement that returns one shares the key order, and the
-- timestamp formats of the API.
-- needs: 001_core
--
-- PL/pgSQL where a LANGUAGE sql function would not be inlined: such a
-- function has its statements planned again on every call, PL/pgSQL keeps
-- the plans for the life of the connection (each app worker keeps its
-- connection). pgbench on the dandiset detail statement, 2 clients:
-- 0.83 ms -> 0.15 ms per call.

-- DRF datetime format: UTC, microseconds, 'Z'.
CREATE OR REPLACE FUNCTION dandi_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Python's datetime.isoformat() in UTC: microseconds only when non-zero.
CREATE OR REPLACE FUNCTION dandi_pyiso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0
        THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'
        ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' END
$$;

-- Name of the first contributor with role dcite:ContactPerson, '' if none.
CREATE OR REPLACE FUNCTION dandi_contact_person(md jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE c jsonb;
BEGIN
    IF jsonb_typeof(md->'contributor') <> 'array' THEN
        RETURN '';
    END IF;
    FOR c IN SELECT e FROM jsonb_array_elements(md->'contributor') e LOOP
        IF jsonb_typeof(c) = 'object' AND jsonb_typeof(c->'roleName') = 'array'
           AND c->'roleName' ? 'dcite:ContactPerson' AND jsonb_typeof(c->'name') = 'string' THEN
            RETURN c->>'name';
        END IF;
    END LOOP;
    RETURN '';
END $$;

-- (asset_count, size) of a version: sums over the root nodes of its tree
-- and the pending changes of its top folders (016_folder_deltas).
CREATE OR REPLACE FUNCTION dandi_version_totals(vid bigint, OUT files bigint, OUT bytes bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    SELECT coalesce(sum(f), 0)::bigint, coalesce(sum(s), 0)::bigint INTO files, bytes
    FROM (SELECT aggregate_files AS f, aggregate_size AS s
          FROM asset_paths WHERE version_id = vid AND position('/' in path) = 0
          UNION ALL
          SELECT d.files, d.size FROM asset_path_deltas d
          WHERE d.version_id = vid AND position('/' in d.path) = 0) t;
END $$;

-- The draft row of a dandiset.
CREATE OR REPLACE FUNCTION dandi_draft(did bigint) RETURNS versions
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE v versions;
BEGIN
    SELECT * INTO v FROM versions WHERE dandiset_id = did AND version = 'draft';
    RETURN v;
END $$;

-- The most recent published row of a dandiset (NULLs when none).
CREATE OR REPLACE FUNCTION dandi_latest_published(did bigint) RETURNS versions
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE v versions;
BEGIN
    SELECT * INTO v FROM versions WHERE dandiset_id = did AND version <> 'draft'
    ORDER BY created DESC, id DESC LIMIT 1;
    RETURN v;
END $$;

-- Version as nested in a dandiset: 'compact' in lists, 'child' in details.
CREATE OR REPLACE FUNCTION dandi_version_child_json(v versions, full_shape boolean) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE t record;
BEGIN
    t := dandi_version_totals(v.id);
    IF NOT full_shape THEN
        RETURN json_build_object(
            'version', v.version, 'name', v.name,
            'asset_count', t.files, 'size', t.bytes, 'status', v.status,
            'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified));
    END IF;
    RETURN json_build_object(
        'version', v.version, 'name', v.name,
        'asset_count', t.files,
        'active_uploads', CASE WHEN v.version = 'draft'
            THEN (SELECT count(*) FROM uploads u WHERE u.dandiset_id = v.dandiset_id) ELSE 0 END,
        'size', t.bytes, 'status', v.status,
        'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified),
        'release_notes', coalesce(v.metadata->>'releaseNotes', ''));
END $$;

-- Dandiset object: base fields (+ versions unless base_only). uid is the
-- requesting user (NULL when anonymous) for is_starred.
CREATE OR REPLACE FUNCTION dandi_dandiset_json(d dandisets, uid bigint, shape text) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    p versions := dandi_latest_published(d.id);
    dr versions;
    stars bigint;
    starred boolean;
    base json;
BEGIN
    IF p.id IS NULL OR shape <> 'base' THEN
        dr := dandi_draft(d.id);
    END IF;
    SELECT count(*), coalesce(bool_or(s.user_id = uid), false) INTO stars, starred
    FROM dandiset_stars s WHERE s.dandiset_id = d.id;
    IF shape = 'base' THEN
        RETURN json_build_object(
            'identifier', lpad(d.id::text, 6, '0'),
            'created', dandi_ts(d.created), 'modified', dandi_ts(d.modified),
            'contact_person', dandi_contact_person(coalesce(p.metadata, dr.metadata)),
            'embargo_status', d.embargo_status,
            'star_count', stars,
            'is_starred', starred);
    END IF;
    RETURN json_build_object(
        'identifier', lpad(d.id::text, 6, '0'),
        'created', dandi_ts(d.created), 'modified', dandi_ts(d.modified),
        'contact_person', dandi_contact_person(coalesce(p.metadata, dr.metadata)),
        'embargo_status', d.embargo_status,
        'star_count', stars,
        'is_starred', starred,
        'most_recent_published_version',
            CASE WHEN p.id IS NULL THEN NULL ELSE dandi_version_child_json(p, shape = 'detail') END,
        'draft_version',
            CASE WHEN dr.id IS NULL THEN NULL ELSE dandi_version_child_json(dr, shape = 'detail') END);
END $$;

-- Version object (versions list and info): nested base dandiset.
CREATE OR REPLACE FUNCTION dandi_version_json(v versions, uid bigint) RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    t record := dandi_version_totals(v.id);
    d dandisets;
BEGIN
    SELECT * INTO d FROM dandisets WHERE id = v.dandiset_id;
    RETURN json_build_object(
        'version', v.version, 'name', v.name,
        'asset_count', t.files,
        'active_uploads', CASE WHEN v.version = 'draft'
            THEN (SELECT count(*) FROM uploads u WHERE u.dandiset_id = v.dandiset_id) ELSE 0 END,
        'size', t.bytes, 'status', v.status,
        'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified),
        'dandiset', dandi_dandiset_json(d, uid, 'base'),
        'release_notes', coalesce(v.metadata->>'releaseNotes', ''));
END $$;

-- Version info (VersionDetailSerializer): version fields, validation
-- errors of the version and of its assets, metadata, contact person.
CREATE OR REPLACE FUNCTION dandi_version_info_json(v versions, uid bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'version', v.version, 'name', v.name,
        'asset_count', t.files,
        'active_uploads', CASE WHEN v.version = 'draft'
            THEN (SELECT count(*) FROM uploads u WHERE u.dandiset_id = v.dandiset_id) ELSE 0 END,
        'size', t.bytes, 'status', v.status,
        'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified),
        'dandiset', dandi_dandiset_json(d, uid, 'base'),
        'release_notes', coalesce(v.metadata->>'releaseNotes', ''),
        'asset_validation_errors', (
            SELECT coalesce(json_agg(e.err ORDER BY e.grp, e.ord), '[]'::json) FROM (
                (SELECT 0 AS grp, row_number() OVER (ORDER BY a.created, a.id) AS ord,
                        json_build_object('field', '', 'message',
                            'asset is currently being validated, please wait.',
                            'path', a.path) AS err
                 FROM asset_versions av JOIN assets a ON a.id = av.asset_id
                 WHERE av.version_id = v.id AND a.status IN ('Pending', 'Validating')
                 ORDER BY a.created, a.id LIMIT 50)
                UNION ALL
                (SELECT 1, row_number() OVER (ORDER BY jsonb_array_length(i.validation_errors) DESC, i.id, x.n),
                        json_build_object('field', coalesce(x.e->>'field', ''),
                            'message', coalesce(x.e->>'message', ''), 'path', i.path)
                 FROM (SELECT a.id, a.path, a.validation_errors
                       FROM asset_versions av JOIN assets a ON a.id = av.asset_id
                       WHERE av.version_id = v.id AND a.status = 'Invalid'
                         AND jsonb_typeof(a.validation_errors) = 'array'
                       ORDER BY jsonb_array_length(a.validation_errors) DESC, a.id LIMIT 50) i,
                      jsonb_array_elements(i.validation_errors) WITH ORDINALITY x(e, n))
            ) e),
        'version_validation_errors', coalesce(v.validation_errors::json, '[]'::json),
        'metadata', v.metadata::json,
        'contact_person', dandi_contact_person(v.metadata))
    FROM dandi_version_totals(v.id) t, dandisets d WHERE d.id = v.dandiset_id
$$;
