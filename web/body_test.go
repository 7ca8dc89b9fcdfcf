package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/clinic-booking/portal/internal/booking"
	"github.com/clinic-booking/portal/internal/pagetest"
	"github.com/clinic-booking/portal/web"
)

const mib = 1 << 20

// rawPost writes a POST's head and the first part of its body on a bare
// connection and reads the answer, so a test sees what the portal answers
// before it has the rest of the body. head holds the Content-Type and the
// body's length ("Content-Length: N" or "Transfer-Encoding: chunked"). It
// reports whether the answer closes the connection.
func (h *harness) rawPost(path, head string, firstPart []byte) (p *page, closes bool, conn net.Conn) {
	h.t.Helper()
	conn, err := net.Dial("tcp", h.portal.Listener.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nSec-Fetch-Site: same-origin\r\n%s\r\n\r\n",
		path, h.portal.Listener.Addr(), h.portal.URL, head)
	if _, err := conn.Write(firstPart); err != nil {
		h.t.Fatalf("write the first part of the body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatalf("no answer before the rest of the body was sent: %v", err)
	}
	return pagetest.Read(h.t, path, resp), resp.Close, conn
}

const formType = "Content-Type: application/x-www-form-urlencoded\r\n"

// chunk frames b as one chunk of a chunked body.
func chunk(b []byte) []byte {
	return append(fmt.Appendf(nil, "%x\r\n", len(b)), append(b, "\r\n"...)...)
}

// wantRefusedPage checks the page of a refused body: the portal's own,
// saying what happened and what to do, the connection closed after it.
func wantRefusedPage(t *testing.T, p *page, closes bool, status int, h1 string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, p.Text())
	}
	p.ReportingTo(t).WantH1(h1)
	if !strings.Contains(p.Text(), "nothing was saved or booked. Go back") {
		t.Errorf("the page does not say what happened and what to do:\n%s", p.Text())
	}
	if !closes {
		t.Error("the answer keeps the connection: net/http would read the rest of the body first")
	}
}

func TestBodyOverTheBoundIsRefusedUnread(t *testing.T) {
	h := newHarness(t)
	action, form := h.detailsForm()
	first := []byte(form().Encode())

	t.Run("Content-Length of 50 MB: 413 after the first KB", func(t *testing.T) {
		p, closes, conn := h.rawPost(action, formType+"Content-Length: 52428800", first)
		wantRefusedPage(t, p, closes, http.StatusRequestEntityTooLarge, "What you sent was too large")
		// The portal closes the connection rather than read 50 MB.
		if n, err := io.Copy(io.Discard, conn); err != nil {
			t.Errorf("the connection was not closed after the 413 (%d more bytes): %v", n, err)
		}
	})

	t.Run("chunked, no length: 413 once reading passes the bound", func(t *testing.T) {
		body := chunk(first)
		for len(body) < 4*web.MaxFormBytes {
			body = append(body, chunk(bytes.Repeat([]byte("a"), 4096))...)
		}
		p, closes, _ := h.rawPost(action, formType+"Transfer-Encoding: chunked", body) // no last chunk
		wantRefusedPage(t, p, closes, http.StatusRequestEntityTooLarge, "What you sent was too large")
	})

	t.Run("the real form, chunked, is read as before", func(t *testing.T) {
		p, _, _ := h.rawPost(action, formType+"Transfer-Encoding: chunked", append(chunk(first), "0\r\n\r\n"...))
		if p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "/book/review") {
			t.Errorf("status %d to %q, want 303 to the review", p.Status, p.Header.Get("Location"))
		}
	})

	t.Run("multipart: 415", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range form() {
			_ = mw.WriteField(k, vs[0])
		}
		_ = mw.Close()
		head := fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d", mw.FormDataContentType(), buf.Len())
		p, closes, _ := h.rawPost(action, head, buf.Bytes())
		wantRefusedPage(t, p, closes, http.StatusUnsupportedMediaType, "We couldn't read that form")
	})

	logs := h.logs.String()
	if strings.Count(logs, `"msg":"request body refused"`) != 3 {
		t.Errorf("want three refusals logged:\n%s", logs)
	}
	h.assertPrivate(newPatient)
}

// postRequest is a POST of body as contentType from the portal's own page,
// from addr (as the trusted proxy tells it, when the harness has one).
func (h *harness) postRequest(addr, action, contentType string, body io.Reader) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.abs(action), body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", h.portal.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	return req
}

