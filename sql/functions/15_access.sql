-- 15_access: access rules that statements share, stated once.
-- needs: 001_core (a blobs row is an argument)

-- Whether user uid may use blob b: attach it to an asset (POST and PUT of
-- assets) or learn its blob_id (the 409 of uploads/initialize,
-- blobs/digest). An open blob is everyone's. An embargoed one is for a
-- superuser, or an owner of a dandiset that holds it: the dandiset its
-- upload was made for (upload_dandiset_id, 015), or one with an asset that
-- references it in any of its versions. Everyone else is answered as if
-- the blob did not exist: a former owner, or someone who learnt the id.
-- uid NULL (anonymous) may use open blobs only.
CREATE OR REPLACE FUNCTION dandi_blob_attachable(b blobs, uid bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- PL/pgSQL, not an inlined SQL function: an open blob (nearly every
    -- asset write) is answered without planning the owner look-ups, which
    -- the planner could turn into hashed subplans over whole tables
    -- (0.8 ms of a 2.5 ms asset PUT).
    IF NOT b.embargoed THEN
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM users u WHERE u.id = uid AND u.is_superuser)
        OR EXISTS (SELECT 1 FROM dandiset_owners o WHERE o.user_id = uid
                   AND (o.dandiset_id = b.upload_dandiset_id
                        OR EXISTS (SELECT 1 FROM assets a
                                   JOIN asset_versions av ON av.asset_id = a.id
                                   JOIN versions v ON v.id = av.version_id
                                   WHERE a.blob_id = b.id AND v.dandiset_id = o.dandiset_id)));
END $$;
