-- 020_zarr_snapshots: publishable zarr archives. With bucket versioning
-- on, a zarr's state at publish time is the version id of every key under
-- zarr/<zarr_id>/ (a snapshot); the published version's zarr assets
-- resolve to it while the draft zarr keeps changing. The snapshot is taken
-- by the publish job (src/jobs/zarr-snapshot.c), a page of the versioned
-- listing per transaction, so a run that stops resumes at its cursor.

-- One snapshot of a zarr, for the zarr checksum it was taken at: a zarr
-- published twice unchanged shares one. 'Listing' while being taken (the
-- cursor and the checksum tree so far); 'Complete' once its entries add
-- up to that checksum.
CREATE TABLE zarr_snapshots (
    id             bigserial PRIMARY KEY,
    zarr_id        bigint NOT NULL REFERENCES zarrs(id) ON DELETE CASCADE,
    checksum       varchar(512) NOT NULL,
    status         varchar(9) NOT NULL DEFAULT 'Listing' CHECK (status IN ('Listing', 'Complete')),
    file_count     bigint NOT NULL DEFAULT 0 CHECK (file_count >= 0),
    size           bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    key_marker     text COLLATE "C" NOT NULL DEFAULT '',   -- ListObjectVersions markers of the next page
    version_marker text NOT NULL DEFAULT '',
    state          text,                                   -- zarrsum_save() of the checksum so far
    created        timestamptz NOT NULL DEFAULT now(),
    completed      timestamptz,
    UNIQUE (zarr_id, checksum)
);

-- Its entries: the path inside the zarr (byte order, as S3 lists keys, so
-- a listing pages by key on the primary key) and the version of the key
-- it names.
CREATE TABLE zarr_snapshot_entries (
    snapshot_id   bigint NOT NULL REFERENCES zarr_snapshots(id) ON DELETE CASCADE,
    key           text COLLATE "C" NOT NULL,
    version_id    varchar(1024) NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    etag          varchar(128) NOT NULL,
    last_modified timestamptz NOT NULL,
    PRIMARY KEY (snapshot_id, key)
);

-- Which snapshot a published version's zarr is (asset rows are shared
-- between the draft and published versions, so the mapping is by version
-- and zarr, not by asset).
CREATE TABLE version_zarr_snapshots (
    version_id  bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    zarr_id     bigint NOT NULL REFERENCES zarrs(id) ON DELETE CASCADE,
    snapshot_id bigint NOT NULL REFERENCES zarr_snapshots(id),
    PRIMARY KEY (version_id, zarr_id)
);
CREATE INDEX version_zarr_snapshots_snapshot ON version_zarr_snapshots (snapshot_id);
