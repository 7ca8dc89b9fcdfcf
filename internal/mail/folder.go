package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Folder is the demo's mailbox: a Sender that keeps each email as a JSON
// file in a folder (the demo's data folder), for the demo's mail page to
// list. Only the demo uses it; a deployment with no SMTP_URL sends nothing.
type Folder struct{ Dir string }

// Stored is an email kept in a Folder.
type Stored struct {
	Email
	SentAt time.Time
}

var storedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Send keeps e in the folder under its id.
func (f Folder) Send(_ context.Context, e Email) error {
	if !storedID.MatchString(e.ID) {
		return errors.New("demo mailbox: a message needs its outbox id")
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("demo mailbox: %w", err)
	}
	b, err := json.Marshal(Stored{Email: e, SentAt: time.Now().UTC()})
	if err != nil {
		return err
	}
	tmp := filepath.Join(f.Dir, e.ID+".json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("demo mailbox: %w", err)
	}
	return os.Rename(tmp, filepath.Join(f.Dir, e.ID+".json"))
}

// List returns every email kept, newest first.
func (f Folder) List() ([]Stored, error) {
	entries, err := os.ReadDir(f.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Stored
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !storedID.MatchString(id) {
			continue
		}
		s, err := f.Get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Stored) int { return b.SentAt.Compare(a.SentAt) })
	return out, nil
}

// Get returns the email kept under id, or os.ErrNotExist.
func (f Folder) Get(id string) (Stored, error) {
	if !storedID.MatchString(id) {
		return Stored{}, os.ErrNotExist
	}
	b, err := os.ReadFile(filepath.Join(f.Dir, id+".json"))
	if err != nil {
		return Stored{}, err
	}
	var s Stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Stored{}, fmt.Errorf("demo mailbox: %s: %w", id[:8], err)
	}
	return s, nil
}
