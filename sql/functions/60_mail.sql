-- 60_mail: messages queued in the outbox (emails, 009_mail_stats) in the
-- transaction of the change they tell about; `dandi-jobs mail` sends them.
-- needs: none

-- One message; recipients are the non-empty lines of to_list.
CREATE OR REPLACE FUNCTION dandi_mail(to_list text, subject text, body text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO emails (to_addrs, subject, body)
    SELECT a, subject, body
    FROM (SELECT array_agg(DISTINCT x) AS a FROM unnest(string_to_array(to_list, E'\n')) x
          WHERE x <> '') r
    WHERE a IS NOT NULL;
$$;

-- Owners added to or removed from a dandiset hear of it; new_ids is the
-- new owner set, called before the set is written.
CREATE OR REPLACE FUNCTION dandi_mail_owner_changes(ds bigint, new_ids bigint[], web_url text) RETURNS void
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
