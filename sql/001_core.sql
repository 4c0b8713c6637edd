-- 001_core: users, tokens, dandisets, owners, versions, stars, audit, and the
-- asset-side tables whose aggregates the version serializers read.
-- Applied by `dandi-admin migrate` inside one transaction.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id               bigserial PRIMARY KEY,
    username         varchar(150) NOT NULL UNIQUE,
    email            varchar(254) NOT NULL DEFAULT '',
    first_name       varchar(150) NOT NULL DEFAULT '',
    last_name        varchar(150) NOT NULL DEFAULT '',
    github_login     varchar(39) UNIQUE,          -- username shown when set (social login)
    is_superuser     boolean NOT NULL DEFAULT false,
    is_staff         boolean NOT NULL DEFAULT false,
    is_active        boolean NOT NULL DEFAULT true,
    status           varchar(10) NOT NULL DEFAULT 'INCOMPLETE'
                     CHECK (status IN ('INCOMPLETE', 'PENDING', 'APPROVED', 'REJECTED')),
    rejection_reason varchar(1000) NOT NULL DEFAULT '',
    questionnaire_form jsonb,
    password_hash    text,
    date_joined      timestamptz NOT NULL DEFAULT now(),
    modified         timestamptz NOT NULL DEFAULT now()
);

-- One API key per user, as DRF's authtoken: 40 hex characters. Requests
-- are matched on the key's sha256 (an index walk over a hash reveals nothing
-- about the key) and then compared in constant time in the program.
CREATE TABLE api_tokens (
    key        char(40) PRIMARY KEY CHECK (key ~ '^[0-9a-f]{40}$'),
    key_sha256 char(64) NOT NULL UNIQUE,
    user_id    bigint NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    created    timestamptz NOT NULL DEFAULT now()
);

-- Identifiers come from this sequence; admins may pick one explicitly,
-- which does not advance it (the original's behaviour).
CREATE SEQUENCE dandiset_id_seq START 1;

CREATE TABLE dandisets (
    id               bigint PRIMARY KEY CHECK (id BETWEEN 0 AND 999999),
    created          timestamptz NOT NULL DEFAULT now(),
    modified         timestamptz NOT NULL DEFAULT now(),
    embargo_status   varchar(12) NOT NULL DEFAULT 'OPEN'
                     CHECK (embargo_status IN ('OPEN', 'EMBARGOED', 'UNEMBARGOING')),
    embargo_end_date date,
    CONSTRAINT embargoed_dandiset_has_embargo_end_date
        CHECK (embargo_end_date IS NOT NULL OR embargo_status = 'OPEN')
);

CREATE TABLE dandiset_owners (
    dandiset_id bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (dandiset_id, user_id)
);
CREATE INDEX dandiset_owners_user ON dandiset_owners (user_id);

CREATE TABLE versions (
    id                bigserial PRIMARY KEY,
    dandiset_id       bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    created           timestamptz NOT NULL DEFAULT now(),
    modified          timestamptz NOT NULL DEFAULT now(),
    name              varchar(300) NOT NULL,
    metadata          jsonb NOT NULL
                      CONSTRAINT version_metadata_has_schema_version
                      CHECK (metadata ? 'schemaVersion'),
    version           varchar(13) NOT NULL
                      CHECK (version = 'draft' OR version ~ '^0\.\d{6}\.\d{4}$'),
    doi               varchar(64),
    release_notes     varchar(5000) NOT NULL DEFAULT '',
    status            varchar(10) NOT NULL DEFAULT 'Pending'
                      CHECK (status IN ('Pending', 'Validating', 'Valid', 'Invalid',
                                        'Publishing', 'Published')),
    validation_errors jsonb NOT NULL DEFAULT '[]',
    UNIQUE (dandiset_id, version)
);
CREATE INDEX versions_status_pending ON versions (status) WHERE status = 'Pending';

CREATE TABLE dandiset_stars (
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    dandiset_id bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    created     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, dandiset_id)
);
CREATE INDEX dandiset_stars_dandiset ON dandiset_stars (dandiset_id);

