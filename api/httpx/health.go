package httpx

import (
	"context"
	"encoding/json"
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

	mu         sync.Mutex
	lastStatus int
	lastBody   []byte // the encoded answer, reused until CacheFor passes
	lastAt     time.Time
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
	status, body, err := h.result(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

// result returns the status and encoded body, re-checking at most once per
// CacheFor; concurrent callers wait for the one check in flight.
func (h *Health) result(ctx context.Context) (int, []byte, error) {
	cacheFor := h.CacheFor
	if cacheFor == 0 {
		cacheFor = time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastBody == nil || time.Since(h.lastAt) >= cacheFor {
		res := h.check(ctx)
		b, err := json.Marshal(res)
		if err != nil {
			return 0, nil, err
		}
		h.lastStatus, h.lastBody, h.lastAt = fiber.StatusOK, b, time.Now()
		if res.Status != "healthy" {
			h.lastStatus = fiber.StatusServiceUnavailable
		}
	}
	return h.lastStatus, h.lastBody, nil
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
