-- The booking funnel: how many patients reached each step of the flow, per
-- clinic and per day, for the staff console's Funnel page. No personal
-- detail and no cookie (see internal/funnel for why a visitor is counted
-- this way): a patient is a keyed hash of a daily random salt with the
-- clinic, the client's address and its User-Agent, and the hash is kept only
-- until the day has ended everywhere, to count each patient once a day per
-- step; after that only the counts remain. Days are the clinic's own
-- calendar days ("2026-12-07"), in the zone funnel_zones names. Portable
-- like 00001.

-- +goose Up

-- One random salt per calendar day, shared by the replicas so that they
-- hash a patient alike; deleted with that day's visitors.
CREATE TABLE funnel_salts (
    day  TEXT NOT NULL PRIMARY KEY,
    salt TEXT NOT NULL
);

-- Who has been counted: one row per day, clinic, step and visitor hash.
-- Inserting a row that is already there counts nothing, whichever replica
-- tries.
CREATE TABLE funnel_visitors (
    clinic  TEXT NOT NULL,
    day     TEXT NOT NULL,
    step    TEXT NOT NULL,
    visitor TEXT NOT NULL,
    CONSTRAINT funnel_visitors_pkey PRIMARY KEY (day, clinic, step, visitor)
);

-- What is kept: patients who reached each step, per clinic and day.
CREATE TABLE funnel_counts (
    clinic   TEXT   NOT NULL,
    day      TEXT   NOT NULL,
    step     TEXT   NOT NULL,
    patients BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT funnel_counts_pkey PRIMARY KEY (clinic, day, step)
);

-- The zone a clinic's days are counted in (its first location's), so a
-- report's "today" is the clinic's.
CREATE TABLE funnel_zones (
    clinic TEXT NOT NULL PRIMARY KEY,
    zone   TEXT NOT NULL
);

-- +goose Down
DROP TABLE funnel_zones;
DROP TABLE funnel_counts;
DROP TABLE funnel_visitors;
DROP TABLE funnel_salts;
