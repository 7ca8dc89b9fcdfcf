package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func validClient() map[string]any {
	return map[string]any{"firstName": "Ava", "lastName": "Kowalski", "dateOfBirth": "1995-06-15",
		"phoneNumberMobile": "+61 498 555 222", "email": "ava.k@example.com",
		"addressResidential": map[string]any{"streetAddress": "1 Oxford St", "city": "Paddington", "postcode": "2021", "state": "NSW"}}
}

func TestCreateClientValidation(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name   string
		edit   func(b map[string]any)
		reason string
	}{
		{"no firstName", func(b map[string]any) { delete(b, "firstName") }, "firstName is required"},
		{"blank firstName", func(b map[string]any) { b["firstName"] = "   " }, "firstName is required"},
		{"no lastName", func(b map[string]any) { delete(b, "lastName") }, "lastName is required"},
		{"no dateOfBirth", func(b map[string]any) { delete(b, "dateOfBirth") }, "dateOfBirth is required"},
		{"long firstName", func(b map[string]any) { b["firstName"] = strings.Repeat("a", 51) }, "firstName must be at most 50"},
		{"long lastName", func(b map[string]any) { b["lastName"] = strings.Repeat("a", 51) }, "lastName must be at most 50"},
		{"dob with time", func(b map[string]any) { b["dateOfBirth"] = "1995-06-15T00:00:00" }, "dateOfBirth must be a real date"},
		{"dob not real", func(b map[string]any) { b["dateOfBirth"] = "1995-02-30" }, "dateOfBirth must be a real date"},
		{"dob in future", func(b map[string]any) { b["dateOfBirth"] = "2030-01-01" }, "dateOfBirth must not be in the future"},
		{"long email", func(b map[string]any) { b["email"] = strings.Repeat("a", 40) + "@example.com" }, "email must be at most 50"},
		{"bad email", func(b map[string]any) { b["email"] = "Ava <ava@example.com>" }, "email is not a valid email address"},
		{"long mobile", func(b map[string]any) { b["phoneNumberMobile"] = strings.Repeat("0", 51) }, "phoneNumberMobile must be at most 50"},
		{"long home phone", func(b map[string]any) { b["phoneNumberHome"] = strings.Repeat("0", 51) }, "phoneNumberHome must be at most 50"},
		{"long notes1", func(b map[string]any) { b["notes1"] = strings.Repeat("n", 301) }, "notes1 must be at most 300"},
		{"long culture", func(b map[string]any) { b["culture"] = strings.Repeat("c", 21) }, "culture must be at most 20"},
		{"long medicare", func(b map[string]any) { b["medicareCardNumber"] = strings.Repeat("1", 21) }, "medicareCardNumber must be at most 20"},
		{"bad title", func(b map[string]any) { b["title"] = "Mx" }, "title must be one of"},
		{"bad gender", func(b map[string]any) { b["gender"] = "female" }, "gender must be one of"},
		{"bad pronouns", func(b map[string]any) { b["pronouns"] = "she/her" }, "pronouns must be one of"},
		{"bad Status", func(b map[string]any) { b["Status"] = "Active" }, "Status must be one of"},
		{"mobile as number", func(b map[string]any) { b["phoneNumberMobile"] = 412000111 }, "phoneNumberMobile must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := validClient()
			tc.edit(b)
			resp := e.post("Client/", b)
			if resp.status != http.StatusBadRequest || !resp.hasReason(tc.reason) {
				t.Fatalf("status %d body %s, want 400 with %q", resp.status, resp.body, tc.reason)
			}
		})
	}
	resp := e.post("Client/", map[string]any{})
	if len(resp.reasons()) != 3 {
		t.Fatalf("empty body: want three reasons at once, got %q", resp.reasons())
	}
	if got := len(e.srv.Clients()); got != len(demoClients()) {
		t.Fatalf("%d clients after only invalid creates", got)
	}
}

func TestCreateAndGetClient(t *testing.T) {
	e := newEnv(t, Config{})
	b := validClient()
	b["ExternalID"] = "portal-42" // documented as ExternalId: names match in any case
	b["STATUS"] = "Current"
	b["pronoun"] = "she"
	b["title"] = "Ms"
	var created struct {
		Client struct {
			ClientID string `json:"clientId"`
		} `json:"client"`
	}
	e.post("Client/", b).decode(t, &created)
	if created.Client.ClientID == "" {
		t.Fatal("no clientId")
	}
	var again struct {
		Client struct {
			ClientID string `json:"clientId"`
		} `json:"client"`
	}
	e.post("Client/", b).decode(t, &again)
	if again.Client.ClientID == created.Client.ClientID {
		t.Fatal("create must not deduplicate")
	}

	var rec map[string]any
	e.get("Client/"+created.Client.ClientID, nil).decode(t, &rec)
	addr, _ := rec["addressResidential"].(map[string]any)
	if rec["clientId"] != created.Client.ClientID || rec["firstName"] != "Ava" || rec["phoneNumberMobile"] != "+61 498 555 222" ||
		rec["email"] != "ava.k@example.com" || rec["dateOfBirth"] != "1995-06-15T00:00:00" || rec["externalId"] != "portal-42" ||
		rec["pronouns"] != "she" || addr["suburb"] != "Paddington" || addr["postcode"] != "2021" {
		t.Fatalf("record %v", rec)
	}
	if _, wrapped := rec["client"]; wrapped {
		t.Fatal("GET Client/{id} must not wrap the record")
	}
	if resp := e.get("Client/"+PractitionerTomID+"/", nil); resp.status != http.StatusNotFound || len(resp.reasons()) != 1 {
		t.Fatalf("unknown client: %d %s", resp.status, resp.body)
	}
}

