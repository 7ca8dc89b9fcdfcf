package web

// routes lists every URL the portal answers.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.requestID, s.logRequests, s.recoverPanics, s.securityHeaders, s.boundBodies)

	e.GET("/healthz", s.healthz)
	e.GET("/static/:version/*", s.static)
	e.GET("/embed.js", s.embedScript) // the loader the clinic's snippet names
	e.GET("/favicon.ico", s.favicon)

	e.GET("/", s.root)

	// The demo's mailbox: only a portal started with -demo has one.
	if s.demoMailbox != nil {
		e.GET(demoMailPath, s.demoMail)
		e.GET(demoMailPath+"/:id", s.demoMailMessage) // "<id>.ics" is its calendar file
	}

	// The patient's booking flow. Every step is a GET with the choices in
	// its query; personal details travel only in POST bodies.
	clinic := e.Group("/:clinic", s.framePolicy)
	clinic.GET("", s.book)
	clinic.GET("/", s.book)
	clinic.GET("/book", s.book)
	clinic.GET("/book/details", s.detailsForm)
	clinic.POST("/book/details", s.saveDetails)
	clinic.GET("/book/review", s.review)
	clinic.POST("/book/confirm", s.confirm, s.limitConfirms)
	clinic.GET("/booking/:ref", s.confirmation) // "<token>.ics" is the calendar file
	clinic.GET("/booking/:ref/", s.confirmation)
	// A patient's own booking, from the link in its email: read back,
	// cancel, or move to another time. The token is never logged.
	clinic.GET("/manage/:token", s.manage)
	clinic.GET("/manage/:token/cancel", s.manageCancelForm)
	clinic.POST("/manage/:token/cancel", s.manageCancel, s.limitChanges)
	clinic.GET("/manage/:token/reschedule", s.manageTimes)
	clinic.GET("/manage/:token/reschedule/review", s.manageMoveReview)
	clinic.POST("/manage/:token/reschedule", s.manageMove, s.limitChanges)

	// When coreplus cannot be reached: a booking request for staff to call
	// back. These pages never call coreplus.
	clinic.GET("/request", s.requestForm)
	clinic.POST("/request", s.saveRequest)
	clinic.GET("/request/received", s.requestReceived)

	// The staff console: its own group and middleware (never framed or
	// cached; a session, and the clinic checked, on every request). Forms
	// are refused cross-site by the CrossOriginProtection around every
	// route (server.go), as the patients' are.
	if s.console != nil {
		con := e.Group("/console", s.consoleHeaders)
		con.GET("/sign-in", s.signInForm)
		con.POST("/sign-in", s.sendSignInLink)
		con.GET("/sign-in/:token", s.signInLink) // a button that POSTs: mail scanners fetch links
		con.POST("/sign-in/:token", s.useSignInLink)
		con.POST("/sign-out", s.signOut)
		if s.passkeysOn() { // console_passkeys.go
			con.POST("/sign-in/passkey/begin", s.beginPasskeySignIn, s.limitPasskeys)
			con.POST("/sign-in/passkey/finish", s.finishPasskeySignIn, s.limitPasskeys)
		}
		signedIn := con.Group("", s.requireStaff)
		signedIn.RouteNotFound("/*", s.consoleNotFound)
		signedIn.GET("", s.consoleHome)
		signedIn.GET("/", s.consoleHome)
		signedIn.GET("/clinics", s.consoleClinics)
		signedIn.POST("/clinics", s.addClinic)                   // operators only
		signedIn.POST("/clinics/:slug/disable", s.disableClinic) // operators only
		signedIn.POST("/clinics/:slug/enable", s.enableClinic)
		signedIn.POST("/clinics/:slug/check", s.checkClinic) // operators only
		signedIn.POST("/sign-out-everywhere", s.signOutEverywhere)
		if s.passkeysOn() {
			signedIn.GET("/account/passkeys", s.passkeysPage)
			signedIn.POST("/account/passkeys/begin", s.beginAddPasskey, s.limitPasskeys)
			signedIn.POST("/account/passkeys/finish", s.finishAddPasskey, s.limitPasskeys)
			signedIn.POST("/account/passkeys/:id/remove", s.removePasskey)
		}
		clinicConsole := signedIn.Group("/:clinic", s.consoleClinic)
		clinicConsole.RouteNotFound("", s.consoleNotFound)
		clinicConsole.RouteNotFound("/*", s.consoleNotFound)
		clinicConsole.GET("/today", s.today)
		clinicConsole.GET("/requests", s.requests)
		clinicConsole.POST("/requests/:id/contacted", s.markRequestContacted)
		if s.console.Settings != nil {
			clinicConsole.GET("/settings", s.settings, s.requireClinicAdmin)
			clinicConsole.POST("/settings", s.saveSettings, s.requireClinicAdmin)
			clinicConsole.GET("/settings/preview", s.settingsPreview, s.requireClinicAdmin)
			clinicConsole.GET("/audit", s.audit)
		}
		clinicConsole.GET("/embed", s.consoleEmbed)
		clinicConsole.GET("/funnel", s.consoleFunnel)
		if s.console.Team != nil {
			clinicConsole.GET("/staff", s.staffPage, s.requireClinicAdmin)
			clinicConsole.POST("/staff", s.inviteStaff, s.requireClinicAdmin)
			clinicConsole.GET("/staff/:id/remove", s.confirmRemoveStaff, s.requireClinicAdmin) // asks first
			clinicConsole.POST("/staff/:id/remove", s.removeStaff, s.requireClinicAdmin)
		}
	}

	// Where the snippets for the clinic's website used to be: they are in
	// the console now (/console/{clinic}/embed), and this sends old
	// bookmarks there.
	e.GET("/:clinic/embed-code", s.embedCode)
}
