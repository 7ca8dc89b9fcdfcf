// Package migrations holds the database schema as numbered goose SQL files,
// embedded so the binary migrates its own database on start-up.
package migrations

import "embed"

// FS holds every migration file. The same SQL runs on SQLite and PostgreSQL,
// so it sticks to TEXT, BIGINT, CHECK and partial unique indexes.
//
//go:embed *.sql
var FS embed.FS
