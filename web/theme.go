package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/clinic-booking/portal/internal/booking"
)

// minContrast is WCAG 2's AA contrast for normal text (1.4.3).
const minContrast = 4.5

// pageTheme is a clinic's branding as the pages use it: a stylesheet of
// custom properties inlined in the layout, its CSP hash, and the logo.
type pageTheme struct {
	css        string // ":root{...}", or "" for the portal's own colours
	styleHash  string // "'sha256-…'" of css, for style-src
	logoURL    string
	logoOrigin string // for img-src
}

// themeFor turns a clinic's configured theme into the page theme. A colour
// or URL that does not parse is left out rather than trusted.
func themeFor(t booking.Theme) pageTheme {
	var pt pageTheme
	if brand, ok := parseHexColour(t.BrandColour); ok {
		pt.css = fmt.Sprintf(":root{--brand:%s;--brand-text:%s;--link:%s}", brand, textOn(brand), linkColour(brand))
		sum := sha256.Sum256([]byte(pt.css))
		pt.styleHash = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	if u, err := url.Parse(t.LogoURL); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		pt.logoURL = u.String()
		pt.logoOrigin = u.Scheme + "://" + u.Host
	}
	return pt
}

// rgb is a colour in 8-bit sRGB.
type rgb struct{ r, g, b uint8 }

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

var (
	black = rgb{0, 0, 0}
	white = rgb{255, 255, 255}
)

// parseHexColour reads "#0b5cad" or "#07c".
func parseHexColour(s string) (rgb, bool) {
	s, ok := strings.CutPrefix(s, "#")
	if !ok {
		return rgb{}, false
	}
	if len(s) == 3 {
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	}
	if len(s) != 6 {
		return rgb{}, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return rgb{}, false
	}
	return rgb{uint8(n >> 16), uint8(n >> 8), uint8(n)}, true
}

// luminance is WCAG 2's relative luminance.
func luminance(c rgb) float64 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is WCAG 2's contrast ratio, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// textOn picks black or white text for a background, whichever contrasts
// more. One of them always reaches at least 4.58:1: the worse case is a
// background of luminance √(1.05×0.05)−0.05 ≈ 0.179, where both are equal.
func textOn(bg rgb) rgb {
	if contrast(bg, black) >= contrast(bg, white) {
		return black
	}
	return white
}

// linkColour is the brand colour for links and outlined buttons on the
// white page, darkened just enough to reach 4.5:1 when it is too light.
func linkColour(brand rgb) rgb {
	c := brand
	for i := 1; contrast(c, white) < minContrast && i <= 100; i++ {
		k := 1 - float64(i)/100
		c = rgb{uint8(float64(brand.r) * k), uint8(float64(brand.g) * k), uint8(float64(brand.b) * k)}
	}
	return c
}
