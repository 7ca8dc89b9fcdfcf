package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpanLeaseAndPut: a span's row is made by the first lease; while the
// lease runs nobody else takes it, and once it has run out one caller does;
// a write keeps the newest blocks and leaves the lease to run out.
func TestSpanLeaseAndPut(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := SpanKey{Clinic: "harbourside", LocationID: "loc-1", TimezoneID: "tz-9", Start: "2026-12-07"}
		if _, err := s.GetSpan(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get before any write: %v; want ErrNotFound", err)
		}

		lease := base.Add(10 * time.Second)
		if ok, err := s.LeaseSpan(ctx, k, base, lease); err != nil || !ok {
			t.Fatalf("first lease: %v, %v", ok, err)
		}
		if ok, err := s.LeaseSpan(ctx, k, base.Add(time.Second), base.Add(11*time.Second)); err != nil || ok {
			t.Fatalf("second lease while the first runs: %v, %v; want refused", ok, err)
		}
		got, err := s.GetSpan(ctx, k)
		if err != nil || got.Blocks != "" || !got.FetchedAt.IsZero() || !got.LeaseUntil.Equal(lease) {
			t.Fatalf("after the lease: %+v, %v; want no blocks, leased until %v", got, err, lease)
		}

		fetched := base.Add(2 * time.Second)
		if err := s.PutSpan(ctx, k, `["a"]`, fetched); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetSpan(ctx, k)
		if err != nil || got.Blocks != `["a"]` || !got.FetchedAt.Equal(fetched) || !got.LeaseUntil.Equal(lease) {
			t.Fatalf("after the write: %+v, %v", got, err)
		}
		// Written late by a slower replica: older than what is there.
		if err := s.PutSpan(ctx, k, `["old"]`, base.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.GetSpan(ctx, k); got.Blocks != `["a"]` {
			t.Errorf("an older write replaced a newer one: %q", got.Blocks)
		}
		if ok, _ := s.LeaseSpan(ctx, k, base.Add(5*time.Second), base.Add(15*time.Second)); ok {
			t.Error("the lease was taken again before it ran out, right after the write")
		}
		if ok, err := s.LeaseSpan(ctx, k, lease, lease.Add(10*time.Second)); err != nil || !ok {
			t.Fatalf("lease once the first ran out: %v, %v", ok, err)
		}
		if err := s.PutSpan(ctx, k, `["b"]`, lease.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.GetSpan(ctx, k); got.Blocks != `["b"]` || !got.FetchedAt.Equal(lease.Add(time.Second)) {
			t.Errorf("after the second refresh: %+v", got)
		}

		// Every part of the key tells spans apart.
		for _, other := range []SpanKey{
			{Clinic: "other", LocationID: k.LocationID, TimezoneID: k.TimezoneID, Start: k.Start},
			{Clinic: k.Clinic, LocationID: "loc-2", TimezoneID: k.TimezoneID, Start: k.Start},
			{Clinic: k.Clinic, LocationID: k.LocationID, TimezoneID: "tz-1", Start: k.Start},
			{Clinic: k.Clinic, LocationID: k.LocationID, TimezoneID: k.TimezoneID, Start: "2026-12-21"},
		} {
			if _, err := s.GetSpan(ctx, other); !errors.Is(err, ErrNotFound) {
				t.Errorf("%+v: %v; want ErrNotFound", other, err)
			}
			if ok, err := s.LeaseSpan(ctx, other, lease, lease.Add(10*time.Second)); err != nil || !ok {
				t.Errorf("%+v: lease %v, %v; want its own lease", other, ok, err)
			}
		}
	})
}

// TestSpanLeaseOneOfMany: of many replicas asking for a span's lease at
// once, on a row that is not there yet, exactly one gets it.
func TestSpanLeaseOneOfMany(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := SpanKey{Clinic: "harbourside", LocationID: "loc-1", TimezoneID: "tz-9", Start: "2026-12-07"}
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				ok, err := s.LeaseSpan(ctx, k, base, base.Add(10*time.Second))
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Errorf("%d of 12 took the lease; want 1", n)
		}
	})
}

// TestOldSpansAreDropped: writing a location's span drops its rows that
// nobody wrote for a day (spans gone by), and no other location's.
func TestOldSpansAreDropped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		old := SpanKey{Clinic: "c", LocationID: "loc-1", TimezoneID: "tz", Start: "2026-11-23"}
		elsewhere := SpanKey{Clinic: "c", LocationID: "loc-2", TimezoneID: "tz", Start: "2026-11-23"}
		for _, k := range []SpanKey{old, elsewhere} {
			if err := s.PutSpan(ctx, k, "[]", base); err != nil {
				t.Fatal(err)
			}
		}
		now := base.Add(spanKeep + time.Minute)
		if err := s.PutSpan(ctx, SpanKey{Clinic: "c", LocationID: "loc-1", TimezoneID: "tz", Start: "2026-12-07"}, "[]", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSpan(ctx, old); !errors.Is(err, ErrNotFound) {
			t.Errorf("a span last written a day ago: %v; want dropped", err)
		}
		if _, err := s.GetSpan(ctx, elsewhere); err != nil {
			t.Errorf("another location's span: %v; want kept", err)
		}
	})
}
