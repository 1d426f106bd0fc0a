package geocoder

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisThrottle lets one request through per Interval across every process
// that shares its Redis key: a request takes the slot with SET NX PX
// Interval, and the slot is free again only when the key expires, so two
// requests are never less than Interval apart (as Redis counts time), however
// many workers ask. A waiter sleeps for the slot's remaining time (PTTL) and
// tries again.
type RedisThrottle struct {
	Redis    redis.UniversalClient
	Key      string        // e.g. "geocode:throttle:nominatim"
	Interval time.Duration // the least time between two requests
}

// maxThrottleSleep bounds one sleep, so that a slot whose key somehow lost
// its expiry is noticed and a cancelled context is not waited on for long.
const maxThrottleSleep = 2 * time.Second

// Wait blocks until this caller holds the slot or ctx ends.
func (t *RedisThrottle) Wait(ctx context.Context) error {
	if t.Interval <= 0 {
		return nil
	}
	for {
		ok, err := t.Redis.SetNX(ctx, t.Key, "1", t.Interval).Result()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("take the %s slot: %w", t.Key, err)
		}
		if ok {
			return nil
		}
		wait, err := t.Redis.PTTL(ctx, t.Key).Result()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read the %s slot: %w", t.Key, err)
		}
		switch {
		case wait == -1: // a key without expiry (set by hand?): give it one
			t.Redis.PExpire(ctx, t.Key, t.Interval)
			wait = t.Interval
		case wait <= 0: // gone meanwhile
			wait = time.Millisecond
		}
		timer := time.NewTimer(min(wait, maxThrottleSleep))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}
