package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/clinics"
	"github.com/clinic-booking/portal/internal/coreplus"
	"github.com/clinic-booking/portal/internal/mail"
	"github.com/clinic-booking/portal/web"
)

// config is everything the portal reads at start, validated in one place.
type config struct {
	Addr        string
	Demo        bool
	DataDir     string
	DatabaseURL string
	PublicURL   string

	CoreplusBaseURL string
	ConsumerID      string
	ConsumerSecret  string

	// SecretKey signs hidden form fields and session cookies. Every replica
	// must share it.
	SecretKey []byte
	// TokenKeys seals and opens the access tokens of stored clinics; nil
	// when PORTAL_TOKEN_KEYS is not set. Every replica must share it.
	TokenKeys *clinics.Keyring
	// ClinicRefresh is how soon a change to a stored clinic reaches this
	// replica.
	ClinicRefresh time.Duration
	// Replicas is how many portal processes share one coreplus consumer;
	// each takes an equal part of the consumer's upstream budget.
	Replicas int
	// SettleEvery is how often bookings with an unknown outcome are looked
	// for in coreplus.
	SettleEvery time.Duration

	// TrustedProxies are the reverse proxies (load balancers) whose
	// X-Forwarded-For header names the client; none means the TCP peer is.
	TrustedProxies []netip.Prefix
	// Limits caps how often one client address may send each form.
	Limits web.Limits
	// LogLevel is the least important log line written.
	LogLevel slog.Level
	// MetricsAddr is where /metrics is served, on a listener of its own;
	// empty (the default) serves no metrics.
	MetricsAddr string
	// Mail is SMTP_URL and MAIL_FROM; nil when SMTP_URL is not set.
	Mail *mail.Config

	// Clinic is the clinic configured by environment, in the same record
	// as a stored clinic; it is served only when it has an access token
	// (HasEnvClinic).
	Clinic clinics.Record
}

// HasEnvClinic reports whether the environment configures a clinic of its
// own (single-clinic mode).
func (c config) HasEnvClinic() bool { return c.Clinic.AccessToken != "" }

// serveFlags are the command line of `portal [serve]`.
type serveFlags struct {
	demo          bool
	addr, dataDir string
}

