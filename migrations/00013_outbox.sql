-- The outbox: messages (emails) due because of a change to a booking,
-- written in the same transaction as that change, and sent by a worker on
-- any replica, each by one (see internal/store/outbox.go). Portable like
-- 00001: ids are text, instants BIGINT unix seconds.

-- +goose Up

-- sealed holds the recipient's address and whatever personal detail the
-- message needs, sealed with AES-GCM under PORTAL_TOKEN_KEYS and bound to
-- the row's id, kind and draft; nothing personal is in the clear. A row is
-- deleted once its message is sent, or given up on. lease_until is when a
-- worker that claimed the row and did not finish (killed mid-send) lets
-- another take it; tries counts the claims.
CREATE TABLE outbox (
    id          TEXT   NOT NULL PRIMARY KEY,
    kind        TEXT   NOT NULL,
    clinic      TEXT   NOT NULL,
    draft_id    TEXT   NOT NULL,
    sequence    BIGINT NOT NULL DEFAULT 0,
    sealed      TEXT   NOT NULL,
    tries       BIGINT NOT NULL DEFAULT 0,
    due_at      BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE INDEX outbox_due ON outbox (due_at);

-- +goose Down
DROP TABLE outbox;
