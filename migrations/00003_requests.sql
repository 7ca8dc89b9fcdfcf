-- Booking requests: what a patient leaves when coreplus cannot be reached,
-- for clinic staff to call back (`portal requests <clinic>`). Portable like
-- 00001. details holds the patient's name, contact and note as one JSON
-- document; rows are deleted once expires_at passes (30 days), by the same
-- sweep that deletes expired drafts.

-- +goose Up
CREATE TABLE booking_requests (
    id                  TEXT   NOT NULL PRIMARY KEY,
    clinic              TEXT   NOT NULL,
    location_id         TEXT   NOT NULL DEFAULT '',
    appointment_type_id TEXT   NOT NULL DEFAULT '',
    practitioner_id     TEXT   NOT NULL DEFAULT '',
    -- preferred days ("mon".."sat") and times ("morning", "afternoon",
    -- "evening"), comma-separated; empty means any.
    days                TEXT   NOT NULL DEFAULT '',
    times               TEXT   NOT NULL DEFAULT '',
    details             TEXT   NOT NULL,
    status              TEXT   NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted')),
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL
);

CREATE INDEX booking_requests_clinic_created ON booking_requests (clinic, created_at);
CREATE INDEX booking_requests_expires_at ON booking_requests (expires_at);

-- +goose Down
DROP TABLE booking_requests;