// loadConfig reads flags and environment variables. It reports every problem
// at once, each naming the variable and what was expected. -h prints the
// flags to stdout and returns flag.ErrHelp.
func loadConfig(args []string, getenv func(string) string, stdout io.Writer) (config, error) {
	fs := newFlags("serve", "[-demo] [-addr HOST:PORT] [-data DIR]",
		"Serves the booking portal. Configuration comes from the environment: see README.md.", stdout)
	var flags serveFlags
	fs.BoolVar(&flags.demo, "demo", false, "run on a demo clinic with an in-process coreplus sandbox")
	fs.StringVar(&flags.addr, "addr", "", "listen address (default 127.0.0.1:$PORT, PORT defaults to 8080)")
	fs.StringVar(&flags.dataDir, "data", "", "folder for the SQLite database and demo key (default ./data, or $DATA_DIR)")
	rest, err := fs.parse(args)
	if err != nil {
		return config{}, err
	}
	if len(rest) > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (flags: -demo, -addr, -data)", rest[0])
	}

	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	c := config{Demo: flags.demo}
	loadServerConfig(&c, flags, getenv, bad)
	accessToken := ""
	if !c.Demo {
		accessToken = loadCoreplusConfig(&c, getenv, bad)
	}
	c.Clinic = loadEnvClinic(getenv, c.Demo, accessToken, bad)
	loadMailConfig(&c, getenv, bad)
	if len(problems) > 0 {
		return config{}, errors.New("configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// loadServerConfig reads where and how the portal serves: address, data,
// keys, limits, logging.
func loadServerConfig(c *config, flags serveFlags, getenv func(string) string, bad func(string, ...any)) {
	c.DataDir = firstNonEmpty(flags.dataDir, getenv("DATA_DIR"), "data")
	c.Addr = flags.addr
	if c.Addr == "" {
		port := firstNonEmpty(getenv("PORT"), "8080")
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad("PORT is %q: expected a port number from 1 to 65535", port)
		}
		c.Addr = net.JoinHostPort(firstNonEmpty(getenv("HOST"), "127.0.0.1"), port)
	} else if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("-addr is %q: expected host:port, such as 127.0.0.1:8080", c.Addr)
	}

	if c.MetricsAddr = getenv("METRICS_ADDR"); c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || !validPort(port, 0) {
			bad("METRICS_ADDR is %q: expected host:port for the metrics listener, such as 127.0.0.1:9090 (unset: no metrics)", c.MetricsAddr)
		} else if c.MetricsAddr == c.Addr && port != "0" {
			bad("METRICS_ADDR is %q, the portal's own address: metrics are served on an address of their own", c.MetricsAddr)
		}
	}

	c.DatabaseURL = databaseURL(getenv, c.DataDir)
	c.TokenKeys = tokenKeys(getenv, bad)
	c.ClinicRefresh = parseDuration(getenv, "PORTAL_CLINIC_REFRESH", booking.DefaultRefreshEvery, bad)
	c.Replicas = parseIntIn(getenv, "PORTAL_REPLICAS", 1, 1, coreplus.DefaultLimit, bad)
	if c.ClinicRefresh <= 0 {
		c.ClinicRefresh = booking.DefaultRefreshEvery
	}
	c.SettleEvery = parseDuration(getenv, "PORTAL_SETTLE_EVERY", booking.DefaultSweepEvery, bad)
	if c.SettleEvery <= 0 {
		c.SettleEvery = booking.DefaultSweepEvery
	}
	if v := getenv("TRUSTED_PROXIES"); v != "" {
		p, err := web.ParseTrustedProxies(v)
		if err != nil {
			bad("TRUSTED_PROXIES is %q: expected the load balancers' addresses or CIDR ranges, comma-separated, such as 10.0.0.0/8,192.0.2.7", v)
		}
		c.TrustedProxies = p
	}
	// 0 turns a limit off; web.Limits takes 0 for its default, so negate.
	limit := func(name string, def int) int {
		if n := parseIntIn(getenv, name, def, 0, 100000, bad); n > 0 {
			return n
		}
		return -1
	}
	c.Limits = web.Limits{
		DraftsPerMinute:   limit("RATE_LIMIT_DRAFTS_PER_MINUTE", web.DefaultDraftsPerMinute),
		ConfirmsPerMinute: limit("RATE_LIMIT_CONFIRMS_PER_MINUTE", web.DefaultConfirmsPerMinute),
		RequestsPerMinute: limit("RATE_LIMIT_REQUESTS_PER_MINUTE", web.DefaultRequestsPerMinute),
		RejectsPerMinute:  limit("RATE_LIMIT_REJECTS_PER_MINUTE", web.DefaultRejectsPerMinute),
		ChangesPerMinute:  limit("RATE_LIMIT_CHANGES_PER_MINUTE", web.DefaultChangesPerMinute),
	}
	switch v := strings.ToLower(getenv("LOG_LEVEL")); v {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("LOG_LEVEL is %q: expected debug, info, warn or error", v)
	}

	c.PublicURL = getenv("PUBLIC_URL")
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("PUBLIC_URL is %q: expected the portal's address, such as https://book.example-clinic.com.au", c.PublicURL)
		}
	}

	if key := getenv("PORTAL_SECRET_KEY"); key != "" {
		k, err := decodeKey(key)
		if err != nil {
			bad("PORTAL_SECRET_KEY: %v", err)
		}
		c.SecretKey = k
	} else if !c.Demo {
		bad("PORTAL_SECRET_KEY is not set: expected at least 32 random bytes as hex or base64 (for example: openssl rand -hex 32); every replica must share it")
	}
}

// loadCoreplusConfig reads the operator's coreplus add-on credentials and
// returns the access token of the clinic configured by environment, if any.
func loadCoreplusConfig(c *config, getenv func(string) string, bad func(string, ...any)) (accessToken string) {
	c.CoreplusBaseURL = getenv("COREPLUS_BASE_URL")
	c.ConsumerID = getenv("COREPLUS_CONSUMER_ID")
	c.ConsumerSecret = getenv("COREPLUS_CONSUMER_SECRET")
	accessToken = getenv("COREPLUS_ACCESS_TOKEN")
	switch u, err := url.Parse(c.CoreplusBaseURL); {
	case c.CoreplusBaseURL == "":
		bad("COREPLUS_BASE_URL is not set: expected the API URL from the coreplus add-on setup, such as https://sandbox.coreplus.com.au/API/Core/v2.1/ (or run with -demo)")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		bad("COREPLUS_BASE_URL is %q: expected an absolute http(s) URL ending in /API/Core/v2.1/", c.CoreplusBaseURL)
	}
	for _, v := range []struct{ name, value string }{
		{"COREPLUS_CONSUMER_ID", c.ConsumerID},
		{"COREPLUS_CONSUMER_SECRET", c.ConsumerSecret},
	} {
		if v.value == "" {
			bad("%s is not set: expected the value shown in the coreplus add-on setup", v.name)
		} else if len(v.value) > 50 && v.name != "COREPLUS_CONSUMER_SECRET" {
			bad("%s is %d characters: coreplus issues at most 50", v.name, len(v.value))
		}
	}
	// The access token is a clinic's, not the operator's: without it the
	// portal serves only the clinics added with `portal clinic add`. Its
	// form is checked with the rest of the clinic's record.
	switch {
	case accessToken == "" && c.TokenKeys == nil:
		bad("COREPLUS_ACCESS_TOKEN is not set: expected the clinic's access token from the coreplus add-on setup (or set PORTAL_TOKEN_KEYS to serve clinics added with `portal clinic add`)")
	case accessToken == "":
		for _, name := range []string{"CLINIC_SLUG", "CLINIC_NAME"} {
			if getenv(name) != "" {
				bad("COREPLUS_ACCESS_TOKEN is not set, but %s is: the clinic configured by environment needs its access token (clinics added with `portal clinic add` need neither)", name)
				break
			}
		}
	}
	return accessToken
}

