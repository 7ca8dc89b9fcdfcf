package booking

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// newUnguessableID returns 128 random bits as 32 lowercase hex characters,
// for drafts and booking requests: the id is all that opens the patient's
// details they hold, so it must not be guessable.
func newUnguessableID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
