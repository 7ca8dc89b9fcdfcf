package web

// routes lists every URL the portal answers.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.requestID, s.logRequests, s.recoverPanics, s.securityHeaders)

	e.GET("/healthz", s.healthz)
	e.GET("/static/:version/*", s.static)

	e.GET("/", s.root)
	e.GET("/:clinic", s.locations)
}