// loadMailConfig reads SMTP_URL and MAIL_FROM: nil when SMTP_URL is unset
// (the demo then keeps its mail in the data folder; anywhere else no
// email is sent, which serve warns about).
func loadMailConfig(c *config, getenv func(string) string, bad func(string, ...any)) {
	raw := getenv("SMTP_URL")
	if raw == "" {
		if getenv("MAIL_FROM") != "" {
			bad("MAIL_FROM is set but SMTP_URL is not: expected SMTP_URL too, such as smtp://user:password@smtp.example.com:587 (or neither, to send no email)")
		}
		return
	}
	mc, err := mail.ParseConfig(raw, getenv("MAIL_FROM"))
	if err != nil {
		bad("%v", err)
		return
	}
	c.Mail = &mc
	if c.Demo {
		return // the demo has keys and an address of its own
	}
	if c.TokenKeys == nil {
		bad("SMTP_URL is set but PORTAL_TOKEN_KEYS is not: the patients' addresses waiting in the mail queue are sealed with those keys (32 random bytes as hex, for example: openssl rand -hex 32)")
	}
	if c.PublicURL == "" {
		bad("SMTP_URL is set but PUBLIC_URL is not: every link in an email starts with the portal's own address, such as https://book.example-clinic.com.au")
	}
}

// databaseURL is DATABASE_URL, or a SQLite file in the data folder.
func databaseURL(getenv func(string) string, dataDir string) string {
	if u := getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "sqlite:" + filepath.Join(dataDir, "portal.db")
}

// tokenKeys reads PORTAL_TOKEN_KEYS; nil when it is not set.
func tokenKeys(getenv func(string) string, bad func(string, ...any)) *clinics.Keyring {
	v := getenv("PORTAL_TOKEN_KEYS")
	if v == "" {
		return nil
	}
	k, err := clinics.ParseKeyring(v)
	if err != nil {
		bad("PORTAL_TOKEN_KEYS: %v", err)
		return nil
	}
	return k
}

func decodeKey(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if k, err := dec(s); err == nil {
			if len(k) < 32 {
				return nil, fmt.Errorf("decodes to %d bytes: expected at least 32", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("is neither hex nor base64: expected at least 32 random bytes as hex or base64")
}

// demoKey keeps a random key in the data folder so demo drafts survive a restart.
func demoKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "demo-secret.key")
	if b, err := os.ReadFile(path); err == nil {
		if k, err := hex.DecodeString(strings.TrimSpace(string(b))); err == nil && len(k) >= 32 {
			return k, nil
		}
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return k, os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600)
}

// validPort reports whether port is a port number from lo to 65535.
func validPort(port string, lo int) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= lo && n <= 65535
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseEnv reads the variable name with parse; unset, it is def. A value
// parse rejects is reported with what was expected, and def stands in.
func parseEnv[T any](getenv func(string) string, name string, def T, parse func(string) (T, error), expected string, bad func(string, ...any)) T {
	v := getenv(name)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		bad("%s is %q: expected %s", name, v, expected)
		return def
	}
	return x
}

func parseDuration(getenv func(string) string, name string, def time.Duration, bad func(string, ...any)) time.Duration {
	return parseEnv(getenv, name, def, func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err == nil && d < 0 {
			err = errors.New("negative")
		}
		return d, err
	}, "a duration such as 2h or 90m", bad)
}

// parseInt reads a whole number; a clinic record's rules say which ones
// it may be.
func parseInt(getenv func(string) string, name string, def int, bad func(string, ...any)) int {
	return parseEnv(getenv, name, def, strconv.Atoi, "a whole number", bad)
}

func parseIntIn(getenv func(string) string, name string, def, lo, hi int, bad func(string, ...any)) int {
	return parseEnv(getenv, name, def, func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err == nil && (n < lo || n > hi) {
			err = errors.New("out of range")
		}
		return n, err
	}, fmt.Sprintf("a whole number from %d to %d", lo, hi), bad)
}

func parseBool(getenv func(string) string, name string, def bool, bad func(string, ...any)) bool {
	return parseEnv(getenv, name, def, strconv.ParseBool, "true or false", bad)
}
