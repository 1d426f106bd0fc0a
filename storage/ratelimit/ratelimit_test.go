package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"changemaker/internal/testenv"
	"changemaker/storage/ratelimit"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, _ := testenv.RedisClient(t)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	l := ratelimit.Limit{Name: "test", Max: 3, Window: time.Minute}

	t.Run("Max hits pass at once, then the limit is shared by every limiter on Redis", func(t *testing.T) {
		a, b := ratelimit.New(rdb, 0), ratelimit.New(rdb, 0)
		for i := range 5 {
			lim := a
			if i%2 == 1 {
				lim = b
			}
			res, err := lim.Allow(ctx, l, "shared")
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != (i < l.Max) {
				t.Fatalf("hit %d allowed = %v, want %v", i+1, res.Allowed, i < l.Max)
			}
			if !res.Allowed && (res.RetryAfter <= 0 || res.RetryAfter > l.Window) {
				t.Errorf("RetryAfter = %v, want within the window", res.RetryAfter)
			}
		}
	})
	t.Run("Redis refusing connections is an error for Allow", func(t *testing.T) {
		if _, err := ratelimit.New(down, 0).Allow(ctx, l, "k"); err == nil {
			t.Fatal("Allow with Redis down succeeded")
		}
	})
	t.Run("with Redis down AllowOrLocal counts in the process", func(t *testing.T) {
		lim := ratelimit.New(down, 0)
		for i := range 5 {
			res, err := lim.AllowOrLocal(ctx, l, "guesser")
			if err == nil {
				t.Fatal("no error reported while Redis is down")
			}
			if res.Allowed != (i < l.Max) {
				t.Fatalf("hit %d allowed = %v, want %v", i+1, res.Allowed, i < l.Max)
			}
		}
		if res, _ := lim.AllowOrLocal(ctx, l, "someone else"); !res.Allowed {
			t.Error("another key was refused")
		}
	})
}
