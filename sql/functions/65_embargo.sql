-- 65_embargo: embargo end dates kept (018_embargo_ends): the limit an
-- owner may move the date to, the daily job's reminders and the start of
-- the unembargo of the dandisets whose date is reached.
-- needs: 018_embargo_ends
-- uses: dandi_enqueue (90_jobs)

-- The latest end date the owners may choose. embargo_end_limit is set at
-- creation; a dandiset without one (made embargoed some other way) gets the
-- creation's plain rule, 2 years after it, and never less than its date.
CREATE OR REPLACE FUNCTION dandi_embargo_limit(end_limit date, end_date date, created timestamptz)
RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(end_limit, greatest(end_date, (created AT TIME ZONE 'UTC')::date + 2 * 365));
$$;

-- The reminders due on `today`: 30 days before the end (when 8 to 30 days
-- are left) and 7 days before (1 to 7 left), one mail per owner with an
-- address. Each (dandiset, end date, reminder) once, whoever runs it and
-- however often (embargo_reminders' key); a dandiset whose first run is
-- already within 7 days gets only the 7-day one. The dandisets are locked
-- meanwhile, so the mail never names a date an owner is just changing.
-- Returns the number of mails queued.
CREATE OR REPLACE FUNCTION dandi_embargo_remind(today date, web_url text, api_url text) RETURNS int
LANGUAGE sql AS $$
    WITH due AS (
        SELECT d.id, d.embargo_end_date AS end_date,
               CASE WHEN d.embargo_end_date - today <= 7 THEN 7 ELSE 30 END AS days_before,
               dandi_embargo_limit(d.embargo_end_limit, d.embargo_end_date, d.created) AS end_limit
        FROM dandisets d
        WHERE d.embargo_status = 'EMBARGOED' AND d.embargo_end_date > today
          AND d.embargo_end_date <= today + 30
        ORDER BY d.id
        FOR UPDATE OF d
    ), owners AS (
        SELECT o.dandiset_id, u.email,
               coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username) AS name
        FROM dandiset_owners o JOIN users u ON u.id = o.user_id
        WHERE o.dandiset_id IN (SELECT id FROM due) AND u.email <> ''
    ), claimed AS (
        INSERT INTO embargo_reminders (dandiset_id, end_date, days_before, mails)
        SELECT due.id, due.end_date, due.days_before,
               (SELECT count(*) FROM owners WHERE owners.dandiset_id = due.id)
        FROM due
        ON CONFLICT DO NOTHING
        RETURNING dandiset_id
    ), queued AS (
        INSERT INTO emails (to_addrs, subject, body)
        SELECT ARRAY[o.email],
               format('DANDI: the embargo of Dandiset %s ends on %s', lpad(due.id::text, 6, '0'),
                      to_char(due.end_date, 'YYYY-MM-DD')),
               format(E'Hello %s,\n\n'
                      'The embargo of Dandiset %s, "%s", ends on %s (in %s day%s). On that day the '
                      'archive makes the dandiset public: anyone can then read and download its data.\n\n'
                      'To keep it embargoed longer, an owner can move the end date, to %s at the latest: '
                      'on the dandiset''s page, "Change" beside the embargo end date, or with the API '
                      '(PUT %s/api/dandisets/%s/embargo/ with {"embargoedUntil": "YYYY-MM-DD"}). '
                      'To make it public sooner, unembargo it on the same page.\n\n%s/dandiset/%s\n',
                      o.name, lpad(due.id::text, 6, '0'), v.name, to_char(due.end_date, 'YYYY-MM-DD'),
                      due.end_date - today, CASE WHEN due.end_date - today = 1 THEN '' ELSE 's' END,
                      to_char(due.end_limit, 'YYYY-MM-DD'),
                      api_url, lpad(due.id::text, 6, '0'), web_url, lpad(due.id::text, 6, '0'))
        FROM claimed c
        JOIN due ON due.id = c.dandiset_id
        JOIN owners o ON o.dandiset_id = c.dandiset_id
        JOIN versions v ON v.dandiset_id = c.dandiset_id AND v.version = 'draft'
        ORDER BY due.id, o.email
        RETURNING 1
    )
    SELECT count(*)::int FROM queued;
$$;

-- The embargoes that ended by `today` (their end date reached): each
-- dandiset UNEMBARGOING and its unembargo job queued, as POST
-- .../unembargo/ does, with no user (the job audits it as the end date's).
-- A dandiset with uploads in progress waits (the endpoint refuses then
-- too): a later run takes it once they are completed or collected. The
-- row's update is the claim: a dandiset whose date an owner moved
-- meanwhile, or that another host took, no longer matches.
CREATE OR REPLACE FUNCTION dandi_embargo_ends_start(today date)
RETURNS TABLE (ds bigint, ended date) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        UPDATE dandisets d SET embargo_status = 'UNEMBARGOING', modified = now()
        WHERE d.embargo_status = 'EMBARGOED' AND d.embargo_end_date <= today
          AND NOT EXISTS (SELECT 1 FROM uploads up WHERE up.dandiset_id = d.id)
        RETURNING d.id, d.embargo_end_date
    LOOP
        PERFORM dandi_enqueue('unembargo', r.id::text,
            jsonb_build_object('dandiset', r.id, 'ended', to_char(r.embargo_end_date, 'YYYY-MM-DD')));
        ds := r.id;
        ended := r.embargo_end_date;
        RETURN NEXT;
    END LOOP;
END
$$;
