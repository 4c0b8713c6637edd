-- 007_identity: browser sign-in. Sessions (cookie) with their CSRF token,
-- the OAuth2 authorization-code + PKCE provider the web app logs in
-- through, failed-login counts for rate limiting, and accounts at an
-- upstream identity provider (GitHub or any OAuth2 server). Every secret
-- (session id, code, token) is stored as its sha256 only: a copy of the
-- database logs nobody in.

CREATE TABLE sessions (
    id_sha256  char(64) PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created    timestamptz NOT NULL DEFAULT now(),
    expires    timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

-- Registered OAuth clients. The web app's public client (no secret, PKCE
-- required) is always there; its redirect URI is the configured web_url
-- plus '/', checked by the server, or one of redirect_uris.
CREATE TABLE oauth_clients (
    client_id     varchar(100) PRIMARY KEY,
    name          varchar(255) NOT NULL,
    redirect_uris text[] NOT NULL DEFAULT '{}',
    created       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO oauth_clients (client_id, name) VALUES ('Dk0zosgt1GAAKfN8LT4STJmLJXwMDPbYWYzfNtAl', 'DANDI web app');

-- Authorization codes: single use, a minute to live, bound to the client,
-- the redirect URI and the PKCE challenge.
CREATE TABLE oauth_codes (
    code_sha256    char(64) PRIMARY KEY,
    client_id      varchar(100) NOT NULL REFERENCES oauth_clients ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    code_challenge varchar(128) NOT NULL,
    expires        timestamptz NOT NULL
);

CREATE TABLE oauth_tokens (
    id              bigserial PRIMARY KEY,
    access_sha256   char(64) NOT NULL UNIQUE,
    refresh_sha256  char(64) UNIQUE,
    client_id       varchar(100) NOT NULL REFERENCES oauth_clients ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created         timestamptz NOT NULL DEFAULT now(),
    expires         timestamptz NOT NULL,
    revoked         timestamptz
);
CREATE INDEX oauth_tokens_user ON oauth_tokens (user_id);

-- One row per failed sign-in; counted per account and per address over a
-- window. Rows older than a day are pruned as new ones come.
CREATE TABLE login_failures (
    id      bigserial PRIMARY KEY,
    account varchar(254) NOT NULL,
    address varchar(64) NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- Sign-in through an upstream provider in progress: state -> where to go.
CREATE TABLE upstream_states (
    state_sha256 char(64) PRIMARY KEY,
    next_url     text NOT NULL,
    expires      timestamptz NOT NULL
);

-- Accounts at the upstream provider, linked to our users.
CREATE TABLE social_accounts (
    provider   varchar(50) NOT NULL,
    uid        varchar(255) NOT NULL,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    login      varchar(255) NOT NULL DEFAULT '',
    extra_data jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (provider, uid)
);
CREATE INDEX social_accounts_user ON social_accounts (user_id);
