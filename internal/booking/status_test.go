package booking

import "testing"

func TestDraftStatusRules(t *testing.T) {
	for _, tc := range []struct {
		status                                 DraftStatus
		submitted, awaitsOutcome, goneAtExpiry bool
	}{
		{DraftOpen, false, false, true},
		{DraftBooking, true, true, false},
		{DraftUnknown, true, true, false},
		{DraftBooked, true, false, false},
		{DraftFailed, false, false, true},
	} {
		if got := tc.status.Submitted(); got != tc.submitted {
			t.Errorf("%s.Submitted() = %v", tc.status, got)
		}
		if got := tc.status.AwaitsOutcome(); got != tc.awaitsOutcome {
			t.Errorf("%s.AwaitsOutcome() = %v", tc.status, got)
		}
		if got := tc.status.GoneAtExpiry(); got != tc.goneAtExpiry {
			t.Errorf("%s.GoneAtExpiry() = %v", tc.status, got)
		}
	}
}

func TestRecordStatusRules(t *testing.T) {
	for _, tc := range []struct {
		status  RecordStatus
		settled bool
		draft   DraftStatus
	}{
		{RecordPending, false, ""},
		{RecordUnknown, false, ""},
		{RecordBooked, true, DraftBooked},
		{RecordFailed, true, DraftFailed},
		{RecordCancelled, true, DraftFailed},
	} {
		if got := tc.status.Settled(); got != tc.settled {
			t.Errorf("%s.Settled() = %v", tc.status, got)
		}
		if got := tc.status.SettlesDraftAs(); got != tc.draft {
			t.Errorf("%s.SettlesDraftAs() = %q, want %q", tc.status, got, tc.draft)
		}
	}
}
