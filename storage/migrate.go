package storage

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/migrations"
)

// migrationLockID is the advisory lock key that serializes migrators.
const migrationLockID = 7_231_001

// Migration is one numbered migration and whether it is applied.
type Migration struct {
	Version   int
	Name      string
	Up, Down  string
	AppliedAt *time.Time
}

// loadMigrations reads the embedded migration files in version order.
func loadMigrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		name := e.Name()
		var direction string
		switch {
		case strings.HasSuffix(name, ".up.sql"):
			direction = "up"
		case strings.HasSuffix(name, ".down.sql"):
			direction = "down"
		default:
			continue
		}
		num, rest, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migration %q: want NNNN_name.up.sql", name)
		}
		version, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %q: bad version: %w", name, err)
		}
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		m := byVersion[version]
		if m == nil {
			m = &Migration{Version: version, Name: strings.TrimSuffix(strings.TrimSuffix(rest, ".up.sql"), ".down.sql")}
			byVersion[version] = m
		}
		if direction == "up" {
			m.Up = string(body)
		} else {
			m.Down = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" {
			return nil, fmt.Errorf("migration %04d has no up file", m.Version)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// withMigrationLock holds a session advisory lock on one connection for fn.
func (s *Store) withMigrationLock(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return fn(conn.Conn())
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]time.Time, error) {
	rows, err := conn.Query(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]time.Time{}
	var v int
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error { applied[v] = at; return nil })
	return applied, err
}

// MigrateUp applies every pending migration, each in its own transaction.
// Running it again is a no-op; concurrent runs wait for each other.
func (s *Store) MigrateUp(ctx context.Context) (applied []Migration, err error) {
	all, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	err = s.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		done, err := appliedVersions(ctx, conn)
		if err != nil {
			return err
		}
		for _, m := range all {
			if _, ok := done[m.Version]; ok {
				continue
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.Up); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
				return err
			})
			if err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
			}
			applied = append(applied, m)
		}
		return nil
	})
	return applied, err
}

// MigrateDown reverts the newest applied migration. It returns nil, nil when
// nothing is applied.
func (s *Store) MigrateDown(ctx context.Context) (*Migration, error) {
	all, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	var reverted *Migration
	err = s.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		done, err := appliedVersions(ctx, conn)
		if err != nil {
			return err
		}
		for i := len(all) - 1; i >= 0; i-- {
			m := all[i]
			if _, ok := done[m.Version]; !ok {
				continue
			}
			if m.Down == "" {
				return fmt.Errorf("migration %04d_%s has no down file", m.Version, m.Name)
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.Down); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "DELETE FROM schema_migrations WHERE version = $1", m.Version)
				return err
			})
			if err != nil {
				return fmt.Errorf("revert migration %04d_%s: %w", m.Version, m.Name, err)
			}
			reverted = &m
			return nil
		}
		return nil
	})
	return reverted, err
}

// MigrationStatus lists every known migration with its applied time, if any.
func (s *Store) MigrationStatus(ctx context.Context) ([]Migration, error) {
	all, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	err = s.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		done, err := appliedVersions(ctx, conn)
		if err != nil {
			return err
		}
		for i := range all {
			if at, ok := done[all[i].Version]; ok {
				all[i].AppliedAt = &at
			}
		}
		return nil
	})
	return all, err
}