func TestSearchClients(t *testing.T) {
	e := newEnv(t, Config{})
	search := func(q url.Values) []map[string]any {
		t.Helper()
		var body struct {
			Clients []map[string]any `json:"clients"`
			Paging  pagingWire       `json:"paging"`
		}
		e.get("Client/", q).decode(t, &body)
		if body.Paging.TotalRows != len(body.Clients) {
			t.Fatalf("totalRows %d for %d clients", body.Paging.TotalRows, len(body.Clients))
		}
		return body.Clients
	}
	ids := func(cs []map[string]any) string {
		var out []string
		for _, c := range cs {
			out = append(out, c["clientId"].(string))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name string
		q    url.Values
		want []string
	}{
		{"last name fragment", url.Values{"name": {"smi"}}, []string{ClientMichaelSmithID, ClientOliviaSmithID}},
		{"first name any case", url.Values{"name": {"JOANNA"}}, []string{ClientJoannaVargaID}},
		{"full name matches nothing", url.Values{"name": {"Joanna Varga"}}, nil},
		{"dob", url.Values{"dateOfBirth": {"1975-03-02"}}, []string{ClientPeterNguyenID}},
		{"name and dob", url.Values{"name": {"smith"}, "dateOfBirth": {"2009-09-30"}}, []string{ClientOliviaSmithID}},
		{"mobile national to international", url.Values{"mobile": {"0433 555 207"}}, []string{ClientSarahObrienID}},
		{"mobile international to national", url.Values{"mobile": {"+61412000111"}}, []string{ClientJoannaVargaID}},
		{"no match", url.Values{"mobile": {"0499999999"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(search(tc.q)); got != strings.Join(tc.want, ",") {
				t.Fatalf("got %s, want %s", got, strings.Join(tc.want, ","))
			}
		})
	}
	all := search(url.Values{"email": {"jo.varga@example.com"}})
	if len(all) != len(demoClients()) {
		t.Fatalf("an unknown email filter must be ignored: got %d clients", len(all))
	}
	item, _ := json.Marshal(all[0])
	for _, field := range []string{"email", "phoneNumberMobile", "addressResidential"} {
		if _, ok := all[0][field]; ok {
			t.Errorf("list item carries %s: %s", field, item)
		}
	}
	if all[0]["dateOfBirth"] != "1949-12-24T00:00:00" && !strings.HasSuffix(all[0]["dateOfBirth"].(string), "T00:00:00") {
		t.Errorf("dateOfBirth %v", all[0]["dateOfBirth"])
	}
	if resp := e.get("Client/", url.Values{"dateOfBirth": {"20/11/1988"}}); resp.status != http.StatusBadRequest {
		t.Fatalf("bad dateOfBirth filter: status %d", resp.status)
	}
}

func TestReferenceLists(t *testing.T) {
	e := newEnv(t, Config{})
	var locs struct {
		Locations []struct {
			LocationID string `json:"locationId"`
			TimeZone   struct {
				TZName     string `json:"tzName"`
				TimezoneID string `json:"timezoneId"`
			} `json:"timeZone"`
		} `json:"locations"`
		Paging pagingWire `json:"paging"`
	}
	e.get("Location/", nil).decode(t, &locs)
	if len(locs.Locations) != 2 || locs.Locations[0].TimeZone.TZName != "Australia/Sydney" || locs.Paging.TotalRows != 2 {
		t.Fatalf("locations %+v", locs)
	}
	var prs struct {
		Practitioners []practitionerJSON `json:"practitioners"`
	}
	e.get("Practitioner/", nil).decode(t, &prs)
	if len(prs.Practitioners) != 6 {
		t.Fatalf("%d practitioners", len(prs.Practitioners))
	}
	var types struct {
		AppointmentTypes []map[string]any `json:"appointmentTypes"`
	}
	e.get("AppointmentType/", nil).decode(t, &types)
	if len(types.AppointmentTypes) != 4 || types.AppointmentTypes[0]["durationMinutes"] != "60" {
		t.Fatalf("appointment types %v (durationMinutes must be a string)", types.AppointmentTypes)
	}
}
