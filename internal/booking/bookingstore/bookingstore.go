// Package bookingstore adapts internal/store to booking.Store, so that the
// booking rules never import a database driver. The store knows no status:
// this adapter hands it booking's statuses, and the rules that pick them.
package bookingstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/store"
)

// Adapter is a booking.Store over a *store.Store.
type Adapter struct {
	S *store.Store
	// Seal seals what of the patient a queued message holds; nil when the
	// portal sends no mail, and then no message is queued.
	Seal Sealer
}

var (
	_ booking.Store        = Adapter{}
	_ booking.RequestStore = Adapter{}
	_ booking.Outbox       = Adapter{}
)

// New wraps s. It queues no messages: see WithOutbox.
func New(s *store.Store) Adapter { return Adapter{S: s} }

// WithOutbox is a with messages queued, their personal content sealed by
// seal (a *clinics.Keyring).
func (a Adapter) WithOutbox(seal Sealer) Adapter {
	a.Seal = seal
	return a
}

func (a Adapter) CreateDraft(ctx context.Context, d booking.Draft) error {
	return mapErr(a.S.CreateDraft(ctx, toStoreDraft(d)))
}

func (a Adapter) GetDraft(ctx context.Context, id string, now time.Time) (booking.Draft, error) {
	sd, err := a.S.GetDraft(ctx, id)
	if err != nil {
		return booking.Draft{}, mapErr(err)
	}
	d, ok := fromStoreDraft(sd).AsOf(now)
	if !ok {
		return booking.Draft{}, booking.ErrDraftNotFound
	}
	return d, nil
}

func (a Adapter) UpdateDraft(ctx context.Context, d booking.Draft) error {
	return mapErr(a.S.UpdateDraft(ctx, toStoreDraft(d), string(booking.DraftOpen)))
}

func (a Adapter) RetryDraft(ctx context.Context, failedID string, next booking.Draft) (string, error) {
	next.Status, next.RetriedAs = booking.DraftOpen, ""
	id, err := a.S.RetryDraft(ctx, failedID, string(booking.DraftFailed), toStoreDraft(next))
	return id, mapErr(err)
}

func (a Adapter) SetDraftStatus(ctx context.Context, id string, from, to booking.DraftStatus) (bool, error) {
	return a.S.SetDraftStatus(ctx, id, string(from), string(to))
}

func (a Adapter) ClaimBooking(ctx context.Context, r booking.Record) error {
	return mapErr(a.S.ClaimBooking(ctx, toStoreBooking(r), string(booking.RecordPending)))
}

func (a Adapter) ReleaseClaim(ctx context.Context, draftID string, seen time.Time) (bool, error) {
	return a.S.ReleaseClaim(ctx, draftID, string(booking.RecordPending), seen)
}

func (a Adapter) HeldSlots(ctx context.Context, clinic string, from, to time.Time) ([]booking.Record, error) {
	return fromStoreBookings(a.S.HeldSlots(ctx, clinic, from, to, statusesWhere(booking.RecordStatuses(), booking.RecordStatus.HoldsSlot)))
}

func (a Adapter) GetBookingByDraft(ctx context.Context, draftID string) (booking.Record, error) {
	b, err := a.S.GetBookingByDraft(ctx, draftID)
	if errors.Is(err, store.ErrNotFound) {
		return booking.Record{}, booking.ErrNoBooking
	}
	if err != nil {
		return booking.Record{}, err
	}
	return fromStoreBooking(b), nil
}

func (a Adapter) ListBookingsByStatus(ctx context.Context, status booking.RecordStatus, limit int) ([]booking.Record, error) {
	return fromStoreBookings(a.S.ListBookingsByStatus(ctx, string(status), limit))
}

func (a Adapter) ListBookingsDue(ctx context.Context, status booking.RecordStatus, now time.Time, limit int) ([]booking.Record, error) {
	return fromStoreBookings(a.S.ListBookingsDue(ctx, string(status), now, limit))
}

// CountUnsettled counts the bookings whose outcome is not known for good
// (booking.RecordStatus.Settled), by status, with when the oldest was made.
func (a Adapter) CountUnsettled(ctx context.Context) ([]store.StatusCount, error) {
	return a.S.CountBookings(ctx, statusesWhere(booking.RecordStatuses(), func(s booking.RecordStatus) bool { return !s.Settled() }))
}

