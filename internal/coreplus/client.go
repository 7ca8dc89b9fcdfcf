package coreplus

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults for Config fields left empty.
const (
	// DefaultIssuer stands in for the portal's site URL; coreplus does not
	// appear to check iss, but a deployment should set its own.
	DefaultIssuer = "https://booking-portal.invalid"
	// DefaultAudience is coreplus's own site, as the doc asks.
	DefaultAudience = "https://coreplus.com.au"
	// DefaultTimeout bounds each attempt. It is generous because a booking
	// that times out has an unknown outcome, which costs far more than a wait.
	DefaultTimeout = 20 * time.Second
	// DefaultCallTimeout bounds a whole call, retries and waits included.
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxAttempts tries a read three times: enough to ride out a
	// dropped connection or a restarting server, few enough not to pile on
	// a struggling one.
	DefaultMaxAttempts = 3
	// DefaultBreakerFailures upstream failures in a row open the circuit:
	// more than one read's worth of attempts, so one unlucky read does not.
	DefaultBreakerFailures = 5
	// DefaultBreakerOpen is how long an open circuit answers at once, before
	// one request is let through to see whether coreplus is back.
	DefaultBreakerOpen = 15 * time.Second
)

const maxBody = 4 << 20 // bytes of an answer read at most

// Config says where coreplus is and who the portal is to it.
type Config struct {
	// BaseURL is the API root with its version, e.g.
	// "https://sandbox.coreplus.com.au/API/Core/v2.1/".
	BaseURL        string
	ConsumerID     string
	ConsumerSecret string
	AccessToken    string
	// Issuer is the iss claim, the portal's site URL (DefaultIssuer if empty).
	Issuer string
	// Audience is the aud claim (DefaultAudience if empty).
	Audience string
	// HTTPClient is copied, never changed; its Transport is wrapped by the
	// signer. Nil means a client with dial, TLS and response-header timeouts.
	HTTPClient *http.Client
	// Timeout bounds each attempt: one HTTP request, from dialling to the
	// last byte of the answer (DefaultTimeout if zero). Waiting on the
	// Limiter is not part of it, so a queue at our end is never mistaken
	// for a slow coreplus.
	Timeout time.Duration
	// CallTimeout bounds a whole call: every page of a list, every attempt,
	// the waits between them and on the Limiter (DefaultCallTimeout if zero).
	// A shorter deadline on the caller's context wins.
	CallTimeout time.Duration
	// MaxAttempts is how many times a request is tried (DefaultMaxAttempts
	// if zero; 1 turns retries off). A read (GET) is tried again when
	// coreplus fails it or answers 429. A write (POST) is tried again only
	// after a 429, which coreplus gives before doing anything: after a 5xx,
	// a timeout or a dropped connection the write may have been stored, and
	// coreplus documents no idempotency key, so a resent booking could be a
	// second booking. After a 429 the next attempt waits for Retry-After
	// (one second if it is missing; not at all past 10 s or the deadline,
	// when the caller gets ErrRateLimited at once).
	MaxAttempts int
	// Limiter is waited on before every request, retries and pages
	// included. coreplus allows 10 requests a second per consumer, so every
	// client of one consumer (one per clinic) must share one Limiter. Nil
	// means NewWindowLimiter(DefaultLimit, DefaultLimitWindow) for this client
	// alone; rate.NewLimiter(rate.Inf, 0) means no limit.
	Limiter Limiter
	// BreakerFailures is how many upstream failures in a row (5xx, timeouts,
	// dropped connections; not 4xx answers or refusals) open the circuit, so
	// that calls fail at once instead of queueing behind a dead coreplus.
	// DefaultBreakerFailures if zero; negative turns the breaker off.
	BreakerFailures int
	// BreakerOpen is how long the circuit stays open before one probe
	// request is let through (DefaultBreakerOpen if zero).
	BreakerOpen time.Duration
	// OnCall, when set, is told about every attempt, for logs and metrics,
	// with the caller's context, so that it can count the attempt for the
	// request that made it. It runs on the caller's goroutine, so it must be
	// quick.
	OnCall func(ctx context.Context, info CallInfo)
	// Now is the clock for token times and Retry-After dates (time.Now if nil).
	Now func() time.Time
}

