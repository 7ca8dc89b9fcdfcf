package booking

import (
	"regexp"
	"testing"
)

func TestNewUnguessableID(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		id, err := newUnguessableID()
		if err != nil {
			t.Fatal(err)
		}
		if !hex32.MatchString(id) {
			t.Fatalf("newUnguessableID() = %q, want 32 lowercase hex characters", id)
		}
		if seen[id] {
			t.Fatalf("newUnguessableID() repeated %q", id)
		}
		seen[id] = true
	}
}
