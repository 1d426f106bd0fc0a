package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"changemaker/internal/testenv"
	"changemaker/migrations"
	"changemaker/storage"
)

// openEmpty is a Store on a database no migration touched.
func openEmpty(t *testing.T) *storage.Store {
	t.Helper()
	store, err := storage.Open(context.Background(), testenv.EmptyDatabaseURLFor(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store
}

// upFiles lists the embedded up migrations in order.
func upFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations: %v, %v", names, err)
	}
	return names // fs.Glob sorts, and versions are zero-padded
}

// migrateLikeLegacy applies the first n embedded migrations the way the
// hand-written migrator of earlier releases did, with its bookkeeping table.
func migrateLikeLegacy(t *testing.T, store *storage.Store, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := store.Pool.Exec(ctx, `CREATE TABLE schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, file := range upFiles(t)[:n] {
		body, err := fs.ReadFile(migrations.FS, file)
		if err != nil {
			t.Fatal(err)
		}
		num, name, _ := strings.Cut(strings.TrimSuffix(file, ".up.sql"), "_")
		err = pgx.BeginFunc(ctx, store.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", num, name)
			return err
		})
		if err != nil {
			t.Fatalf("legacy apply %s: %v", file, err)
		}
	}
}

// withExtra is the embedded migrations plus files.
func withExtra(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	for _, f := range append(upFiles(t), mustGlob(t, "*.down.sql")...) {
		b, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = &fstest.MapFile{Data: b}
	}
	for name, body := range files {
		out[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return out
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	names, err := fs.Glob(migrations.FS, pattern)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func currentVersion(t *testing.T, store *storage.Store) (version int64, dirty bool) {
	t.Helper()
	if err := store.Pool.QueryRow(context.Background(), "SELECT version, dirty FROM schema_migrations").Scan(&version, &dirty); err != nil {
		t.Fatalf("read golang-migrate's version: %v", err)
	}
	return version, dirty
}

func versions(ms []storage.Migration) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return out
}

func TestMigrateTakesOverLegacyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := upFiles(t)
	total := len(files)
	// Versions may leave gaps (numbers reserved by work in progress): the
	// recorded version is the last file's number, not the count.
	last, err := strconv.ParseInt(strings.SplitN(files[total-1], "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("fully migrated: nothing runs again, data stays, a later migration applies", func(t *testing.T) {
		t.Parallel()
		store := openEmpty(t)
		migrateLikeLegacy(t, store, total)
		if _, err := store.Pool.Exec(ctx, "INSERT INTO users (email, password_hash) VALUES ('kept@example.test', 'x')"); err != nil {
			t.Fatal(err)
		}

		applied, err := store.MigrateUp(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("first up under golang-migrate applied %v, err %v; want nothing", versions(applied), err)
		}
		if v, dirty := currentVersion(t, store); v != last || dirty {
			t.Fatalf("recorded version %d dirty %v, want %d clean", v, dirty, last)
		}
		var users, legacyRows int
		store.Pool.QueryRow(ctx, "SELECT count(*) FROM users WHERE email = 'kept@example.test'").Scan(&users)
		store.Pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations_legacy").Scan(&legacyRows)
		if users != 1 || legacyRows != total {
			t.Fatalf("after takeover: %d users (want 1), %d legacy rows (want %d)", users, legacyRows, total)
		}
		all, err := store.MigrationStatus(ctx)
		if err != nil || len(all) != total {
			t.Fatalf("status = %v, %v", all, err)
		}
		for _, m := range all {
			if !m.Applied {
				t.Errorf("status: %04d_%s not applied", m.Version, m.Name)
			}
		}

		later := withExtra(t, map[string]string{
			"9001_later.up.sql":   "CREATE TABLE later_thing (id int)",
			"9001_later.down.sql": "DROP TABLE later_thing",
		})
		applied, err = store.MigrateUpFrom(ctx, later)
		if err != nil || len(applied) != 1 || applied[0].Version != 9001 || applied[0].Name != "later" {
			t.Fatalf("up with a new migration applied %v, err %v; want 9001_later", applied, err)
		}
		if _, err := store.Pool.Exec(ctx, "INSERT INTO later_thing VALUES (1)"); err != nil {
			t.Fatalf("the new migration's table: %v", err)
		}
		if applied, err := store.MigrateUpFrom(ctx, later); err != nil || len(applied) != 0 {
			t.Fatalf("up again applied %v, err %v", versions(applied), err)
		}
	})

	t.Run("partly migrated: only the missing ones run", func(t *testing.T) {
		t.Parallel()
		store := openEmpty(t)
		migrateLikeLegacy(t, store, 2)
		applied, err := store.MigrateUp(ctx)
		if err != nil || len(applied) != total-2 {
			t.Fatalf("up applied %v, err %v; want the last %d", versions(applied), err, total-2)
		}
		if v, _ := currentVersion(t, store); v != last {
			t.Fatalf("version %d, want %d", v, last)
		}
	})

	t.Run("a gap in the legacy table is refused, untouched", func(t *testing.T) {
		t.Parallel()
		store := openEmpty(t)
		migrateLikeLegacy(t, store, 2)
		store.Pool.Exec(ctx, "DELETE FROM schema_migrations WHERE version = 1")
		_, err := store.MigrateUp(ctx)
		if err == nil || !strings.Contains(err.Error(), "previous release") {
			t.Fatalf("up over a gap = %v, want a refusal naming the previous release", err)
		}
		var legacy bool
		store.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_name = 'schema_migrations' AND column_name = 'applied_at')`).Scan(&legacy)
		if !legacy {
			t.Fatal("the legacy table was changed although takeover was refused")
		}
	})
}

