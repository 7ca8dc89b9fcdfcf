package booking

import "context"

// Directory finds a clinic's service by its URL slug.
type Directory struct {
	bySlug map[string]*Service
	only   string
}

// NewDirectory holds the given clinics. With exactly one, "/" leads to it.
func NewDirectory(services ...*Service) *Directory {
	d := &Directory{bySlug: map[string]*Service{}}
	for _, s := range services {
		d.bySlug[s.clinic.Slug] = s
	}
	if len(services) == 1 {
		d.only = services[0].clinic.Slug
	}
	return d
}

// Clinic returns the service of the clinic with this slug.
func (d *Directory) Clinic(_ context.Context, slug string) (*Service, bool) {
	s, ok := d.bySlug[slug]
	return s, ok
}

// Default names the only clinic, when there is one.
func (d *Directory) Default() (string, bool) { return d.only, d.only != "" }
