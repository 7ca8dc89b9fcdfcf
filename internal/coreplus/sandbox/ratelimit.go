package sandbox

import "time"

// admit records one authenticated request from consumer and reports whether
// it is within the limit. Every request counts toward the window, refused
// ones included, so a client that ignores Retry-After stays refused.
func (s *Server) admit(consumer string) bool {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	now := s.now() // read under the lock so the window stays in time order

	window := s.windows[consumer]
	cutoff := now.Add(-time.Second)
	keep := 0
	for keep < len(window) && !window[keep].After(cutoff) {
		keep++
	}
	window = append(window[keep:], now)
	s.windows[consumer] = window

	if len(window) > s.stats.MaxPerSecond {
		s.stats.MaxPerSecond = len(window)
	}
	if s.rateLimit > 0 && len(window) > s.rateLimit {
		s.stats.RateLimited++
		return false
	}
	return true
}