// formRequest is a form post as the portal's page sends it, from addr.
func (h *harness) formRequest(addr, action string, form url.Values) *http.Request {
	return h.postRequest(addr, action, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// bigBodyRequest says n bytes of a form are coming, generated as they are
// read so the sender holds none of them. With Expect: 100-continue the
// client sends the body only if the portal asks for it.
func (h *harness) bigBodyRequest(addr, action string, n int64) *http.Request {
	req := h.postRequest(addr, action, "application/x-www-form-urlencoded", io.LimitReader(repeatReader('a'), n))
	req.ContentLength = n
	req.Header.Set("Expect", "100-continue")
	return req
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestRefusedBodiesKeepMemoryFlat sends 16 bodies of 30 MB at once, half
// with their length and half chunked, each as fast as the portal takes
// it: what the process allocates meanwhile must be far less than one
// body, so nothing of them is kept.
func TestRefusedBodiesKeepMemoryFlat(t *testing.T) {
	h := newHarnessSetup(t, harnessSetup{web: func(c *web.Config) { c.Limits.RejectsPerMinute = -1 }})
	action, _ := h.detailsForm()
	const senders, size = 16, 30 * mib
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	var wg sync.WaitGroup
	statuses := make([]int, senders)
	sent := make([]int64, senders)
	for i := range senders {
		wg.Go(func() { statuses[i], sent[i] = sendHugeBody(h, action, size, i%2 == 1) })
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	runtime.GC()
	var settled runtime.MemStats
	runtime.ReadMemStats(&settled)

	var total int64
	for i, st := range statuses {
		total += sent[i]
		if st != http.StatusRequestEntityTooLarge {
			t.Errorf("sender %d: status %d, want 413", i, st)
		}
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d senders of %d MB: %.1f MB written before the portal closed, %.2f MB allocated, heap %.1f MB -> %.1f MB",
		senders, size/mib, float64(total)/mib, float64(allocated)/mib, float64(before.HeapAlloc)/mib, float64(settled.HeapAlloc)/mib)
	// One body read into memory would be 30 MB; all of them, 480 MB.
	if allocated > 8*mib {
		t.Errorf("the process allocated %.1f MB while refusing the bodies; want under 8 MB", float64(allocated)/mib)
	}
	if settled.HeapAlloc > before.HeapAlloc+4*mib {
		t.Errorf("the heap grew from %.1f MB to %.1f MB", float64(before.HeapAlloc)/mib, float64(settled.HeapAlloc)/mib)
	}
}

// sendHugeBody sends size bytes of a form on a bare connection, with its
// length or chunked, from one reused buffer, while reading the answer; it
// returns the answer's status and how much was written before the portal
// closed the connection.
func sendHugeBody(h *harness, action string, size int, chunked bool) (status int, written int64) {
	conn, err := net.Dial("tcp", h.portal.Listener.Addr().String())
	if err != nil {
		h.t.Error(err)
		return 0, 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	length := fmt.Sprintf("Content-Length: %d", size)
	if chunked {
		length = "Transfer-Encoding: chunked"
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nSec-Fetch-Site: same-origin\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\n%s\r\n\r\n", action, h.portal.Listener.Addr(), h.portal.URL, length)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := bytes.Repeat([]byte("a"), 32<<10)
		if chunked {
			buf = chunk(buf)
		}
		for written < int64(size) {
			n, err := conn.Write(buf)
			written += int64(n)
			if err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Errorf("no answer: %v", err)
		return 0, 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.Close() // stops the writer, if the portal has not already
	<-done
	return resp.StatusCode, written
}

// TestLargestRealFormsFit sends the details and the request forms with
// every field at its longest and every parameter the flow carries: the
// details with each character one that takes 4 bytes in UTF-8 (12 once
// percent-encoded), the request with its note typed in decomposed Hangul
// (three 3-byte jamo to a character, 27 bytes encoded), the costliest
// text a patient's keyboard is likely to send. Both are accepted, the
// booking is made, and each leaves the bound a few KiB to spare.
func TestLargestRealFormsFit(t *testing.T) {
	const wide = "𠀀" // U+20000, a letter: 4 bytes in UTF-8
	longest := func(n int) string { return strings.Repeat(wide, n) }
	carried := func(v url.Values) url.Values {
		for _, k := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"} {
			v.Set(k, longest(25)) // 100 bytes, the most a campaign value keeps
		}
		v.Set("embed", "1")
		v.Set("bg", "transparent")
		v.Set("host", "https://www.example-clinic.com.au")
		return v
	}
	check := func(name string, body url.Values) {
		n := len(body.Encode())
		t.Logf("%s form at its largest: %d bytes of %d", name, n, web.MaxFormBytes)
		if n > web.MaxFormBytes-4<<10 {
			t.Errorf("the largest %s form is %d bytes: the bound of %d leaves less than 4 KiB to spare", name, n, web.MaxFormBytes)
		}
	}
	h := newHarness(t)
	pt := newPatient
	pt.First, pt.Last = longest(booking.MaxNameLength), longest(booking.MaxNameLength)
	pt.Note = longest(booking.MaxPatientNoteLength)
	pt.Email = strings.Repeat("z", booking.MaxEmailLength-len("@example.com")) + "@example.com"

	times := h.toTimes("Harbourside Physio Surry Hills", "Standard Consultation", "Tom Whitfield")
	slot, _ := times.FirstSlot()
	action, blank := h.get(slot).WantH1("Your details").Form()
	details := carried(pt.fill(blank))
	check("details", details)
	review := h.post(action, details).WantH1("Check your booking")
	if !strings.Contains(review.Text(), pt.First) {
		t.Errorf("the review does not show the name sent")
	}
	h.confirm(review).WantH1("Booking confirmed")

	action, blank = h.get("/demo/request").WantH1("Leave a booking request").Form()
	request := carried(pt.fill(blank))
	request.Set("note", norm.NFD.String(strings.Repeat("한", booking.MaxNoteLength)))
	request["days"] = booking.RequestDays
	request["times"] = booking.RequestTimes
	check("request", request)
	h.post(action, request).WantH1("Request received")
}
