package main

import (
	"context"
	"log/slog"

	"github.com/clinic-booking/portal/internal/coreplus"
)

// logUpstreamCall logs each attempt at a coreplus request: the route (never
// a query, record id or body), status, attempt and timings. Failures are
// logged at info, the rest at debug (LOG_LEVEL=debug).
func logUpstreamCall(log *slog.Logger) func(coreplus.CallInfo) {
	return func(i coreplus.CallInfo) {
		level := slog.LevelDebug
		args := []any{"op", i.Op, "attempt", i.Attempt, "status", i.Status,
			"ms", i.Duration.Milliseconds(), "wait_ms", i.Wait.Milliseconds()}
		if i.Err != nil {
			level = slog.LevelInfo
			args = append(args, "err", i.Err.Error(), "retry", i.Retry, "not_tried", i.NotTried)
		}
		log.Log(context.Background(), level, "upstream call", args...) // OnCall carries no request context
	}
}
