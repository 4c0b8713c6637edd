-- 005_gc: garbage-collection events, as the original keeps them: one event
-- per deleted chunk, one record per deleted row (enough to restore it),
-- kept 30 days.

CREATE TABLE gc_events (
    id        bigserial PRIMARY KEY,
    timestamp timestamptz NOT NULL DEFAULT now(),
    type      varchar(255) NOT NULL CHECK (type IN ('Upload', 'AssetBlob'))
);
CREATE INDEX gc_events_timestamp ON gc_events (timestamp);

CREATE TABLE gc_event_records (
    id       bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES gc_events(id) ON DELETE CASCADE,
    record   jsonb NOT NULL
);
CREATE INDEX gc_event_records_event ON gc_event_records (event_id);

-- A blob still used by an asset must never go: deleting it now fails
-- instead of taking the assets with it (it cascaded before), so a garbage
-- collector racing an asset insert loses, safely.
ALTER TABLE assets DROP CONSTRAINT assets_blob_id_fkey,
    ADD CONSTRAINT assets_blob_id_fkey FOREIGN KEY (blob_id) REFERENCES blobs(id) ON DELETE RESTRICT;
