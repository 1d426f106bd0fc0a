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

// PendingRequests is how many requests wait for a batch to take them.
func (b *EmailBatcher) PendingRequests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
