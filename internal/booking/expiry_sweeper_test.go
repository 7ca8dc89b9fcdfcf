package booking

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type expiringRows struct {
	draftsAt, requestsAt []time.Time
	fail                 error
}

func (e *expiringRows) DeleteExpiredDrafts(_ context.Context, now time.Time) (int64, error) {
	e.draftsAt = append(e.draftsAt, now)
	return 2, e.fail
}

func (e *expiringRows) DeleteExpiredRequests(_ context.Context, now time.Time) (int64, error) {
	e.requestsAt = append(e.requestsAt, now)
	return 0, e.fail
}

// TestExpirySweeperDeletesAtOnceAndLogsCounts: the first sweep runs at start
// with the sweeper's clock; a failed one is logged and does not stop it.
func TestExpirySweeperDeletesAtOnceAndLogsCounts(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	rows := &expiringRows{}
	var logs bytes.Buffer
	s := &ExpirySweeper{Drafts: rows, Requests: rows, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return at }}

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one sweep, then stop
	s.Run(ctx, time.Hour)
	if len(rows.draftsAt) != 1 || !rows.draftsAt[0].Equal(at) || len(rows.requestsAt) != 1 {
		t.Fatalf("swept drafts at %v, requests at %v; want once each at %v", rows.draftsAt, rows.requestsAt, at)
	}
	if !strings.Contains(logs.String(), "deleted expired drafts") || strings.Contains(logs.String(), "deleted expired booking requests") {
		t.Errorf("logs should count the drafts deleted and stay quiet about no requests:\n%s", logs.String())
	}

	logs.Reset()
	rows.fail = errors.New("database is locked")
	s.Sweep(context.Background())
	if !strings.Contains(logs.String(), "delete expired drafts") || !strings.Contains(logs.String(), "delete expired booking requests") {
		t.Errorf("failures not logged:\n%s", logs.String())
	}
}
