//go:build browser

// Package browsertest drives the real portal in a real browser: TestMain
// builds cmd/portal and cmd/coreplus-sandbox, runs them as processes on
// loopback ports (the portal in its production mode, pointed at the
// sandbox over HTTP), and each test books an appointment in headless
// Chromium the way a patient would, then asks coreplus (the sandbox,
// through the signed API client) whether the booking is there.
//
// Run with `make browser-test`. Chromium comes from /usr/bin/chromium or
// $CHROMIUM_PATH; set BROWSER_SCREENSHOTS to a folder to keep a screenshot
// of every step.
package browsertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
	"github.com/clinic-booking/portal/internal/mail/mailtest"
)

// The sandbox accepts these when it is started with no credential flags.
const (
	demoConsumerID     = sandbox.DemoConsumerID
	demoConsumerSecret = sandbox.DemoConsumerSecret
	demoAccessToken    = sandbox.DemoAccessToken
)

// The clinic as the portal is configured for these tests.
const (
	clinicSlug  = "demo"
	clinicName  = "Harbourside Physio (browser test)"
	clinicPhone = "07 3000 0000"
)

// Timeouts sized for a slow two-core machine.
const (
	buildTimeout   = 5 * time.Minute
	startupTimeout = 60 * time.Second
	stopTimeout    = 15 * time.Second
)

// suite is what TestMain started, for the tests to use.
var suite struct {
	portalURL string // http://127.0.0.1:PORT, no trailing slash
	// embedURL is the same portal as another site (http://localhost:PORT),
	// so that inside a page of hostURL it is a cross-site iframe whose
	// cookies are third-party.
	embedURL string
	// hostURL serves a clinic's website (http://127.0.0.1:PORT1), on the
	// clinic's framing allowlist; strangerURL another site, not on it.
	hostURL     string
	strangerURL string
	coreplusURL string // the sandbox's API base, ending in /API/Core/v2.1/
	chromium    string // path of the browser binary
	screenshots string // folder for step screenshots, "" to keep none
	portalLog   string // the portal's output
	// faultyURL is a second portal, with a database of its own, that
	// reaches coreplus through upstream, a switch that can take coreplus
	// away; faultyEmbedURL is it as another site, as embedURL.
	faultyURL, faultyEmbedURL string
	upstream                  *upstreamSwitch
	// dir and portalBin let a test start a portal of its own (coldPortal).
	dir, portalBin string
	// secretKey is the first portal's PORTAL_SECRET_KEY, hex.
	secretKey string
	// portalEnv runs `portal` commands (portal staff add) on the first
	// portal's database, as its operator would.
	portalEnv []string
	// mail is the SMTP server the first portal sends its emails to, in
	// this process, so a test reads a patient's email as they would.
	mail *mailtest.Server
}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

