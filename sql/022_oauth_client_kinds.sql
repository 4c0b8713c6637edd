-- OAuth clients registered with `dandi-admin oauth-client add`: public
-- ones (a web app in a browser: PKCE, no secret) as before, and
-- confidential ones (a server-side app) that authenticate at the token
-- and revocation endpoints with a secret, of which only the sha256 is kept.
ALTER TABLE oauth_clients
    ADD COLUMN confidential  boolean NOT NULL DEFAULT false,
    ADD COLUMN secret_sha256 char(64),
    ADD CONSTRAINT oauth_clients_secret CHECK (confidential = (secret_sha256 IS NOT NULL));
