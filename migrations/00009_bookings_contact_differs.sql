-- contact_differs records that the booking went on an existing coreplus
-- client whose record lacks the contact details the patient gave, so that
-- the appointment's notes (which then say so, for staff) can be built again
-- from the store when the sweeper sends the booking a second time. A flag:
-- the bookings table keeps no personal details. Portable like 00001.

-- +goose Up
ALTER TABLE bookings ADD COLUMN contact_differs BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE bookings DROP COLUMN contact_differs;
