// Package queues mounts the asynqmon dashboard behind SUPER_ADMIN.
//
// asynqmon has no login of its own. A browser reaches it with the HttpOnly,
// SameSite=Strict access cookie that login sets next to the JSON tokens;
// API clients may send the usual Bearer token. Anonymous requests get a 401 —
// for a browser, a 401 page with a small sign-in form — and other roles a 403.
package queues

import (
	_ "embed"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// RootPath is where the dashboard lives, in the main API and in the
// standalone `changemaker queues` process alike.
const RootPath = "/api/admin/queues"

//go:embed login.html
var loginPage string

// Dashboard is a mounted asynqmon.
type Dashboard struct {
	handler *asynqmon.HTTPHandler
}

// Mount serves the dashboard on app at RootPath. Close the Dashboard on shutdown.
func Mount(app fiber.Router, auth *httpx.Auth, redis asynq.RedisConnOpt) *Dashboard {
	h := asynqmon.New(asynqmon.Options{RootPath: RootPath, RedisConnOpt: redis})
	serve := adaptor.HTTPHandler(h)
	guard := auth.RequireWithCookie(storage.RoleSuperAdmin)
	for _, p := range []string{RootPath, RootPath + "/*"} {
		app.All(p, loginOn401(guard), serve)
	}
	return &Dashboard{handler: h}
}

// Close releases the dashboard's Redis connections.
func (d *Dashboard) Close() error { return d.handler.Close() }

// loginOn401 turns the guard's 401 into a sign-in page for browsers.
func loginOn401(guard fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := guard(c)
		if err == nil {
			return nil
		}
		if e := httpx.AsError(err); e.Status == fiber.StatusUnauthorized &&
			c.Method() == fiber.MethodGet && strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
			c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			c.Set("Cache-Control", "no-store")
			return c.Status(fiber.StatusUnauthorized).SendString(loginPage)
		}
		return err
	}
}
