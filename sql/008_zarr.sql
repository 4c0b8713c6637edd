-- 008_zarr: zarr archives end to end (the zarrs table itself is in
-- 001_core): the listing index and the checksum job's resumable
-- progress. The zarr's JSON shape and the end of an ingest are in
-- sql/functions/50_zarr.sql.

CREATE INDEX zarrs_created ON zarrs (created, id);
CREATE INDEX zarrs_dandiset ON zarrs (dandiset_id, created, id);

-- Where an interrupted checksum run stands: the last key taken from the
-- listing and the open directories of the tree (zarrsum_save text). One
-- row per zarr being ingested; gone when the ingest ends or restarts.
CREATE TABLE zarr_ingest_progress (
    zarr_id    bigint PRIMARY KEY REFERENCES zarrs(id) ON DELETE CASCADE,
    after_key  text NOT NULL,
    state      text NOT NULL,
    leaves     bigint NOT NULL DEFAULT 0,
    modified   timestamptz NOT NULL DEFAULT now()
);

