package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// Parts walks a MIME message as a mail client reads it and returns each
// leaf part's decoded body by media type ("text/plain", "text/html",
// "text/calendar").
func Parts(t testing.TB, raw []byte) map[string]string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	out := map[string]string{}
	var walk func(header func(string) string, body io.Reader)
	walk = func(header func(string) string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(header("Content-Type"))
		if err != nil {
			t.Fatalf("content type %q: %v", header("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("read %s: %v", mt, err)
				}
				walk(p.Header.Get, p)
			}
		}
		switch strings.ToLower(header("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read %s part: %v", mt, err)
		}
		out[mt] = string(b)
	}
	walk(msg.Header.Get, msg.Body)
	return out
}
