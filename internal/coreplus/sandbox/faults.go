package sandbox

import (
	"net/http"
	"time"
)

// Faults makes the sandbox misbehave the way a real network and a busy API do.
type Faults struct {
	Latency           time.Duration // added before answering
	ErrorRate         float64       // share of requests answered with a 503 (plain text body)
	DropRate          float64       // share of requests whose connection is closed with no answer
	StoreThenDropRate float64       // share of successful POST /Appointment/ bookings stored, then dropped before answering
	// Match limits faults to some requests (method "GET"/"POST", resource
	// lower-case e.g. "availabilityslot", "appointment"); nil = all.
	Match func(method, resource string) bool
}

// SetFaults replaces the faults; safe while requests are being served.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
}

func (s *Server) currentFaults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults
}

// roll reports whether an event with probability p happens, from the seeded source.
func (s *Server) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultRand.Float64() < p
}

// applyFaults delays, fails or drops the request; it reports whether the
// request has been dealt with.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, resource string) bool {
	f := s.currentFaults()
	if f.Match != nil && !f.Match(r.Method, resource) {
		return false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true // the client gave up; nobody is listening
		}
	}
	if s.roll(f.ErrorRate) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable"))
		return true
	}
	if s.roll(f.DropRate) {
		dropConnection(w)
		return true
	}
	return false
}

// storeThenDrop reports whether a booking that has just been stored should
// go unanswered.
func (s *Server) storeThenDrop(r *http.Request) bool {
	f := s.currentFaults()
	if f.Match != nil && !f.Match(r.Method, "appointment") {
		return false
	}
	return s.roll(f.StoreThenDropRate)
}

// dropConnection closes the connection with no response. Without a
// hijackable connection (HTTP/2) the abort panic resets the stream instead.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
