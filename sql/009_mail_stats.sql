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

-- (the functions that queue mail: sql/functions/60_mail.sql)

CREATE TABLE app_stats (
    id                       bigserial PRIMARY KEY,
    timestamp                timestamptz NOT NULL DEFAULT now(),
    dandiset_count           bigint NOT NULL,
    published_dandiset_count bigint NOT NULL,
    user_count               bigint NOT NULL,
    size                     bigint NOT NULL
);
