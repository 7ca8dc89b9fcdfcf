-- Passkeys (WebAuthn credentials) of staff accounts, a second way into the
-- console beside the emailed link. Portable like 00001: binary values are
-- kept as base64url TEXT, instants as BIGINT unix seconds. A passkey goes
-- with its account (ON DELETE CASCADE, and RemoveStaffAccount deletes them
-- explicitly too, as SQLite enforces the cascade only with foreign_keys on).
-- clone_warning is set when an authenticator's signature counter went
-- backwards (a copied key); such a passkey signs no one in.

-- +goose Up
CREATE TABLE staff_passkeys (
    credential_id TEXT    NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    public_key    TEXT    NOT NULL,
    attestation   TEXT    NOT NULL DEFAULT '',
    aaguid        TEXT    NOT NULL DEFAULT '',
    transports    TEXT    NOT NULL DEFAULT '',
    flags         INTEGER NOT NULL DEFAULT 0,
    sign_count    BIGINT  NOT NULL DEFAULT 0,
    clone_warning INTEGER NOT NULL DEFAULT 0 CHECK (clone_warning IN (0, 1)),
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX staff_passkeys_account_id ON staff_passkeys (account_id);

-- The state of a WebAuthn ceremony between its begin and its finish (the
-- challenge and what the library checks the answer against), kept here so
-- that the finish may reach any replica. A ceremony is taken (deleted) by
-- its finish, so it is good once, and only until expires_at. account_id is
-- the signed-in account adding a passkey, '' for a sign-in.
CREATE TABLE staff_webauthn_ceremonies (
    id         TEXT   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('register', 'sign-in')),
    account_id TEXT   NOT NULL DEFAULT '',
    data       TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX staff_webauthn_ceremonies_expires_at ON staff_webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE staff_webauthn_ceremonies;
DROP TABLE staff_passkeys;
