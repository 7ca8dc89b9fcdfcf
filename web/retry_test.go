package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// takenBeforeSend plays the clinic giving the time to someone on the phone
// between the portal's re-check and its booking: once armed, the next
// CreateAppointment finds the time already booked, so coreplus refuses it
// and the patient's draft ends failed.
type takenBeforeSend struct {
	booking.Coreplus
	armed *atomic.Bool
}

func (c takenBeforeSend) CreateAppointment(ctx context.Context, a coreplus.NewAppointment) (coreplus.Appointment, error) {
	if c.armed.CompareAndSwap(true, false) {
		phone := a
		phone.ClientID, phone.Notes = sandbox.ClientPeterNguyenID, ""
		if _, err := c.Coreplus.CreateAppointment(ctx, phone); err != nil {
			return coreplus.Appointment{}, err
		}
	}
	return c.Coreplus.CreateAppointment(ctx, a)
}

// TestFailedDraftConfirmedTwiceBooksOnce: a draft whose booking coreplus
// refused is confirmed again at another time, twice at once (a double
// click) or twice in a row. One appointment is made; every answer leads to
// the same confirmation, booked, with its reference; and the patient's
// details are copied to one new draft, not one per submit.
func TestFailedDraftConfirmedTwiceBooksOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   bool // both submits at once, else one after the other
	}{
		{"at once", true},
		{"in a row", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var armed atomic.Bool
			h := newHarnessSetup(t, harnessSetup{
				upstream: func(c booking.Coreplus) booking.Coreplus { return takenBeforeSend{c, &armed} },
			})
			review := h.toReview(newPatient, "Priya Nandakumar")
			_, form := review.Form()
			failedID := strings.SplitN(form.Get("draft"), ".", 2)[0]
			armed.Store(true)
			taken := h.confirm(review)
			if taken.Status != http.StatusConflict {
				t.Fatalf("refused booking: status %d, want 409", taken.Status)
			}
			if d, err := h.db.GetDraft(t.Context(), failedID); err != nil || d.Status != "failed" {
				t.Fatalf("draft %q, %v; want failed", d.Status, err)
			}
			alt := taken.Doc.Find("section.taken ul.slots a").First().AttrOr("href", "")
			again := h.get(alt).WantH1("Check your booking")
			action, form := again.Form()
			if form.Get("draft") == "" || !strings.HasPrefix(form.Get("draft"), failedID) {
				t.Fatalf("the review after the refusal is not the failed draft's: %q", form.Get("draft"))
			}

			type answer struct {
				status   int
				location string
				err      error
			}
			answers := make([]answer, 2)
			submit := func(i int) {
				var a answer
				a.status, a.location, _, a.err = h.postAs("", action, form)
				answers[i] = a
			}
			if tc.at {
				var wg sync.WaitGroup
				for i := range answers {
					wg.Go(func() { submit(i) })
				}
				wg.Wait()
			} else {
				for i := range answers {
					submit(i)
				}
			}

			for i, a := range answers {
				if a.err != nil || a.status != http.StatusSeeOther || !strings.Contains(a.location, "/booking/") {
					t.Fatalf("submit %d: status %d, location %q, %v; want a redirect to the booking", i, a.status, a.location, a.err)
				}
				if a.location != answers[0].location {
					t.Errorf("submit %d led to %s, submit 0 to %s; want the same booking", i, a.location, answers[0].location)
				}
				h.wantOneAppointment(h.get(a.location))
			}
			// The failed draft's own link says what its retry did.
			h.wantOneAppointment(h.get("/demo/booking/" + form.Get("draft") + "/"))

			if n := h.draftsHolding(newPatient.Last); n != 2 {
				t.Errorf("%d drafts hold the patient's details, want 2: the failed one and one copy to try again", n)
			}
			h.assertPrivate(newPatient)
		})
	}
}

// draftsHolding counts the drafts whose stored details contain s.
func (h *harness) draftsHolding(s string) int {
	h.t.Helper()
	db, err := sql.Open("sqlite", h.dbPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(h.t.Context(), `SELECT COUNT(*) FROM drafts WHERE details LIKE '%' || $1 || '%'`, s).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}
