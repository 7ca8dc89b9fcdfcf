package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	// Embedded zone data: the sandbox must compute DST offsets on machines
	// with no system tzdata.
	_ "time/tzdata"
)

// defaultSeed makes an unseeded sandbox the same on every machine.
const defaultSeed = 20250304

// firstReference is the first appointmentReferenceNumber handed out.
const firstReference = 7712001

// Config configures a Server. The zero value serves the demo clinic with the
// demo credentials, the real clock, a 10 request/second limit and no faults.
type Config struct {
	ConsumerID, ConsumerSecret, AccessToken string // empty -> the Demo* values
	Now                                     func() time.Time
	RateLimit                               int    // requests per consumer in any 1-second window; 0 -> 10; <0 -> unlimited
	Faults                                  Faults // initial faults
	Seed                                    int64  // demo appointments and fault randomness; 0 -> a fixed default
}

// Stats counts what the sandbox has seen, for tests of client behaviour.
type Stats struct {
	Requests     int // every request received
	RateLimited  int // 429s sent
	Rejected     int // 401s sent
	MaxPerSecond int // most requests seen from one consumer in any 1-second window
}

// Server is a stateful stand-in for the coreplus API. It is safe for
// concurrent use.
type Server struct {
	consumerID, consumerSecret, accessToken string
	now                                     func() time.Time
	rateLimit                               int

	statsMu sync.Mutex
	stats   Stats
	windows map[string][]time.Time // per consumer: times of requests in the last second

	faultMu   sync.Mutex
	faults    Faults
	faultRand *rand.Rand

	// Reference data: fixed after New, read without locking.
	zones         map[string]zone
	locations     []Location
	practitioners []Practitioner
	types         []AppointmentType
	shifts        []shift

	// mu guards the diary and the client list, so that checking a time and
	// booking it is one atomic step.
	mu           sync.Mutex
	appointments []Appointment
	clients      []Client
	nextRef      int
	idRand       *rand.Rand
}

