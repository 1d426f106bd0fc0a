package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"changemaker/migrations"
)

// MigratorID names the migrator and its bookkeeping. Test templates hash it
// (with the migration files), so a change of migrator rebuilds them.
const MigratorID = "golang-migrate/v4 pgx5 " + migrationsTable

const (
	// migrationsTable is golang-migrate's table: one row, the current version
	// and whether its migration failed part-way (dirty).
	migrationsTable = "schema_migrations"
	// legacyMigrationsTable is where takeover moves the table of the
	// hand-written migrator that came before (one row per applied version,
	// with name and applied_at), kept for reference.
	legacyMigrationsTable = "schema_migrations_legacy"
	// legacyLockID is the advisory lock the hand-written migrator took. Takeover
	// takes it too, so it never races a migrator of the previous release.
	legacyLockID = 7_231_001
	// defaultLockWait bounds the wait for another migrator when ctx has no deadline.
	defaultLockWait = time.Hour
)

// Migration is one numbered migration and whether it is applied.
type Migration struct {
	Version int
	Name    string
	Applied bool
	// Dirty marks the current version when its migration failed part-way.
	Dirty bool
}

// ErrDirty is a database whose last migration failed part-way. Migrations
// stop until someone looks at it and records the version it is really at.
type ErrDirty struct {
	Version int
	// Previous is the version before it, -1 for none.
	Previous int
}

func (e ErrDirty) Error() string {
	return fmt.Sprintf("database is dirty: migration %04d failed part-way, and no migration runs until that is resolved. "+
		"Each migration file runs as one transaction, so normally none of it stayed: check that in the database, fix the cause, "+
		"then record the version the database is really at with `changemaker migrate force %d` and run `changemaker migrate up` again",
		e.Version, e.Previous)
}

// loadMigrations lists the migrations in fsys in version order.
func loadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".up.sql")
		if !ok {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %q: want NNNN_name.up.sql", e.Name())
		}
		version, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %q: bad version: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: version, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// recordingDriver is the pgx driver, noting what golang-migrate does through
// it: the version it found under its lock and each version it completed.
// golang-migrate's Up and Steps report neither.
type recordingDriver struct {
	database.Driver
	found     int
	completed []int
}

func (d *recordingDriver) Version() (int, bool, error) {
	v, dirty, err := d.Driver.Version()
	d.found = v
	return v, dirty, err
}

func (d *recordingDriver) SetVersion(version int, dirty bool) error {
	err := d.Driver.SetVersion(version, dirty)
	if err == nil && !dirty {
		d.completed = append(d.completed, version)
	}
	return err
}

// migrator opens golang-migrate on fsys and this store's pool, after taking
// over a database left by the previous migrator. close must be called.
func (s *Store) migrator(ctx context.Context, fsys fs.FS) (m *migrate.Migrate, drv *recordingDriver, done func(), err error) {
	if err := s.takeOverLegacy(ctx, fsys); err != nil {
		return nil, nil, nil, err
	}
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.Pool)
	pg, err := migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: migrationsTable})
	if err != nil {
		db.Close()
		src.Close()
		return nil, nil, nil, fmt.Errorf("open migrator: %w", err)
	}
	drv = &recordingDriver{Driver: pg, found: database.NilVersion}
	m, err = migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		pg.Close()
		src.Close()
		return nil, nil, nil, fmt.Errorf("open migrator: %w", err)
	}
	// golang-migrate gives up waiting for another migrator after 15s by
	// default; a long migration elsewhere is worth waiting for, as before.
	m.LockTimeout = defaultLockWait
	if deadline, ok := ctx.Deadline(); ok {
		m.LockTimeout = time.Until(deadline)
	}
	// Cancelling ctx stops between migrations, never inside one.
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-stop:
		}
	}()
	return m, drv, func() { close(stop); m.Close() }, nil
}

func dirtyError(err error, all []Migration) error {
	var d migrate.ErrDirty
	if !errors.As(err, &d) {
		return err
	}
	e := ErrDirty{Version: d.Version, Previous: database.NilVersion}
	for _, m := range all {
		if m.Version < d.Version {
			e.Previous = m.Version
		}
	}
	return e
}

func byVersion(all []Migration, version int) Migration {
	for _, m := range all {
		if m.Version == version {
			return m
		}
	}
	return Migration{Version: version}
}

// MigrateUp applies every pending migration, each in its own transaction.
// Running it again is a no-op; concurrent runs wait for each other
// (golang-migrate holds an advisory lock while it migrates).
func (s *Store) MigrateUp(ctx context.Context) ([]Migration, error) {
	return s.migrateUp(ctx, migrations.FS)
}

func (s *Store) migrateUp(ctx context.Context, fsys fs.FS) (applied []Migration, err error) {
	all, err := loadMigrations(fsys)
	if err != nil {
		return nil, err
	}
	if err := s.requireExtensions(ctx, fsys); err != nil {
		return nil, err
	}
	m, drv, done, err := s.migrator(ctx, fsys)
	if err != nil {
		return nil, err
	}
	defer done()
	err = m.Up()
	for _, v := range drv.completed {
		applied = append(applied, byVersion(all, v))
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return applied, fmt.Errorf("migrate up: %w", dirtyError(err, all))
	}
	if err := ctx.Err(); err != nil {
		return applied, fmt.Errorf("migrate up: %w", err)
	}
	return applied, nil
}

// extensionShape finds the extensions a migration creates.
var extensionShape = regexp.MustCompile(`(?i)CREATE\s+EXTENSION\s+IF\s+NOT\s+EXISTS\s+"?([a-z0-9_]+)"?`)

