package coreplus_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// BenchmarkFindAvailabilityWeek measures one week of a location's free
// slots, signed, over loopback HTTP to the sandbox: the call behind the
// portal's time step.
func BenchmarkFindAvailabilityWeek(b *testing.B) {
	srv := sandbox.New(sandbox.Config{RateLimit: -1})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	api, err := coreplus.New(coreplus.Config{
		BaseURL:        ts.URL + "/API/Core/v2.1/",
		ConsumerID:     sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret,
		AccessToken:    sandbox.DemoAccessToken,
		// The call is measured, not coreplus's budget of 10 a second.
		Limiter: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		b.Fatal(err)
	}
	loc := srv.Locations()[0]
	start := time.Now().AddDate(0, 0, 7)
	q := coreplus.SlotQuery{
		StartDate:         start.Format("2006-01-02"),
		EndDate:           start.AddDate(0, 0, 6).Format("2006-01-02"),
		TimezoneID:        loc.TimezoneID,
		LocationIDs:       []string{loc.ID},
		AppointmentTypeID: sandbox.AppointmentTypeStandardID,
	}
	ctx := context.Background()
	b.ReportAllocs()
	var slots int
	for b.Loop() {
		s, err := api.FindAvailability(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		slots = len(s)
	}
	if slots == 0 {
		b.Fatal("no free slots in a week: the benchmark measures nothing")
	}
	b.ReportMetric(float64(slots), "slots/op")
}
