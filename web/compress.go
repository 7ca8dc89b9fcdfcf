package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// minCompressBytes is the smallest answer worth compressing: below about a
// kilobyte the answer fits one packet either way, and gzip's own frame
// eats much of what it would save.
const minCompressBytes = 1024

// compressAnswers gzips every answer the client accepts gzip for, pages,
// error pages and the cross-origin refusal alike, and marks every answer
// Vary: Accept-Encoding, the uncompressed ones included, so a cache never
// hands one client's encoding to another. An answer already encoded (the
// static assets, compressed once at start) passes through untouched, and
// so do answers under minCompressBytes, 304s, ranges and compressed types.
//
// gzip only, at its fastest level: pages are made per request and are
// mostly repeated markup, which the fastest level still shrinks about as
// well (a time page within a few per cent) for a fraction of the CPU; on a
// time page brotli at a level cheap enough to run per request saves about
// 250 of 2,000 bytes for four times the CPU, and zstd at its fastest is
// larger than gzip here.
func compressAnswers(next http.Handler) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(minCompressBytes),
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.EnableZstd(false),
		// Pages carry no ETag; this keeps one that a future answer sets
		// from naming both its plain and its gzipped bytes.
		gzhttp.SuffixETag("-gzip"),
	)
	if err != nil {
		return nil, err
	}
	return wrap(next), nil
}

// acceptedCoding picks what to send a static asset as, of brotli, gzip or
// none (""), by the request's Accept-Encoding and its q-values: the one the
// client ranks highest, brotli on a tie (it is the smaller). A coding is
// offered only when the asset has it (has reports which). "*" is not taken
// to mean brotli or gzip, as gzhttp does not take it to mean gzip: clients
// that send it often expect plain bytes.
func acceptedCoding(r *http.Request, has func(coding string) bool) string {
	best, bestQ := "", 0.0
	for _, line := range r.Header.Values("Accept-Encoding") {
		for entry := range strings.SplitSeq(line, ",") {
			coding, q := parseCoding(entry)
			if (coding != "br" && coding != "gzip") || q <= 0 || !has(coding) {
				continue
			}
			if q > bestQ || q == bestQ && coding == "br" {
				best, bestQ = coding, q
			}
		}
	}
	return best
}

// parseCoding reads one Accept-Encoding entry, "gzip" or "br;q=0.8"; an
// unreadable q-value counts as 0 (not acceptable).
func parseCoding(entry string) (coding string, q float64) {
	coding, params, _ := strings.Cut(entry, ";")
	coding = strings.ToLower(strings.TrimSpace(coding))
	q = 1
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || v < 0 {
			v = 0
		}
		q = min(v, 1)
	}
	return coding, q
}
