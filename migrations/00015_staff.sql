-- Staff accounts for the console: who may sign in, to which clinics and as
-- what. Portable like 00001. Emails are stored normalised (trimmed, lower
-- case), so one person is one account whatever they type. An operator
-- (operator = 1) sees every clinic; anyone else sees the clinics they are a
-- member of. session_epoch ends every session of an account at once ("sign
-- out everywhere"): a session carries the epoch it began in, and every
-- request, on any replica, compares it with this one.

-- +goose Up
CREATE TABLE staff_accounts (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL,
    operator      INTEGER NOT NULL DEFAULT 0 CHECK (operator IN (0, 1)),
    session_epoch BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    CONSTRAINT staff_accounts_email UNIQUE (email)
);

CREATE TABLE staff_members (
    account_id TEXT   NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
    clinic     TEXT   NOT NULL,
    role       TEXT   NOT NULL CHECK (role IN ('admin', 'staff')),
    created_at BIGINT NOT NULL,
    CONSTRAINT staff_members_pkey PRIMARY KEY (account_id, clinic)
);

CREATE INDEX staff_members_clinic ON staff_members (clinic);

-- One-time sign-in links: only the SHA-256 of the random token is kept, so
-- a copy of the database opens no session. used_at is 0 until the link is
-- used; a link is good once, before expires_at.
CREATE TABLE staff_sign_in_links (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    account_id TEXT   NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX staff_sign_in_links_expires_at ON staff_sign_in_links (expires_at);

-- +goose Down
DROP TABLE staff_sign_in_links;
DROP TABLE staff_members;
DROP TABLE staff_accounts;
