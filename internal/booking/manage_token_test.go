package booking

import (
	"strings"
	"testing"
)

func TestManageTokensOpenOnlyTheirBookingAtTheirClinic(t *testing.T) {
	keyA := []byte(strings.Repeat("a", 32))
	keyB := []byte(strings.Repeat("b", 32))
	tokens := NewManageTokens(keyA)
	tok := tokens.Token("harbour", "0123456789abcdef0123456789abcdef")

	if id, ok := tokens.DraftID("harbour", tok); !ok || id != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("own token: got %q, %v", id, ok)
	}
	for name, check := range map[string]func() bool{
		"another clinic":      func() bool { _, ok := tokens.DraftID("other", tok); return ok },
		"another key":         func() bool { _, ok := NewManageTokens(keyB).DraftID("harbour", tok); return ok },
		"another draft id":    func() bool { _, ok := tokens.DraftID("harbour", "1"+tok[1:]); return ok },
		"mac cut short":       func() bool { _, ok := tokens.DraftID("harbour", tok[:len(tok)-1]); return ok },
		"no mac":              func() bool { _, ok := tokens.DraftID("harbour", "0123456789abcdef0123456789abcdef"); return ok },
		"draft signer's form": func() bool { _, ok := tokens.DraftID("harbour", "0123456789abcdef0123456789abcdef."); return ok },
	} {
		if check() {
			t.Errorf("%s: token accepted", name)
		}
	}
	if strings.ContainsAny(tok, "/?#%+ ") {
		t.Errorf("token %q is not safe in a URL path", tok)
	}
}
