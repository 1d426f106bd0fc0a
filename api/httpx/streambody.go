package httpx

import (
	"io"

	"github.com/gofiber/fiber/v2"
)

// BoundBody is for an app that streams request bodies (StreamRequestBody)
// so that a few routes can read large uploads as they arrive. Streaming
// also turns off the app's body limit; BoundBody puts it back for every
// other request: it reads the body whole, up to limit bytes (413
// payload_too_large past it), so handlers see it as usual. Requests for
// which stream reports true are left to read their own body.
func BoundBody(limit int, stream func(*fiber.Ctx) bool) fiber.Handler {
	if limit <= 0 {
		limit = 1 << 20
	}
	return func(c *fiber.Ctx) error {
		req := c.Request()
		if !req.IsBodyStream() || stream(c) {
			return c.Next()
		}
		n := req.Header.ContentLength()
		if n == 0 {
			return c.Next()
		}
		if n > limit {
			c.Response().Header.SetConnectionClose()
			return NewError(fiber.StatusRequestEntityTooLarge, CodeTooLarge, "request body too large")
		}
		b, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
		if err != nil {
			c.Response().Header.SetConnectionClose()
			return BadRequest("could not read the request body")
		}
		if len(b) > limit {
			c.Response().Header.SetConnectionClose()
			return NewError(fiber.StatusRequestEntityTooLarge, CodeTooLarge, "request body too large")
		}
		req.SetBodyRaw(b) // also drops the consumed stream
		return c.Next()
	}
}
