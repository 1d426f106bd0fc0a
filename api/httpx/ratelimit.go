package httpx

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"changemaker/storage/ratelimit"
)

// Limit is N requests per Window for one named limit.
type Limit = ratelimit.Limit

// RateLimiter is the Fiber side of ratelimit.Limiter: it turns a refused hit
// into a 429 with Retry-After.
type RateLimiter struct {
	limiter *ratelimit.Limiter
	log     *slog.Logger
}

// NewRateLimiter returns a limiter on rdb.
func NewRateLimiter(rdb redis.UniversalClient, log *slog.Logger) *RateLimiter {
	return &RateLimiter{limiter: ratelimit.New(rdb, ratelimit.DefaultLocalKeys), log: log}
}

// Check counts one hit for key under l, and returns a 429 with Retry-After
// when the limit is exceeded. When Redis is unreachable the hit is counted
// in this process instead, so the limits that guard against abuse (login
// guesses above all) hold, per process, through an outage of Redis.
func (r *RateLimiter) Check(c *fiber.Ctx, l Limit, key string) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 500*time.Millisecond)
	defer cancel()
	res, err := r.limiter.AllowOrLocal(ctx, l, key)
	if err != nil {
		r.log.Warn("rate limiter: redis unavailable, counting in this process", "limit", l.Name, "err", err)
	}
	return refused(res)
}

// CheckAll is Check for several limits at once, in one round trip to Redis:
// they are counted in order, as Check one after another would, and the
// first refusal is the 429 (the limits after it are not counted).
func (r *RateLimiter) CheckAll(c *fiber.Ctx, hits ...ratelimit.Hit) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 500*time.Millisecond)
	defer cancel()
	res, err := r.limiter.AllowAllOrLocal(ctx, hits...)
	if err != nil {
		r.log.Warn("rate limiter: redis unavailable, counting in this process", "limit", hits[0].Limit.Name, "err", err)
	}
	return refused(res)
}

func refused(res ratelimit.Result) error {
	if !res.Allowed {
		secs := int((res.RetryAfter + time.Second - 1) / time.Second)
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
