package main

import (
	"io"
	"strings"
	"testing"
)

func TestLoadConfigClinicTheme(t *testing.T) {
	env := withCoreplusEnv(map[string]string{
		"COREPLUS_ACCESS_TOKEN": "token",
		"CLINIC_BRAND_COLOUR":   "#0b5cad",
		"CLINIC_LOGO_URL":       "https://www.example-clinic.com.au/logo.png",
	})
	get := func(k string) string { return env[k] }
	cfg, err := loadConfig(nil, get, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if th := cfg.Clinic.Theme; th.BrandColour != "#0b5cad" || th.LogoURL != "https://www.example-clinic.com.au/logo.png" {
		t.Errorf("theme %+v", th)
	}

	env["CLINIC_BRAND_COLOUR"], env["CLINIC_LOGO_URL"] = "blue", "http://insecure.example/logo.png"
	_, err = loadConfig(nil, get, io.Discard)
	for _, want := range []string{`CLINIC_BRAND_COLOUR is "blue"`, `CLINIC_LOGO_URL is "http://insecure.example/logo.png"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}
