package api_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"changemaker/api/httpx"
	"changemaker/internal/testenv"
)

// TestRateLimitSharedAcrossInstances: two API instances behind one load
// balancer share the limit, because the count lives in Redis.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	rdb, _ := testenv.RedisClient(t)
	limit := httpx.Limit{Name: "shared-test", Max: 5, Window: time.Minute}
	newInstance := func() *fiber.App {
		app := fiber.New(fiber.Config{ErrorHandler: httpx.ErrorHandler(testenv.Logger(t))})
		app.Get("/x", httpx.NewRateLimiter(rdb, testenv.Logger(t)).ByIP(limit), func(c *fiber.Ctx) error { return c.SendString("ok") })
		return app
	}
	a, b := newInstance(), newInstance()
	for i := 0; i < 7; i++ {
		app := a
		if i%2 == 1 {
			app = b
		}
		res, err := app.Test(httptestRequest("GET", "/x"))
		if err != nil {
			t.Fatal(err)
		}
		want := 200
		if i >= limit.Max {
			want = 429
		}
		if res.StatusCode != want {
			t.Fatalf("request %d (instance %c) = %d, want %d", i+1, "ab"[i%2], res.StatusCode, want)
		}
		if want == 429 {
			ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 60 {
				t.Fatalf("Retry-After = %q, want 1..60 seconds", res.Header.Get("Retry-After"))
			}
		}
	}
}

// TestRateLimitHoldsWithRedisDown: with Redis refusing connections the limit
// used to fail open (30 of 30 wrong login guesses answered 401, none 429).
// Each instance now counts on its own: the limit holds per process.
func TestRateLimitHoldsWithRedisDown(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	limit := httpx.Limit{Name: "login", Max: 5, Window: 15 * time.Minute}
	app := fiber.New(fiber.Config{ErrorHandler: httpx.ErrorHandler(testenv.Logger(t))})
	app.Post("/login", httpx.NewRateLimiter(down, testenv.Logger(t)).ByIP(limit), func(c *fiber.Ctx) error {
		return c.SendStatus(fiber.StatusUnauthorized) // every guess is wrong
	})
	got := map[int]int{}
	for i := 0; i < 30; i++ {
		res, err := app.Test(httptestRequest("POST", "/login"))
		if err != nil {
			t.Fatal(err)
		}
		got[res.StatusCode]++
		if i < limit.Max && res.StatusCode != 401 || i >= limit.Max && res.StatusCode != 429 {
			t.Fatalf("guess %d with Redis down = %d (so far %v), want %d allowed then 429", i+1, res.StatusCode, got, limit.Max)
		}
	}
}
