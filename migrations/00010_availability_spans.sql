-- Free time as one replica fetched it from coreplus, for every replica to
-- serve: coreplus's budget is per consumer, so replicas on one database
-- fetch each span once between them rather than once each. A row is one
-- span of a location's whole free blocks (see internal/booking's span):
-- blocks is JSON text the store does not read, fetched_at when they were
-- fetched (unix seconds; 0 while none were), and lease_until the refresh
-- lease: until then one replica is fetching the span again and the others
-- wait for its row rather than fetch it too. Portable like 00001.

-- +goose Up
CREATE TABLE availability_spans (
    clinic      TEXT   NOT NULL,
    location_id TEXT   NOT NULL,
    timezone_id TEXT   NOT NULL,
    span_start  TEXT   NOT NULL,
    blocks      TEXT   NOT NULL DEFAULT '',
    fetched_at  BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT availability_spans_pkey PRIMARY KEY (clinic, location_id, timezone_id, span_start)
);

-- +goose Down
DROP TABLE availability_spans;
