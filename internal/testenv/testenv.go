// Package testenv gives tests real, isolated Postgres databases and Redis
// databases on the servers at 127.0.0.1, so that `go test ./...` can run
// packages (and tests inside them) at the same time.
//
//   - DB clones a fresh database from a template migrated once per migration
//     set; it is dropped when the test ends.
//   - Redis leases one of Redis' logical databases 1–15 for the test, flushed
//     before and after. Database 0 is left to development instances.
//
// TEST_DATABASE_URL (a maintenance database, default postgres on 127.0.0.1)
// and TEST_REDIS_ADDR (default 127.0.0.1:6379) point elsewhere when needed.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"changemaker/migrations"
	"changemaker/storage"
)

const templateLockID = 7_231_002

func adminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func redisAddr() string {
	if a := os.Getenv("TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// DatabaseURL returns adminURL with the database name replaced.
func databaseURL(name string) string {
	u, err := url.Parse(adminURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	// A template made by another migrator (or version of it) has other
	// bookkeeping: it must not be reused.
	fmt.Fprintf(h, "migrator\x00%s\x00%s", storage.MigratorID, moduleVersion("github.com/golang-migrate/migrate/v4"))
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

// moduleVersion is the version of module path linked into this binary.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range info.Deps {
		if m.Path == path {
			return m.Version
		}
	}
	return "none"
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DatabaseURLFor creates a fresh migrated database for t and returns its URL.
// The database is dropped when t ends.
func DatabaseURLFor(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hash, err := migrationsHash()
	if err != nil {
		t.Fatalf("testenv: hash migrations: %v", err)
	}
	tmpl := "cm_tmpl_" + hash
	admin := connectAdmin(t, ctx)
	defer admin.Close(context.WithoutCancel(ctx))
	if err := ensureTemplate(ctx, admin, tmpl); err != nil {
		t.Fatalf("testenv: template %s: %v", tmpl, err)
	}
	name := "cm_t_" + randomSuffix()
	if err := cloneTemplate(ctx, admin, name, tmpl); err != nil {
		t.Fatalf("testenv: clone template: %v", err)
	}
	dropAtCleanup(t, name)
	return databaseURL(name)
}

// EmptyDatabaseURLFor creates a database with no migration applied (for
// tests of the migrator itself) and returns its URL. It is dropped when t ends.
func EmptyDatabaseURLFor(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := connectAdmin(t, ctx)
	defer admin.Close(context.WithoutCancel(ctx))
	name := "cm_t_" + randomSuffix()
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		t.Fatalf("testenv: create %s: %v", name, err)
	}
	dropAtCleanup(t, name)
	return databaseURL(name)
}

// connectAdmin connects to the maintenance database; the caller closes the
// connection as soon as it is done, so that a test does not hold one for its
// whole run.
func connectAdmin(t testing.TB, ctx context.Context) *pgx.Conn {
	t.Helper()
	admin, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		t.Fatalf("testenv: connect to postgres (is it running? .ci/run starts it): %v", err)
	}
	return admin
}

func dropAtCleanup(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL())
		if err != nil {
			t.Errorf("testenv: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("testenv: drop %s: %v", name, err)
		}
	})
}

// ensureTemplate makes sure tmpl exists and is marked recently used. The
// template lock is taken only when there is something to do, so clones do not
// queue behind each other, nor behind another checkout building its template.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, tmpl string) error {
	exists, lastUsed, err := templateState(ctx, admin, tmpl)
	if err != nil {
		return fmt.Errorf("look for it: %w", err)
	}
	if exists && time.Since(lastUsed) <= touchEvery {
		return nil
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockID); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockID) //nolint:errcheck
	// Someone else may have built or marked it while this test waited.
	exists, lastUsed, err = templateState(ctx, admin, tmpl)
	switch {
	case err != nil:
		return fmt.Errorf("look for it: %w", err)
	case !exists:
		return buildTemplate(ctx, admin, tmpl)
	case time.Since(lastUsed) > touchEvery:
		return touchTemplate(ctx, admin, tmpl)
	}
	return nil
}

// cloneTemplate creates name from tmpl. Postgres refuses while any session
// is connected to the template; nothing stays connected to ours, but the
// builder's just-closed connections may still be ending, hence the retries.
func cloneTemplate(ctx context.Context, admin *pgx.Conn, name, tmpl string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.ObjectInUse || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after: %w)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// buildTemplate migrates a new database and publishes it under tmpl by
// renaming, so a half-built template is never cloned. It runs under the
// template lock, and then also drops templates nobody has used for a day.
func buildTemplate(ctx context.Context, admin *pgx.Conn, tmpl string) error {
	building := tmpl + "_building"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return fmt.Errorf("drop half-built %s: %w", building, err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return fmt.Errorf("create %s: %w", building, err)
	}
	store, err := storage.Open(ctx, databaseURL(building), 2)
	if err != nil {
		return err
	}
	_, err = store.MigrateUp(ctx)
	store.Close()
	if err != nil {
		return fmt.Errorf("migrate %s: %w", building, err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, tmpl)); err != nil {
		return fmt.Errorf("publish %s: %w", tmpl, err)
	}
	if err := touchTemplate(ctx, admin, tmpl); err != nil {
		return err
	}
	return dropStaleTemplates(ctx, admin, tmpl)
}

