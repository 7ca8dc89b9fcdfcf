-- What a clinic tells patients beyond what coreplus holds: a line about each
-- service, directions for each location, its cancellation policy; and the
-- address the staff console will notify. Portable like 00006: maps as JSON
-- objects in TEXT, an unset text as ''.

-- +goose Up
ALTER TABLE clinics ADD COLUMN service_descriptions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clinics ADD COLUMN location_directions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clinics ADD COLUMN cancellation_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE clinics ADD COLUMN notification_email TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clinics DROP COLUMN notification_email;
ALTER TABLE clinics DROP COLUMN cancellation_policy;
ALTER TABLE clinics DROP COLUMN location_directions;
ALTER TABLE clinics DROP COLUMN service_descriptions;
