-- Who marked a booking request contacted, and when, so that staff working
-- through the console's Requests page see who already called a patient
-- back. contacted_by is the staff member's email address (or "the command
-- line"); it is a staff detail, not a patient's. contacted_at is unix
-- seconds, 0 while the request is new. Portable like 00001.

-- +goose Up
ALTER TABLE booking_requests ADD COLUMN contacted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_requests ADD COLUMN contacted_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE booking_requests DROP COLUMN contacted_at;
ALTER TABLE booking_requests DROP COLUMN contacted_by;
