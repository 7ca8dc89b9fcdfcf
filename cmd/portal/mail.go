package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/mail"
)

// demoMailDir is the demo's mailbox, in its data folder.
const demoMailDir = "demo-mail"

// mailSetup is how this portal sends mail: the Sender, the keys that seal
// the queue, and the demo's mailbox (only in the demo without SMTP_URL).
// A nil Sender means no email at all.
type mailSetup struct {
	sender  mail.Sender
	keys    *clinics.Keyring
	mailbox *mail.Folder
}

// setUpMail picks the Sender and keys for cfg, warning when patients will
// get no email.
func setUpMail(cfg config, logger *slog.Logger) (mailSetup, error) {
	var ms mailSetup
	switch {
	case cfg.Mail != nil:
		ms.sender = mail.NewSMTP(*cfg.Mail)
	case cfg.Demo:
		ms.mailbox = &mail.Folder{Dir: filepath.Join(cfg.DataDir, demoMailDir)}
		ms.sender = ms.mailbox
	default:
		logger.Warn("SMTP_URL is not set: patients get no confirmation email (set SMTP_URL and MAIL_FROM to send it)")
		return ms, nil
	}
	ms.keys = cfg.TokenKeys
	if ms.keys == nil && cfg.Demo {
		k, err := demoTokenKeys(cfg.DataDir)
		if err != nil {
			return ms, err
		}
		ms.keys = k
	}
	return ms, nil
}

// demoTokenKeys keeps a random key in the demo's data folder to seal the
// demo's mail queue with, as demoKey does for the secret key.
func demoTokenKeys(dataDir string) (*clinics.Keyring, error) {
	path := filepath.Join(dataDir, "demo-token.key")
	b, err := os.ReadFile(path)
	if err == nil {
		if k, err := clinics.ParseKeyring(strings.TrimSpace(string(b))); err == nil {
			return k, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return clinics.ParseKeyring(hex.EncodeToString(raw))
}
