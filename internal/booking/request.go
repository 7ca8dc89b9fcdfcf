package booking

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Request is what a patient leaves when the booking system cannot be
// reached: who to call back, and when they would like to be seen. Staff
// list requests with `portal requests <clinic>`.
type Request struct {
	ID             string
	Clinic         string
	LocationID     string // ids from the patient's choices so far; may be empty
	ServiceID      string
	PractitionerID string
	Days           []string // of RequestDays; empty means any
	Times          []string // of RequestTimes; empty means any
	FirstName      string
	LastName       string
	Email          string
	Mobile         string // "04XXXXXXXX", or empty
	Note           string
	// Status is the store's: a request is kept new, whatever it says.
	Status RequestStatus
	// CreatedAt is when the request was left; zero means when it is kept.
	CreatedAt time.Time
	// ContactedBy and ContactedAt say who marked the request contacted
	// (a staff member's email address, or "the command line") and when.
	ContactedBy string
	ContactedAt time.Time
}

// RequestDays and RequestTimes are the preferences a request form offers,
// as their form values, in the order shown.
var (
	RequestDays  = []string{"mon", "tue", "wed", "thu", "fri", "sat"}
	RequestTimes = []string{"morning", "afternoon", "evening"}
)

// RequestForm is the request form as typed, kept so that a form with a
// problem comes back as it was sent.
type RequestForm struct {
	FirstName      string
	LastName       string
	Email          string
	Mobile         string
	Days           []string
	Times          []string
	Note           string
	LocationID     string
	ServiceID      string
	PractitionerID string
}

// FieldContact is the id the "give us a way to contact you" error points at.
const FieldContact = FieldEmail

// idPattern is what a coreplus id (or AnyPractitioner) looks like; anything
// else in a request's choices is dropped rather than stored.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// Validate checks the form. It returns the request (without ID and Clinic)
// or every problem found, in the order of the form. Unknown days, times and
// malformed ids, which only a tampered form sends, are dropped.
func (f RequestForm) Validate() (Request, []FieldError) {
	var errs []FieldError
	bad := func(field, msg string) {
		if msg != "" {
			errs = append(errs, FieldError{Field: field, Message: msg})
		}
	}
	var r Request
	var msg string

	r.FirstName, msg = checkName("First name", "first name", f.FirstName)
	bad(FieldFirstName, msg)
	r.LastName, msg = checkName("Last name", "last name", f.LastName)
	bad(FieldLastName, msg)

	r.Email, msg = checkEmail(f.Email)
	bad(FieldEmail, msg)
	if strings.TrimSpace(f.Mobile) != "" {
		r.Mobile, msg = parseMobile(f.Mobile)
		bad(FieldMobile, msg)
	} else if r.Email == "" && msg == "" {
		bad(FieldContact, "Enter an email address or a mobile number, so the clinic can contact you")
	}

	r.Days = pick(RequestDays, f.Days)
	r.Times = pick(RequestTimes, f.Times)
	r.Note, msg = checkNote(f.Note, MaxNoteLength)
	bad(FieldNote, msg)
	for _, id := range []struct {
		in  string
		out *string
	}{{f.LocationID, &r.LocationID}, {f.ServiceID, &r.ServiceID}, {f.PractitionerID, &r.PractitionerID}} {
		if idPattern.MatchString(id.in) {
			*id.out = id.in
		}
	}
	if len(errs) > 0 {
		return Request{}, errs
	}
	return r, nil
}

// pick keeps the values of chosen that are in allowed, once each, in
// allowed's order.
func pick(allowed, chosen []string) []string {
	var out []string
	for _, a := range allowed {
		if slices.Contains(chosen, a) {
			out = append(out, a)
		}
	}
	return out
}

// LeaveRequest stores a checked request for the clinic's staff and returns
// its id.
func (s *Service) LeaveRequest(ctx context.Context, r Request) (string, error) {
	id, err := newUnguessableID()
	if err != nil {
		return "", err
	}
	r.ID, r.Clinic = id, s.clinic.Slug
	if err := s.store.CreateRequest(ctx, r, requestMessages(s.clinic, r)...); err != nil {
		return "", fmt.Errorf("create request: %w", err)
	}
	return id, nil
}

// requestMessages is what a new request makes due: a note to the clinic's
// notification address, when it has one. The note carries the choices and
// preferences, not who the patient is nor how to reach them: staff read
// those in the console (see web's request email).
func requestMessages(c Clinic, r Request) []Message {
	if c.NotificationEmail == "" {
		return nil
	}
	choices := Request{
		ID: r.ID, Clinic: r.Clinic, LocationID: r.LocationID, ServiceID: r.ServiceID, PractitionerID: r.PractitionerID,
		Days: r.Days, Times: r.Times,
	}
	return []Message{{Kind: MessageRequestLeft, Clinic: c.Slug, To: c.NotificationEmail, Request: &choices}}
}

// RequestFromDraft fills a request form from this clinic's draft, so a
// patient whose booking could not be sent types nothing twice. It never
// calls coreplus.
func (s *Service) RequestFromDraft(ctx context.Context, draftID string) (RequestForm, error) {
	d, err := s.Draft(ctx, draftID)
	if err != nil {
		return RequestForm{}, err
	}
	if d.Submitted() {
		// Those details belong to a booking already sent.
		return RequestForm{}, &Error{Code: CodeInvalid, Message: "That booking has already been sent."}
	}
	f := RequestForm{
		FirstName: d.Details.FirstName, LastName: d.Details.LastName,
		Email: d.Details.Email, Mobile: d.Details.Mobile, Note: d.Details.Note,
		LocationID: d.LocationID, ServiceID: d.ServiceID, PractitionerID: d.Choice().PractitionerID,
	}
	return f, nil
}