-- Audit records outlive their dandiset, so dandiset_id is not a foreign key.
CREATE TABLE audit_records (
    id            bigserial PRIMARY KEY,
    timestamp     timestamptz NOT NULL DEFAULT now(),
    dandiset_id   bigint NOT NULL,
    username      varchar(150) NOT NULL DEFAULT '',
    user_email    varchar(254) NOT NULL DEFAULT '',
    user_fullname varchar(301) NOT NULL DEFAULT '',
    record_type   varchar(32) NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}',
    admin         boolean NOT NULL DEFAULT false,
    description   text NOT NULL DEFAULT '',
    CONSTRAINT admin_description_pairing
        CHECK ((NOT admin AND description = '') OR (admin AND description <> ''))
);
CREATE INDEX audit_records_dandiset ON audit_records (dandiset_id, timestamp);

-- Content-addressed S3 objects, deduplicated by dandi-etag archive-wide.
CREATE TABLE blobs (
    id        bigserial PRIMARY KEY,
    created   timestamptz NOT NULL DEFAULT now(),
    modified  timestamptz NOT NULL DEFAULT now(),
    blob_id   uuid NOT NULL UNIQUE,
    blob      varchar(100) NOT NULL,
    etag      varchar(40) NOT NULL UNIQUE CHECK (etag ~ '^[0-9a-f]{32}-\d{1,5}$'),
    sha256    varchar(64) CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size      bigint NOT NULL CHECK (size >= 0),
    embargoed boolean NOT NULL DEFAULT false
);

CREATE TABLE uploads (
    id                  bigserial PRIMARY KEY,
    created             timestamptz NOT NULL DEFAULT now(),
    dandiset_id         bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    upload_id           uuid NOT NULL UNIQUE,
    blob                varchar(100) NOT NULL,
    etag                varchar(40),
    multipart_upload_id varchar(128) NOT NULL UNIQUE,
    size                bigint NOT NULL CHECK (size >= 0),
    embargoed           boolean NOT NULL DEFAULT false
);
CREATE INDEX uploads_dandiset ON uploads (dandiset_id);
CREATE INDEX uploads_etag ON uploads (etag);

CREATE TABLE zarrs (
    id          bigserial PRIMARY KEY,
    created     timestamptz NOT NULL DEFAULT now(),
    modified    timestamptz NOT NULL DEFAULT now(),
    dandiset_id bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    zarr_id     uuid NOT NULL UNIQUE,
    name        varchar(512) NOT NULL,
    file_count  bigint NOT NULL DEFAULT 0 CHECK (file_count >= 0),
    size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    checksum    varchar(512),
    status      varchar(9) NOT NULL DEFAULT 'Pending'
                CHECK (status IN ('Pending', 'Uploaded', 'Ingesting', 'Complete')),
    UNIQUE (dandiset_id, name),
    CONSTRAINT zarr_consistent_checksum_status CHECK (
        (checksum IS NULL AND status IN ('Pending', 'Uploaded', 'Ingesting'))
        OR (checksum IS NOT NULL AND status = 'Complete'))
);

CREATE TABLE assets (
    id                bigserial PRIMARY KEY,
    created           timestamptz NOT NULL DEFAULT now(),
    modified          timestamptz NOT NULL DEFAULT now(),
    asset_id          uuid NOT NULL UNIQUE,
    path              varchar(512) COLLATE "C" NOT NULL
                      CHECK (path NOT LIKE '/%'),
    blob_id           bigint REFERENCES blobs(id) ON DELETE CASCADE,
    zarr_id           bigint REFERENCES zarrs(id) ON DELETE CASCADE,
    metadata          jsonb NOT NULL CHECK (metadata ? 'schemaVersion'),
    status            varchar(10) NOT NULL DEFAULT 'Pending'
                      CHECK (status IN ('Pending', 'Validating', 'Valid', 'Invalid')),
    validation_errors jsonb NOT NULL DEFAULT '[]',
    published         boolean NOT NULL DEFAULT false,
    CONSTRAINT blob_xor_zarr CHECK ((blob_id IS NULL) <> (zarr_id IS NULL))
);
CREATE INDEX assets_path ON assets (path);
CREATE INDEX assets_blob ON assets (blob_id);
CREATE INDEX assets_zarr ON assets (zarr_id);
CREATE INDEX assets_status_pending ON assets (status) WHERE status = 'Pending';

