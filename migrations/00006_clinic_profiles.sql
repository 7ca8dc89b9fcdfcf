-- The clinic configured by environment carries location addresses,
-- practitioner profiles and a draft lifetime; stored clinics carry them too,
-- so one record describes both and nothing is dropped on a round trip.
-- Portable like 00002: maps as JSON objects in TEXT, durations as seconds.
-- 7200 seconds is booking.DefaultDraftTTL, what stored clinics used before.

-- +goose Up
ALTER TABLE clinics ADD COLUMN addresses TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clinics ADD COLUMN practitioner_profiles TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clinics ADD COLUMN draft_ttl_seconds BIGINT NOT NULL DEFAULT 7200 CHECK (draft_ttl_seconds >= 0);

-- +goose Down
ALTER TABLE clinics DROP COLUMN draft_ttl_seconds;
ALTER TABLE clinics DROP COLUMN practitioner_profiles;
ALTER TABLE clinics DROP COLUMN addresses;
