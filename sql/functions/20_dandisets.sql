-- 20_dandisets: identifiers of new dandisets.
-- needs: none

-- Next free identifier: skips ids an admin took explicitly.
CREATE OR REPLACE FUNCTION dandi_next_dandiset_id() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    LOOP
        n := nextval('dandiset_id_seq');
        IF n > 999999 THEN
            RAISE EXCEPTION 'dandiset identifiers exhausted' USING ERRCODE = '23514';
        END IF;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM dandisets WHERE id = n);
    END LOOP;
    RETURN n;
END $$;
