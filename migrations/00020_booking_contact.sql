-- The patient's address for the emails after the booking: the "moved" and
-- "cancelled" emails are written when the patient changes the booking,
-- long after the draft's details were wiped. Portable like 00001.
--
-- sealed_contact holds the address and first name the patient typed,
-- sealed with AES-GCM under PORTAL_TOKEN_KEYS and bound to the booking's
-- draft id (internal/booking/bookingstore/outbox.go), so nothing personal
-- is in the clear and sealed content copied onto another booking does not
-- open. It is set with the confirmation, in the same transaction, and
-- wiped ('') when the booking is cancelled and once the appointment has
-- started (Store.WipeStartedContacts): only while the patient can still
-- change the booking is it kept.

-- +goose Up
ALTER TABLE bookings ADD COLUMN sealed_contact TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE bookings DROP COLUMN sealed_contact;
