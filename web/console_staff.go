package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/clinic-booking/portal/internal/staff"
	"github.com/clinic-booking/portal/views"
)

// The Staff page: a clinic's admins (and operators, admin everywhere) see
// who has access to the clinic's console, invite someone by email (as
// `portal staff add` does, with a first sign-in link mailed through the
// same outbox as the sign-in page's) and remove someone, after a page that
// asks them to confirm. Everyone else gets the console's 404. Addresses
// travel only in POST bodies and pages; URLs carry account ids, which are
// random, and logs carry ids only.

// StaffTeam invites and removes a clinic's staff, auditing each change
// (*staff.Team).
type StaffTeam interface {
	Members(ctx context.Context, clinic string) ([]staff.Member, error)
	Invite(ctx context.Context, clinic, email string, role staff.Role, by staff.Account) (staff.Account, string, error)
	Remove(ctx context.Context, clinic, accountID string, by staff.Account) (staff.Member, error)
}

var _ StaffTeam = (*staff.Team)(nil)

// The Staff page's notices after a change, by the done= of the redirect
// (never the address: it is personal and URLs are logged).
var staffNotices = map[string]string{
	"invited":        "Invited. A sign-in link was emailed to them: it works once, within 15 minutes. After that they sign in at the console's sign-in page with their email address.",
	"invited-unsent": "Invited, but the email with their sign-in link could not be sent. They can sign in at the console's sign-in page with their email address, which emails them a new link.",
	"removed":        "Removed. They no longer have access to this clinic: their next page here, even in a session already open, is refused.",
}

// The Staff page's refusals, by the problem= of the redirect.
var staffProblems = map[string]string{
	"last-admin": "That person is the clinic's only admin, so they can't be removed: the clinic would have no one to invite or remove staff. Invite another admin first.",
	"self":       "You can't remove your own access: ask another admin of the clinic, or the portal's operator.",
}

// staffPage lists the clinic's staff with the invite form.
func (s *Server) staffPage(c echo.Context) error {
	return s.renderStaffPage(c, http.StatusOK, views.StaffInviteForm{Role: string(staff.RoleStaff)})
}

func (s *Server) renderStaffPage(c echo.Context, status int, form views.StaffInviteForm) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	ctx := c.Request().Context()
	members, err := s.console.Team.Members(ctx, cl.Slug)
	if err != nil {
		return fmt.Errorf("staff: %w", err)
	}
	title := "Staff"
	if len(form.Errors) > 0 {
		title = "Error: Staff"
	}
	base := "/console/" + url.PathEscape(cl.Slug) + "/staff"
	form.Action = base
	m := views.StaffPage{
		ConsolePage: s.consolePage(c, &cl, title, "Staff"),
		Notice:      staffNotices[c.QueryParam("done")],
		Problem:     staffProblems[c.QueryParam("problem")],
		Invite:      form,
	}
	zone := referenceNames(ctx, svc).zone
	me := staffFrom(c)
	for _, mem := range members {
		row := views.StaffMemberRow{Email: mem.Email, Role: roleName(mem.Role), You: mem.AccountID == me.ID}
		if !mem.Since.IsZero() {
			row.Since = mem.Since.In(zone).Format("2 Jan 2006")
		}
		if !row.You {
			row.RemoveURL = base + "/" + url.PathEscape(mem.AccountID) + "/remove"
		}
		m.Members = append(m.Members, row)
	}
	return render(c, status, views.StaffView(m))
}

func roleName(r staff.Role) string {
	if r == staff.RoleAdmin {
		return "Admin"
	}
	return "Staff"
}

