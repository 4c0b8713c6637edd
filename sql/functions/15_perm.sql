-- 15_perm: the owner rule of src/api/perm.c, for statements that filter
-- rows by it (SQL_OWNS and SQL_READABLE in src/api/api.h). The read rule's
-- third way in, an access link's holder (019_access_links), is no user:
-- the statements take its one dandiset id as a parameter of their own.
-- needs: none

-- The ids of the dandisets user_id owns: every one for a superuser, none
-- for NULL (anonymous). Statements ask
--   EXISTS (SELECT FROM dandi_owned($u, $s) o WHERE o.id = d.id)
-- A set-returning LANGUAGE sql function with one plain SELECT is inlined
-- by the planner, so that plans as the EXISTS written out did: an index
-- probe for one row, one hashed subplan for a list. A boolean function
-- holding the EXISTS would not be inlined (PostgreSQL inlines no scalar SQL
-- function with a sub-select): a function call per row, 10 to 100 times
-- slower on a list.
CREATE OR REPLACE FUNCTION dandi_owned(user_id bigint, superuser boolean)
RETURNS TABLE (id bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT o.dandiset_id FROM dandiset_owners o
    WHERE o.user_id = dandi_owned.user_id AND NOT dandi_owned.superuser
    UNION ALL
    SELECT d.id FROM dandisets d WHERE dandi_owned.superuser
$$;
