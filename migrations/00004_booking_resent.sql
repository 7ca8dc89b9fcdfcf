-- A booking whose outcome is unknown is sent again at most once, by
-- whichever replica's sweeper claims it first: resent records that it was.

-- +goose Up
ALTER TABLE bookings ADD COLUMN resent BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE bookings DROP COLUMN resent;
