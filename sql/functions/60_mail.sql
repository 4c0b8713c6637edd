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

-- An access request from the public landing page of embargoed dandiset
-- ds (its owners allow them: access_requests, 020): to the owners, with
-- Reply-To the requester. No owner with an e-mail: no message.
CREATE OR REPLACE FUNCTION dandi_mail_access_request(ds bigint, requester text, requester_email text,
    message text, web_url text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO emails (to_addrs, reply_to, subject, body)
    SELECT r.a, requester_email,
           format('Access request for Dandiset %s, "%s"', lpad(ds::text, 6, '0'), v.name),
           format(E'Hello,\n\n%s <%s> asks for access to your embargoed Dandiset %s, "%s":\n\n%s\n\n'
                  'Reply to this message to answer them. To give them read access, make an access '
                  'link on the dandiset''s page (Access links):\n\n%s/dandiset/%s\n',
                  requester, requester_email, lpad(ds::text, 6, '0'), v.name, message,
                  web_url, lpad(ds::text, 6, '0'))
    FROM (SELECT array_agg(DISTINCT u.email) AS a FROM dandiset_owners o JOIN users u ON u.id = o.user_id
          WHERE o.dandiset_id = ds AND u.email <> '') r
    JOIN versions v ON v.dandiset_id = ds AND v.version = 'draft'
    WHERE r.a IS NOT NULL;
$$;
