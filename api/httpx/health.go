package httpx

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// Pinger is a dependency the health check pings.
type Pinger interface {
	Ping(ctx context.Context) error
}

// RedisPinger adapts a Redis client to Pinger.
type RedisPinger struct{ Client redis.UniversalClient }

// Ping pings Redis.
func (r RedisPinger) Ping(ctx context.Context) error { return r.Client.Ping(ctx).Err() }

// Health answers 200 {"status":"healthy"} when every dependency answers, and
// 503 {"status":"degraded","failed":[…]} naming those that do not.
//
// A result is reused for CacheFor (one second by default): load balancers and
// monitors may poll as hard as they like without turning each poll into a
// Postgres and a Redis round trip.
type Health struct {
	Service  string
	Version  string
	Postgres Pinger
	Redis    Pinger
	Timeout  time.Duration
	CacheFor time.Duration

	mu     sync.Mutex
	last   healthBody
	lastAt time.Time
}

type checkResult struct {
	Status    string  `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"`
}

type healthBody struct {
	Status  string                 `json:"status"`
	Service string                 `json:"service"`
	Version string                 `json:"version"`
	Failed  []string               `json:"failed,omitempty"`
	Checks  map[string]checkResult `json:"checks"`
}

// Handler answers with a fresh or cached result.
func (h *Health) Handler(c *fiber.Ctx) error {
	body := h.result(c.UserContext())
	if body.Status != "healthy" {
		return c.Status(fiber.StatusServiceUnavailable).JSON(body)
	}
	return c.JSON(body)
}

func (h *Health) result(ctx context.Context) healthBody {
	cacheFor := h.CacheFor
	if cacheFor == 0 {
		cacheFor = time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.lastAt.IsZero() && time.Since(h.lastAt) < cacheFor {
		return h.last
	}
	h.last = h.check(ctx)
	h.lastAt = time.Now()
	return h.last
}

// check runs the checks concurrently, each bounded by Timeout.
func (h *Health) check(parent context.Context) healthBody {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	deps := map[string]Pinger{"postgres": h.Postgres, "redis": h.Redis}
	results := make(map[string]checkResult, len(deps))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range deps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(parent, timeout)
			defer cancel()
			start := time.Now()
			err := p.Ping(ctx)
			r := checkResult{Status: "up", LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				// The reason is generic on purpose: driver errors can name hosts and users.
				r.Status, r.Error = "down", "unreachable"
			}
			mu.Lock()
			results[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	body := healthBody{Status: "healthy", Service: h.Service, Version: h.Version, Checks: results}
	for _, name := range []string{"postgres", "redis"} {
		if results[name].Status != "up" {
			body.Failed = append(body.Failed, name)
		}
	}
	if len(body.Failed) > 0 {
		body.Status = "degraded"
	}
	return body
}
