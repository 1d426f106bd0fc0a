package ratelimit_test

import (
	"context"
	"sync/atomic"
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

	t.Run("AllowAll counts its hits in order, with the same counts as Allow, and stops at the first refusal", func(t *testing.T) {
		lim := ratelimit.New(rdb, 0)
		ip := ratelimit.Limit{Name: "all-ip", Max: 2, Window: time.Minute}
		sender := ratelimit.Limit{Name: "all-sender", Max: 3, Window: time.Minute}
		hits := []ratelimit.Hit{{Limit: ip, Key: "10.0.0.1"}, {Limit: sender, Key: "chris@example.test"}}
		for i := range 3 {
			res, err := lim.AllowAll(ctx, hits...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != (i < ip.Max) {
				t.Fatalf("request %d allowed = %v, want %v", i+1, res.Allowed, i < ip.Max)
			}
			if !res.Allowed && (res.RetryAfter <= 0 || res.RetryAfter > ip.Window) {
				t.Errorf("RetryAfter = %v, want within the window", res.RetryAfter)
			}
		}
		// The sender was counted twice (the third request stopped at the
		// IP): one more hit passes, as Allow sees it, then none.
		for i, want := range []bool{true, false} {
			res, err := lim.Allow(ctx, sender, "chris@example.test")
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != want {
				t.Fatalf("sender hit %d after the requests allowed = %v, want %v", i+1, res.Allowed, want)
			}
		}
		// A refusal by the second limit leaves the first counted, as two
		// Allow calls in a row did.
		ip2 := ratelimit.Limit{Name: "all-ip2", Max: 2, Window: time.Minute}
		res, err := lim.AllowAll(ctx, ratelimit.Hit{Limit: ip2, Key: "10.0.0.2"},
			ratelimit.Hit{Limit: sender, Key: "chris@example.test"})
		if err != nil || res.Allowed {
			t.Fatalf("a request over the sender's limit = %+v, %v; want refused", res, err)
		}
		for i, want := range []bool{true, false} {
			res, err := lim.Allow(ctx, ip2, "10.0.0.2")
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != want {
				t.Fatalf("IP hit %d after the refused request allowed = %v, want %v (the refused request counted once)",
					i+2, res.Allowed, want)
			}
		}
	})
	t.Run("AllowAll is one round trip to Redis", func(t *testing.T) {
		_, opts := testenv.RedisClient(t)
		counted := redis.NewClient(opts)
		t.Cleanup(func() { counted.Close() })
		var calls atomic.Int32
		counted.AddHook(countHook{&calls})
		lim := ratelimit.New(counted, 0)
		hits := []ratelimit.Hit{{Limit: l, Key: "rt-ip"}, {Limit: l, Key: "rt-sender"}}
		if _, err := lim.AllowAll(ctx, hits...); err != nil { // loads the script
			t.Fatal(err)
		}
		calls.Store(0)
		if _, err := lim.AllowAll(ctx, hits...); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("two limits took %d Redis commands, want 1", n)
		}
	})
	t.Run("limits of Max 0 are no limit in AllowAll", func(t *testing.T) {
		res, err := ratelimit.New(down, 0).AllowAll(ctx, ratelimit.Hit{Limit: ratelimit.Limit{Name: "off"}, Key: "k"})
		if err != nil || !res.Allowed {
			t.Fatalf("AllowAll of no limit = %+v, %v; want allowed without asking Redis", res, err)
		}
	})
	t.Run("with Redis down AllowAllOrLocal counts in the process, in order", func(t *testing.T) {
		lim := ratelimit.New(down, 0)
		ip := ratelimit.Limit{Name: "local-ip", Max: 2, Window: time.Minute}
		sender := ratelimit.Limit{Name: "local-sender", Max: 3, Window: time.Minute}
		for i := range 3 {
			res, err := lim.AllowAllOrLocal(ctx, ratelimit.Hit{Limit: ip, Key: "10.0.0.3"},
				ratelimit.Hit{Limit: sender, Key: "s"})
			if err == nil {
				t.Fatal("no error reported while Redis is down")
			}
			if res.Allowed != (i < ip.Max) {
				t.Fatalf("request %d allowed = %v, want %v", i+1, res.Allowed, i < ip.Max)
			}
		}
		// The sender was counted twice: one more passes.
		if res, _ := lim.AllowAllOrLocal(ctx, ratelimit.Hit{Limit: sender, Key: "s"}); !res.Allowed {
			t.Error("the sender's third hit was refused: the refused request counted it")
		}
		if res, _ := lim.AllowAllOrLocal(ctx, ratelimit.Hit{Limit: sender, Key: "s"}); res.Allowed {
			t.Error("the sender's fourth hit was allowed")
		}
	})
}

// countHook counts the commands a client sends (a pipeline counts each).
type countHook struct{ n *atomic.Int32 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int32(len(cmds)))
		return next(ctx, cmds)
	}
}
