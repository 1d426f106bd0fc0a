package api_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

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
