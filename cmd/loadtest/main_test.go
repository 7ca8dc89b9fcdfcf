package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestSmoke runs the load test briefly so that it keeps working as the
// portal changes: a few patients for a few seconds on a fast sandbox.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the portal; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	args := []string{"-patients", "5", "-duration", "3s", "-latency", "5ms", "-think", "100ms", "-book-every", "2", "-weeks", "2"}
	if err := run(ctx, args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	figure := func(re string) int {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no %s in the output:\n%s", re, out.String())
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if n := figure(`(?m)^time\s+(\d+)`); n == 0 {
		t.Error("no time page was shown")
	}
	if n := figure(`5xx (\d+), 4xx`); n != 0 {
		t.Errorf("the portal answered 5xx %d times", n)
	}
	if n := figure(`busiest 1 s window (\d+)`); n == 0 || n > 10 {
		t.Errorf("busiest upstream second %d; want 1 to 10 (the sandbox's limit)", n)
	}
}

func TestBusiestSecond(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []upstreamCall {
		var out []upstreamCall
		for _, m := range ms {
			out = append(out, upstreamCall{at: t0.Add(time.Duration(m) * time.Millisecond)})
		}
		return out
	}
	for _, tc := range []struct {
		calls []int
		most  int
		from  time.Duration
	}{
		{nil, 0, 0},
		{[]int{0}, 1, 0},
		{[]int{0, 999, 1000}, 2, 0}, // 1000 ms after the first is a new second
		{[]int{0, 600, 1100, 1200, 1500}, 4, 600 * time.Millisecond}, // straddling whole seconds
	} {
		most, from := busiestSecond(at(tc.calls...))
		if most != tc.most || from != tc.from {
			t.Errorf("busiestSecond(%v) = %d at %s, want %d at %s", tc.calls, most, from, tc.most, tc.from)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	f := percentiles("time", ds)
	if f.p50 != 50*time.Millisecond || f.p95 != 95*time.Millisecond || f.p99 != 99*time.Millisecond || f.max != 100*time.Millisecond {
		t.Errorf("percentiles of 1..100 ms = %s %s %s %s", f.p50, f.p95, f.p99, f.max)
	}
}

func TestOptionsRefuseReplicasWithoutDatabase(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseOptions([]string{"-replicas", "2"}, func(string) string { return "" }, &out); err == nil {
		t.Error("two replicas without a database were accepted")
	}
	if _, err := parseOptions([]string{"-replicas", "2"}, func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://localhost/portal"
		}
		return ""
	}, &out); err != nil {
		t.Errorf("two replicas with DATABASE_URL: %v", err)
	}
}