CREATE TABLE asset_versions (
    asset_id   bigint NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    version_id bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    PRIMARY KEY (version_id, asset_id)
);
CREATE INDEX asset_versions_asset ON asset_versions (asset_id);

-- The folder tree of a version. A leaf (asset_id set) is a file; a row
-- without asset is a folder. Aggregates cover everything below the node.
CREATE TABLE asset_paths (
    id              bigserial PRIMARY KEY,
    version_id      bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    path            varchar(512) COLLATE "C" NOT NULL
                    CHECK (NOT (path LIKE '%/' OR path LIKE '/%')),
    asset_id        bigint REFERENCES assets(id),
    aggregate_files bigint NOT NULL DEFAULT 0 CHECK (aggregate_files >= 0),
    aggregate_size  bigint NOT NULL DEFAULT 0 CHECK (aggregate_size >= 0),
    UNIQUE (version_id, path),
    CHECK (asset_id IS NULL OR aggregate_files <= 1)
);
-- Root nodes (no '/') carry the version totals.
CREATE INDEX asset_paths_roots ON asset_paths (version_id) WHERE position('/' in path) = 0;

-- ---------------------------------------------------------------------------
-- Serialisation helpers: the API's JSON shapes are built here, once, so every
-- statement that returns a dandiset or version shares the same key order.

-- DRF datetime format: UTC, microseconds, 'Z'.
CREATE FUNCTION dandi_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Name of the first contributor with role dcite:ContactPerson, '' if none.
CREATE FUNCTION dandi_contact_person(md jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((
        SELECT c->>'name'
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(md->'contributor') = 'array'
                                       THEN md->'contributor' ELSE '[]'::jsonb END)
             WITH ORDINALITY AS e(c, n)
        WHERE jsonb_typeof(c) = 'object'
          AND jsonb_typeof(c->'roleName') = 'array'
          AND c->'roleName' ? 'dcite:ContactPerson'
          AND jsonb_typeof(c->'name') = 'string'
        ORDER BY n LIMIT 1), '')
$$;

-- (asset_count, size) of a version: sums over the root nodes of its tree.
CREATE FUNCTION dandi_version_totals(vid bigint, OUT files bigint, OUT bytes bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(aggregate_files), 0)::bigint, coalesce(sum(aggregate_size), 0)::bigint
    FROM asset_paths WHERE version_id = vid AND position('/' in path) = 0
$$;

