// Package cachenotify keeps copies of Postgres rows in a process's memory
// and drops them as soon as Postgres announces a change: the triggers of
// migrations 0015 and 0016 NOTIFY on Channel at commit — "settings" on any
// change of the site settings, "campaign:<id>" on any change of a campaign
// other than its counts (and on its deletion); those of migration 0019
// "postal:<code>" on any change of a postal code's representatives.
//
// One Listener per process holds the LISTEN connection; any number of
// Tables lean on it. A Table keeps an entry at most its TTL, and only while
// the Listener is connected: without the connection (not started yet, or
// lost until it reconnects) nothing is kept and every Get reads Postgres,
// so a change is never missed for longer than the notification takes. The
// email workers keep the settings and campaigns in it between emails; the
// API keeps the campaigns its public send routes read by slug.
package cachenotify

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the notification channel of the triggers (its name is from
// migration 0015, when only the workers listened).
const Channel = "cm_worker_cache"

// Change is what one notification names.
type Change struct {
	Settings bool   // the site settings changed
	Campaign int64  // this campaign changed or was deleted (0: none)
	Postal   string // the representatives of this postal code changed ("": none)
	All      bool   // a payload this process does not know: drop everything
}

// Parse reads a notification's payload.
func Parse(payload string) Change {
	switch {
	case payload == "settings":
		return Change{Settings: true}
	case strings.HasPrefix(payload, "campaign:"):
		id, err := strconv.ParseInt(strings.TrimPrefix(payload, "campaign:"), 10, 64)
		if err == nil && id > 0 {
			return Change{Campaign: id}
		}
	case strings.HasPrefix(payload, "postal:") && len(payload) > len("postal:"):
		return Change{Postal: strings.TrimPrefix(payload, "postal:")}
	}
	return Change{All: true}
}

// table is what the Listener tells its tables.
type table interface {
	invalidate(Change)
	setLive(bool)
}

// Listener holds one connection listening on Channel and hands every
// notification to its tables. A nil *Listener is never live.
type Listener struct {
	mu     sync.Mutex
	live   bool
	tables []table
}

// NewListener returns a listener that is not connected yet: call Listen.
func NewListener() *Listener { return &Listener{} }

// Live reports whether the listener is connected and listening (its tables
// keep entries).
func (l *Listener) Live() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live
}

func (l *Listener) add(t table) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tables = append(l.tables, t)
	t.setLive(l.live)
}

// Invalidate applies a notification's payload to every table, as if it had
// come from Postgres.
func (l *Listener) Invalidate(payload string) {
	c := Parse(payload)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.tables {
		t.invalidate(c)
	}
}

func (l *Listener) setLive(live bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live = live
	for _, t := range l.tables {
		t.setLive(live)
	}
}

// Listen keeps a connection of pool (taken out of it) listening on Channel
// until ctx ends, and applies each notification. While it is not connected
// the tables keep nothing; it reconnects after a second. name says whose
// cache it is in the log.
func (l *Listener) Listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, name string) {
	for ctx.Err() == nil {
		err := l.listenOnce(ctx, pool)
		l.setLive(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn(name+" cache: no notification connection; reading Postgres every time until it is back",
			"err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (l *Listener) listenOnce(ctx context.Context, pool *pgxpool.Pool) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // LISTEN belongs to this connection alone: it never goes back to the pool
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		conn.Close(closeCtx) //nolint:errcheck
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	// Entries read before the LISTEN may have missed a change: start empty.
	l.setLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.Invalidate(n.Payload)
	}
}

type entry[V any] struct {
	v  V
	at time.Time // when its read began
}

// Table keeps values by key for at most TTL while its Listener is live, and
// drops those a notification names. A nil *Table keeps nothing.
type Table[K comparable, V any] struct {
	ttl   time.Duration
	max   int
	drops func(c Change, k K, v V) bool

	mu      sync.Mutex
	live    bool
	gen     uint64 // bumped by every invalidation: a read begun before it is not kept
	entries map[K]entry[V]
}

// NewTable returns a table on l whose entries live at most ttl; it keeps at
// most max entries (when full, it drops the expired ones, then all). drops
// says which entries a change drops (Change.All drops all in any case).
func NewTable[K comparable, V any](l *Listener, ttl time.Duration, max int, drops func(c Change, k K, v V) bool) *Table[K, V] {
	t := &Table[K, V]{ttl: ttl, max: max, drops: drops, entries: map[K]entry[V]{}}
	l.add(t)
	return t
}

// Get returns k's value from the table while it is fresh; otherwise it
// calls load and keeps what it returns — unless a change came in while it
// loaded. Errors are not kept.
func (t *Table[K, V]) Get(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	if t == nil {
		return load(ctx)
	}
	t.mu.Lock()
	if e, ok := t.entries[k]; t.live && ok && time.Since(e.at) < t.ttl {
		t.mu.Unlock()
		return e.v, nil
	}
	gen, start := t.gen, time.Now()
	t.mu.Unlock()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live && t.gen == gen {
		if _, ok := t.entries[k]; !ok && len(t.entries) >= t.max {
			for key, e := range t.entries {
				if time.Since(e.at) >= t.ttl {
					delete(t.entries, key)
				}
			}
			if len(t.entries) >= t.max {
				clear(t.entries)
			}
		}
		t.entries[k] = entry[V]{v: v, at: start}
	}
	return v, nil
}

// Len is the number of entries held (fresh or not).
func (t *Table[K, V]) Len() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

func (t *Table[K, V]) invalidate(c Change) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	if c.All {
		clear(t.entries)
		return
	}
	for k, e := range t.entries {
		if t.drops(c, k, e.v) {
			delete(t.entries, k)
		}
	}
}

func (t *Table[K, V]) setLive(live bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live = live
	t.gen++
	clear(t.entries)
}
