-- Console sessions ended by "Sign out", so that a copy of the cookie (a
-- shared computer, a stolen one) opens nothing on any replica. The session
-- itself stays a signed cookie with a random sid kept for its whole life;
-- this lists the sids signed out, each until the session would have ended
-- anyway (its absolute expiry), after which the row is pruned. Portable like
-- 00001: instants are BIGINT unix seconds.

-- +goose Up
CREATE TABLE staff_ended_sessions (
    sid        TEXT   NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE INDEX staff_ended_sessions_expires_at ON staff_ended_sessions (expires_at);

-- +goose Down
DROP TABLE staff_ended_sessions;
