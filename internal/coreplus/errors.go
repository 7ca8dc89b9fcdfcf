package coreplus

import (
	"errors"
	"fmt"
	"time"
)

// Kinds of failure a caller can branch on with errors.Is.
var (
	ErrInvalidCredentials = errors.New("coreplus rejected the credentials")
	ErrRateLimited        = errors.New("coreplus rate limit reached")
	ErrSlotUnavailable    = errors.New("the selected time is no longer available")
	ErrNotFound           = errors.New("not found in coreplus")
	ErrUnavailable        = errors.New("coreplus is unavailable")
	ErrRejected           = errors.New("coreplus rejected the request")
)

// Error is what every failed call returns. It never holds credentials or the
// request body; Reason is coreplus's own text, which may name a field.
type Error struct {
	Kind       error  // one of the Err* values above
	Op         string // "GET /Location/"
	Status     int    // HTTP status, 0 when no answer came
	Reason     string // coreplus's reason, when it gave one
	RetryAfter time.Duration
	// Sent is true when a POST may have reached coreplus but no answer
	// was read (a timeout or dropped connection after the body went out), or
	// the answer was a 5xx or unreadable. A booking in that state may or may
	// not exist.
	Sent  bool
	Cause error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("coreplus %s: %v", e.Op, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Cause }
