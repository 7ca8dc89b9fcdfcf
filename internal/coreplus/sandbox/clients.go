package sandbox

import (
	"net/http"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// clientListItemJSON is a client-list item: no phone, email or address, as in the doc.
type clientListItemJSON struct {
	Title          string  `json:"title"`
	PractitionerID *string `json:"practitionerId"`
	PreferredName  string  `json:"preferredName"`
	Culture        string  `json:"culture"`
	Pronouns       string  `json:"pronouns"`
	ClientID       string  `json:"clientId"`
	FirstName      string  `json:"firstName"`
	MiddleName     string  `json:"middleName"`
	LastName       string  `json:"lastName"`
	DateOfBirth    string  `json:"dateOfBirth"`
	Gender         string  `json:"gender"`
}

type addressJSON struct {
	StreetAddress string `json:"streetAddress"`
	Suburb        string `json:"suburb"`
	State         string `json:"state"`
	Postcode      string `json:"postcode"`
}

// clientRecordJSON is GET Client/{id}: the record at the top level, no wrapper.
type clientRecordJSON struct {
	clientListItemJSON
	ExternalID              string      `json:"externalId"`
	Status                  string      `json:"status"`
	Email                   string      `json:"email"`
	PhoneNumberMobile       string      `json:"phoneNumberMobile"`
	PhoneNumberHome         string      `json:"phoneNumberHome"`
	PhoneNumberWork         string      `json:"phoneNumberWork"`
	MedicareCardNumber      string      `json:"medicareCardNumber"`
	MedicareCardIRN         string      `json:"medicareCardIRN"`
	MedicareCardExpireDate  *string     `json:"medicareCardExpireDate"`
	DVACardNumber           string      `json:"dvaCardNumber"`
	AddressResidential      addressJSON `json:"addressResidential"`
	AddressPostal           addressJSON `json:"addressPostal"`
	PostalSameAsResidential bool        `json:"postalSameAsResidential"`
	Notes1                  string      `json:"notes1"`
}

// Allowed values of the documented enumerations; matched exactly.
var (
	clientTitles   = []string{"Acs Prof", "Dr", "Master", "Miss", "Mr", "Mrs", "Ms", "Prof", "Rev"}
	clientGenders  = []string{"Male", "Female", "Other", ""}
	clientPronouns = []string{"e", "he", "she", "they", "xe", "ze", "other"}
	clientStatuses = []string{"Current", "Closed", "Deleted", "Deceased"}
)

func listItem(c Client) clientListItemJSON {
	item := clientListItemJSON{
		Title: c.Title, PreferredName: c.PreferredName, Culture: c.Culture, Pronouns: c.Pronouns,
		ClientID: c.ID, FirstName: c.FirstName, MiddleName: c.MiddleName, LastName: c.LastName,
		DateOfBirth: c.DateOfBirth + "T00:00:00", Gender: c.Gender,
	}
	if c.PractitionerID != "" {
		item.PractitionerID = &c.PractitionerID
	}
	return item
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parsePaging(q)
	if err != nil {
		writeError(w, err)
		return
	}
	name := strings.ToLower(strings.TrimSpace(q.Get("name")))
	dob := q.Get("dateOfBirth")
	if dob != "" {
		if _, err := time.Parse("2006-01-02", dob); err != nil {
			writeError(w, fail("dateOfBirth must be a date in the form YYYY-MM-DD"))
			return
		}
	}
	mobile := q.Get("mobile")
	if mobile != "" && normaliseMobile(mobile) == "" {
		writeError(w, fail("mobile must contain digits"))
		return
	}

	s.mu.Lock()
	var found []Client
	for _, c := range s.clients {
		if name != "" && !strings.Contains(strings.ToLower(c.FirstName), name) && !strings.Contains(strings.ToLower(c.LastName), name) {
			continue
		}
		if dob != "" && c.DateOfBirth != dob {
			continue
		}
		if mobile != "" && normaliseMobile(c.Mobile) != normaliseMobile(mobile) {
			continue
		}
		found = append(found, c)
	}
	s.mu.Unlock()

	sort.Slice(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if !strings.EqualFold(a.LastName, b.LastName) {
			return strings.ToLower(a.LastName) < strings.ToLower(b.LastName)
		}
		if !strings.EqualFold(a.FirstName, b.FirstName) {
			return strings.ToLower(a.FirstName) < strings.ToLower(b.FirstName)
		}
		return a.ID < b.ID
	})
	from, to, info := p.page(len(found))
	items := make([]clientListItemJSON, 0, to-from)
	for _, c := range found[from:to] {
		items = append(items, listItem(c))
	}
	writeJSON(w, http.StatusOK, listBody("clients", items, info))
}

// normaliseMobile keeps digits and rewrites the +61 international form to
// the national 0 form, so "+61 412 000 111" equals "0412000111".
func normaliseMobile(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if strings.HasPrefix(d, "61") && len(d) == 11 {
		d = "0" + d[2:]
	}
	return d
}

