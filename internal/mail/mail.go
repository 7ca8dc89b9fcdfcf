// Package mail sends the portal's emails: over SMTP with go-mail (a
// maintained client that does STARTTLS, implicit TLS, SMTP AUTH and MIME
// for us), or, in the demo, into a folder the demo's mailbox page reads.
// What an email says is the views' business; when it is sent, the outbox
// worker's (see Worker).
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Email is one rendered message to one patient.
type Email struct {
	// ID is the outbox message's id: it makes the Message-ID, so a message
	// sent a second time (a lease that ran out mid-send) is the same message
	// to a mail client that deduplicates.
	ID      string
	To      string
	Subject string
	// Text and HTML are the two alternatives of one body, from one view model.
	Text, HTML  string
	Attachments []Attachment
}

// Attachment is a file attached to an Email.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Sender sends an Email.
type Sender interface {
	Send(ctx context.Context, e Email) error
}

// Config is where and how SMTP mail goes, from SMTP_URL and MAIL_FROM.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://: TLS from the first byte (port 465).
	ImplicitTLS bool
	// StartTLSOptional lets a loopback server (a local relay, a test) go
	// without STARTTLS; any other host must offer it or nothing is sent.
	StartTLSOptional bool
	// From is the sender, "Clinic bookings <bookings@example.com>".
	From string
}

// ParseConfig reads SMTP_URL (smtp://user:pass@host:587 with STARTTLS, or
// smtps://user:pass@host:465 with implicit TLS) and MAIL_FROM. Its errors
// never repeat the URL, which may hold a password.
func ParseConfig(smtpURL, from string) (Config, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return Config{}, errors.New("SMTP_URL is not a URL: expected smtp://user:password@host:587 or smtps://user:password@host:465")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.ImplicitTLS = 465, true
	default:
		return Config{}, fmt.Errorf("SMTP_URL has scheme %q: expected smtp:// (STARTTLS, port 587) or smtps:// (implicit TLS, port 465)", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("SMTP_URL names no host: expected smtp://user:password@host:587")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("SMTP_URL has port %q: expected a port number from 1 to 65535", p)
		}
		c.Port = n
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return Config{}, errors.New("SMTP_URL has a path or query: expected only smtp://user:password@host:port")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	c.StartTLSOptional = !c.ImplicitTLS && isLoopback(c.Host)
	if from == "" {
		return Config{}, errors.New("MAIL_FROM is not set: expected the sender of the portal's emails, such as \"Harbourside Physio <bookings@example-clinic.com.au>\"")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, fmt.Errorf("MAIL_FROM is %q: expected an email address, optionally with a name, such as \"Harbourside Physio <bookings@example-clinic.com.au>\"", from)
	}
	c.From = a.String()
	return c, nil
}

// isLoopback reports whether host is this machine: localhost or a loopback
// address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SMTP sends over SMTP, one connection per message: the outbox sends a
// few messages a minute, and a fresh connection never meets a server that
// dropped an idle one.
type SMTP struct {
	cfg Config
	// Timeout bounds one send, connection included; 30 s if zero.
	Timeout time.Duration
}

// NewSMTP returns a Sender for cfg.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg} }

// Send sends e. Its errors carry the server's reply, never the address.
func (s *SMTP) Send(ctx context.Context, e Email) error {
	m, err := s.message(e)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(timeout)}
	switch {
	case s.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.StartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send over smtp to %s:%d: %w", s.cfg.Host, s.cfg.Port, redact(err, e.To))
	}
	return nil
}

// message builds e as MIME: multipart/mixed of a multipart/alternative
// (text, then HTML) and the attachments.
func (s *SMTP) message(e Email) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.From(s.cfg.From); err != nil {
		return nil, errors.New("MAIL_FROM is not a usable sender address")
	}
	if err := m.To(e.To); err != nil {
		return nil, errors.New("the recipient's address is not usable") // the address stays out of the logs
	}
	m.Subject(e.Subject)
	m.SetDate()
	if e.ID != "" {
		domain := "portal.invalid"
		if _, d, ok := strings.Cut(s.cfg.From, "@"); ok {
			domain = strings.TrimSuffix(d, ">")
		}
		m.SetMessageIDWithValue(e.ID + "@" + domain)
	}
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	for _, a := range e.Attachments {
		if err := m.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, fmt.Errorf("attach %s: %w", a.Name, err)
		}
	}
	return m, nil
}

// redact is err with the recipient's address taken out of its text (an
// SMTP server may quote it back: "550 <x@y>: no such user").
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// redact takes address out of err's text in any case: servers echo the
// address as they normalise it ("<jane.doe@example.com>" for
// "Jane.Doe@Example.com").
func redact(err error, address string) error {
	if address == "" {
		return err
	}
	re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(address))
	if !re.MatchString(err.Error()) {
		return err
	}
	return &redactedError{msg: re.ReplaceAllString(err.Error(), "<recipient>"), cause: errors.Unwrap(err)}
}
