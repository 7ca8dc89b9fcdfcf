package coreplus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for Config fields left empty.
const (
	// DefaultIssuer stands in for the portal's site URL; coreplus does not
	// appear to check iss, but a deployment should set its own.
	DefaultIssuer = "https://booking-portal.invalid"
	// DefaultAudience is coreplus's own site, as the doc asks.
	DefaultAudience = "https://coreplus.com.au"
	// DefaultTimeout bounds each HTTP request, including any wait on Limiter.
	DefaultTimeout = 20 * time.Second
)

const (
	pageSize = 100 // the documented maximum
	maxPages = 500 // 50,000 rows: far past any clinic, short of an endless loop
	maxBody  = 4 << 20
)

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
	// signer. Nil means a client with dial and TLS timeouts.
	HTTPClient *http.Client
	// Timeout bounds each HTTP request (each page of a list); DefaultTimeout if zero.
	Timeout time.Duration
	// Limiter, when set, is waited on before every request, so the whole
	// portal stays under coreplus's 10 requests a second.
	Limiter *rate.Limiter
	// Now is the clock for token times and Retry-After dates (time.Now if nil).
	Now func() time.Time
}

// API is a coreplus API client. It is safe for concurrent use.
type API struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
	limiter *rate.Limiter
	now     func() time.Time
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
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("coreplus: Config.Timeout is %v; want a positive duration, or zero for %v", cfg.Timeout, DefaultTimeout)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
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
			transport = defaultTransport()
		}
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
		base:    base,
		http:    &hc,
		timeout: timeout,
		limiter: cfg.Limiter,
		now:     now,
		secrets: []string{cfg.ConsumerSecret, cfg.AccessToken},
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

// defaultTransport bounds the steps a context deadline alone would leave
// open-ended for idle pooled connections.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.MaxIdleConnsPerHost = 10
	return t
}

// call describes one HTTP request to coreplus.
type call struct {
	method string
	path   string // relative to BaseURL, already escaped: "Client/" + url.PathEscape(id)
	query  url.Values
	body   any // marshalled as JSON when not nil
}

// op names the call in errors: method and path, never the query.
func (c call) op() string { return c.method + " /" + c.path }

// do sends one request and decodes a 2xx answer into out. Every failure is an
// *Error. A 2xx answer whose payload is missing but which carries a "result"
// refusal is a failure too: coreplus says no with HTTP 200.
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

	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if a.limiter != nil {
		if err := a.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return &Error{Kind: ErrUnavailable, Op: c.op(), Cause: ctx.Err()}
			}
			// Waiting would outlast the deadline: our own budget is spent.
			return &Error{Kind: ErrRateLimited, Op: c.op(), Reason: "the portal's request budget is used up"}
		}
	}

	// wrote records that request bytes may have left, so a lost answer to a
	// POST is reported as an unknown outcome rather than a clean failure.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), rd)
	if err != nil {
		return &Error{Kind: ErrRejected, Op: c.op(), Reason: "request cannot be built"}
	}
	req.Header.Set("Accept", "application/json")

	resp, err := a.http.Do(req)
	if err != nil {
		return &Error{
			Kind:  ErrUnavailable,
			Op:    c.op(),
			Sent:  c.method == http.MethodPost && wrote.Load(),
			Cause: transportCause(err),
		}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("response is larger than %d bytes", maxBody)
	}
	if err != nil {
		return &Error{Kind: ErrUnavailable, Op: c.op(), Status: resp.StatusCode,
			Sent: c.method == http.MethodPost, Cause: transportCause(err)}
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.statusError(c, resp, body, scrub)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			// Invalid token may come back as 200 and plain text.
			if e := failureError(c, resp.StatusCode, reasonText(body), scrub); e.Kind == ErrInvalidCredentials {
				return e
			}
			return &Error{Kind: ErrUnavailable, Op: c.op(), Status: resp.StatusCode,
				Sent: c.method == http.MethodPost, Cause: fmt.Errorf("decode response: %w", err)}
		}
	}
	if !out.present() {
		if reason := out.failure().reason(); reason != "" {
			return failureError(c, resp.StatusCode, reason, scrub)
		}
	}
	return nil
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

// page is what getAll needs from a list response.
type page interface {
	envelope
	paging() *wirePaging
	count() int
}

// getAll fetches every page of a list, asking for the largest page coreplus
// allows, and hands each decoded page to collect.
func getAll[P any, PP interface {
	*P
	page
}](ctx context.Context, a *API, c call, collect func(PP)) error {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	c.query = q
	for n := 1; ; n++ {
		q.Set("pageNumber", strconv.Itoa(n))
		q.Set("pageSize", strconv.Itoa(pageSize))
		var p P
		pp := PP(&p)
		if err := a.do(ctx, c, pp); err != nil {
			return err
		}
		collect(pp)
		pg := pp.paging()
		if pg == nil || pp.count() == 0 {
			return nil
		}
		size := int(pg.PageSize)
		if size <= 0 {
			size = pageSize
		}
		if n*size >= int(pg.TotalRows) {
			return nil
		}
		if n >= maxPages {
			return &Error{Kind: ErrUnavailable, Op: c.op(), Reason: fmt.Sprintf("more than %d pages", maxPages)}
		}
	}
}
