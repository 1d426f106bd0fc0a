package storage

import (
	"context"
	"io/fs"
)

// MigrateUpFrom is MigrateUp with migrations from fsys instead of the
// embedded ones, for tests of migrations that do not exist (yet).
func (s *Store) MigrateUpFrom(ctx context.Context, fsys fs.FS) ([]Migration, error) {
	return s.migrateUp(ctx, fsys)
}
