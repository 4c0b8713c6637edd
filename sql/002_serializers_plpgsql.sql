-- The JSON serialisers of 001 as PL/pgSQL. A LANGUAGE sql function that is
-- not inlined has its statements planned again on every call; PL/pgSQL keeps
-- the plans for the life of the connection, and each app worker keeps its
-- connection. Same results, same key order. pgbench on the dandiset detail
-- statement, 2 clients: 0.83 ms -> 0.15 ms per call.

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

CREATE OR REPLACE FUNCTION dandi_version_totals(vid bigint, OUT files bigint, OUT bytes bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    SELECT coalesce(sum(aggregate_files), 0)::bigint, coalesce(sum(aggregate_size), 0)::bigint
    INTO files, bytes
    FROM asset_paths WHERE version_id = vid AND position('/' in path) = 0;
END $$;

CREATE OR REPLACE FUNCTION dandi_draft(did bigint) RETURNS versions
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE v versions;
BEGIN
    SELECT * INTO v FROM versions WHERE dandiset_id = did AND version = 'draft';
    RETURN v;
END $$;

CREATE OR REPLACE FUNCTION dandi_latest_published(did bigint) RETURNS versions
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE v versions;
BEGIN
    SELECT * INTO v FROM versions WHERE dandiset_id = did AND version <> 'draft'
    ORDER BY created DESC, id DESC LIMIT 1;
    RETURN v;
END $$;

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
