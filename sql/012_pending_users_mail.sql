-- 012_pending_users_mail: the daily mail that tells the admins which users
-- wait for approval (`dandi-jobs pending-users-mail`, the original's
-- send_pending_users_email). One row per (UTC) day a mail was queued: the
-- primary key makes every other run of that day, on any host and even at
-- the same moment, queue nothing. A day with nobody pending leaves no row.
CREATE TABLE pending_users_mails (
    day        date PRIMARY KEY,
    email_id   bigint REFERENCES emails(id) ON DELETE SET NULL,
    user_count int NOT NULL DEFAULT 0,
    created    timestamptz NOT NULL DEFAULT now()
);
