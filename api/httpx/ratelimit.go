package httpx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// Limit is N requests per Window for one named limit.
type Limit struct {
	Name   string
	Max    int
	Window time.Duration
}

// RateLimiter counts requests in Redis, so a limit holds across every API
// instance that shares the Redis server. It is a fixed-window counter: one
// INCR and, on the window's first hit, a PEXPIRE, done atomically in Lua.
type RateLimiter struct {
	rdb redis.UniversalClient
	log *slog.Logger
}

// NewRateLimiter returns a limiter on rdb.
func NewRateLimiter(rdb redis.UniversalClient, log *slog.Logger) *RateLimiter {
	return &RateLimiter{rdb: rdb, log: log}
}

var fixedWindow = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`)

// Allow counts one hit for key under l. It returns whether the hit is within
// the limit and, if not, how long until the window resets.
func (r *RateLimiter) Allow(ctx context.Context, l Limit, key string) (bool, time.Duration, error) {
	if l.Max <= 0 {
		return true, 0, nil
	}
	sum := sha256.Sum256([]byte(key))
	redisKey := "cm:rl:" + l.Name + ":" + hex.EncodeToString(sum[:12])
	res, err := fixedWindow.Run(ctx, r.rdb, []string{redisKey}, l.Window.Milliseconds()).Int64Slice()
	if err != nil {
		return true, 0, fmt.Errorf("rate limit %s: %w", l.Name, err)
	}
	if int(res[0]) > l.Max {
		return false, time.Duration(res[1]) * time.Millisecond, nil
	}
	return true, 0, nil
}

// Check is Allow as a request step: it returns a 429 with Retry-After when the
// limit is exceeded. When Redis is unreachable it lets the request through and
// logs: an outage of the limiter must not become an outage of the API.
func (r *RateLimiter) Check(c *fiber.Ctx, l Limit, key string) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 500*time.Millisecond)
	defer cancel()
	ok, wait, err := r.Allow(ctx, l, key)
	if err != nil {
		r.log.Warn("rate limiter unavailable, allowing request", "limit", l.Name, "err", err)
		return nil
	}
	if !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return TooManyRequests(secs)
	}
	return nil
}

// ByIP is a middleware applying l per client (ClientKey).
func (r *RateLimiter) ByIP(l Limit) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := r.Check(c, l, ClientKey(c)); err != nil {
			return err
		}
		return c.Next()
	}
}
