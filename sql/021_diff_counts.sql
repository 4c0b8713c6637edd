-- 021_diff_counts: the counts of a version diff, kept.
--
-- The first page of GET .../versions/{a}/diff/{b}/ shows how many files
-- were added, removed, modified and renamed: one pass over both
-- versions' files (seconds at a million assets), asked for again on
-- every view of a draft's landing page. Kept here with the state of each
-- version's asset list when they were counted (versions.paths_folded,
-- only while the version has no folder deltas: every asset write leaves
-- one, the fold that moves them counts on; sql/016_folder_deltas.sql), so
-- that a repeated first page costs a probe of this key, and any write to
-- the draft makes the next one count again (dandi_diff_counts,
-- sql/functions/35_diff.sql). A published version never changes.
CREATE TABLE version_diff_counts (
    from_id    bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    to_id      bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    from_state bigint NOT NULL,
    to_state   bigint NOT NULL,
    added      bigint NOT NULL,
    removed    bigint NOT NULL,
    modified   bigint NOT NULL,
    renamed    bigint NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
-- The cascade from a deleted version on the "to" side.
CREATE INDEX version_diff_counts_to ON version_diff_counts (to_id);
