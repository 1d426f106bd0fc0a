package email

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"changemaker/storage/cachenotify"
)

// CacheChannel is the Postgres notification channel on which the triggers
// of migrations 0015 and 0016 announce a change of the settings
// ("settings") or of a campaign ("campaign:<id>").
const CacheChannel = cachenotify.Channel

// campaignInfo is what an email needs of its campaign.
type campaignInfo struct {
	Title, Slug string
}

// Cache holds, in one worker process, the mailer of the settings (with the
// SMTP password opened) and the title and slug of the campaigns it sends
// for, so an email does not read them from Postgres. It is two tables of
// storage/cachenotify on one listener: an entry lives at most its TTL, and
// only while Listen holds its LISTEN connection; a change of the settings or
// of a campaign is announced by a trigger (NOTIFY) and drops the entry at
// once, so the next email reads the new values, within milliseconds of the
// commit. Without the connection (not started, or lost) nothing is kept and
// every email reads Postgres, as it did before the cache. A nil *Cache keeps
// nothing.
type Cache struct {
	listener  *cachenotify.Listener
	settings  *cachenotify.Table[struct{}, mailer]
	campaigns *cachenotify.Table[int64, campaignInfo]
}

// NewCache returns a cache whose entries live at most ttl (0: 10 s).
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	l := cachenotify.NewListener()
	return &Cache{listener: l,
		settings: cachenotify.NewTable(l, ttl, 1, func(c cachenotify.Change, _ struct{}, _ mailer) bool {
			return c.Settings
		}),
		campaigns: cachenotify.NewTable(l, ttl, maxCachedCampaigns, func(c cachenotify.Change, id int64, _ campaignInfo) bool {
			return c.Campaign == id
		}),
	}
}

// maxCachedCampaigns bounds the campaign entries (a worker sends for a few
// campaigns at a time; when it has seen this many, it starts over).
const maxCachedCampaigns = 1000

// Live reports whether the cache keeps entries (its notification connection
// is up).
func (c *Cache) Live() bool {
	if c == nil {
		return false
	}
	return c.listener.Live()
}

func (c *Cache) mailer(ctx context.Context, load func(context.Context) (mailer, error)) (mailer, error) {
	if c == nil {
		return load(ctx)
	}
	return c.settings.Get(ctx, struct{}{}, load)
}

func (c *Cache) campaign(ctx context.Context, id int64, load func(context.Context) (campaignInfo, error)) (campaignInfo, error) {
	if c == nil {
		return load(ctx)
	}
	return c.campaigns.Get(ctx, id, load)
}

// Invalidate drops what payload names: "settings", "campaign:<id>", or
// anything else (everything).
func (c *Cache) Invalidate(payload string) { c.listener.Invalidate(payload) }

// Listen keeps a connection of pool (taken out of it) listening for the
// notifications until ctx ends. While it is not connected the cache keeps
// nothing; it reconnects after a second.
func (c *Cache) Listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	c.listener.Listen(ctx, pool, log, "worker")
}
