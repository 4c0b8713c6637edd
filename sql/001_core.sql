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

-- The functions this migration used to define (the dandiset and version
-- JSON serialisers, dandi_next_dandiset_id) are in sql/functions/
-- (10_serializers.sql, 20_dandisets.sql); see sql/README.md.
