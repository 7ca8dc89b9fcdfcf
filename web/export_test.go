package web

// GETRoutes lists the path of every GET route the router knows, for the
// tests that walk them all.
func (s *Server) GETRoutes() []string {
	var paths []string
	for _, r := range s.echo.Routes() {
		if r.Method == "GET" {
			paths = append(paths, r.Path)
		}
	}
	return paths
}

// MaxFormBytes is the bound on every request body, for the tests that
// send one just over it and check the largest real form stays under it.
const MaxFormBytes = maxFormBytes

// WaitForSignInLinks waits until the sign-in links asked for so far have
// been issued (or not: an address with no account), for the tests that
// read them from a mailbox.
// (Drain would stop later links too.)
func (s *Server) WaitForSignInLinks() {
	if s.console != nil {
		s.console.issuer.running.Wait()
	}
}
