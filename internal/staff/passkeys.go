package staff

import (
	"errors"
	"time"
)

// Passkeys are a second way into the console beside the emailed link: a
// WebAuthn credential an account adds once signed in. The ceremonies are
// the web package's (with github.com/go-webauthn/webauthn); this is what is
// kept of a passkey, and the errors of its store (staffstore.Adapter).

var (
	// ErrNoPasskey means there is no passkey with that credential id.
	ErrNoPasskey = errors.New("staff: no such passkey")
	// ErrNoCeremony means a WebAuthn ceremony is unknown, already finished
	// or expired: its begin must be done again.
	ErrNoCeremony = errors.New("staff: passkey ceremony is unknown, finished or expired")
	// ErrPasskeyTaken means a passkey with that credential id is kept
	// already, of this account or another.
	ErrPasskeyTaken = errors.New("staff: a passkey with this credential id is kept already")
	// ErrPasskeyCounter means a sign-in's signature count is not past the
	// one kept: another sign-in with the same passkey was recorded first,
	// and this one signs no one in.
	ErrPasskeyCounter = errors.New("staff: another sign-in with the passkey was recorded first")
)

// Passkey is one WebAuthn credential of an account.
type Passkey struct {
	// ID is the credential id the authenticator chose.
	ID        []byte
	AccountID string
	// Name is what the person called it ("Work laptop").
	Name      string
	PublicKey []byte
	// Attestation is the attestation type the registration reported.
	Attestation string
	AAGUID      []byte
	Transports  []string
	// Flags are the authenticator data flags last seen (backup eligible
	// and backed up among them), as one byte.
	Flags     byte
	SignCount uint32
	// CloneWarning is set when the signature counter went backwards: the
	// key may have been copied, and it signs no one in.
	CloneWarning bool
	CreatedAt    time.Time
	LastUsed     time.Time // zero when never used
}

// PasskeyCeremonyTTL is how long a begun ceremony (the browser asking the
// authenticator, the person touching it) may take before its finish.
const PasskeyCeremonyTTL = 5 * time.Minute

// Ceremony kinds.
const (
	CeremonyRegister = "register"
	CeremonySignIn   = "sign-in"
)

// HasAccess reports whether the account may use the console at all: an
// operator, or a member of some clinic. An account without is one whose
// access was taken away, and its passkeys sign no one in.
func (a Account) HasAccess() bool { return a.Operator || len(a.Clinics) > 0 }
