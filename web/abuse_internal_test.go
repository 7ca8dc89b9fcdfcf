package web

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted bool
		peer    string
		xff     string
		want    string
	}{
		{"no proxies: the peer, whatever it sends", false, "203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},
		{"no proxies: loopback peer is not trusted either", false, "127.0.0.1:4000", "198.51.100.1", "127.0.0.1"},
		{"untrusted peer's header is ignored", true, "203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},
		{"private but unlisted peer is not trusted", true, "172.16.0.1:4000", "198.51.100.1", "172.16.0.1"},
		{"trusted proxy: the address it saw", true, "10.1.2.3:4000", "198.51.100.1", "198.51.100.1"},
		{"trusted proxy: a client-sent address to the left is ignored", true, "10.1.2.3:4000", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", true, "192.0.2.7:4000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"trusted proxy with no header", true, "10.1.2.3:4000", "", "10.1.2.3"},
		{"garbage in the header: the peer", true, "10.1.2.3:4000", "not-an-ip", "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var trusted = proxies
			if !tc.trusted {
				trusted = nil
			}
			req := httptest.NewRequest("POST", "/x", nil)
			req.RemoteAddr = tc.peer
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientIPExtractor(trusted)(req); got != tc.want {
				t.Errorf("client address %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8,192.0.2.7 2001:db8::/32 ")
	if err != nil || len(got) != 3 || got[1].String() != "192.0.2.7/32" || got[2].String() != "2001:db8::/32" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAddrLimiter(t *testing.T) {
	l := newAddrLimiter(3, 10)
	for i := range 3 {
		if !l.allow("198.51.100.1") {
			t.Fatalf("send %d refused", i+1)
		}
	}
	if l.allow("198.51.100.1") {
		t.Error("fourth send in a minute allowed")
	}
	if !l.allow("198.51.100.2") {
		t.Error("another address refused")
	}
	// One IPv6 client holds a whole /64.
	for i := range 3 {
		l.allow("2001:db8:1:1::" + string(rune('a'+i)))
	}
	if l.allow("2001:db8:1:1::ff") {
		t.Error("a fourth address in the same /64 allowed")
	}
	if newAddrLimiter(-1, 10) != nil || !(*addrLimiter)(nil).allow("x") {
		t.Error("a negative limit does not turn limiting off")
	}
}

// TestSpentTakesNothing: looking at a bucket, as every POST does, must not
// spend it, or a patient's good forms would count as mistakes.
func TestSpentTakesNothing(t *testing.T) {
	l := newAddrLimiter(2, 0)
	for range 5 {
		if l.spent("192.0.2.1") {
			t.Fatal("spent before anything was taken")
		}
	}
	l.allow("192.0.2.1")
	if l.spent("192.0.2.1") {
		t.Fatal("spent with one of two left")
	}
	l.allow("192.0.2.1")
	if !l.spent("192.0.2.1") || l.spent("192.0.2.2") {
		t.Error("after two taken: want 192.0.2.1 spent and 192.0.2.2 not")
	}
	if (*addrLimiter)(nil).spent("192.0.2.1") {
		t.Error("a limit turned off is never spent")
	}
}
