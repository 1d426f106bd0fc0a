package httpx_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/api/httpx"
	"changemaker/internal/testenv"
)

func newApp(t *testing.T) *fiber.App {
	return httpx.NewApp(httpx.AppOptions{Name: "test", BodyLimit: 1 << 20, CORSOrigin: "https://app.example.org, https://admin.example.org",
		Log: testenv.Logger(t), Metrics: httpx.NewMetrics(prometheus.NewRegistry())})
}

func TestPanicBecomesA500WithoutDetails(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	app.Get("/boom", func(*fiber.Ctx) error { panic("secret internal state") })
	res, err := app.Test(httptest.NewRequest("GET", "/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 500 || !strings.Contains(string(b), `"code":"internal"`) || strings.Contains(string(b), "secret") {
		t.Fatalf("panic = %d %s, want 500 internal without the panic text", res.StatusCode, b)
	}
	// The app keeps serving.
	app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	if res, _ := app.Test(httptest.NewRequest("GET", "/ok", nil)); res.StatusCode != 200 {
		t.Fatalf("after a panic = %d", res.StatusCode)
	}
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	app.Get("/x", func(c *fiber.Ctx) error { return c.SendString("ok") })

	pre := httptest.NewRequest("OPTIONS", "/x", nil)
	pre.Header.Set("Origin", "https://admin.example.org")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	res, _ := app.Test(pre)
	if res.Header.Get("Access-Control-Allow-Origin") != "https://admin.example.org" || res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from a listed origin: allow-origin %q, credentials %q", res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Allow-Credentials"))
	}
	evil := httptest.NewRequest("GET", "/x", nil)
	evil.Header.Set("Origin", "https://evil.example.com")
	res, _ = app.Test(evil)
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("unlisted origin allowed: %q", got)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id"} {
		if res.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	// One rule everywhere (the API and `admin create-user`): admin@localhost,
	// which dev.sh creates, is an address; "<not an email>" is not.
	for _, ok := range []string{"a@b.co", "first.last+tag@sub.example.org", "admin@localhost", "a@b", "zoë@café.example", "x@xn--caf-dma.example"} {
		if !httpx.ValidEmail(ok) {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "a", "<not an email>", "A <a@b.co>", "a@b.co\r\nBcc: c@d.e", "a b@c.de", "a@b.co,c@d.ef",
		"a@b..co", "a@.b.co", "a@b.co.", "a@-b.co", "a@b-.co", "a@[127.0.0.1]", "a\\b@c.co", "@b.co", "a@",
		strings.Repeat("a", 65) + "@b.co", "a@" + strings.Repeat("b", 64) + ".co"} {
		if httpx.ValidEmail(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientKeyBucketsIPv6By64(t *testing.T) {
	t.Parallel()
	app := fiber.New(fiber.Config{ProxyHeader: "X-Real-Ip", EnableTrustedProxyCheck: true, TrustedProxies: []string{"0.0.0.0"}})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString(httpx.ClientKey(c)) })
	for ip, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"::ffff:198.51.100.9":     "198.51.100.9",
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Real-Ip", ip)
		res, _ := app.Test(req)
		b, _ := io.ReadAll(res.Body)
		if string(b) != want {
			t.Errorf("ClientKey(%s) = %q, want %q", ip, b, want)
		}
	}
}
