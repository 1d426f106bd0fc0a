package httpx

import (
	"io"
	"time"

	"github.com/gofiber/fiber/v2"
)

// DrainUnread is middleware for a route that reads its own streamed body
// (an upload). A route that refuses a request early — not signed in, a bad
// form, a part header over its limit — answers before the client has sent
// its whole body, and the connection is then closed with the rest unread.
// Closing a socket with unread data makes the kernel send a reset, which
// can reach the client before it has read the answer: it sees "connection
// reset" instead of the 4xx. Like net/http, the route's leftover body is
// therefore read and thrown away before the answer goes out, when the
// client declared no more than limit bytes (or did not declare a length),
// for at most wait: a larger upload is cut off as before, and a stalled
// client holds the connection no longer than wait.
func DrainUnread(limit int64, wait time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		req := c.Request()
		if !req.IsBodyStream() {
			return err
		}
		if n := req.Header.ContentLength(); n > 0 && int64(n) > limit {
			return err
		}
		body := req.BodyStream()
		if body == nil {
			return err
		}
		if conn := c.Context().Conn(); conn != nil {
			_ = conn.SetReadDeadline(time.Now().Add(wait))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(body, limit))
		return err
	}
}