// inviteStaff gives the address typed access to the clinic and emails it
// a first sign-in link. A bad address or role comes back beside its field
// with what was typed kept; an address that already has access says so.
func (s *Server) inviteStaff(c echo.Context) error {
	slug := c.Param("clinic")
	typed := strings.TrimSpace(c.FormValue("email"))
	form := views.StaffInviteForm{Email: typed, Role: c.FormValue("role")}
	role, roleErr := staff.ParseRole(form.Role)
	email, emailErr := staff.NormaliseEmail(typed)
	if emailErr != nil {
		form.Errors = append(form.Errors, views.FieldError{Field: "invite-email", Message: "Enter their email address in the format name@example.com"})
	}
	if roleErr != nil {
		form.Errors = append(form.Errors, views.FieldError{Field: "invite-role-staff", Message: "Choose whether they are an admin or staff"})
	}
	if len(form.Errors) > 0 {
		return s.renderStaffPage(c, http.StatusUnprocessableEntity, form)
	}
	ctx := c.Request().Context()
	by := staffFrom(c)
	acc, token, err := s.console.Team.Invite(ctx, slug, email, role, by)
	switch {
	case errors.Is(err, staff.ErrAlreadyMember):
		form.Errors = append(form.Errors, views.FieldError{Field: "invite-email", Message: "That address already has access to this clinic's console"})
		return s.renderStaffPage(c, http.StatusUnprocessableEntity, form)
	case err != nil && acc.ID == "":
		return fmt.Errorf("invite staff: %w", err)
	}
	done := "invited"
	if err == nil {
		err = s.console.Mailer.SendInvite(ctx, slug, email, s.portalBase(c)+"/console/sign-in/"+token)
	}
	if err != nil {
		// They have access; only the email failed. The page says how they
		// sign in without it.
		s.log.Warn("invited staff's sign-in link not sent", "request_id", requestIDFrom(c), "clinic", slug, "account", acc.ID, "err", err)
		done = "invited-unsent"
	}
	s.log.Info("staff invited", "request_id", requestIDFrom(c), "clinic", slug, "account", acc.ID, "role", string(role), "by", by.ID)
	return c.Redirect(http.StatusSeeOther, "/console/"+url.PathEscape(slug)+"/staff?done="+done)
}

// confirmRemoveStaff asks before removing someone: one mis-click on the
// list does not take a person's access away.
func (s *Server) confirmRemoveStaff(c echo.Context) error {
	svc, err := s.clinicFrom(c)
	if err != nil {
		return err
	}
	cl := svc.Clinic()
	mem, ok, err := s.member(c, cl.Slug)
	if err != nil || !ok {
		return err
	}
	base := "/console/" + url.PathEscape(cl.Slug) + "/staff"
	m := views.StaffRemovePage{
		ConsolePage: s.consolePage(c, &cl, "Remove "+mem.Email, "Staff"),
		Email:       mem.Email, Role: roleName(mem.Role),
		Action: base + "/" + url.PathEscape(mem.AccountID) + "/remove", Cancel: base,
	}
	switch {
	case mem.AccountID == staffFrom(c).ID:
		m.Problem = staffProblems["self"]
	case mem.Role == staff.RoleAdmin && s.onlyAdmin(c, cl.Slug):
		m.Problem = staffProblems["last-admin"] // the POST refuses it too
	}
	return render(c, http.StatusOK, views.StaffRemoveView(m))
}

// onlyAdmin reports whether the clinic has one admin (the one asked about).
func (s *Server) onlyAdmin(c echo.Context, clinic string) bool {
	members, err := s.console.Team.Members(c.Request().Context(), clinic)
	n := 0
	for _, m := range members {
		if m.Role == staff.RoleAdmin {
			n++
		}
	}
	return err == nil && n == 1
}

// member is the clinic's member the URL names; false (the 404 answered)
// for an account that is not one.
func (s *Server) member(c echo.Context, clinic string) (staff.Member, bool, error) {
	members, err := s.console.Team.Members(c.Request().Context(), clinic)
	if err != nil {
		return staff.Member{}, false, fmt.Errorf("staff: %w", err)
	}
	for _, m := range members {
		if m.AccountID == c.Param("id") {
			return m, true, nil
		}
	}
	return staff.Member{}, false, s.consoleNotFound(c)
}

// removeStaff takes the person's access to the clinic away; their
// sessions lose it at their next request.
func (s *Server) removeStaff(c echo.Context) error {
	slug := c.Param("clinic")
	by := staffFrom(c)
	_, err := s.console.Team.Remove(c.Request().Context(), slug, c.Param("id"), by)
	to := "/console/" + url.PathEscape(slug) + "/staff?"
	switch {
	case errors.Is(err, staff.ErrNotMember):
		return s.consoleNotFound(c)
	case errors.Is(err, staff.ErrRemoveSelf):
		to += "problem=self"
	case errors.Is(err, staff.ErrLastAdmin):
		to += "problem=last-admin"
	case err != nil:
		return fmt.Errorf("remove staff: %w", err)
	default:
		s.log.Info("staff removed", "request_id", requestIDFrom(c), "clinic", slug, "account", c.Param("id"), "by", by.ID)
		to += "done=removed"
	}
	return c.Redirect(http.StatusSeeOther, to)
}
