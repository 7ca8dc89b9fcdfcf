-- The settings audit: who changed which clinic setting, when, from what to
-- what. A row is written in the same transaction as the change it records,
-- so a refused or failed change leaves none. actor is the staff account's
-- email, or "command line" for `portal clinic update`; the values are as
-- staff read them, with tokens and secrets masked. Portable like 00001: at
-- is unix seconds; seq orders rows written in the same second.

-- +goose Up
CREATE TABLE clinic_audit (
    id        TEXT   NOT NULL PRIMARY KEY,
    clinic    TEXT   NOT NULL,
    at        BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    revision  BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    setting   TEXT   NOT NULL,
    old_value TEXT   NOT NULL,
    new_value TEXT   NOT NULL
);

CREATE INDEX clinic_audit_clinic_at ON clinic_audit (clinic, at, seq);

-- +goose Down
DROP TABLE clinic_audit;
