-- Portable between SQLite and PostgreSQL: ids are text (no AUTOINCREMENT vs
-- SERIAL), instants are BIGINT unix seconds in UTC (no TIMESTAMP type, and no
-- text comparison that would depend on a collation), appointment times are
-- also kept as RFC 3339 text with the clinic's offset, as coreplus sent them.

-- +goose Up

-- A draft is an in-progress booking, created once the patient types personal
-- details. details holds those details as one JSON document so that wiping
-- them is a single column; it is NULL once wiped.
CREATE TABLE drafts (
    id                   TEXT    NOT NULL PRIMARY KEY,
    clinic               TEXT    NOT NULL,
    location_id          TEXT    NOT NULL DEFAULT '',
    appointment_type_id  TEXT    NOT NULL DEFAULT '',
    practitioner_id      TEXT    NOT NULL DEFAULT '',
    slot_start           TEXT    NOT NULL DEFAULT '',
    slot_end             TEXT    NOT NULL DEFAULT '',
    slot_practitioner_id TEXT    NOT NULL DEFAULT '',
    details              TEXT,
    status               TEXT    NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'booking', 'booked', 'unknown', 'failed')),
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    expires_at           BIGINT  NOT NULL
);

CREATE INDEX drafts_expires_at ON drafts (expires_at);

-- One row per booking attempt, keyed by the draft it came from: the draft id
-- is the idempotency key coreplus does not offer. No names or contact
-- details here; those stay in the draft and are wiped with it.
CREATE TABLE bookings (
    draft_id            TEXT   NOT NULL,
    clinic              TEXT   NOT NULL,
    appointment_id      TEXT   NOT NULL DEFAULT '',
    reference_number    TEXT   NOT NULL DEFAULT '',
    client_id           TEXT   NOT NULL DEFAULT '',
    practitioner_id     TEXT   NOT NULL,
    location_id         TEXT   NOT NULL,
    appointment_type_id TEXT   NOT NULL,
    starts_at           TEXT   NOT NULL,
    ends_at             TEXT   NOT NULL,
    start_unix          BIGINT NOT NULL,
    status              TEXT   NOT NULL
        CHECK (status IN ('pending', 'booked', 'unknown', 'failed', 'cancelled')),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CONSTRAINT bookings_pkey PRIMARY KEY (draft_id)
);

-- While a booking is in flight or made, no other draft may claim the same
-- practitioner at the same start, on any replica. Failed and cancelled rows
-- drop out of the index, which frees the slot.
CREATE UNIQUE INDEX bookings_slot_held ON bookings (clinic, practitioner_id, start_unix)
    WHERE status IN ('pending', 'booked', 'unknown');

CREATE INDEX bookings_status_created ON bookings (status, created_at);

-- +goose Down
DROP TABLE bookings;
DROP TABLE drafts;
