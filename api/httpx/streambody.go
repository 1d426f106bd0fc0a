package httpx

import (
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// An app that streams request bodies (StreamRequestBody) lets a few routes
// read large uploads as they arrive, but streaming also turns fasthttp's
// body limit off. StreamedBodies puts it back for every other request, in
// two halves:
//
//   - HeaderReceived (the server hook, called once the headers are in):
//     a request declaring a body over the limit has its Content-Length set
//     to 0 and is marked, so that fasthttp reads none of the body (it would
//     otherwise wait for the first chunk before any handler runs), and
//     Connection: close, so that the unread body is never taken for a next
//     request whatever answers it;
//   - Middleware: a marked request is a 413 payload_too_large; any other
//     streamed body is read whole, up to the limit, so handlers see it as
//     usual.
//
// Requests for which stream(method, path) is true read their own body.
type StreamedBodies struct {
	Limit  int
	Stream func(method, path string) bool
}

// oversizeHeader marks a request refused from its headers. It is deleted
// from every request first, so a client cannot set it.
const oversizeHeader = "X-Cm-Oversize-Body"

// HeaderReceived is the fasthttp.Server hook.
func (s StreamedBodies) HeaderReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(oversizeHeader)
	n := h.ContentLength()
	if n <= s.limit() {
		return fasthttp.RequestConfig{}
	}
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	if s.Stream(string(h.Method()), path) {
		return fasthttp.RequestConfig{}
	}
	h.Set(oversizeHeader, strconv.Itoa(n))
	h.SetContentLength(0)
	h.SetConnectionClose()
	return fasthttp.RequestConfig{}
}

func (s StreamedBodies) limit() int {
	if s.Limit <= 0 {
		return 1 << 20
	}
	return s.Limit
}

// Middleware reads and bounds the body of every request but the streamed
// uploads.
func (s StreamedBodies) Middleware() fiber.Handler {
	limit := s.limit()
	tooLarge := func(c *fiber.Ctx) error {
		c.Response().Header.SetConnectionClose()
		return NewError(fiber.StatusRequestEntityTooLarge, CodeTooLarge, "request body too large")
	}
	return func(c *fiber.Ctx) error {
		req := c.Request()
		if len(req.Header.Peek(oversizeHeader)) > 0 {
			return tooLarge(c)
		}
		if !req.IsBodyStream() || s.Stream(c.Method(), c.Path()) {
			return c.Next()
		}
		if req.Header.ContentLength() == 0 {
			return c.Next()
		}
		b, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
		if err != nil {
			c.Response().Header.SetConnectionClose()
			return BadRequest("could not read the request body")
		}
		if len(b) > limit {
			return tooLarge(c)
		}
		req.SetBodyRaw(b) // also drops the consumed stream
		return c.Next()
	}
}