// New returns a sandbox seeded with the demo clinic. Demo appointments are
// generated from cfg.Seed over the eight weeks from the clock's current date.
func New(cfg Config) *Server {
	s := &Server{
		consumerID:     orDefault(cfg.ConsumerID, DemoConsumerID),
		consumerSecret: orDefault(cfg.ConsumerSecret, DemoConsumerSecret),
		accessToken:    orDefault(cfg.AccessToken, DemoAccessToken),
		now:            cfg.Now,
		rateLimit:      cfg.RateLimit,
		windows:        map[string][]time.Time{},
		faults:         cfg.Faults,
		zones:          loadZones(),
		locations:      demoLocations(),
		practitioners:  demoPractitioners(),
		types:          demoAppointmentTypes(),
		clients:        demoClients(),
		nextRef:        firstReference,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rateLimit == 0 {
		s.rateLimit = 10
	}
	seed := uint64(cfg.Seed)
	if cfg.Seed == 0 {
		seed = defaultSeed
	}
	s.faultRand = rand.New(rand.NewPCG(seed, 1))
	s.idRand = rand.New(rand.NewPCG(seed, 2))
	for _, sh := range demoShifts() {
		s.shifts = append(s.shifts, parseShift(sh))
	}
	s.seedAppointments(rand.New(rand.NewPCG(seed, 3)), s.now())
	return s
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ServeHTTP authenticates, rate-limits, applies faults, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.statsMu.Lock()
	s.stats.Requests++
	s.statsMu.Unlock()

	consumer, reason := s.authenticate(r)
	if reason != "" {
		s.statsMu.Lock()
		s.stats.Rejected++
		s.statsMu.Unlock()
		writeResult(w, http.StatusUnauthorized, "Invalid token: "+reason)
		return
	}
	if !s.admit(consumer) {
		w.Header().Set("Retry-After", "1")
		writeResult(w, http.StatusTooManyRequests,
			fmt.Sprintf("Too many requests: the limit is %d requests per second per consumer", s.rateLimit))
		return
	}
	rt := parseRoute(r.URL.Path)
	if s.applyFaults(w, r, rt.resource) {
		return
	}
	s.route(w, r, rt)
}

type route struct {
	found    bool   // under /API/Core/v2 or v2.1
	resource string // lower case, e.g. "appointment"
	id       string // item id, "" for the collection
}

// parseRoute matches the versioned prefix and resource case-insensitively,
// with or without a trailing slash.
func parseRoute(path string) route {
	lower := strings.ToLower(path)
	var rest string
	for _, prefix := range []string{"/api/core/v2.1/", "/api/core/v2/"} {
		if strings.HasPrefix(lower, prefix) {
			rest = path[len(prefix):]
			break
		}
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return route{}
	}
	parts := strings.Split(rest, "/")
	rt := route{resource: strings.ToLower(parts[0])}
	switch {
	case len(parts) == 1:
		rt.found = true
	case len(parts) == 2 && parts[1] != "":
		rt.found, rt.id = true, parts[1]
	}
	return rt
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, rt route) {
	if !rt.found {
		writeResult(w, http.StatusNotFound, "No resource matches the request URL")
		return
	}
	type key struct {
		method, resource string
		item             bool
	}
	handlers := map[key]http.HandlerFunc{
		{http.MethodGet, "location", false}:         s.listLocations,
		{http.MethodGet, "practitioner", false}:     s.listPractitioners,
		{http.MethodGet, "appointmenttype", false}:  s.listAppointmentTypes,
		{http.MethodGet, "availabilityslot", false}: s.listAvailability,
		{http.MethodGet, "client", false}:           s.listClients,
		{http.MethodPost, "client", false}:          s.createClient,
		{http.MethodGet, "client", true}:            func(w http.ResponseWriter, r *http.Request) { s.getClient(w, r, rt.id) },
		{http.MethodGet, "appointment", false}:      s.listAppointments,
		{http.MethodPost, "appointment", false}:     s.createAppointment,
		{http.MethodGet, "appointment", true}:       func(w http.ResponseWriter, r *http.Request) { s.getAppointment(w, r, rt.id) },
		{http.MethodPost, "appointment", true}:      func(w http.ResponseWriter, r *http.Request) { s.updateAppointment(w, r, rt.id) },
	}
	item := rt.id != ""
	if h, ok := handlers[key{r.Method, rt.resource, item}]; ok {
		h(w, r)
		return
	}
	var allowed []string
	for k := range handlers {
		if k.resource == rt.resource && k.item == item {
			allowed = append(allowed, k.method)
		}
	}
	if len(allowed) == 0 {
		writeResult(w, http.StatusNotFound, "No resource matches the request URL")
		return
	}
	sort.Strings(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeResult(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'")
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// Locations returns the demo locations.
func (s *Server) Locations() []Location { return append([]Location(nil), s.locations...) }

// Practitioners returns the demo practitioners.
func (s *Server) Practitioners() []Practitioner {
	return append([]Practitioner(nil), s.practitioners...)
}

// AppointmentTypes returns the demo appointment types.
func (s *Server) AppointmentTypes() []AppointmentType {
	return append([]AppointmentType(nil), s.types...)
}

// Rosters returns the weekly roster every availability answer is cut from.
func (s *Server) Rosters() []Shift {
	out := make([]Shift, len(s.shifts))
	for i, sh := range s.shifts {
		out[i] = sh.export()
	}
	return out
}

// Appointments returns a snapshot of the diary, cancelled entries included.
func (s *Server) Appointments() []Appointment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Appointment(nil), s.appointments...)
}

// Clients returns a snapshot of the client list.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Client(nil), s.clients...)
}

// resultItem is one entry of coreplus's error body.
type resultItem struct {
	Severity int    `json:"severity"`
	Reason   string `json:"reason"`
}

// writeResult answers with the {"result":[...]} body coreplus uses for
// refusals; severity 2 is the only level seen in the wild.
func writeResult(w http.ResponseWriter, status int, reasons ...string) {
	items := make([]resultItem, len(reasons))
	for i, r := range reasons {
		items[i] = resultItem{Severity: 2, Reason: r}
	}
	writeJSON(w, status, map[string]any{"result": items})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sandbox: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newID returns a random-looking but seed-determined version 4 GUID.
// Callers hold s.mu (or are in New).
func (s *Server) newID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.idRand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// nextReference hands out increasing appointmentReferenceNumbers. Callers hold s.mu.
func (s *Server) nextReference() string {
	ref := strconv.Itoa(s.nextRef)
	s.nextRef++
	return ref
}
