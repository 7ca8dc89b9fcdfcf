package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RequestIDShown is how much of a request's id staff are shown; to mark a
// request they give at least that much of it.
const RequestIDShown = 8

// Why MarkRequestContacted marked nothing.
var (
	// ErrRequestIDTooShort: fewer than RequestIDShown characters were given.
	ErrRequestIDTooShort = errors.New("booking: too little of the request id to tell requests apart")
	// ErrNoSuchRequest: no unexpired request of the clinic has an id that
	// starts so.
	ErrNoSuchRequest = errors.New("booking: no such booking request")
	// ErrAlreadyContacted: the request was marked contacted before.
	ErrAlreadyContacted = errors.New("booking: the booking request is already marked contacted")
	// ErrRequestChanged: the request changed between reading and marking
	// (someone else marked it, or it expired).
	ErrRequestChanged = errors.New("booking: the booking request changed meanwhile")
)

// AmbiguousRequestIDError means the id given is the start of several
// requests' ids.
type AmbiguousRequestIDError struct{ Matches int }

func (e *AmbiguousRequestIDError) Error() string {
	return fmt.Sprintf("booking: the id given starts %d booking requests' ids", e.Matches)
}

// RequestStore keeps the booking requests staff work through.
type RequestStore interface {
	// ListRequests returns the clinic's requests that have not expired at
	// now, newest first.
	ListRequests(ctx context.Context, clinic string, now time.Time) ([]Request, error)
	// SetRequestStatus moves the clinic's request from one status to
	// another only if it is still in from, reporting whether it did, and
	// records who moved it (by) and when (at).
	SetRequestStatus(ctx context.Context, clinic, id string, from, to RequestStatus, by string, at time.Time) (bool, error)
}

// MarkRequestContacted marks as contacted the clinic's unexpired request
// whose id is idPrefix or starts with it. It is a compare-and-set from new,
// so that of two people marking one request, one hears it already was. The
// request found is returned with ErrAlreadyContacted and ErrRequestChanged,
// so that the caller can say which it was. by is who marked it (a staff
// member's email address, or "the command line"), recorded with now.
func MarkRequestContacted(ctx context.Context, st RequestStore, clinic, idPrefix, by string, now time.Time) (Request, error) {
	if len(idPrefix) < RequestIDShown {
		return Request{}, ErrRequestIDTooShort
	}
	list, err := st.ListRequests(ctx, clinic, now)
	if err != nil {
		return Request{}, err
	}
	var matches []Request
	for _, r := range list {
		if strings.HasPrefix(r.ID, idPrefix) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		return Request{}, ErrNoSuchRequest
	case 1:
	default:
		return Request{}, &AmbiguousRequestIDError{Matches: len(matches)}
	}
	r := matches[0]
	if r.Status == RequestContacted {
		return r, ErrAlreadyContacted
	}
	ok, err := st.SetRequestStatus(ctx, clinic, r.ID, RequestNew, RequestContacted, by, now)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, ErrRequestChanged
	}
	r.Status, r.ContactedBy, r.ContactedAt = RequestContacted, by, now
	return r, nil
}