func (a Adapter) TakeLook(ctx context.Context, draftID string, seen, until time.Time) (bool, error) {
	return a.S.TakeLook(ctx, draftID, seen, until)
}

func (a Adapter) SetNextLook(ctx context.Context, draftID string, until time.Time) error {
	return a.S.SetNextLook(ctx, draftID, until)
}

// fromStoreBookings converts a list the store read, or passes its error on.
func fromStoreBookings(list []store.Booking, err error) ([]booking.Record, error) {
	if err != nil {
		return nil, err
	}
	out := make([]booking.Record, len(list))
	for i, b := range list {
		out[i] = fromStoreBooking(b)
	}
	return out, nil
}

func (a Adapter) SetBookingStatus(ctx context.Context, draftID string, from booking.RecordStatus, seen time.Time, to booking.RecordStatus) (bool, error) {
	return a.S.SetBookingStatus(ctx, draftID, string(from), seen, string(to))
}

func (a Adapter) SettleBooking(ctx context.Context, r booking.Record, due ...booking.Message) (bool, error) {
	queue, err := a.sealMessages(due)
	if err != nil {
		return false, err
	}
	b := toStoreBooking(r)
	if b.SealedContact, err = a.sealContact(r.DraftID, due); err != nil {
		return false, err
	}
	unsettled := statusesWhere(booking.RecordStatuses(), func(s booking.RecordStatus) bool { return !s.Settled() })
	return a.S.SettleBooking(ctx, b, unsettled, queue...)
}

func (a Adapter) ClaimResend(ctx context.Context, draftID string, seen time.Time) (bool, error) {
	return a.S.ClaimResend(ctx, draftID, seen, string(booking.RecordUnknown), string(booking.RecordPending))
}

func (a Adapter) ReopenStuckDrafts(ctx context.Context, cutoff time.Time) ([]string, error) {
	return a.S.ReopenStuckDrafts(ctx, cutoff, string(booking.DraftBooking), string(booking.DraftOpen))
}

