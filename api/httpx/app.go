package httpx

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// AppOptions configure the Fiber app both APIs are built on.
type AppOptions struct {
	Name              string // "main" or "media": the app name in logs
	BodyLimit         int
	StreamRequestBody bool
	CORSOrigin        string
	TrustedProxies    []string
	Production        bool
	Log               *slog.Logger
	AccessLog         *slog.Logger // nil disables access logging
	Metrics           *Metrics
}

// NewApp builds a Fiber app with the shared middleware chain: request ID,
// access log and metrics (which also render errors), panic recovery, security
// headers and CORS.
func NewApp(o AppOptions) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:                 "changemaker-" + o.Name,
		BodyLimit:               o.BodyLimit,
		StreamRequestBody:       o.StreamRequestBody,
		DisableStartupMessage:   true,
		ErrorHandler:            ErrorHandler(o.Log),
		ProxyHeader:             "X-Real-Ip",
		EnableTrustedProxyCheck: true,
		TrustedProxies:          o.TrustedProxies,
		EnableIPValidation:      true,
		ReadTimeout:             2 * time.Minute,
		IdleTimeout:             2 * time.Minute,
	})
	app.Use(requestid.New())
	app.Use(observe(o.AccessLog, o.Metrics))
	app.Use(recover.New())
	app.Use(securityHeaders(o.Production))
	app.Use(rejectBadText)
	app.Use(rejectEncodedBody)
	app.Use(cors.New(cors.Config{
		AllowOrigins:     strings.Join(strings.Fields(strings.ReplaceAll(o.CORSOrigin, ",", " ")), ","),
		AllowCredentials: true,
		AllowHeaders:     "Authorization, Content-Type, X-Request-ID, Idempotency-Key",
		ExposeHeaders:    "X-Request-ID, Retry-After",
		MaxAge:           600,
	}))
	return app
}

// RequestID returns the request's ID as set by the requestid middleware.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals("requestid").(string)
	return id
}

// observe renders any error the chain returns (so the status is final), then
// records the request in the metrics and the access log. Routes are labelled
// by pattern; requests no route matched share the label "unmatched" so that
// scanners cannot blow up the label space.
func observe(access *slog.Logger, m *Metrics) fiber.Handler {
	// Refusals (429, 503) come in floods — a login flood is refused 14,000
	// times a second — so their access lines are sampled like the error
	// log's: one per route and status every refusalLogEvery, with the count
	// it stands for. Everything else is logged line by line.
	refusals := newLogSampler(refusalLogEvery, refusalLogKeys)
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				c.Status(fiber.StatusInternalServerError)
			}
		}
		d := time.Since(start)
		status := c.Response().StatusCode()
		route := c.Route().Path
		var fe *fiber.Error
		if errors.As(err, &fe) && (fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed) {
			route = "unmatched"
		}
		// fasthttp reuses the request's buffers: keep a copy for metric labels.
		method := strings.Clone(c.Method())
		if m != nil {
			m.observe(method, route, status, d)
		}
		represents := 1
		if access != nil && (status == fiber.StatusTooManyRequests || status == fiber.StatusServiceUnavailable) {
			n, ok := refusals.admit(route+"\x00"+strconv.Itoa(status), start)
			if !ok {
				return nil
			}
			represents = n
		}
		if access != nil {
			access.LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("request_id", RequestID(c)),
				slog.String("method", method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.String("ip", c.IP()),
				slog.Int("bytes", responseSize(c)),
				slog.Int("requests", represents),
			)
		}
		return nil
	}
}

func securityHeaders(production bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("X-Frame-Options", "DENY")
		c.Set("Referrer-Policy", "no-referrer")
		c.Set("Cross-Origin-Opener-Policy", "same-origin")
		if production {
			c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return c.Next()
	}
}

// responseSize is the size of the answer without reading a streamed body:
// Body() would pull a whole video into memory.
func responseSize(c *fiber.Ctx) int {
	if c.Response().IsBodyStream() {
		return c.Response().Header.ContentLength()
	}
	return len(c.Response().Body())
}
