package sandbox

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultErrorRate(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{ErrorRate: 1}})
	resp := e.get("Location/", nil)
	if resp.status != http.StatusServiceUnavailable || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, content type %q", resp.status, resp.header.Get("Content-Type"))
	}
	e.srv.SetFaults(Faults{})
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("after clearing faults: %d", resp.status)
	}
	// Faults come after auth: a bad token is still a 401.
	e.srv.SetFaults(Faults{ErrorRate: 1})
	req := e.newRequest(http.MethodGet, e.url("Location/", nil), nil)
	req.Header.Del("Authorization")
	if resp := e.send(req); resp.status != http.StatusUnauthorized {
		t.Fatalf("unsigned request under faults: %d", resp.status)
	}
}

func TestFaultErrorRateIsAShare(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{ErrorRate: 0.5}, Seed: 7})
	failed := 0
	for i := 0; i < 100; i++ {
		if e.get("Location/", nil).status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed < 30 || failed > 70 {
		t.Fatalf("%d of 100 failed at rate 0.5", failed)
	}
}

func TestFaultDrop(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{DropRate: 1}})
	resp, err := e.ts.Client().Do(e.newRequest(http.MethodGet, e.url("Location/", nil), nil))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a connection error", resp.StatusCode)
	}
}

func TestFaultStoreThenDrop(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{StoreThenDropRate: 1}})
	e.clearDiary()
	start := time.Date(2025, 3, 11, 9, 0, 0, 0, sydney)
	body := booking(PractitionerPriyaID, LocationSydneyID, AppointmentTypeStandardID, ClientJoannaVargaID, start, 30)
	resp, err := e.ts.Client().Do(e.newRequest(http.MethodPost, e.url("Appointment/", nil), body))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a connection error", resp.StatusCode)
	}
	got := e.srv.Appointments()
	if len(got) != 1 || !got[0].Start.Equal(start) || got[0].Status != "Booked" {
		t.Fatalf("diary %+v, want the booking stored", got)
	}
	// Reads and refused bookings are answered normally.
	if r := e.get("Location/", nil); r.status != http.StatusOK {
		t.Fatalf("GET under store-then-drop: %d", r.status)
	}
	if a, reason := e.book(body); a != nil || reason != reasonNotAvailable {
		t.Fatalf("retry of the stored booking: %+v %q", a, reason)
	}
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{Latency: 150 * time.Millisecond}})
	began := time.Now()
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("status %d", resp.status)
	}
	if took := time.Since(began); took < 150*time.Millisecond {
		t.Fatalf("answered in %v, want at least 150ms", took)
	}
}

func TestFaultMatch(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetFaults(Faults{ErrorRate: 1, Match: func(method, resource string) bool {
		return method == http.MethodGet && resource == "availabilityslot"
	}})
	if resp := e.get("Location/", nil); resp.status != http.StatusOK {
		t.Fatalf("Location: %d, want 200", resp.status)
	}
	resp := e.get("availabilityslot", slotQuery(TimezoneSydneyID, "2025-03-10", "2025-03-10"))
	if resp.status != http.StatusServiceUnavailable {
		t.Fatalf("AvailabilitySlot: %d, want 503", resp.status)
	}
	if body, _ := io.ReadAll(strings.NewReader(string(resp.body))); string(body) != "Service Unavailable" {
		t.Fatalf("503 body %q", body)
	}
}
