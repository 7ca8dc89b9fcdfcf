// Package static holds the portal's stylesheets, scripts and icon,
// embedded so the binary serves its own assets.
package static

import "embed"

//go:embed css img js
var FS embed.FS
