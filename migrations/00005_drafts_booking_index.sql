-- The sweeper looks every few seconds for drafts left in booking by a
-- submit that died before it recorded a booking; booked drafts stay in the
-- table for good, so a partial index keeps that look small. Portable like
-- 00001: SQLite and PostgreSQL both have partial indexes.

-- +goose Up
CREATE INDEX drafts_booking_updated ON drafts (updated_at) WHERE status = 'booking';

-- +goose Down
DROP INDEX drafts_booking_updated;
