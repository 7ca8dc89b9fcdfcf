package coreplus

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hangUp closes the connection of r with no answer, after its request has
// been read: what a crashing or overloaded server, or a proxy in front of
// it, does.
func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// net/http's Transport resends a GET by itself when a connection it reused
// from its idle pool fails before the answer (transport.go,
// persistConn.shouldRetryRequest: a reused connection, a replayable request
// per Request.isReplayable, and transportReadFromServerError or
// errServerClosedIdle). The server sees the GET twice; any RoundTripper
// wrapping the Transport, and so any limiter in front of it, sees it once.
// This test pins that behaviour down, because the client's design
// (DisableKeepAlives and Request.Close, see defaultTransport) rests on it:
// if it ever fails, net/http has changed and that reasoning needs a look.
func TestNetHTTPResendsAGETOnAReusedConnection(t *testing.T) {
	var arrivals atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrivals.Add(1) == 2 {
			hangUp(w) // the second request, on the kept-alive connection
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	var roundTrips int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		roundTrips++
		return tr.RoundTrip(r)
	})}
	for range 2 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := arrivals.Load(); roundTrips != 2 || n != 3 {
		t.Fatalf("wrapper saw %d requests, server %d; want 2 and 3 (net/http resent the dropped GET unseen)", roundTrips, n)
	}
}

// countingLimiter admits everything and counts what it admitted.
type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.n.Add(1)
	return nil
}

// Every request that reaches coreplus passed the Limiter and was told to
// OnCall, even when the server hangs up at random, reads and writes mixed:
// no request is resent by net/http behind the client's back, with the
// client's own Transport or a caller's keep-alive one.
func TestEveryRequestOnTheWirePassedTheLimiter(t *testing.T) {
	t.Run("default transport", func(t *testing.T) { testEveryRequestPassedTheLimiter(t, nil) })
	t.Run("caller's keep-alive transport", func(t *testing.T) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		testEveryRequestPassedTheLimiter(t, &http.Client{Transport: tr})
	})
}

func testEveryRequestPassedTheLimiter(t *testing.T, hc *http.Client) {
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(12, 3))
	var arrivals atomic.Int32
	h := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrivals.Add(1)
		mu.Lock()
		drop := rnd.Float64() < 0.3
		mu.Unlock()
		if drop {
			hangUp(w)
			return
		}
		if r.Method == http.MethodPost {
			io.WriteString(w, `{"client":{"clientId":"C1"}}`)
			return
		}
		io.WriteString(w, locationsJSON)
	}
	// The server also closes idle keep-alive connections at random, a
	// moment after they go idle, so that some requests meet a connection
	// the server is giving up on.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(h))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s != http.StateIdle {
			return
		}
		mu.Lock()
		drop, after := rnd.Float64() < 0.3, time.Duration(rnd.IntN(3))*time.Millisecond
		mu.Unlock()
		if drop {
			time.AfterFunc(after, func() { c.Close() })
		}
	}
	srv.Start()
	defer srv.Close()
	lim := &countingLimiter{}
	var told atomic.Int32
	api, err := New(Config{
		BaseURL: srv.URL + "/API/Core/v2.1/", ConsumerID: testConsumerID,
		ConsumerSecret: testSecret, AccessToken: testAccessToken,
		Limiter: lim, BreakerFailures: -1, HTTPClient: hc,
		OnCall: func(_ context.Context, i CallInfo) {
			if !i.NotTried {
				told.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dob := Date{1988, time.November, 20}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 15 {
				if (w+i)%5 == 0 {
					api.CreateClient(context.Background(), NewClient{FirstName: "Jo", LastName: "Varga", DateOfBirth: dob})
					continue
				}
				api.ListLocations(context.Background())
			}
		})
	}
	wg.Wait()
	a, l, o := arrivals.Load(), lim.n.Load(), told.Load()
	t.Logf("server saw %d requests, the limiter admitted %d, OnCall was told of %d", a, l, o)
	if a != l || a != o {
		t.Errorf("server saw %d requests, the limiter admitted %d, OnCall was told of %d; want all equal", a, l, o)
	}
}
