package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clinic-booking/portal/internal/coreplus/sandbox"
)

// upstream is the coreplus sandbox, served over real HTTP on a loopback
// port, with its real rate limit, and counted from its side of the wire.
type upstream struct {
	sb      *sandbox.Server
	srv     *http.Server
	baseURL string

	mu       sync.Mutex
	counting bool
	calls    []upstreamCall
}

// upstreamCall is one request the sandbox received while counting.
type upstreamCall struct {
	at     time.Time
	status int
}

func startUpstream(latency time.Duration) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{sb: sandbox.New(sandbox.Config{Faults: sandbox.Faults{Latency: latency}})}
	u.srv = &http.Server{Handler: http.HandlerFunc(u.serve), ReadHeaderTimeout: 10 * time.Second}
	u.baseURL = "http://" + ln.Addr().String() + "/API/Core/v2.1/"
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

// serve notes when each request arrived (in order of arrival, as coreplus
// counts them) and how the sandbox answered it.
func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	i := -1
	if u.counting {
		i = len(u.calls)
		u.calls = append(u.calls, upstreamCall{at: time.Now()})
	}
	u.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	u.sb.ServeHTTP(sw, r)
	if i >= 0 {
		u.mu.Lock()
		u.calls[i].status = sw.status
		u.mu.Unlock()
	}
}

func (u *upstream) startCounting() { u.mu.Lock(); u.counting = true; u.mu.Unlock() }
func (u *upstream) stopCounting()  { u.mu.Lock(); u.counting = false; u.mu.Unlock() }

func (u *upstream) counted() []upstreamCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upstreamCall(nil), u.calls...)
}

func (u *upstream) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = u.srv.Shutdown(ctx)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (the sandbox
// drops connections to imitate a lost answer).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// buildPortal builds cmd/portal into dir, as `make build` would.
func buildPortal(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "portal")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/clinic-booking/portal/cmd/portal")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/portal: %w\n%s", err, out)
	}
	return bin, nil
}

// portal is one running portal process.
type portal struct {
	base string // http://127.0.0.1:PORT
	slug string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

var servingLine = regexp.MustCompile(`^portal: serving .* on (http://[^/\s]+)/(\S*)$`)

// startPortals starts o.replicas portal processes on one database, each
// with its own log file in dir.
func startPortals(ctx context.Context, o options, bin, dir, coreplusURL string) ([]*portal, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	databaseURL := o.databaseURL
	if databaseURL == "" {
		databaseURL = "sqlite:" + filepath.Join(dir, "portal.db")
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"COREPLUS_BASE_URL=" + coreplusURL,
		"COREPLUS_CONSUMER_ID=" + sandbox.DemoConsumerID,
		"COREPLUS_CONSUMER_SECRET=" + sandbox.DemoConsumerSecret,
		"COREPLUS_ACCESS_TOKEN=" + sandbox.DemoAccessToken,
		"CLINIC_SLUG=demo",
		"CLINIC_NAME=Harbourside Physio",
		"CLINIC_PHONE=07 3000 0000",
		"PORTAL_SECRET_KEY=" + hex.EncodeToString(key),
		"PORTAL_REPLICAS=" + strconv.Itoa(o.replicas),
		"DATABASE_URL=" + databaseURL,
		"DATA_DIR=" + dir,
		// Each simulated patient sends its own X-Forwarded-For address, so
		// the per-address limits apply per patient as they would in the wild.
		"TRUSTED_PROXIES=127.0.0.1",
	}
	var portals []*portal
	for i := range o.replicas {
		p, err := startPortal(ctx, bin, env, filepath.Join(dir, fmt.Sprintf("portal-%d.log", i+1)))
		if err != nil {
			for _, q := range portals {
				q.stop()
			}
			return nil, fmt.Errorf("start portal %d: %w", i+1, err)
		}
		portals = append(portals, p)
	}
	return portals, nil
}

func startPortal(ctx context.Context, bin string, env []string, logPath string) (*portal, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = env
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &portal{cmd: cmd, done: make(chan struct{})}
	found := make(chan error, 1)
	go func() {
		defer logFile.Close()
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 64*1024), 1024*1024)
		served := false
		for lines.Scan() {
			fmt.Fprintln(logFile, lines.Text())
			if m := servingLine.FindStringSubmatch(lines.Text()); !served && m != nil {
				p.base, p.slug, served = m[1], m[2], true
				found <- nil
			}
		}
		if !served {
			found <- fmt.Errorf("it stopped before serving; its output is in %s", logPath)
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case err = <-found:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("it did not say where it serves within 60 s; its output is in %s", logPath)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	if p.slug == "" {
		p.stop()
		return nil, fmt.Errorf("it serves several clinics; the load test needs the one configured by environment")
	}
	return p, nil
}

// stop interrupts the portal and waits for it to shut down cleanly.
func (p *portal) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func describePortals(o options, portals []*portal) string {
	db := "a fresh SQLite file"
	if o.databaseURL != "" {
		db = strings.SplitN(o.databaseURL, ":", 2)[0] + " (DATABASE_URL)"
	}
	if len(portals) == 1 {
		return "1 portal on " + db
	}
	return fmt.Sprintf("%d portals on one %s, patients split between them", len(portals), db)
}
