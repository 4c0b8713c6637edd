-- 009_mail_stats: the e-mail outbox (written in the transaction of the
-- change it tells about, sent later by `dandi-jobs mail` over SMTP or into
-- a spool directory), and the archive statistics of GET /api/stats/
-- (computed by `dandi-jobs stats`).

CREATE TABLE emails (
    id         bigserial PRIMARY KEY,
    created    timestamptz NOT NULL DEFAULT now(),
    to_addrs   text[] NOT NULL CHECK (cardinality(to_addrs) > 0),
    bcc_addrs  text[] NOT NULL DEFAULT '{}',
    reply_to   text NOT NULL DEFAULT '',
    subject    text NOT NULL,
    body       text NOT NULL,
    sent       timestamptz,
    attempts   int NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    next_try   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_unsent ON emails (next_try, id) WHERE sent IS NULL;

-- One message; recipients are the non-empty lines of to_list.
CREATE FUNCTION dandi_mail(to_list text, subject text, body text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO emails (to_addrs, subject, body)
    SELECT a, subject, body
    FROM (SELECT array_agg(DISTINCT x) AS a FROM unnest(string_to_array(to_list, E'\n')) x
          WHERE x <> '') r
    WHERE a IS NOT NULL;
$$;

-- Owners added to or removed from a dandiset hear of it; new_ids is the
-- new owner set, called before the set is written.
CREATE FUNCTION dandi_mail_owner_changes(ds bigint, new_ids bigint[], web_url text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO emails (to_addrs, subject, body)
    SELECT ARRAY[u.email],
           format('%s Dandiset "%s"', CASE WHEN ch.added THEN 'Added to' ELSE 'Removed from' END, v.name),
           format(E'Hello %s,\n\nYou have been %s the owners of Dandiset %s, "%s".\n\n%s/dandiset/%s\n',
                  coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username),
                  CASE WHEN ch.added THEN 'added to' ELSE 'removed from' END,
                  lpad(ds::text, 6, '0'), v.name, web_url, lpad(ds::text, 6, '0'))
    FROM (SELECT o.user_id, false AS added FROM dandiset_owners o
          WHERE o.dandiset_id = ds AND o.user_id <> ALL (new_ids)
          UNION ALL
          SELECT n, true FROM unnest(new_ids) n
          WHERE n NOT IN (SELECT user_id FROM dandiset_owners WHERE dandiset_id = ds)) ch
    JOIN users u ON u.id = ch.user_id
    JOIN versions v ON v.dandiset_id = ds AND v.version = 'draft'
    WHERE u.email <> '';
$$;

CREATE TABLE app_stats (
    id                       bigserial PRIMARY KEY,
    timestamp                timestamptz NOT NULL DEFAULT now(),
    dandiset_count           bigint NOT NULL,
    published_dandiset_count bigint NOT NULL,
    user_count               bigint NOT NULL,
    size                     bigint NOT NULL
);