// runSuite starts the processes, runs the tests and stops the processes,
// printing their output when anything failed.
func runSuite(m *testing.M) (code int) {
	dir, err := os.MkdirTemp("", "portal-browsertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	var procs []*process
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
		if code != 0 {
			for _, p := range procs {
				p.dumpLog(os.Stderr)
			}
		}
	}()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "browsertest: setup:", err)
		return 1
	}

	suite.chromium = chromiumPath()
	if _, err := os.Stat(suite.chromium); err != nil {
		return fail(fmt.Errorf("no browser at %s (apt-get install chromium, or set CHROMIUM_PATH): %w", suite.chromium, err))
	}
	suite.screenshots = os.Getenv("BROWSER_SCREENSHOTS")
	if suite.screenshots != "" {
		if err := os.MkdirAll(suite.screenshots, 0o755); err != nil {
			return fail(fmt.Errorf("BROWSER_SCREENSHOTS: %w", err))
		}
	}

	start := time.Now()
	bins, err := buildCommands(dir, "portal", "coreplus-sandbox")
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "browsertest: built the portal and the sandbox in %v\n", time.Since(start).Round(time.Millisecond))
	suite.dir, suite.portalBin = dir, bins["portal"]

	// Port 0: the sandbox picks a free port and prints it in its banner.
	sandbox, err := startProcess(dir, "coreplus-sandbox", bins["coreplus-sandbox"], []string{"--addr", "127.0.0.1:0"}, nil)
	if err != nil {
		return fail(err)
	}
	procs = append(procs, sandbox)
	addr, err := sandbox.waitForLine(regexp.MustCompile(`listening on http://(\S+)`), startupTimeout)
	if err != nil {
		return fail(fmt.Errorf("coreplus sandbox did not start: %w", err))
	}
	suite.coreplusURL = "http://" + addr + "/API/Core/v2.1/"

	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	suite.embedURL = "http://localhost:" + port
	hosts, err := startHostSites()
	if err != nil {
		return fail(err)
	}
	defer hosts.Close()
	// The first portal sends its emails over SMTP to a server in this
	// process, where the manage tests read the link the patient gets;
	// patients there may change a booking until an hour before it. Its
	// PUBLIC_URL is the address the embed snippets already name (the
	// portal as another site), so the emails' links work as they are.
	suite.mail, err = mailtest.Serve()
	if err != nil {
		return fail(err)
	}
	defer suite.mail.Close()
	suite.secretKey = randomHex(32)
	portal, err := startPortal(dir, bins["portal"], "portal", suite.coreplusURL, port,
		"PORTAL_SECRET_KEY="+suite.secretKey, "BOOKING_CANCELLATION_CUTOFF=1h",
		"SMTP_URL="+suite.mail.URL(), "MAIL_FROM=Harbourside Physio <bookings@harbourside.example>",
		"PORTAL_TOKEN_KEYS="+randomHex(32), "PUBLIC_URL="+suite.embedURL)
	if portal != nil {
		procs = append(procs, portal)
	}
	if err != nil {
		return fail(err)
	}
	suite.portalLog = portal.logPath
	suite.portalURL = "http://127.0.0.1:" + port
	suite.portalEnv = portal.env

	// A second portal reaches the sandbox through a switch the tests
	// control, to show the pages of an outage, with no per-address limits.
	suite.upstream = &upstreamSwitch{target: "http://" + addr}
	proxy, err := suite.upstream.start()
	if err != nil {
		return fail(err)
	}
	defer proxy.Close()
	faultyPort, err := freePort()
	if err != nil {
		return fail(err)
	}
	faulty, err := startPortal(dir, bins["portal"], "portal-behind-switch", suite.upstream.url+"/API/Core/v2.1/", faultyPort,
		// Its tour of every page sends many forms from one address.
		"RATE_LIMIT_DRAFTS_PER_MINUTE=0", "RATE_LIMIT_CONFIRMS_PER_MINUTE=0",
		"RATE_LIMIT_REQUESTS_PER_MINUTE=0", "RATE_LIMIT_REJECTS_PER_MINUTE=0", "RATE_LIMIT_CHANGES_PER_MINUTE=0",
		// Every booking here is inside its cut-off: online changes refused.
		"BOOKING_CANCELLATION_CUTOFF=720h")
	if faulty != nil {
		procs = append(procs, faulty)
	}
	if err != nil {
		return fail(err)
	}
	suite.faultyURL = "http://127.0.0.1:" + faultyPort
	suite.faultyEmbedURL = "http://localhost:" + faultyPort
	fmt.Fprintf(os.Stderr, "browsertest: portal %s, coreplus sandbox %s, ready after %v\n",
		suite.portalURL, suite.coreplusURL, time.Since(start).Round(time.Millisecond))

	return m.Run()
}

// startPortal runs the portal in its production configuration, everything
// from the environment as a single-clinic deployment would have it, and
// waits until it answers.
func startPortal(dir, bin, name, coreplusURL, port string, extraEnv ...string) (*process, error) {
	dataDir := filepath.Join(dir, name+"-data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	env := []string{
		"COREPLUS_BASE_URL=" + coreplusURL,
		"COREPLUS_CONSUMER_ID=" + demoConsumerID,
		"COREPLUS_CONSUMER_SECRET=" + demoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN=" + demoAccessToken,
		"PORTAL_SECRET_KEY=" + randomHex(32),
		// Clinics in the database, for the operator's console pages.
		"PORTAL_TOKEN_KEYS=" + randomHex(32),
		"CLINIC_SLUG=" + clinicSlug,
		"CLINIC_NAME=" + clinicName,
		"CLINIC_PHONE=" + clinicPhone,
		"CLINIC_FRAME_ORIGINS=" + suite.hostURL,
		// What a clinic adds to coreplus's data, so that every page's
		// check sees the markup that shows it.
		"CLINIC_SERVICE_DESCRIPTIONS=" + clinicServiceDescriptions,
		"CLINIC_LOCATION_DIRECTIONS=" + clinicLocationDirections,
		"CLINIC_CANCELLATION_POLICY=" + clinicCancellationPolicy,
		"DATA_DIR=" + dataDir,
		"DATABASE_URL=sqlite:" + filepath.Join(dataDir, "portal.db"),
		"HOST=127.0.0.1",
		"PORT=" + port,
	}
	env = append(env, extraEnv...)
	p, err := startProcess(dir, name, bin, nil, env)
	if err != nil {
		return nil, err
	}
	p.env = env
	if err := waitHealthy("http://127.0.0.1:"+port+"/healthz", p, startupTimeout); err != nil {
		return p, fmt.Errorf("%s did not become healthy: %w", name, err)
	}
	return p, nil
}

