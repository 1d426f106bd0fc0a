package email

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// CacheChannel is the Postgres notification channel on which the triggers
// of migration 0015 announce a change of the settings ("settings") or of a
// campaign's title or slug ("campaign:<id>").
const CacheChannel = "cm_worker_cache"

// campaignInfo is what an email needs of its campaign.
type campaignInfo struct {
	Title, Slug string
}

type cached[T any] struct {
	v  T
	at time.Time // when its read began
}

// Cache holds, in one worker process, the mailer of the settings (with the
// SMTP password opened) and the title and slug of the campaigns it sends
// for, so an email does not read them from Postgres. An entry lives at most
// TTL, and only while Listen holds its LISTEN connection: a change of the
// settings or of a campaign is announced by a trigger (NOTIFY on
// CacheChannel) and drops the entry at once, so the next email reads the new
// values, within milliseconds of the commit. Without the connection (not
// started, or lost) nothing is kept and every email reads Postgres, as it
// did before the cache. A nil *Cache keeps nothing.
type Cache struct {
	TTL time.Duration

	mu        sync.Mutex
	live      bool   // Listen is connected and listening
	gen       uint64 // bumped by every invalidation: a read begun before it is not kept
	settings  *cached[mailer]
	campaigns map[int64]cached[campaignInfo]
}

// NewCache returns a cache whose entries live at most ttl (0: 10 s).
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &Cache{TTL: ttl, campaigns: map[int64]cached[campaignInfo]{}}
}

// Live reports whether the cache keeps entries (its notification connection
// is up).
func (c *Cache) Live() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

func (c *Cache) mailer(ctx context.Context, load func(context.Context) (mailer, error)) (mailer, error) {
	if c == nil {
		return load(ctx)
	}
	c.mu.Lock()
	if s := c.settings; c.live && s != nil && time.Since(s.at) < c.TTL {
		c.mu.Unlock()
		return s.v, nil
	}
	gen, start := c.gen, time.Now()
	c.mu.Unlock()
	m, err := load(ctx)
	if err != nil {
		return m, err
	}
	c.mu.Lock()
	if c.live && c.gen == gen {
		c.settings = &cached[mailer]{v: m, at: start}
	}
	c.mu.Unlock()
	return m, nil
}

func (c *Cache) campaign(ctx context.Context, id int64, load func(context.Context) (campaignInfo, error)) (campaignInfo, error) {
	if c == nil {
		return load(ctx)
	}
	c.mu.Lock()
	if e, ok := c.campaigns[id]; c.live && ok && time.Since(e.at) < c.TTL {
		c.mu.Unlock()
		return e.v, nil
	}
	gen, start := c.gen, time.Now()
	c.mu.Unlock()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.live && c.gen == gen {
		if len(c.campaigns) >= maxCachedCampaigns {
			clear(c.campaigns)
		}
		c.campaigns[id] = cached[campaignInfo]{v: v, at: start}
	}
	c.mu.Unlock()
	return v, nil
}

// maxCachedCampaigns bounds the campaign entries (a worker sends for a few
// campaigns at a time; when it has seen this many, it starts over).
const maxCachedCampaigns = 1000

// Invalidate drops what payload names: "settings", "campaign:<id>", or
// anything else (everything).
func (c *Cache) Invalidate(payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch {
	case payload == "settings":
		c.settings = nil
	case strings.HasPrefix(payload, "campaign:"):
		id, err := strconv.ParseInt(strings.TrimPrefix(payload, "campaign:"), 10, 64)
		if err == nil {
			delete(c.campaigns, id)
			return
		}
		clear(c.campaigns)
	default:
		c.settings = nil
		clear(c.campaigns)
	}
}

func (c *Cache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.gen++
	c.settings = nil
	clear(c.campaigns)
}

// Listen keeps a connection of pool (taken out of it) listening on
// CacheChannel until ctx ends, and applies each notification. While it is
// not connected the cache keeps nothing; it reconnects after a second.
func (c *Cache) Listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, pool)
		c.setLive(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("worker cache: no notification connection; reading the settings for every email until it is back",
			"err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (c *Cache) listenOnce(ctx context.Context, pool *pgxpool.Pool) error {
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
	if _, err := conn.Exec(ctx, "LISTEN "+CacheChannel); err != nil {
		return err
	}
	// Entries read before the LISTEN may have missed a change: start empty.
	c.setLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		c.Invalidate(n.Payload)
	}
}