// API is a coreplus API client. It is safe for concurrent use.
type API struct {
	base        *url.URL
	http        *http.Client
	timeout     time.Duration // per attempt
	callTimeout time.Duration
	maxAttempts int
	limiter     Limiter
	breaker     *gobreaker.TwoStepCircuitBreaker[struct{}] // nil when turned off
	onCall      func(context.Context, CallInfo)
	now         func() time.Time
	// secrets are scrubbed from any reason text coreplus echoes back.
	secrets []string
}

// New checks cfg and builds a client. Its errors name the field at fault and
// never repeat the secret or the access token.
func New(cfg Config) (*API, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ConsumerID) == "" {
		return nil, errors.New("coreplus: Config.ConsumerID is empty; want the Consumer Id from the add-on setup screen")
	}
	if len(cfg.ConsumerID) > 50 {
		return nil, fmt.Errorf("coreplus: Config.ConsumerID is %d characters; coreplus ids are at most 50", len(cfg.ConsumerID))
	}
	if cfg.ConsumerSecret == "" {
		return nil, errors.New("coreplus: Config.ConsumerSecret is empty; want the Consumer Secret from the add-on setup screen, as shown (not base64-decoded)")
	}
	if strings.TrimSpace(cfg.ConsumerSecret) != cfg.ConsumerSecret {
		return nil, errors.New("coreplus: Config.ConsumerSecret has leading or trailing spaces; copy it exactly as the add-on setup screen shows it")
	}
	if cfg.AccessToken == "" {
		return nil, errors.New("coreplus: Config.AccessToken is empty; want the practice's Access Token for the add-on")
	}
	if strings.TrimSpace(cfg.AccessToken) != cfg.AccessToken {
		return nil, errors.New("coreplus: Config.AccessToken has leading or trailing spaces; copy it exactly as coreplus shows it")
	}
	issuer, err := claimURL("Issuer", cfg.Issuer, DefaultIssuer)
	if err != nil {
		return nil, err
	}
	audience, err := claimURL("Audience", cfg.Audience, DefaultAudience)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		def  time.Duration
	}{{"Timeout", cfg.Timeout, DefaultTimeout}, {"CallTimeout", cfg.CallTimeout, DefaultCallTimeout}, {"BreakerOpen", cfg.BreakerOpen, DefaultBreakerOpen}} {
		if d.v < 0 {
			return nil, fmt.Errorf("coreplus: Config.%s is %v; want a positive duration, or zero for %v", d.name, d.v, d.def)
		}
	}
	if cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("coreplus: Config.MaxAttempts is %d; want 1 or more, or zero for %d", cfg.MaxAttempts, DefaultMaxAttempts)
	}
	timeout := orDefault(cfg.Timeout, DefaultTimeout)
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = NewWindowLimiter(DefaultLimit, DefaultLimitWindow)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	transport := hc.Transport
	if transport == nil {
		if cfg.HTTPClient != nil {
			transport = http.DefaultTransport
		} else {
			transport = defaultTransport(timeout)
		}
	}
	if t, ok := transport.(*http.Transport); ok && !t.DisableKeepAlives {
		// A private copy with no idle pool: see defaultTransport. (Shared, the
		// caller's pool could hand a request a connection some other
		// traffic left idle, which net/http may resend on.)
		t = t.Clone()
		t.DisableKeepAlives = true
		transport = t
	}
	hc.Transport = &signer{
		base:        transport,
		consumerID:  cfg.ConsumerID,
		secret:      []byte(cfg.ConsumerSecret),
		accessToken: cfg.AccessToken,
		issuer:      issuer,
		audience:    audience,
		now:         now,
	}
	// coreplus never redirects; following one would sign a request to a host
	// nobody configured.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	return &API{
		base:        base,
		http:        &hc,
		timeout:     timeout,
		callTimeout: orDefault(cfg.CallTimeout, DefaultCallTimeout),
		maxAttempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		limiter:     limiter,
		breaker:     newBreaker(base.Host+" "+cfg.ConsumerID, cfg.BreakerFailures, orDefault(cfg.BreakerOpen, DefaultBreakerOpen)),
		onCall:      cfg.OnCall,
		now:         now,
		secrets:     []string{cfg.ConsumerSecret, cfg.AccessToken},
	}, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	const want = `want the API root with its version, e.g. "https://sandbox.coreplus.com.au/API/Core/v2.1/"`
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("coreplus: Config.BaseURL is empty; " + want)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("coreplus: Config.BaseURL is not an absolute http(s) URL; " + want)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("coreplus: Config.BaseURL has credentials, a query or a fragment; " + want)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func claimURL(field, v, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("coreplus: Config.%s %q is not an absolute URL; want a site address such as %q", field, v, def)
	}
	return v, nil
}

