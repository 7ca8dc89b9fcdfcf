package booking

import "errors"

// Code says what kind of problem a patient-facing error is.
type Code int

const (
	CodeInvalid     Code = iota + 1 // the patient's choice or input is not acceptable
	CodeNotFound                    // the thing asked for does not exist (or is not offered online)
	CodeUnavailable                 // coreplus could not be reached or answered badly
	CodeBusy                        // coreplus's budget is spoken for: the page should try again in a moment
	CodeTaken                       // the time chosen was free and is not any more
)

// errBusy is the answer to a page whose data coreplus could not give within
// pageWait, with no copy to show meanwhile: the load goes on, and the page
// asked again in a moment finds it.
var errBusy = &Error{Code: CodeBusy, Message: "The clinic's booking system is busy right now."}

// Error is an error fit to show a patient: Message never holds an internal
// detail. Cause keeps the internal error for the log.
type Error struct {
	Code    Code
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// AsError finds a patient-facing error in err's chain.
func AsError(err error) (*Error, bool) {
	var be *Error
	ok := errors.As(err, &be)
	return be, ok
}
