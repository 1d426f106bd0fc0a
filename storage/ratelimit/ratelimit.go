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
	"strconv"
	"strings"
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
	rdb   redis.UniversalClient
	redis *redis_rate.Limiter
	local *local
}

// New returns a limiter on rdb whose fallback remembers at most localKeys
// keys (<= 0: DefaultLocalKeys).
func New(rdb redis.UniversalClient, localKeys int) *Limiter {
	if localKeys <= 0 {
		localKeys = DefaultLocalKeys
	}
	return &Limiter{rdb: rdb, redis: redis_rate.NewLimiter(rdb), local: newLocal(localKeys)}
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

// Hit is one hit for Key under Limit, for AllowAll.
type Hit struct {
	Limit Limit
	Key   string
}

// AllowAll counts hits in order, as Allow would one after another, in one
// round trip to Redis (one Lua script: the same GCRA as redis_rate, on the
// same keys, so a limit counted by Allow and by AllowAll is one count). It
// stops at the first refusal: the hits after it are not counted, and its
// answer is the result. Every key must be on one Redis server (no cluster).
func (r *Limiter) AllowAll(ctx context.Context, hits ...Hit) (Result, error) {
	keys := make([]string, 0, len(hits))
	args := make([]any, 0, 3*len(hits))
	var names []string
	for _, h := range hits {
		if h.Limit.Max <= 0 {
			continue
		}
		keys = append(keys, rateKeyPrefix+redisKey(h.Limit, h.Key))
		args = append(args, h.Limit.Max, h.Limit.Window.Seconds())
		names = append(names, h.Limit.Name)
	}
	if len(keys) == 0 {
		return Result{Allowed: true}, nil
	}
	v, err := allowAll.Run(ctx, r.rdb, keys, args...).Slice()
	if err != nil {
		return Result{}, fmt.Errorf("rate limits %s: %w", strings.Join(names, ", "), err)
	}
	if len(v) != 2 {
		return Result{}, fmt.Errorf("rate limits %s: unexpected answer %v", strings.Join(names, ", "), v)
	}
	if refused, _ := v[0].(int64); refused == 0 {
		return Result{Allowed: true}, nil
	}
	s, _ := v[1].(string)
	retry, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Result{}, fmt.Errorf("rate limits %s: retry after %q: %w", strings.Join(names, ", "), s, err)
	}
	return Result{RetryAfter: time.Duration(retry * float64(time.Second))}, nil
}

// AllowAllOrLocal is AllowAll that, when Redis fails, counts the hits in
// this process (in order, stopping at the first refusal) and returns that
// answer along with Redis' error.
func (r *Limiter) AllowAllOrLocal(ctx context.Context, hits ...Hit) (Result, error) {
	res, err := r.AllowAll(ctx, hits...)
	if err == nil {
		return res, nil
	}
	now := time.Now()
	for _, h := range hits {
		if res := r.local.allow(h.Limit, redisKey(h.Limit, h.Key), now); !res.Allowed {
			return res, err
		}
	}
	return Result{Allowed: true}, err
}

// rateKeyPrefix is the prefix redis_rate puts before its keys.
const rateKeyPrefix = "rate:"

// allowAll is redis_rate's GCRA (allowN with a cost of 1, burst = rate =
// Max) for each key in turn: KEYS[i] with ARGV[2i-1] (Max) and ARGV[2i]
// (Window in seconds). All are decided at one instant; a refused key ends
// the script before any later key is counted. It answers {0, ""} when all
// passed, or {i, retry_after} for the first refused key i.
var allowAll = redis.NewScript(`
redis.replicate_commands()
local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[2 * i - 1])
  local period = tonumber(ARGV[2 * i])
  local emission_interval = period / max
  local burst_offset = emission_interval * max
  local tat = redis.call("GET", key)
  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end
  tat = math.max(tat, now)
  local new_tat = tat + emission_interval
  local diff = now - (new_tat - burst_offset)
  if diff / emission_interval < 0 then
    return {i, tostring(-diff)}
  end
  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
  end
end
return {0, ""}
`)

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