// defaultTransport bounds each step of a request on its own, so a stuck
// dial or handshake fails with its own cause well inside the attempt's
// deadline, which still covers the body.
//
// It keeps no connection alive between requests, so that every request
// that reaches coreplus is one this client made, after the Limiter, with a
// token of its own, and told to OnCall. net/http's Transport resends a
// request by itself, below any RoundTripper wrapped around it, when a
// connection it took from its idle pool fails before the answer and the
// request is replayable (a GET with no body): Transport.roundTrip calls
// persistConn.shouldRetryRequest, which needs pc.isReused() and then
// Request.isReplayable() with transportReadFromServerError or
// errServerClosedIdle (transport.go, Go 1.26). When coreplus or a proxy
// drops a kept-alive connection after reading a GET, the GET arrives twice
// but passed the Limiter once: the 429s that issue 12 saw while the
// portal's own log showed 9 calls a second. Counting the resends after the
// fact (httptrace's GetConn fires for each) cannot hold them back: a hook
// has no way to stop the Transport writing to a connection it already has.
// A connection that is never reused is never resent on, by the Transport's
// documented rule ("only retries ... if the connection has been already
// been used successfully"); send also sets Request.Close, which keeps a
// caller's Transport (Config.HTTPClient) from pooling our connections.
// The price is a dial and a TLS handshake per request, a few round trips at
// under ten requests a second; the session cache makes the handshakes
// resumptions. It also spares a POST a stale pooled connection, on which a
// booking would end with an unknown outcome.
func defaultTransport(attempt time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = attempt
	t.ExpectContinueTimeout = time.Second
	t.DisableKeepAlives = true
	t.TLSClientConfig = &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(0)}
	return t
}

// call describes one HTTP request to coreplus.
type call struct {
	method string
	path   string // relative to BaseURL, already escaped: "Client/" + url.PathEscape(id)
	query  url.Values
	body   any // marshalled as JSON when not nil
	// route is path with the record's id as "{id}", for logs and metrics.
	route string
}

// op names the call in errors: method and path, never the query.
func (c call) op() string { return c.method + " /" + c.path }

// routeOp names the call for CallInfo: no query and no record id, so that
// logs can group by it and hold nothing that points at a patient.
func (c call) routeOp() string {
	if c.route != "" {
		return c.method + " /" + c.route
	}
	return c.op()
}

// do makes one call: it sends the request, retrying a read that failed in
// a way another try may cure, and decodes a 2xx answer into out. Every
// failure is an *Error. A 2xx answer whose payload is missing but which
// carries a "result" refusal is a failure too: coreplus says no with HTTP 200.
func (a *API) do(ctx context.Context, c call, out envelope) error {
	u, err := a.base.Parse(c.path)
	if err != nil {
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "path is not a valid URL"}
	}
	if len(c.query) > 0 {
		// Encoded once: the request and the token's url claim are the same string.
		u.RawQuery = c.query.Encode()
	}
	scrub := a.scrubber(u, c.body)

	var payload []byte
	if c.body != nil {
		if payload, err = json.Marshal(c.body); err != nil {
			return &Error{Kind: ErrRejected, Op: c.op(), Reason: "request body cannot be encoded"}
		}
	}

	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	r := retrier{max: a.maxAttempts, write: c.method != http.MethodGet}
	var last *Error // the last answer coreplus actually gave, or its absence
	for n := 1; ; n++ {
		if n > 1 {
			// A failed attempt may have half-filled out.
			reflect.ValueOf(out).Elem().SetZero()
		}
		e, info := a.attempt(ctx, c, u, payload, out, scrub)
		if e == nil {
			info.Attempt = n
			a.report(ctx, info)
			return nil
		}
		if errors.Is(e.Cause, errCircuitOpen) && last != nil {
			// The circuit opened between attempts: coreplus's own last
			// answer tells the caller more than the refusal does.
			info.Attempt = n
			a.report(ctx, info)
			return last
		}
		last = e
		wait, again := r.next(ctx, n, e)
		info.Attempt, info.Retry = n, again
		a.report(ctx, info)
		if !again {
			return e
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return e
		}
	}
}

