package booking

// The statuses are spelled here and nowhere else in Go. The database's CHECK
// constraints and partial index (migrations/) name them too: a new status
// needs a migration as well.

// DraftStatus is where a draft stands: open while the patient edits it,
// booking while a submit is in flight, then booked, failed (coreplus said
// no; the patient may try again) or unknown (no answer came).
type DraftStatus string

const (
	DraftOpen    DraftStatus = "open"
	DraftBooking DraftStatus = "booking"
	DraftBooked  DraftStatus = "booked"
	DraftUnknown DraftStatus = "unknown"
	DraftFailed  DraftStatus = "failed"
)

// DraftStatuses lists every draft status.
func DraftStatuses() []DraftStatus {
	return []DraftStatus{DraftOpen, DraftBooking, DraftBooked, DraftUnknown, DraftFailed}
}

// Submitted reports whether the draft's booking has been sent (or is being
// sent): its details belong to that booking and are not to be shown or
// edited again. An open draft is being edited; a failed one is copied,
// once, to the draft that carries its retry when the patient tries again.
func (s DraftStatus) Submitted() bool { return s.AwaitsOutcome() || s == DraftBooked }

// AwaitsOutcome reports whether the draft's booking was sent and its
// outcome is not yet recorded on the draft.
func (s DraftStatus) AwaitsOutcome() bool { return s == DraftBooking || s == DraftUnknown }

// GoneAtExpiry reports whether a draft in s is gone once it expires:
// nothing of it was sent (open) or nothing was booked (failed). A draft
// whose submit started outlives its expiry until its outcome is settled.
func (s DraftStatus) GoneAtExpiry() bool { return s == DraftOpen || s == DraftFailed }

// WipedAtExpiry reports whether a draft in s keeps its row but loses the
// patient's details once it expires: a booked draft, so that a late visit
// can still be told the booking was made.
func (s DraftStatus) WipedAtExpiry() bool { return s == DraftBooked }

// RecordStatus is where a booking record stands: pending once the slot is
// claimed until coreplus answers, booked when coreplus confirmed, unknown
// when it was sent with no clear answer (it may exist in coreplus), failed
// when coreplus refused, cancelled when booked and then cancelled.
type RecordStatus string

const (
	RecordPending   RecordStatus = "pending"
	RecordBooked    RecordStatus = "booked"
	RecordUnknown   RecordStatus = "unknown"
	RecordFailed    RecordStatus = "failed"
	RecordCancelled RecordStatus = "cancelled"
)

// RecordStatuses lists every booking record status.
func RecordStatuses() []RecordStatus {
	return []RecordStatus{RecordPending, RecordBooked, RecordUnknown, RecordFailed, RecordCancelled}
}

// HoldsSlot reports whether a booking record in s keeps its practitioner's
// start from every other draft: in flight, or booked. The schema's
// bookings_slot_held index says the same in SQL, so that it holds across
// replicas; TestRecordStatusesHoldSlotsAsTheSchemaDoes keeps the two alike.
func (s RecordStatus) HoldsSlot() bool { return !s.Settled() || s == RecordBooked }

// Settled reports whether the booking's outcome is known for good.
func (s RecordStatus) Settled() bool { return s.SettlesDraftAs() != "" }

// SettlesDraftAs is the status a draft takes once its booking record is
// settled in s: booked when booked, failed when failed or cancelled, and
// "" while the outcome is not known.
func (s RecordStatus) SettlesDraftAs() DraftStatus {
	switch s {
	case RecordBooked:
		return DraftBooked
	case RecordFailed, RecordCancelled:
		return DraftFailed
	}
	return ""
}

// RequestStatus is where a booking request stands: new until staff mark it
// contacted.
type RequestStatus string

const (
	RequestNew       RequestStatus = "new"
	RequestContacted RequestStatus = "contacted"
)

// RequestStatuses lists every booking request status.
func RequestStatuses() []RequestStatus {
	return []RequestStatus{RequestNew, RequestContacted}
}
