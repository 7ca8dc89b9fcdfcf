package web

import "testing"

func TestTextOnAnyBrandColourReachesAA(t *testing.T) {
	t.Parallel() // waits out timeouts and sweeps: overlap it with the rest
	check := func(c rgb) {
		if got := contrast(textOn(c), c); got < minContrast {
			t.Fatalf("text %v on %v: contrast %.3f", textOn(c), c, got)
		}
		l := linkColour(c)
		if got := contrast(l, white); got < minContrast {
			t.Fatalf("link %v for brand %v: contrast %.3f on white", l, c, got)
		}
		if contrast(c, white) >= minContrast && l != c {
			t.Fatalf("link colour %v changed the brand %v, which already reaches AA", l, c)
		}
	}
	for r := 0; r < 256; r += 3 {
		for g := 0; g < 256; g += 3 {
			for b := 0; b < 256; b += 3 {
				check(rgb{uint8(r), uint8(g), uint8(b)})
			}
		}
	}
	// Every short hex colour, and the grey where black and white tie.
	for n := range 4096 {
		check(rgb{uint8(n>>8) * 17, uint8(n>>4&15) * 17, uint8(n&15) * 17})
	}
	for v := range 256 {
		check(rgb{uint8(v), uint8(v), uint8(v)})
	}
}

func TestContrastMatchesWCAGExamples(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#777777", "#ffffff", 4.48},
		{"#0b5cad", "#ffffff", 6.67},
	} {
		a, _ := parseHexColour(tc.a)
		b, _ := parseHexColour(tc.b)
		if got := contrast(a, b); got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseHexColour(t *testing.T) {
	for in, want := range map[string]string{"#0b5cad": "#0b5cad", "#07C": "#0077cc", "#FFF": "#ffffff"} {
		if c, ok := parseHexColour(in); !ok || c.String() != want {
			t.Errorf("%s: %v %v", in, c, ok)
		}
	}
	for _, bad := range []string{"", "0b5cad", "#0b5ca", "#gggggg", "red", "#0b5cad;", "#+12345"} {
		if _, ok := parseHexColour(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
