// Package migrations holds the numbered SQL migrations, embedded in the binary.
//
// Each migration is a pair NNNN_name.up.sql / NNNN_name.down.sql. They are
// applied in order by golang-migrate (storage.MigrateUp); the version is the
// leading number. Each file runs as one transaction.
package migrations

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
