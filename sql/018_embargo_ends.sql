-- 018_embargo_ends: embargo end dates kept (issue 21). The daily
-- `dandi-jobs embargo-ends` reminds the owners 30 and 7 days before a
-- dandiset's embargo_end_date and unembargoes it once the date is reached;
-- owners may move the date (PUT /api/dandisets/{id}/embargo/) up to the
-- limit the original allowed when the dandiset was created.

-- The latest end date the owners may choose: what POST /api/dandisets/
-- allowed at creation (2 years after it, 5 with a funding source and
-- award number), kept so that moving the date never escapes it. NULL for
-- dandisets created open.
ALTER TABLE dandisets ADD COLUMN embargo_end_limit date;

-- Dandisets embargoed before this migration: the creation's rule again,
-- with a funder in the draft's contributors counted as the award (the
-- creation added one), and never below the date they already have.
UPDATE dandisets d SET embargo_end_limit = greatest(d.embargo_end_date,
    (d.created AT TIME ZONE 'UTC')::date + CASE WHEN EXISTS (
        SELECT 1 FROM versions v,
            jsonb_array_elements(CASE WHEN jsonb_typeof(v.metadata->'contributor') = 'array'
                                      THEN v.metadata->'contributor' ELSE '[]'::jsonb END) c
        WHERE v.dandiset_id = d.id AND v.version = 'draft'
          AND jsonb_typeof(c->'roleName') = 'array' AND c->'roleName' ? 'dcite:Funder')
    THEN 5 * 365 ELSE 2 * 365 END)
WHERE d.embargo_status <> 'OPEN';

-- The daily job's look-up of the embargoes that end soon or have ended.
CREATE INDEX dandisets_embargo_end ON dandisets (embargo_end_date) WHERE embargo_status = 'EMBARGOED';

-- One row per reminder queued: (dandiset, end date, 30 or 7 days before).
-- The key makes every other run, on any host and at the same moment,
-- queue nothing; a new end date has no rows, so its reminders come again.
CREATE TABLE embargo_reminders (
    dandiset_id bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    end_date    date NOT NULL,
    days_before int NOT NULL CHECK (days_before IN (30, 7)),
    mails       int NOT NULL DEFAULT 0,              -- messages queued (one per owner)
    created     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dandiset_id, end_date, days_before)
);
