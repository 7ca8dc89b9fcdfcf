package web

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/clinic-booking/portal/internal/booking"
)

// Limits caps, per client address, how often the forms that cost the portal
// (and coreplus) something may be sent. A zero field takes its default; a
// negative one turns that limit off.
type Limits struct {
	DraftsPerMinute   int // POST details, which creates a draft
	ConfirmsPerMinute int // POST confirm, which books
	RequestsPerMinute int // POST request, which stores a booking request
	ChangesPerMinute  int // POST cancel or move on a manage page, which changes a booking
	// RejectsPerMinute counts the forms that cost something without doing
	// anything: a body refused as too large or not a form, and a details
	// or request form answered with its mistakes. Past it, every form
	// from the address is answered 429 before its body is read.
	RejectsPerMinute int
}

// Default limits: a patient correcting a form, or confirming again after a
// time was taken, never meets them; a script does at once.
const (
	DefaultDraftsPerMinute   = 10
	DefaultConfirmsPerMinute = 5
	DefaultRequestsPerMinute = 5
	DefaultChangesPerMinute  = 5
	// A patient fixing a form sends it again a few times, seconds apart;
	// ten a minute (one every six seconds once spent) is more mistakes
	// than anyone makes, and what a script sends in a moment.
	DefaultRejectsPerMinute = 10
)

const tooManyMessage = "Too many attempts from your connection. This one was not sent, so nothing was booked by it. Please wait a minute and try again."

// abuseGuard holds the per-address limiters.
type abuseGuard struct {
	drafts, confirms, requests, rejects, changes *addrLimiter
}

func newAbuseGuard(l Limits) *abuseGuard {
	return &abuseGuard{
		drafts:   newAddrLimiter(l.DraftsPerMinute, DefaultDraftsPerMinute),
		confirms: newAddrLimiter(l.ConfirmsPerMinute, DefaultConfirmsPerMinute),
		requests: newAddrLimiter(l.RequestsPerMinute, DefaultRequestsPerMinute),
		rejects:  newAddrLimiter(l.RejectsPerMinute, DefaultRejectsPerMinute),
		changes:  newAddrLimiter(l.ChangesPerMinute, DefaultChangesPerMinute),
	}
}

// clientIPExtractor finds the client's address: the TCP peer's, or, only
// when the peer is one of the trusted proxies, the right-most address in
// X-Forwarded-For that is not a trusted proxy. With no trusted proxies any
// X-Forwarded-For is ignored, since a client can send whatever it likes.
func clientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Echo trusts loopback, link-local and private addresses by default;
	// only what the operator listed is trusted here.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads a comma- or space-separated list of addresses
// and CIDR ranges, such as "10.0.0.0/8, 192.0.2.7".
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitList(s) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, &net.ParseError{Type: "IP address or CIDR range", Text: f}
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	start := -1
	for i, r := range s + "," {
		if r == ',' || r == ' ' || r == '\t' || r == '\n' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// addrLimiter is a token bucket per client address. Addresses idle long
// enough for their bucket to be full again are forgotten, so memory follows
// the number of recent senders.
type addrLimiter struct {
	every time.Duration // one token per every
	burst int

	mu        sync.Mutex
	buckets   map[string]*addrBucket
	lastSweep time.Time
}

type addrBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// newAddrLimiter allows perMinute sends a minute, all at once if need be;
// nil (no limit) when perMinute is negative.
func newAddrLimiter(perMinute, def int) *addrLimiter {
	if perMinute == 0 {
		perMinute = def
	}
	if perMinute < 0 {
		return nil
	}
	return &addrLimiter{every: time.Minute / time.Duration(perMinute), burst: perMinute, buckets: map[string]*addrBucket{}}
}

// allow takes one token from addr's bucket and reports whether there was one.
func (l *addrLimiter) allow(addr string) bool {
	if l == nil {
		return true
	}
	key := addrKey(addr)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if refill := l.every * time.Duration(l.burst); now.Sub(l.lastSweep) > refill {
		for k, b := range l.buckets {
			if now.Sub(b.last) > refill {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &addrBucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// spent reports whether addr's bucket is empty, taking nothing from it.
func (l *addrLimiter) spent(addr string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[addrKey(addr)]
	return b != nil && b.lim.TokensAt(time.Now()) < 1
}

// addrKey is the address an IPv4 client is limited by, or the /64 network
// of an IPv6 client, who usually holds all of it.
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// honeypotFilled reports whether a form's hidden trap field was filled in,
// which people cannot do, and logs it. The caller answers as if the form
// were accepted and keeps nothing.
func (s *Server) honeypotFilled(c echo.Context) bool {
	if c.FormValue("website") == "" {
		return false
	}
	s.log.Warn("honeypot", "request_id", requestIDFrom(c), "path", logPath(c))
	return true
}

// rateLimited logs a form refused for coming too often from one address
// and tells the client when to try again; the caller renders the page.
func (s *Server) rateLimited(c echo.Context) {
	s.log.Warn("rate limited", "request_id", requestIDFrom(c), "path", logPath(c))
	c.Response().Header().Set("Retry-After", "60")
}

// limitConfirms refuses a confirm from an address over its limit, before
// anything reaches coreplus; "Try again" leads back to the review, where the
// patient's details are still saved.
func (s *Server) limitConfirms(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.abuse.confirms.allow(c.RealIP()) {
			return next(c)
		}
		retry := ""
		if svc, err := s.clinicFrom(c); err == nil {
			links := s.linksFor(c.FormValue, svc.Clinic())
			retry = links.to("book/review", choiceFrom(c.FormValue))
		}
		return &pageError{err: errTooMany, retryURL: retry}
	}
}

// screenDetails stops a details form that is a bot's (the honeypot: it is
// sent on to the review as if accepted, with no draft made) or that would
// create one draft too many from one address (the form comes back as typed,
// saying so). A form with problems creates nothing and is not counted as a
// draft, so a patient correcting mistakes never meets the draft limit (it
// counts against the looser RejectsPerMinute instead). It reports whether it
// answered.
func (s *Server) screenDetails(c echo.Context, f *flow, form booking.DetailsForm) (bool, error) {
	if s.honeypotFilled(c) {
		return true, c.Redirect(http.StatusSeeOther, f.links.to("book/review", f.sel.Choice()))
	}
	if _, errs := form.Validate(f.svc.Now().In(f.sel.Location.Zone)); len(errs) > 0 || s.abuse.drafts.allow(c.RealIP()) {
		return false, nil
	}
	s.rateLimited(c)
	return true, s.renderDetails(c, f, http.StatusTooManyRequests, form, nil, tooManyMessage)
}
