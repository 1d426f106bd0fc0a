// Package migrations holds the numbered SQL migrations, embedded in the binary.
//
// Each migration is a pair NNNN_name.up.sql / NNNN_name.down.sql. They are
// applied in order by storage.Migrate; the version is the leading number.
package migrations

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
