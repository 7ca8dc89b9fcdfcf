-- When a sweeper may next look in coreplus for a booking whose outcome is
-- unknown (unix seconds; 0: at once). Sweepers take the bookings that are
-- due in this order, so old bookings that are looked at and not settled go
-- to the back and never starve new ones; bumping it before a look is the
-- lease that keeps two replicas from looking at the same booking at once.

-- +goose Up
ALTER TABLE bookings ADD COLUMN next_look BIGINT NOT NULL DEFAULT 0;
CREATE INDEX bookings_status_next_look ON bookings (status, next_look);

-- +goose Down
DROP INDEX bookings_status_next_look;
ALTER TABLE bookings DROP COLUMN next_look;
