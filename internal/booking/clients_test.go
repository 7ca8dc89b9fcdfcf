package booking

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// timedAPI notes when each client call to coreplus started and ended.
type timedAPI struct {
	Coreplus
	mu    sync.Mutex
	calls []timedCall
}

type timedCall struct {
	op         string
	start, end time.Time
}

func (a *timedAPI) note(op string, start time.Time) {
	end := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, timedCall{op, start, end})
}

func (a *timedAPI) SearchClients(ctx context.Context, q coreplus.ClientSearch) ([]coreplus.Client, error) {
	defer a.note("search", time.Now())
	return a.Coreplus.SearchClients(ctx, q)
}

func (a *timedAPI) GetClient(ctx context.Context, id string) (coreplus.Client, error) {
	defer a.note("get", time.Now())
	return a.Coreplus.GetClient(ctx, id)
}

func (a *timedAPI) CreateClient(ctx context.Context, c coreplus.NewClient) (string, error) {
	defer a.note("create", time.Now())
	return a.Coreplus.CreateClient(ctx, c)
}

// sandboxClients is a service over an in-process sandbox that answers
// every request after latency, and the client to seed it with.
func sandboxClients(tb testing.TB, latency time.Duration) (*Service, *timedAPI, *sandbox.Server, *coreplus.API) {
	tb.Helper()
	sb := sandbox.New(sandbox.Config{RateLimit: -1, Faults: sandbox.Faults{Latency: latency}})
	srv := httptest.NewServer(sb)
	tb.Cleanup(srv.Close)
	api, err := coreplus.New(coreplus.Config{
		BaseURL: srv.URL + "/API/Core/v2.1/", ConsumerID: sandbox.DemoConsumerID,
		ConsumerSecret: sandbox.DemoConsumerSecret, AccessToken: sandbox.DemoAccessToken,
		Limiter: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		tb.Fatal(err)
	}
	timed := &timedAPI{Coreplus: api}
	return NewService(Clinic{Slug: "x"}, timed, nil, nil), timed, sb, api
}

var (
	joDOB = time.Date(1988, 11, 20, 0, 0, 0, 0, time.UTC)
	// jo is the sandbox's Joanna Varga as she types her details.
	jo = Details{FirstName: "Joanna", LastName: "Varga", DateOfBirth: joDOB, Email: "jo.varga@example.com", Mobile: "0412000111"}
	// joElsewhere is the same person (as far as anyone can tell) with
	// other contact details.
	joElsewhere = Details{FirstName: "joanna", LastName: "VARGA", DateOfBirth: joDOB, Email: "jo.elsewhere@example.com", Mobile: "0400000001"}
	zephyrine   = Details{FirstName: "Zephyrine", LastName: "Quillfeather", DateOfBirth: time.Date(1983, 2, 14, 0, 0, 0, 0, time.UTC),
		Email: "zq.test@example.com", Mobile: "0499111222"}
)

// TestClientMatchIsOneSearchThenOneRound: whoever the patient is, matching
// asks coreplus the same way, so its time says nothing of coreplus's
// records: one search, then one round, either the candidates read all at
// once (each started before any ended) or the client created. The same
// person with other contact details goes on the existing record, which
// stays as it was.
func TestClientMatchIsOneSearchThenOneRound(t *testing.T) {
	cases := []struct {
		name       string
		d          Details
		duplicates []coreplus.NewClient // more records of Joanna Varga
		wantOp     string
		wantCalls  int
		want       func(id string) bool
		differs    bool
	}{
		{name: "new patient", d: zephyrine, wantOp: "create", wantCalls: 1,
			want: func(id string) bool { return id != "" && id != sandbox.ClientJoannaVargaID }},
		{name: "known patient, same contact", d: jo, wantOp: "get", wantCalls: 1, want: isJo},
		{name: "known patient, other contact", d: joElsewhere, wantOp: "get", wantCalls: 1, want: isJo, differs: true},
		{name: "several records, one with the contact", d: joElsewhere,
			duplicates: []coreplus.NewClient{joRecord("jo.old@example.com", ""), joRecord(joElsewhere.Email, joElsewhere.Mobile)}, wantOp: "get", wantCalls: 3},
		{name: "several records, none with the contact", d: joElsewhere,
			duplicates: []coreplus.NewClient{joRecord("jo.old@example.com", "")}, wantOp: "get", wantCalls: 2, differs: true},
		{name: "more records than are read", d: joElsewhere,
			duplicates: slices.Repeat([]coreplus.NewClient{joRecord("jo.old@example.com", "")}, maxCandidates+1), wantOp: "get", wantCalls: maxCandidates, differs: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, timed, sb, api := sandboxClients(t, 20*time.Millisecond)
			var dupIDs []string
			for _, c := range tc.duplicates {
				id, err := api.CreateClient(t.Context(), c)
				if err != nil {
					t.Fatal(err)
				}
				dupIDs = append(dupIDs, id)
			}
			before := sb.Clients()

			m, err := svc.findOrCreateClient(t.Context(), tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if m.ContactDiffers != tc.differs {
				t.Errorf("contact differs %v, want %v", m.ContactDiffers, tc.differs)
			}
			switch {
			case tc.want != nil:
				if !tc.want(m.ID) {
					t.Errorf("client %s", m.ID)
				}
			case !tc.differs:
				// The one record with the contact given.
				if m.ID != dupIDs[len(dupIDs)-1] {
					t.Errorf("client %s, want %s, the record with the patient's email", m.ID, dupIDs[len(dupIDs)-1])
				}
			default:
				// The first listed; the sandbox lists one person's records by id.
				first := slices.Min(append(dupIDs, sandbox.ClientJoannaVargaID))
				if m.ID != first {
					t.Errorf("client %s, want %s, the first listed", m.ID, first)
				}
			}
			if after := sb.Clients(); tc.wantOp != "create" && !slices.Equal(after, before) {
				t.Errorf("coreplus's clients changed:\n%+v\nwas\n%+v", after, before)
			}

			calls := timed.calls
			if len(calls) != 1+tc.wantCalls || calls[0].op != "search" {
				t.Fatalf("calls %v, want a search then %d %s", ops(calls), tc.wantCalls, tc.wantOp)
			}
			round := calls[1:]
			latestStart, earliestEnd := round[0].start, round[0].end
			for _, c := range round {
				if c.op != tc.wantOp {
					t.Errorf("calls %v, want a search then only %s", ops(calls), tc.wantOp)
				}
				if c.start.Before(calls[0].end) {
					t.Errorf("%s started before the search ended", c.op)
				}
				if c.start.After(latestStart) {
					latestStart = c.start
				}
				if c.end.Before(earliestEnd) {
					earliestEnd = c.end
				}
			}
			if !latestStart.Before(earliestEnd) {
				t.Errorf("the reads were not made at once: the last started %v after the first ended", latestStart.Sub(earliestEnd))
			}
		})
	}
}

func isJo(id string) bool { return id == sandbox.ClientJoannaVargaID }

// joRecord is another coreplus record of Joanna Varga.
func joRecord(email, mobile string) coreplus.NewClient {
	return coreplus.NewClient{FirstName: "Joanna", LastName: "Varga", DateOfBirth: coreplus.DateOf(joDOB), Email: email, Mobile: mobile}
}

func ops(calls []timedCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.op)
	}
	return out
}

