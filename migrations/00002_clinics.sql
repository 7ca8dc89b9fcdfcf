-- Clinics as tenants: one row per clinic the portal serves, beside any clinic
-- configured by environment. Portable like 00001: TEXT, BIGINT (booleans as
-- 0 or 1, durations as seconds), lists as JSON arrays in TEXT.

-- +goose Up

-- access_token holds the clinic's coreplus access token sealed with AES-GCM
-- ("v1:<key id>:<base64>"); the key lives in configuration, never here.
-- revision goes up by one on every change, so replicas can tell a clinic
-- changed and an update can refuse to overwrite one it did not read.
CREATE TABLE clinics (
    slug                        TEXT   NOT NULL PRIMARY KEY,
    name                        TEXT   NOT NULL,
    phone                       TEXT   NOT NULL DEFAULT '',
    privacy_url                 TEXT   NOT NULL DEFAULT '',
    access_token                TEXT   NOT NULL,
    frame_origins               TEXT   NOT NULL DEFAULT '[]',
    brand_colour                TEXT   NOT NULL DEFAULT '',
    logo_url                    TEXT   NOT NULL DEFAULT '',
    min_notice_seconds          BIGINT NOT NULL CHECK (min_notice_seconds >= 0),
    window_days                 BIGINT NOT NULL CHECK (window_days > 0),
    email_reminders             BIGINT NOT NULL CHECK (email_reminders IN (0, 1)),
    sms_reminders               BIGINT NOT NULL CHECK (sms_reminders IN (0, 1)),
    cancellation_cutoff_seconds BIGINT NOT NULL CHECK (cancellation_cutoff_seconds >= 0),
    location_ids                TEXT   NOT NULL DEFAULT '[]',
    practitioner_ids            TEXT   NOT NULL DEFAULT '[]',
    service_ids                 TEXT   NOT NULL DEFAULT '[]',
    enabled                     BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    revision                    BIGINT NOT NULL DEFAULT 1,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE clinics;