// Templates are shared by every checkout that runs tests against this
// server, each with its own set of migrations, so a template is dropped only
// when nobody has cloned it for staleAfter. Its last use is kept in the
// database's comment, refreshed at most every touchEvery so that clones do not
// all write the catalog.
const (
	touchEvery    = time.Hour
	staleAfter    = 24 * time.Hour
	lastUsedLabel = "changemaker test template, last used "
)

// templateState says whether tmpl exists and when it was last marked used
// (the zero time when it carries no mark).
func templateState(ctx context.Context, admin *pgx.Conn, tmpl string) (exists bool, lastUsed time.Time, err error) {
	var comment *string
	err = admin.QueryRow(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", tmpl).Scan(&comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	if comment != nil {
		lastUsed, _ = parseLastUsed(*comment)
	}
	return true, lastUsed, nil
}

func parseLastUsed(comment string) (time.Time, bool) {
	stamp, ok := strings.CutPrefix(comment, lastUsedLabel)
	if !ok {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339, stamp)
	return at, err == nil
}

// touchTemplate marks tmpl used now. Callers hold the template lock: two
// concurrent COMMENTs on one database fail with "tuple concurrently updated".
func touchTemplate(ctx context.Context, admin *pgx.Conn, tmpl string) error {
	stamp := lastUsedLabel + time.Now().UTC().Format(time.RFC3339)
	if _, err := admin.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS '%s'", tmpl, stamp)); err != nil {
		return fmt.Errorf("comment on %s: %w", tmpl, err)
	}
	return nil
}

// dropStaleTemplates drops the templates (and leftover half-built ones) other
// than keep that were not used for staleAfter. One without a mark was made by
// an older testenv: it gets one now, so it goes a day later unless used. A
// template someone is connected to is never dropped (no FORCE: the drop fails
// and is skipped).
func dropStaleTemplates(ctx context.Context, admin *pgx.Conn, keep string) error {
	rows, err := admin.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'cm\_tmpl\_%' AND datname <> $1`, keep)
	if err != nil {
		return fmt.Errorf("list templates: %w", err)
	}
	type template struct{ name, comment string }
	others, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (template, error) {
		var t template
		err := r.Scan(&t.name, &t.comment)
		return t, err
	})
	if err != nil {
		return fmt.Errorf("list templates: %w", err)
	}
	for _, o := range others {
		lastUsed, ok := parseLastUsed(o.comment)
		if !ok {
			if err := touchTemplate(ctx, admin, o.name); err != nil {
				return err
			}
			continue
		}
		if time.Since(lastUsed) > staleAfter {
			admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s", o.name)) //nolint:errcheck // in use: kept for the next sweep
		}
	}
	return nil
}

// DB returns a Store on a fresh migrated database, closed and dropped when t ends.
func DB(t testing.TB) *storage.Store {
	t.Helper()
	u := DatabaseURLFor(t)
	store, err := storage.Open(context.Background(), u, 10)
	if err != nil {
		t.Fatalf("testenv: open store: %v", err)
	}
	t.Cleanup(store.Close)
	return store
}

// Redis leases a flushed logical Redis database for t and returns options
// for it. The lease is held (and renewed) until t ends, then the database is
// flushed again and released.
func Redis(t testing.TB) *redis.Options {
	t.Helper()
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: redisAddr(), DB: 0})
	if err := ctl.Ping(ctx).Err(); err != nil {
		ctl.Close()
		t.Fatalf("testenv: redis at %s (is it running? .ci/run starts it): %v", redisAddr(), err)
	}
	token := randomSuffix()
	const leaseTTL = 2 * time.Minute
	db := 0
	deadline := time.Now().Add(2 * time.Minute)
	for db == 0 {
		for i := 1; i <= 15; i++ {
			ok, err := ctl.SetNX(ctx, fmt.Sprintf("cm:testlease:%d", i), token, leaseTTL).Result()
			if err != nil {
				ctl.Close()
				t.Fatalf("testenv: lease redis db: %v", err)
			}
			if ok {
				db = i
				break
			}
		}
		if db == 0 {
			if time.Now().After(deadline) {
				ctl.Close()
				t.Fatal("testenv: no free redis database for 2 minutes")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	key := fmt.Sprintf("cm:testlease:%d", db)
	opt := &redis.Options{Addr: redisAddr(), DB: db}
	flush := func() {
		c := redis.NewClient(opt)
		defer c.Close()
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Errorf("testenv: flush redis db %d: %v", db, err)
		}
	}
	flush()
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(leaseTTL / 4)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				ctl.Expire(ctx, key, leaseTTL)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-renewed
		flush()
		if v, _ := ctl.Get(ctx, key).Result(); v == token {
			ctl.Del(ctx, key)
		}
		ctl.Close()
	})
	return opt
}

// RedisClient is Redis with a client closed when t ends.
func RedisClient(t testing.TB) (*redis.Client, *redis.Options) {
	t.Helper()
	opt := Redis(t)
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c, opt
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