// The clinic's own texts, as the portals are configured with them.
var (
	clinicServiceDescriptions = `{"` + sandbox.AppointmentTypeInitialID + `": "Your first visit: assessment, treatment and a plan", "` +
		sandbox.AppointmentTypeStandardID + `": "A follow-up visit for a problem we are treating"}`
	clinicLocationDirections = `{"` + sandbox.LocationSydneyID + `": "Level 1, above the pharmacy: the lift is on Crown Street"}`
	clinicCancellationPolicy = "Please give 24 hours' notice if you need to cancel.\nLate cancellations may be charged."
)

// upstreamSwitch passes requests to coreplus (the sandbox) or, while down,
// answers each with a 503 as coreplus does in an outage; while slow, it
// holds each request until slow is cleared (or the caller gives up), as a
// coreplus too slow for a patient to wait for.
type upstreamSwitch struct {
	target string // the sandbox, http://HOST:PORT
	url    string // the switch, http://HOST:PORT
	down   atomic.Bool
	slow   atomic.Bool
}

func (u *upstreamSwitch) start() (*http.Server, error) {
	target, err := url.Parse(u.target)
	if err != nil {
		return nil, err
	}
	// The request keeps its Host header, so the token's url claim (the
	// address the portal called) still matches what the sandbox checks.
	proxy := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u.url = "http://" + ln.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u.down.Load() {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		for u.slow.Load() {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

var coldPortals atomic.Int32

// coldPortal is a portal of the test's own, started now, so that nothing is
// in its caches, behind a switch of its own; the test's cleanup stops it.
type coldPortal struct {
	url, embedURL string
	upstream      *upstreamSwitch
}

func startColdPortal(t *testing.T) *coldPortal {
	t.Helper()
	sw := &upstreamSwitch{target: suite.upstream.target}
	srv, err := sw.start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.slow.Store(false); srv.Close() })
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("portal-cold-%d", coldPortals.Add(1))
	p, err := startPortal(suite.dir, suite.portalBin, name, sw.url+"/API/Core/v2.1/", port)
	if p != nil {
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				p.dumpLog(os.Stderr)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return &coldPortal{url: "http://127.0.0.1:" + port, embedURL: "http://localhost:" + port, upstream: sw}
}

func chromiumPath() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// buildCommands builds each ./cmd/NAME of this module into dir.
func buildCommands(dir string, names ...string) (map[string]string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed to build the portal: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	bins := map[string]string{}
	for _, name := range names {
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/clinic-booking/portal/cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, b)
		}
		bins[name] = out
	}
	return bins, nil
}

// process is a started program whose output goes to a file.
type process struct {
	env     []string // its environment, besides the test's own
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

func startProcess(dir, name, bin string, args, env []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitForLine polls the process's output for re and returns its first group.
func (p *process) waitForLine(re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(p.logPath)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1]), nil
		}
		select {
		case <-p.exited:
			return "", fmt.Errorf("%s exited: %v", p.name, p.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s printed no line matching %q within %v", p.name, re, timeout)
		}
	}
}

// stop asks the process to shut down cleanly, then kills it.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *process) dumpLog(w io.Writer) {
	fmt.Fprintf(w, "\n----- %s output (%s) -----\n", p.name, p.logPath)
	f, err := os.Open(p.logPath)
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintln(w, sc.Text())
	}
	fmt.Fprintf(w, "----- end of %s output -----\n", p.name)
}

// waitHealthy polls url until it answers 200, the process exits, or the
// timeout passes.
func waitHealthy(url string, p *process, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := errors.New("no answer yet")
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET %s: %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %v", p.name, p.waitErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("not healthy within %v: %w", timeout, last)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logTail returns the last lines of a log file, for a failure message.
func logTail(p string, lines int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
