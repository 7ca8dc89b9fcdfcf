package main

import (
	"context"
	"log/slog"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/metrics"
	"github.com/clinic-booking/portal/web"
)

// logUpstreamCall counts each attempt at a coreplus request on the log line
// of the request that made it, and logs the attempt on a line of its own:
// the route (never a query, record id or body), status, attempt and timings.
// Failures are logged at info, the rest at debug (LOG_LEVEL=debug). Each
// attempt is counted in m too, when the portal serves metrics (m not nil).
func logUpstreamCall(log *slog.Logger, m *metrics.Metrics) func(context.Context, coreplus.CallInfo) {
	return func(ctx context.Context, i coreplus.CallInfo) {
		m.ObserveUpstream(i)
		if !i.NotTried {
			web.CountUpstream(ctx, i.Wait+i.Duration)
		}
		level := slog.LevelDebug
		args := []any{"op", i.Op, "attempt", i.Attempt, "status", i.Status,
			"ms", i.Duration.Milliseconds(), "wait_ms", i.Wait.Milliseconds()}
		if i.Err != nil {
			level = slog.LevelInfo
			args = append(args, "err", i.Err.Error(), "retry", i.Retry, "not_tried", i.NotTried)
		}
		log.Log(ctx, level, "upstream call", args...)
	}
}