-- Version as nested in a dandiset: 'compact' in lists, 'child' in details.
CREATE FUNCTION dandi_version_child_json(v versions, full_shape boolean) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN full_shape THEN
        json_build_object(
            'version', v.version, 'name', v.name,
            'asset_count', t.files,
            'active_uploads', CASE WHEN v.version = 'draft'
                THEN (SELECT count(*) FROM uploads u WHERE u.dandiset_id = v.dandiset_id) ELSE 0 END,
            'size', t.bytes, 'status', v.status,
            'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified),
            'release_notes', coalesce(v.metadata->>'releaseNotes', ''))
    ELSE
        json_build_object(
            'version', v.version, 'name', v.name,
            'asset_count', t.files, 'size', t.bytes, 'status', v.status,
            'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified))
    END
    FROM dandi_version_totals(v.id) t
$$;

-- The draft row and the most recent published row of a dandiset.
CREATE FUNCTION dandi_draft(did bigint) RETURNS versions
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM versions WHERE dandiset_id = did AND version = 'draft'
$$;
CREATE FUNCTION dandi_latest_published(did bigint) RETURNS versions
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM versions WHERE dandiset_id = did AND version <> 'draft'
    ORDER BY created DESC, id DESC LIMIT 1
$$;

-- Dandiset object: base fields (+ versions unless base_only). uid is the
-- requesting user (NULL when anonymous) for is_starred.
CREATE FUNCTION dandi_dandiset_json(d dandisets, uid bigint, shape text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN shape = 'base' THEN
        json_build_object(
            'identifier', lpad(d.id::text, 6, '0'),
            'created', dandi_ts(d.created), 'modified', dandi_ts(d.modified),
            'contact_person', dandi_contact_person(coalesce(p.metadata, dr.metadata)),
            'embargo_status', d.embargo_status,
            'star_count', (SELECT count(*) FROM dandiset_stars s WHERE s.dandiset_id = d.id),
            'is_starred', uid IS NOT NULL AND EXISTS (
                SELECT 1 FROM dandiset_stars s WHERE s.dandiset_id = d.id AND s.user_id = uid))
    ELSE
        json_build_object(
            'identifier', lpad(d.id::text, 6, '0'),
            'created', dandi_ts(d.created), 'modified', dandi_ts(d.modified),
            'contact_person', dandi_contact_person(coalesce(p.metadata, dr.metadata)),
            'embargo_status', d.embargo_status,
            'star_count', (SELECT count(*) FROM dandiset_stars s WHERE s.dandiset_id = d.id),
            'is_starred', uid IS NOT NULL AND EXISTS (
                SELECT 1 FROM dandiset_stars s WHERE s.dandiset_id = d.id AND s.user_id = uid),
            'most_recent_published_version',
                CASE WHEN p.id IS NULL THEN NULL ELSE dandi_version_child_json(p, shape = 'detail') END,
            'draft_version',
                CASE WHEN dr.id IS NULL THEN NULL ELSE dandi_version_child_json(dr, shape = 'detail') END)
    END
    FROM (SELECT 1) one
    LEFT JOIN LATERAL dandi_latest_published(d.id) p ON true
    LEFT JOIN LATERAL dandi_draft(d.id) dr ON true
$$;

-- Version object (versions list and info): nested base dandiset.
CREATE FUNCTION dandi_version_json(v versions, uid bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'version', v.version, 'name', v.name,
        'asset_count', t.files,
        'active_uploads', CASE WHEN v.version = 'draft'
            THEN (SELECT count(*) FROM uploads u WHERE u.dandiset_id = v.dandiset_id) ELSE 0 END,
        'size', t.bytes, 'status', v.status,
        'created', dandi_ts(v.created), 'modified', dandi_ts(v.modified),
        'dandiset', dandi_dandiset_json(d, uid, 'base'),
        'release_notes', coalesce(v.metadata->>'releaseNotes', ''))
    FROM dandi_version_totals(v.id) t, dandisets d WHERE d.id = v.dandiset_id
$$;

-- Python's datetime.isoformat() in UTC: microseconds only when non-zero.
CREATE FUNCTION dandi_pyiso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0
        THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'
        ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' END
$$;

-- Next free identifier: skips ids an admin took explicitly.
CREATE FUNCTION dandi_next_dandiset_id() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    LOOP
        n := nextval('dandiset_id_seq');
        IF n > 999999 THEN
            RAISE EXCEPTION 'dandiset identifiers exhausted' USING ERRCODE = '23514';
        END IF;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM dandisets WHERE id = n);
    END LOOP;
    RETURN n;
END $$;

-- Version info (VersionDetailSerializer): version fields, validation
-- errors of the version and of its assets, metadata, contact person.
CREATE FUNCTION dandi_version_info_json(v versions, uid bigint) RETURNS json
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