// attempt sends one request, once the circuit breaker and the limiter let it.
func (a *API) attempt(ctx context.Context, c call, u *url.URL, payload []byte, out envelope, scrub func(string) string) (*Error, CallInfo) {
	info := CallInfo{Op: c.routeOp()}
	// Checked before the limiter, so that a dead coreplus costs no wait.
	if a.breaker != nil && a.breaker.State() == gobreaker.StateOpen {
		info.Err, info.NotTried = ErrUnavailable, true
		return notTried(c), info
	}
	start := time.Now()
	sent := func(time.Time) {}
	var err error
	if wl, ok := a.limiter.(interface {
		WaitStart(context.Context) (func(time.Time), error)
	}); ok {
		var s func(time.Time)
		if s, err = wl.WaitStart(ctx); err == nil {
			sent = s
		}
	} else {
		err = a.limiter.Wait(ctx)
	}
	info.Wait = time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			info.Err = ErrUnavailable
			return &Error{Kind: ErrUnavailable, Op: c.op(), Cause: ctx.Err()}, info
		}
		// Waiting would outlast the deadline: our own budget is spent.
		info.Err = ErrRateLimited
		return &Error{Kind: ErrRateLimited, Op: c.op(), Reason: "the portal's request budget is used up"}, info
	}
	var done func(error)
	if a.breaker != nil {
		// Half-open lets one probe through; the others must not wait on it.
		if done, err = a.breaker.Allow(); err != nil {
			info.Err, info.NotTried = ErrUnavailable, true
			return notTried(c), info
		}
	}

	actx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	countCall(ctx)
	start = time.Now()
	e, status := a.send(actx, c, u, payload, out, scrub, sent)
	info.Duration = time.Since(start)
	info.Status = status
	if e != nil {
		info.Err = e.Kind
	}
	if done != nil {
		done(breakerOutcome(ctx, e))
	}
	return e, info
}

// send makes one HTTP request within ctx and reads its answer. It returns
// the HTTP status, 0 when none came. sent is told when the request's head
// reached the wire, which the Limiter's window is counted from.
func (a *API) send(ctx context.Context, c call, u *url.URL, payload []byte, out envelope, scrub func(string) string, sent func(time.Time)) (*Error, int) {
	// wrote records that request bytes may have left, so a lost answer to a
	// POST is reported as an unknown outcome rather than a clean failure.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() {
			wrote.Store(true)
			sent(time.Now())
		},
	})
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), rd)
	if err != nil {
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "request cannot be built"}, 0
	}
	req.Header.Set("Accept", "application/json")
	// One connection per request, closed after its answer: net/http never
	// resends on a connection it has not reused (see defaultTransport).
	req.Close = true

	resp, err := a.http.Do(req)
	if err != nil {
		return &Error{
			Kind:  ErrUnavailable,
			Op:    c.op(),
			Sent:  c.method == http.MethodPost && wrote.Load(),
			Cause: transportCause(err),
		}, 0
	}
	defer resp.Body.Close()
	// The attempt's deadline covers this read too: a body that trickles
	// stops with the attempt.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("response is larger than %d bytes", maxBody)
	}
	if err != nil {
		return &Error{Kind: ErrUnavailable, Op: c.op(), Status: resp.StatusCode,
			Sent: c.method == http.MethodPost, Cause: transportCause(err)}, resp.StatusCode
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.statusError(c, resp, body, scrub), resp.StatusCode
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			// Invalid token may come back as 200 and plain text.
			if e := failureError(c, resp.StatusCode, reasonText(body), scrub); e.Kind == ErrInvalidCredentials {
				return e, resp.StatusCode
			}
			return &Error{Kind: ErrUnavailable, Op: c.op(), Status: resp.StatusCode,
				Sent: c.method == http.MethodPost, Cause: fmt.Errorf("decode response: %w", err)}, resp.StatusCode
		}
	}
	if !out.present() {
		if reason := out.failure().reason(); reason != "" {
			return failureError(c, resp.StatusCode, reason, scrub), resp.StatusCode
		}
	}
	return nil, resp.StatusCode
}

// transportCause strips *url.Error, whose text holds the whole URL and so
// the names, dates of birth and phone numbers of a client search.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
