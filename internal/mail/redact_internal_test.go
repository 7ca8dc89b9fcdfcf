package mail

import (
	"errors"
	"strings"
	"testing"
)

// TestRedactIgnoresCase: a server that echoes the address as it
// normalised it still does not get it into a log.
func TestRedactIgnoresCase(t *testing.T) {
	err := redact(errors.New("550 5.1.1 <jane.doe@example.com>: mailbox unavailable"), "Jane.Doe@Example.com")
	if strings.Contains(strings.ToLower(err.Error()), "jane.doe") {
		t.Errorf("the address is in the error: %v", err)
	}
	if !strings.Contains(err.Error(), "mailbox unavailable") {
		t.Errorf("the server's reason is lost: %v", err)
	}
}
