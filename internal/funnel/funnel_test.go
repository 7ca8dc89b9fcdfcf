package funnel_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/funnel"
	"github.com/clinic-booking/portal/internal/funnel/funnelstore"
	"github.com/clinic-booking/portal/internal/store"
)

// BenchmarkReached is what counting adds to a page: a hash and a map
// insert (the day's salt is loaded by Start), for distinct patients from
// every core at once. Compare BenchmarkTimePageCached and
// BenchmarkTimePageCachedCounted in web/ for the whole page.
func BenchmarkReached(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "portal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := funnel.NewCounter(funnelstore.New(s), nil, nil)
	c.Start(ctx, funnel.DefaultFlushEvery)
	defer c.Close(ctx)
	zone, _ := time.LoadLocation("Australia/Sydney")
	ips := make([]string, 4096)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	}
	const ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Reached(ctx, "northside", zone, funnel.Time, ips[i%len(ips)], ua)
			i++
		}
	})
}

// TestLeft: where patients left is each step's count less the next's,
// never below zero.
func TestLeft(t *testing.T) {
	d := funnel.Day{Reached: map[funnel.Step]int64{
		funnel.Service: 10, funnel.Practitioner: 12, funnel.Time: 9, funnel.Details: 4, funnel.Review: 3, funnel.Booked: 3, funnel.Request: 2,
	}}
	want := map[funnel.Step]int64{
		funnel.Location: 0, funnel.Service: 0, funnel.Practitioner: 3, funnel.Time: 5,
		funnel.Details: 1, funnel.Review: 0, funnel.Booked: 0, funnel.Request: 0,
	}
	for step, n := range want {
		if got := d.Left(step); got != n {
			t.Errorf("Left(%s) = %d; want %d", step, got, n)
		}
	}
}
