// Package ratelimit is the one rate limiter of the APIs and the workers. It
// counts in Redis with redis_rate (GCRA), so a limit holds across every
// process that shares the Redis server. When Redis fails, AllowOrLocal
// counts in this process instead: a limit that guards against abuse (login
// guesses, sends) must not vanish with Redis.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is Max hits per Window for one named limit. Max hits pass at once;
// after that the limit refills at Max per Window (GCRA), so no Window ever
// sees more than Max hits beyond the first burst. Max <= 0 is no limit.
type Limit struct {
	Name   string
	Max    int
	Window time.Duration
}

func (l Limit) rate() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Max, Burst: l.Max, Period: l.Window}
}

// Result is the answer to one hit.
type Result struct {
	Allowed    bool
	RetryAfter time.Duration // when refused: until the next hit may pass
}

// DefaultLocalKeys bounds the keys the per-process fallback remembers.
const DefaultLocalKeys = 10_000

// Limiter counts hits in Redis, with a per-process fallback.
type Limiter struct {
	redis *redis_rate.Limiter
	local *local
}

// New returns a limiter on rdb whose fallback remembers at most localKeys
// keys (<= 0: DefaultLocalKeys).
func New(rdb redis.UniversalClient, localKeys int) *Limiter {
	if localKeys <= 0 {
		localKeys = DefaultLocalKeys
	}
	return &Limiter{redis: redis_rate.NewLimiter(rdb), local: newLocal(localKeys)}
}

// redisKey hashes key, which may hold an email address, so none is stored.
func redisKey(l Limit, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "cm:rl:" + l.Name + ":" + hex.EncodeToString(sum[:12])
}

// Allow counts one hit for key under l in Redis. It fails when Redis does.
func (r *Limiter) Allow(ctx context.Context, l Limit, key string) (Result, error) {
	if l.Max <= 0 {
		return Result{Allowed: true}, nil
	}
	res, err := r.redis.Allow(ctx, redisKey(l, key), l.rate())
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", l.Name, err)
	}
	if res.Allowed > 0 {
		return Result{Allowed: true}, nil
	}
	return Result{RetryAfter: res.RetryAfter}, nil
}

// AllowOrLocal is Allow that, when Redis fails, counts the hit in this
// process and returns that answer along with Redis' error (for the log).
// Each process then allows up to the limit on its own: weaker than the
// shared count, far stronger than none.
func (r *Limiter) AllowOrLocal(ctx context.Context, l Limit, key string) (Result, error) {
	res, err := r.Allow(ctx, l, key)
	if err == nil {
		return res, nil
	}
	return r.local.allow(l, redisKey(l, key), time.Now()), err
}

// local is a GCRA limiter in memory, bounded to max keys.
type local struct {
	mu  sync.Mutex
	max int
	tat map[string]time.Time // theoretical arrival time of the next hit, per key
}

func newLocal(max int) *local { return &local{max: max, tat: map[string]time.Time{}} }

func (c *local) allow(l Limit, key string, now time.Time) Result {
	if l.Max <= 0 {
		return Result{Allowed: true}
	}
	interval := l.Window / time.Duration(l.Max)
	burst := l.Window - interval // how far ahead of now the arrival time may run
	c.mu.Lock()
	defer c.mu.Unlock()
	tat, ok := c.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - burst; wait > 0 {
		return Result{RetryAfter: wait}
	}
	if !ok && len(c.tat) >= c.max {
		c.evict(now)
	}
	c.tat[key] = tat.Add(interval)
	return Result{Allowed: true}
}

// evict drops the keys whose arrival time has passed (they are back to a
// full burst, the same as forgotten); if none has, it drops half the keys,
// the price of a bound on memory while Redis is down.
func (c *local) evict(now time.Time) {
	for k, t := range c.tat {
		if !t.After(now) {
			delete(c.tat, k)
		}
	}
	for k := range c.tat {
		if len(c.tat) < c.max/2 {
			break
		}
		delete(c.tat, k)
	}
}
