-- The upstream budget shared by every replica on one PostgreSQL database:
-- coreplus counts requests per consumer, not per process. Each consumer has
-- a ring of as many rows as requests it may start in one window; a replica
-- starts a request by moving the oldest row that is a window old to now (the
-- database's clock, so that replicas' clocks never disagree about it).
-- SQLite serves one process, whose limiter is in memory: it never uses it.

-- +goose Up
CREATE TABLE upstream_starts (
    consumer TEXT NOT NULL,
    slot BIGINT NOT NULL,
    at_ms BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT upstream_starts_pkey PRIMARY KEY (consumer, slot)
);

-- +goose Down
DROP TABLE upstream_starts;