// ErrMissingExtension is a Postgres server without an extension the
// migrations need (PostGIS: its package is not installed on the server).
// Nothing was migrated.
type ErrMissingExtension struct{ Names []string }

func (e ErrMissingExtension) Error() string {
	msg := fmt.Sprintf("the Postgres server lacks the extension(s) %s that the migrations create; nothing was migrated", strings.Join(e.Names, ", "))
	for _, n := range e.Names {
		if n == "postgis" {
			msg += ". Install PostGIS on the database server: on Debian/Ubuntu `apt-get install postgresql-<major>-postgis-3` " +
				"for the server's major version (scripts/install-deps.sh does this for a local server), " +
				"or run the postgis/postgis image (deploy/compose.yaml); then run `changemaker migrate up` again"
			break
		}
	}
	return msg
}

// requireExtensions checks, before anything runs, that the server offers
// every extension a migration creates. Without the check, a missing
// PostGIS would fail the migration part-way and leave the database dirty.
func (s *Store) requireExtensions(ctx context.Context, fsys fs.FS) error {
	want := map[string]bool{}
	files, err := fs.Glob(fsys, "*.up.sql")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", f, err)
		}
		for _, m := range extensionShape.FindAllSubmatch(b, -1) {
			want[strings.ToLower(string(m[1]))] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	rows, err := s.Pool.Query(ctx, `SELECT name FROM pg_available_extensions WHERE name = ANY($1)`, names)
	if err != nil {
		return translate(fmt.Errorf("list available extensions: %w", err))
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return translate(fmt.Errorf("list available extensions: %w", err))
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(have, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return ErrMissingExtension{Names: missing}
	}
	return nil
}

// MigrateDown reverts the newest applied migration. It returns nil, nil when
// nothing is applied.
func (s *Store) MigrateDown(ctx context.Context) (*Migration, error) {
	all, err := loadMigrations(migrations.FS)
	if err != nil {
		return nil, err
	}
	m, drv, done, err := s.migrator(ctx, migrations.FS)
	if err != nil {
		return nil, err
	}
	defer done()
	switch err := m.Steps(-1); {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, migrate.ErrNoChange):
		return nil, nil // at no version: nothing to revert
	case err != nil:
		return nil, fmt.Errorf("migrate down: %w", dirtyError(err, all))
	case len(drv.completed) == 0:
		return nil, nil
	}
	reverted := byVersion(all, drv.found)
	return &reverted, nil
}

// MigrationStatus lists every known migration and whether it is applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]Migration, error) {
	all, err := loadMigrations(migrations.FS)
	if err != nil {
		return nil, err
	}
	m, _, done, err := s.migrator(ctx, migrations.FS)
	if err != nil {
		return nil, err
	}
	defer done()
	version, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return all, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read migration version: %w", err)
	}
	for i := range all {
		switch {
		case all[i].Version == int(version) && dirty:
			all[i].Dirty = true
		case all[i].Version <= int(version):
			all[i].Applied = true
		}
	}
	return all, nil
}

// MigrateForce records version as the database's current one, clean, and
// runs nothing: the way out of a dirty state once the database has been
// checked. -1 means no migration applied.
func (s *Store) MigrateForce(ctx context.Context, version int) error {
	m, _, done, err := s.migrator(ctx, migrations.FS)
	if err != nil {
		return err
	}
	defer done()
	if err := m.Force(version); err != nil {
		return fmt.Errorf("force version %d: %w", version, err)
	}
	return nil
}

// takeOverLegacy converts a database migrated by the hand-written migrator of
// earlier releases (its schema_migrations holds one row per applied version)
// to golang-migrate's bookkeeping: the old table is renamed aside and the
// highest applied version recorded, so nothing is run again.
func (s *Store) takeOverLegacy(ctx context.Context, fsys fs.FS) error {
	if legacy, err := hasLegacyTable(ctx, s.Pool); err != nil || !legacy {
		return err
	}
	known, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("take over legacy migrations: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", legacyLockID); err != nil {
		return fmt.Errorf("take over legacy migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", legacyLockID) //nolint:errcheck
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Another migrator may have taken over while this one waited.
		if legacy, err := hasLegacyTable(ctx, tx); err != nil || !legacy {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM "+migrationsTable+" ORDER BY version")
		if err != nil {
			return fmt.Errorf("read legacy versions: %w", err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read legacy versions: %w", err)
		}
		if len(applied) > len(known) {
			return fmt.Errorf("legacy %s lists %d applied migrations, this build knows %d: run this database with the release that migrated it", migrationsTable, len(applied), len(known))
		}
		for i, v := range applied {
			if int(v) != known[i].Version {
				return fmt.Errorf("legacy %s does not hold exactly the first %d migrations (found %04d where %04d was expected): "+
					"run `migrate up` with the previous release first, so that no migration is missing", migrationsTable, len(applied), v, known[i].Version)
			}
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+migrationsTable+" RENAME TO "+legacyMigrationsTable); err != nil {
			return fmt.Errorf("set legacy table aside: %w", err)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE "+migrationsTable+" (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"); err != nil {
			return fmt.Errorf("create %s: %w", migrationsTable, err)
		}
		if len(applied) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+migrationsTable+" (version, dirty) VALUES ($1, false)", applied[len(applied)-1])
		return err
	})
	if err != nil {
		return fmt.Errorf("take over legacy migrations: %w", err)
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// hasLegacyTable tells the previous migrator's table by its applied_at
// column, which golang-migrate's table of the same name lacks.
func hasLegacyTable(ctx context.Context, q querier) (bool, error) {
	var legacy bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'applied_at')`, migrationsTable).Scan(&legacy)
	if err != nil {
		return false, fmt.Errorf("look for legacy migrations table: %w", err)
	}
	return legacy, nil
}