// Concurrent migrators must queue (golang-migrate's advisory lock, and the
// legacy lock for takeover): each migration runs exactly once, nobody fails.
func TestMigrateConcurrentMigratorsSerialize(t *testing.T) {
	t.Parallel()
	total := len(upFiles(t))
	for _, tc := range []struct {
		name   string
		legacy int // migrations applied the old way first
	}{{"empty database", 0}, {"legacy database taken over", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := testenv.EmptyDatabaseURLFor(t)
			if tc.legacy > 0 {
				store, err := storage.Open(ctx, url, 2)
				if err != nil {
					t.Fatal(err)
				}
				migrateLikeLegacy(t, store, tc.legacy)
				store.Close()
			}
			const migrators = 4
			var wg sync.WaitGroup
			results := make([][]storage.Migration, migrators)
			errs := make([]error, migrators)
			for i := range migrators {
				wg.Add(1)
				go func() {
					defer wg.Done()
					store, err := storage.Open(ctx, url, 2)
					if err != nil {
						errs[i] = err
						return
					}
					defer store.Close()
					results[i], errs[i] = store.MigrateUp(ctx)
				}()
			}
			wg.Wait()
			seen := map[int]int{}
			for i := range migrators {
				if errs[i] != nil {
					t.Errorf("migrator %d: %v", i, errs[i])
				}
				for _, m := range results[i] {
					seen[m.Version]++
				}
			}
			if len(seen) != total-tc.legacy {
				t.Errorf("applied versions %v, want the %d pending ones", seen, total-tc.legacy)
			}
			for v, n := range seen {
				if n != 1 {
					t.Errorf("migration %04d ran %d times", v, n)
				}
			}
		})
	}
}

func TestMigrateDirtyState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openEmpty(t)
	first := upFiles(t)[0]
	body, _ := fs.ReadFile(migrations.FS, first)
	broken := fstest.MapFS{
		first:                  &fstest.MapFile{Data: body},
		"9001_broken.up.sql":   &fstest.MapFile{Data: []byte("CREATE TABLE half_done (id int);\nSELECT 1/0;")},
		"9001_broken.down.sql": &fstest.MapFile{Data: []byte("DROP TABLE half_done")},
	}
	applied, err := store.MigrateUpFrom(ctx, broken)
	if err == nil || len(applied) != 1 || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("up with a broken migration applied %v, err %v; want the first, then the failure", versions(applied), err)
	}
	var halfDone bool
	store.Pool.QueryRow(ctx, "SELECT to_regclass('half_done') IS NOT NULL").Scan(&halfDone)
	if halfDone {
		t.Fatal("the failed migration left its first statement behind: migrations do not run as one transaction")
	}

	_, err = store.MigrateUpFrom(ctx, broken)
	var dirty storage.ErrDirty
	if !errors.As(err, &dirty) || dirty.Version != 9001 || dirty.Previous != 1 || !strings.Contains(err.Error(), "changemaker migrate force 1") {
		t.Fatalf("up on a dirty database = %v; want ErrDirty at 9001 saying to force 1", err)
	}

	if err := store.MigrateForce(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fixed := fstest.MapFS{
		first:                  &fstest.MapFile{Data: body},
		"9001_broken.up.sql":   &fstest.MapFile{Data: []byte("CREATE TABLE half_done (id int);")},
		"9001_broken.down.sql": &fstest.MapFile{Data: []byte("DROP TABLE half_done")},
	}
	applied, err = store.MigrateUpFrom(ctx, fixed)
	if err != nil || len(applied) != 1 || applied[0].Version != 9001 {
		t.Fatalf("up after force and fix applied %v, err %v; want 9001", versions(applied), err)
	}
}

// A server without an extension a migration creates (PostGIS not installed)
// is told how to install it, and nothing runs: the database is not left dirty.
func TestMigrateMissingExtensionSaysHowToInstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openEmpty(t)
	first := upFiles(t)[0]
	body, _ := fs.ReadFile(migrations.FS, first)
	needs := fstest.MapFS{
		first:                   &fstest.MapFile{Data: body},
		"9002_spatial.up.sql":   &fstest.MapFile{Data: []byte("CREATE EXTENSION IF NOT EXISTS postgis;\nCREATE EXTENSION IF NOT EXISTS cm_no_such_extension;")},
		"9002_spatial.down.sql": &fstest.MapFile{Data: []byte("SELECT 1")},
	}
	applied, err := store.MigrateUpFrom(ctx, needs)
	var missing storage.ErrMissingExtension
	if !errors.As(err, &missing) || len(applied) != 0 {
		t.Fatalf("up without the extension applied %v, err %v; want ErrMissingExtension and nothing applied", versions(applied), err)
	}
	if len(missing.Names) != 1 || missing.Names[0] != "cm_no_such_extension" {
		t.Errorf("missing = %v, want only cm_no_such_extension (postgis is installed here)", missing.Names)
	}
	status, err := store.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if m.Applied || m.Dirty {
			t.Errorf("%04d applied=%v dirty=%v after a refused run", m.Version, m.Applied, m.Dirty)
		}
	}
	// The message for PostGIS names the package and the command.
	msg := storage.ErrMissingExtension{Names: []string{"postgis"}}.Error()
	for _, want := range []string{"postgresql-<major>-postgis-3", "migrate up"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}