func (a Adapter) AlignDraftStatuses(ctx context.Context) (int64, error) {
	awaiting := statusesWhere(booking.DraftStatuses(), booking.DraftStatus.AwaitsOutcome)
	var total int64
	for _, to := range []booking.DraftStatus{booking.DraftBooked, booking.DraftFailed} {
		records := statusesWhere(booking.RecordStatuses(), func(s booking.RecordStatus) bool { return s.SettlesDraftAs() == to })
		n, err := a.S.AlignDraftStatuses(ctx, string(to), awaiting, records)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (a Adapter) DeleteExpiredDrafts(ctx context.Context, now time.Time) (int64, error) {
	if _, err := a.S.WipeStartedContacts(ctx, now); err != nil {
		return 0, err
	}
	deleted, err := a.S.DeleteExpiredDrafts(ctx, now, statusesWhere(booking.DraftStatuses(), booking.DraftStatus.GoneAtExpiry))
	if err != nil {
		return 0, err
	}
	settled := statusesWhere(booking.RecordStatuses(), booking.RecordStatus.Settled)
	wiped, err := a.S.WipeExpiredDetails(ctx, now, statusesWhere(booking.DraftStatuses(), booking.DraftStatus.WipedAtExpiry), settled)
	if err != nil {
		return deleted, err
	}
	return deleted + wiped, nil
}

func (a Adapter) CreateRequest(ctx context.Context, r booking.Request, due ...booking.Message) error {
	queue, err := a.sealMessages(due)
	if err != nil {
		return err
	}
	return a.S.CreateRequest(ctx, store.Request{
		ID: r.ID, Clinic: r.Clinic, LocationID: r.LocationID, AppointmentTypeID: r.ServiceID,
		PractitionerID: r.PractitionerID, Days: r.Days, Times: r.Times,
		Details: store.RequestDetails{
			FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Mobile: r.Mobile, Note: r.Note,
		},
		Status: string(booking.RequestNew), CreatedAt: r.CreatedAt,
	}, queue...)
}

func (a Adapter) ListRequests(ctx context.Context, clinic string, now time.Time) ([]booking.Request, error) {
	list, err := a.S.ListRequests(ctx, clinic, now)
	if err != nil {
		return nil, err
	}
	out := make([]booking.Request, len(list))
	for i, r := range list {
		out[i] = booking.Request{
			ID: r.ID, Clinic: r.Clinic, LocationID: r.LocationID, ServiceID: r.AppointmentTypeID,
			PractitionerID: r.PractitionerID, Days: r.Days, Times: r.Times,
			FirstName: r.Details.FirstName, LastName: r.Details.LastName, Email: r.Details.Email,
			Mobile: r.Details.Mobile, Note: r.Details.Note,
			Status: booking.RequestStatus(r.Status), CreatedAt: r.CreatedAt,
			ContactedBy: r.ContactedBy, ContactedAt: r.ContactedAt,
		}
	}
	return out, nil
}

func (a Adapter) SetRequestStatus(ctx context.Context, clinic, id string, from, to booking.RequestStatus, by string, at time.Time) (bool, error) {
	return a.S.SetRequestStatus(ctx, clinic, id, string(from), string(to), by, at)
}

func fromStoreBooking(b store.Booking) booking.Record {
	return booking.Record{
		DraftID: b.DraftID, Clinic: b.Clinic, AppointmentID: b.AppointmentID, ReferenceNumber: b.ReferenceNumber,
		ClientID: b.ClientID, PractitionerID: b.PractitionerID, LocationID: b.LocationID,
		ServiceID: b.AppointmentTypeID, Start: b.Start, End: b.End, Status: booking.RecordStatus(b.Status),
		Resent: b.Resent, NextLook: b.NextLook, ContactDiffers: b.ContactDiffers,
		Sequence: int(b.Sequence), Change: booking.Change(b.ChangeState), ChangeStartedAt: b.ChangeStartedAt,
		PrevPractitionerID: b.PrevPractitionerID, PrevStart: b.PrevStart, PrevEnd: b.PrevEnd,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
	}
}

func (a Adapter) BeginCancel(ctx context.Context, draftID string) (bool, error) {
	return a.S.BeginCancel(ctx, draftID, string(booking.RecordBooked))
}

func (a Adapter) FinishCancel(ctx context.Context, draftID string, due ...booking.Message) (bool, error) {
	queue, unaddressed := a.queueAddressed(ctx, draftID, due)
	ok, err := a.S.FinishCancel(ctx, draftID, string(booking.RecordCancelled), queue...)
	if err != nil {
		return false, err
	}
	return ok, unaddressed
}

// queueAddressed is due, addressed to the patient of the booking made from
// draftID and sealed for the outbox. When they cannot be, the change is
// still to be recorded: none is queued, and the error is an
// ErrNotAddressed.
func (a Adapter) queueAddressed(ctx context.Context, draftID string, due []booking.Message) ([]store.OutboxMessage, error) {
	to, err := a.addressed(ctx, draftID, due)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", booking.ErrNotAddressed, err)
	}
	queue, err := a.sealMessages(to)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", booking.ErrNotAddressed, err)
	}
	return queue, nil
}

func (a Adapter) AbandonCancel(ctx context.Context, draftID string) (bool, error) {
	return a.S.AbandonCancel(ctx, draftID)
}

func (a Adapter) BeginMove(ctx context.Context, draftID, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error) {
	ok, err := a.S.BeginMove(ctx, draftID, string(booking.RecordBooked), fromPractitionerID, fromStart, practitionerID, start, end)
	return ok, mapErr(err)
}

func (a Adapter) FinishMove(ctx context.Context, draftID string, due ...booking.Message) (bool, error) {
	queue, unaddressed := a.queueAddressed(ctx, draftID, due)
	ok, err := a.S.FinishMove(ctx, draftID, queue...)
	if err != nil {
		return false, err
	}
	return ok, unaddressed
}

func (a Adapter) UndoMove(ctx context.Context, draftID string) (bool, error) {
	return a.S.UndoMove(ctx, draftID)
}