// BenchmarkClientMatch times matching a patient to a coreplus client that
// answers after 150 ms, for a new patient, a known one with the contact
// details on record, a known one with others, and one coreplus holds three
// records of: all should take one search and one round, about 300 ms.
func BenchmarkClientMatch(b *testing.B) {
	const latency = 150 * time.Millisecond
	for _, bc := range []struct {
		name       string
		d          func(i int) Details
		duplicates []coreplus.NewClient
	}{
		{"new patient", func(i int) Details {
			d := zephyrine
			d.LastName += lettersOf(i) // a new person every time
			return d
		}, nil},
		{"same contact", func(int) Details { return jo }, nil},
		{"other contact", func(int) Details { return joElsewhere }, nil},
		{"three records", func(int) Details { return joElsewhere },
			[]coreplus.NewClient{joRecord("jo.old@example.com", ""), joRecord(joElsewhere.Email, joElsewhere.Mobile)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc, _, _, api := sandboxClients(b, latency)
			for _, c := range bc.duplicates {
				if _, err := api.CreateClient(b.Context(), c); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				if _, err := svc.findOrCreateClient(b.Context(), bc.d(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// lettersOf spells i in letters, for names that must differ.
func lettersOf(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		if i /= 26; i == 0 {
			return s
		}
	}
}
