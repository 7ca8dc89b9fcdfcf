-- A failed draft is tried again on a copy of its own (one booking record
-- per draft). retried_as names that copy: set once, by compare-and-set in
-- the same transaction that creates the copy, so that of several submits
-- of one failed draft, on any replica, exactly one makes a copy and the
-- others follow it. Portable like 00001.

-- +goose Up
ALTER TABLE drafts ADD COLUMN retried_as TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE drafts DROP COLUMN retried_as;
