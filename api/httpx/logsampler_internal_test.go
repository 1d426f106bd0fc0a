package httpx

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/internal/password"
)

// A login flood is refused with 503 thousands of times a second; the log
// must not grow by a line each (82 MB in 30 s before), yet still say that
// refusals happen and how many.
func TestRefusalsAreLoggedOncePerIntervalWithTheirCount(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler(log)})
	app.Post("/api/auth/login", func(*fiber.Ctx) error { return password.ErrBusy })
	app.Get("/api/boom", func(*fiber.Ctx) error { return password.ErrBusy })
	for i := 0; i < 500; i++ {
		res, err := app.Test(httptest.NewRequest("POST", "/api/auth/login", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("refusal %d: status %d, Retry-After %q; want 503 with Retry-After", i, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	if _, err := app.Test(httptest.NewRequest("GET", "/api/boom", nil), -1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("500 refusals of one route and one of another logged %d lines, want 2 (one per route):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"path":"/api/auth/login"`) || !strings.Contains(lines[1], `"path":"/api/boom"`) {
		t.Fatalf("lines do not name their routes:\n%s", buf.String())
	}
}

func TestLogSamplerCountsWhatItHeldBack(t *testing.T) {
	s := newLogSampler(10*time.Second, 2)
	t0 := time.Unix(1000, 0)
	if n, ok := s.admit("a", t0); !ok || n != 1 {
		t.Fatalf("first event: (%d, %v), want (1, true)", n, ok)
	}
	for i := 1; i <= 41; i++ {
		if _, ok := s.admit("a", t0.Add(time.Duration(i)*200*time.Millisecond)); ok {
			t.Fatalf("event %d inside the interval was let through", i)
		}
	}
	// 41 held back: 200 ms × 41 = 8.2 s, still inside. Then the next line
	// stands for those and itself.
	if n, ok := s.admit("a", t0.Add(10*time.Second)); !ok || n != 42 {
		t.Fatalf("after the interval: (%d, %v), want (42, true)", n, ok)
	}
	// Keys are bounded: a third key clears the table instead of growing it.
	s.admit("b", t0)
	s.admit("c", t0)
	if len(s.seen) > 2 {
		t.Fatalf("sampler tracks %d keys, bound is 2", len(s.seen))
	}
}

// The access log samples refusals the same way: a flood of 429s and 503s
// costs a line per route and status, not a line per request, while every
// other request keeps its own line.
func TestAccessLogSamplesRefusals(t *testing.T) {
	var buf bytes.Buffer
	access := slog.New(slog.NewJSONHandler(&buf, nil))
	app := NewApp(AppOptions{Name: "test", BodyLimit: 1 << 20, CORSOrigin: "https://app.example.org",
		Log: slog.New(slog.DiscardHandler), AccessLog: access})
	app.Post("/api/auth/login", func(*fiber.Ctx) error { return password.ErrBusy })
	app.Get("/api/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	for range 300 {
		if res, err := app.Test(httptest.NewRequest("POST", "/api/auth/login", nil), -1); err != nil || res.StatusCode != 503 {
			t.Fatalf("refusal: %v %v", res, err)
		}
	}
	for range 3 {
		if res, err := app.Test(httptest.NewRequest("GET", "/api/ok", nil), -1); err != nil || res.StatusCode != 200 {
			t.Fatalf("ok: %v %v", res, err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("300 refusals and 3 answers logged %d access lines, want 4 (one for the refusals):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"status":503`) || !strings.Contains(lines[0], `"requests":1`) {
		t.Fatalf("the refusals' line: %s", lines[0])
	}
}
