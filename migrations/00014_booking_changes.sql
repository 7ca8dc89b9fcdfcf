-- A patient changes a booking from its manage page: cancels it, or moves it
-- to another time in place (POST /Appointment/{id}). Portable like 00001.
--
-- sequence counts the moves, for the calendar file's SEQUENCE.
-- change_state is '' at rest, 'moving' or 'cancelling' from just before the
-- change is sent to coreplus until its outcome is recorded: the intent that
-- lets a crash or a lost answer be finished by reading the appointment back
-- (the sweeper does it for a change left behind). One change at a time: a
-- second click or replica finds the state set and does not send again.
-- While moving, the row already holds the new time (so bookings_slot_held
-- keeps it from every other draft, on every replica) and prev_* keep the
-- old one, to go back to when coreplus refused or never moved it.
-- change_started_at (unix seconds) is when the change began.

-- +goose Up
ALTER TABLE bookings ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN change_state TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN change_started_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN prev_practitioner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN prev_starts_at TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN prev_ends_at TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN prev_start_unix BIGINT NOT NULL DEFAULT 0;

CREATE INDEX bookings_change_state ON bookings (change_state, change_started_at);

-- The cancellation cut-off did nothing before this change, so a stored 0 is
-- the old default, not a choice: give those clinics the new default, 24 h.
UPDATE clinics SET cancellation_cutoff_seconds = 86400 WHERE cancellation_cutoff_seconds = 0;

-- +goose Down
DROP INDEX bookings_change_state;
ALTER TABLE bookings DROP COLUMN prev_start_unix;
ALTER TABLE bookings DROP COLUMN prev_ends_at;
ALTER TABLE bookings DROP COLUMN prev_starts_at;
ALTER TABLE bookings DROP COLUMN prev_practitioner_id;
ALTER TABLE bookings DROP COLUMN change_started_at;
ALTER TABLE bookings DROP COLUMN change_state;
ALTER TABLE bookings DROP COLUMN sequence;
