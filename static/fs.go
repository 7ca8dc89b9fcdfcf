// Package static holds the portal's stylesheets and scripts, embedded so the
// binary serves its own assets.
package static

import "embed"

//go:embed css js
var FS embed.FS