func (a Adapter) MarkCancelled(ctx context.Context, draftID string) (bool, error) {
	return a.S.MarkCancelled(ctx, draftID, string(booking.RecordBooked), string(booking.RecordCancelled))
}

func (a Adapter) RecordMovedTo(ctx context.Context, draftID, fromPractitionerID string, fromStart time.Time, practitionerID string, start, end time.Time) (bool, error) {
	ok, err := a.S.RecordMovedTo(ctx, draftID, fromPractitionerID, fromStart, practitionerID, start, end)
	return ok, mapErr(err)
}

func (a Adapter) ListChangesBegun(ctx context.Context, before time.Time, limit int) ([]booking.Record, error) {
	return fromStoreBookings(a.S.ListChangesBegun(ctx, before, limit))
}

func (a Adapter) UpdateBooking(ctx context.Context, r booking.Record, due ...booking.Message) error {
	queue, err := a.sealMessages(due)
	if err != nil {
		return err
	}
	b := toStoreBooking(r)
	if b.SealedContact, err = a.sealContact(r.DraftID, due); err != nil {
		return err
	}
	return mapErr(a.S.UpdateBooking(ctx, b, queue...))
}

// statusesWhere is the statuses of all that rule holds for, as the store
// takes them.
func statusesWhere[S ~string](all []S, rule func(S) bool) []string {
	var out []string
	for _, s := range all {
		if rule(s) {
			out = append(out, string(s))
		}
	}
	return out
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return booking.ErrDraftNotFound
	case errors.Is(err, store.ErrDraftNotOpen):
		return booking.ErrDraftNotOpen
	case errors.Is(err, store.ErrDuplicateDraft):
		return booking.ErrDuplicateBooking
	case errors.Is(err, store.ErrSlotTaken):
		return booking.ErrSlotClaimed
	}
	return err
}

func toStoreDraft(d booking.Draft) store.Draft {
	sd := store.Draft{
		ID: d.ID, Clinic: d.Clinic, LocationID: d.LocationID, AppointmentTypeID: d.ServiceID,
		PractitionerID: d.PractitionerID, SlotStart: d.SlotStart, SlotEnd: d.SlotEnd,
		SlotPractitionerID: d.SlotPractitionerID, Status: string(d.Status), ExpiresAt: d.ExpiresAt,
		Details: store.PatientDetails{
			FirstName: d.Details.FirstName, LastName: d.Details.LastName, Email: d.Details.Email,
			Mobile: d.Details.Mobile, Note: d.Details.Note, Consent: d.Details.Consent,
		},
	}
	if !d.Details.DateOfBirth.IsZero() {
		sd.Details.DateOfBirth = d.Details.DateOfBirth.Format("2006-01-02")
	}
	return sd
}

func fromStoreDraft(d store.Draft) booking.Draft {
	bd := booking.Draft{
		ID: d.ID, Clinic: d.Clinic, LocationID: d.LocationID, ServiceID: d.AppointmentTypeID,
		PractitionerID: d.PractitionerID, SlotStart: d.SlotStart, SlotEnd: d.SlotEnd,
		SlotPractitionerID: d.SlotPractitionerID, Status: booking.DraftStatus(d.Status), ExpiresAt: d.ExpiresAt,
		RetriedAs: d.RetriedAs,
		Details: booking.Details{
			FirstName: d.Details.FirstName, LastName: d.Details.LastName, Email: d.Details.Email,
			Mobile: d.Details.Mobile, Note: d.Details.Note, Consent: d.Details.Consent,
		},
	}
	if t, err := time.Parse("2006-01-02", d.Details.DateOfBirth); err == nil {
		bd.Details.DateOfBirth = t
	}
	return bd
}

func toStoreBooking(r booking.Record) store.Booking {
	return store.Booking{
		DraftID: r.DraftID, Clinic: r.Clinic, AppointmentID: r.AppointmentID, ReferenceNumber: r.ReferenceNumber,
		ClientID: r.ClientID, PractitionerID: r.PractitionerID, LocationID: r.LocationID,
		AppointmentTypeID: r.ServiceID, Start: r.Start, End: r.End, Status: string(r.Status), Resent: r.Resent,
		ContactDiffers: r.ContactDiffers,
	}
}