func (s *Server) getClient(w http.ResponseWriter, _ *http.Request, id string) {
	s.mu.Lock()
	c, ok := s.findClient(id)
	s.mu.Unlock()
	if !ok {
		writeResult(w, http.StatusNotFound, "Client not found")
		return
	}
	rec := clientRecordJSON{
		clientListItemJSON: listItem(c),
		ExternalID:         c.ExternalID, Status: c.Status, Email: c.Email,
		PhoneNumberMobile: c.Mobile, PhoneNumberHome: c.PhoneHome, PhoneNumberWork: c.PhoneWork,
		MedicareCardNumber: c.MedicareCardNumber, MedicareCardIRN: c.MedicareCardIRN, DVACardNumber: c.DVACardNumber,
		AddressResidential:      addressJSON(c.Residential),
		AddressPostal:           addressJSON(c.Postal),
		PostalSameAsResidential: c.PostalSameAsResidential,
		Notes1:                  c.Notes,
	}
	if c.MedicareCardExpireDate != "" {
		exp := c.MedicareCardExpireDate + "T00:00:00"
		rec.MedicareCardExpireDate = &exp
	}
	writeJSON(w, http.StatusOK, rec)
}

// findClient looks a client up by id, any case. Callers hold s.mu.
func (s *Server) findClient(id string) (Client, bool) {
	for _, c := range s.clients {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return Client{}, false
}

// createClient serves POST Client. It never deduplicates: that is the caller's job.
func (s *Server) createClient(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := s.clientFromBody(body)
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.Lock()
	c.ID = s.newID()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"client": map[string]string{"clientId": c.ID}})
}

// clientFromBody validates a create body and collects every problem, so a
// developer sees all of them at once.
func (s *Server) clientFromBody(body object) (Client, error) {
	var problems badRequest
	text := func(name string, maxLen int, required bool) string {
		v, present, err := body.str(name)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case required && strings.TrimSpace(v) == "":
			problems = append(problems, name+" is required")
		case !present:
		case maxLen > 0 && utf8.RuneCountInString(v) > maxLen:
			problems = append(problems, name+" must be at most "+strconv.Itoa(maxLen)+" characters")
		}
		return strings.TrimSpace(v)
	}
	oneOf := func(name, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			shown := slices.DeleteFunc(slices.Clone(allowed), func(a string) bool { return a == "" })
			problems = append(problems, name+" must be one of: "+strings.Join(shown, ", "))
		}
	}
	date := func(name string, required bool) string {
		v := text(name, 0, required)
		if v == "" {
			return ""
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			problems = append(problems, name+" must be a real date in the form YYYY-MM-DD")
			return ""
		}
		return v
	}

	c := Client{Status: "Current"}
	c.FirstName = text("firstName", 50, true)
	c.LastName = text("lastName", 50, true)
	c.DateOfBirth = date("dateOfBirth", true)
	if c.DateOfBirth != "" {
		today := s.now().In(s.locationZone(s.locations[0].ID)).Format("2006-01-02")
		if c.DateOfBirth > today {
			problems = append(problems, "dateOfBirth must not be in the future")
		} else if c.DateOfBirth < "1900-01-01" {
			problems = append(problems, "dateOfBirth must not be before 1900-01-01")
		}
	}
	c.ExternalID = text("ExternalId", 50, false)
	c.Title = text("title", 0, false)
	oneOf("title", c.Title, clientTitles)
	c.PreferredName = text("preferredName", 50, false)
	c.MiddleName = text("middleName", 50, false)
	c.Gender = text("gender", 0, false)
	oneOf("gender", c.Gender, clientGenders)
	if _, ok := body.raw("pronouns"); ok {
		c.Pronouns = text("pronouns", 0, false)
	} else {
		c.Pronouns = text("pronoun", 0, false) // one revision of the page spells it so
	}
	oneOf("pronouns", c.Pronouns, clientPronouns)
	c.Culture = text("culture", 20, false)
	c.MedicareCardNumber = text("medicareCardNumber", 20, false)
	c.MedicareCardIRN = text("medicareCardIRN", 1, false)
	c.MedicareCardExpireDate = date("medicareCardExpireDate", false)
	c.DVACardNumber = text("dvaCardNumber", 20, false)
	c.PhoneHome = text("phoneNumberHome", 50, false)
	c.PhoneWork = text("phoneNumberWork", 50, false)
	c.Mobile = text("phoneNumberMobile", 50, false)
	if st := text("Status", 50, false); st != "" {
		oneOf("Status", st, clientStatuses)
		c.Status = st
	}
	c.Email = text("email", 50, false)
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			problems = append(problems, "email is not a valid email address")
		}
	}
	c.Notes = text("notes1", 300, false)
	if same, _, err := body.boolean("postalSameAsResidential"); err != nil {
		problems = append(problems, err.Error())
	} else {
		c.PostalSameAsResidential = same
	}
	for _, a := range []struct {
		name string
		dst  *Address
	}{{"addressResidential", &c.Residential}, {"addressPostal", &c.Postal}} {
		addr, present, err := body.obj(a.name)
		if err != nil {
			problems = append(problems, a.name+" must be an object")
			continue
		}
		if !present {
			continue
		}
		field := func(name string) string {
			v, _, err := addr.str(name)
			if err != nil {
				problems = append(problems, a.name+"."+err.Error())
			}
			return strings.TrimSpace(v)
		}
		*a.dst = Address{StreetAddress: field("streetAddress"), Suburb: field("city"), State: field("state"), Postcode: field("postcode")}
	}
	if c.PostalSameAsResidential {
		c.Postal = c.Residential
	}
	if len(problems) > 0 {
		return Client{}, problems
	}
	return c, nil
}
