-- 019_access_links: reviewer access to embargoed dandisets. An owner makes
-- a read-only access link (a secret token, kept here only as its sha256;
-- optional expiry, a label, revocable); whoever holds a live one may read
-- that one dandiset (src/api/perm.c: the link-holder actor). And the
-- public "request access" form of an embargoed dandiset, off unless its
-- owners allow it, with the log its rate limit counts.

CREATE TABLE access_links (
    id           bigserial PRIMARY KEY,
    dandiset_id  bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    token_sha256 char(64) NOT NULL UNIQUE,
    label        varchar(200) NOT NULL DEFAULT '',
    created      timestamptz NOT NULL DEFAULT now(),
    created_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    expires      timestamptz,                -- NULL: until revoked
    revoked      timestamptz,                -- set: refused from then on
    last_used    timestamptz,
    use_count    bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0)
);
CREATE INDEX access_links_dandiset ON access_links (dandiset_id, created);

-- The owners' setting: may the public landing page of this embargoed
-- dandiset show its title and take access requests?
ALTER TABLE dandisets ADD COLUMN access_requests boolean NOT NULL DEFAULT false;

-- Each request sent, for the rate limit (per address and per dandiset).
CREATE TABLE access_request_log (
    id          bigserial PRIMARY KEY,
    dandiset_id bigint NOT NULL REFERENCES dandisets(id) ON DELETE CASCADE,
    created     timestamptz NOT NULL DEFAULT now(),
    remote_addr varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX access_request_log_dandiset ON access_request_log (dandiset_id, created);
