package httpx

import (
	"bytes"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// ClientKey identifies the client for rate limits and one-per-viewer counts:
// the IPv4 address, or the /64 prefix of an IPv6 address — one subscriber
// usually holds a whole /64, so counting single addresses would let them
// rotate through billions of keys.
func ClientKey(c *fiber.Ctx) string {
	ip := c.IP()
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return prefix.String()
}

// rejectBadText answers 400 for a query string with a NUL byte or invalid
// UTF-8: Postgres refuses both in text, and the refusal must not become a 500.
func rejectBadText(c *fiber.Ctx) error {
	var bad []byte
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad == nil && (!cleanText(k) || !cleanText(v)) {
			bad = k
		}
	})
	if bad != nil {
		return Invalid(Detail{Field: string(bad), Message: "must be valid UTF-8 without NUL characters"})
	}
	if !cleanText([]byte(c.Path())) {
		return BadRequest("the path must be valid UTF-8 without NUL characters")
	}
	return c.Next()
}

func cleanText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// rejectEncodedBody answers 415 for a request body sent compressed
// (Content-Encoding): Fiber would inflate it in memory, past the body limit
// (a few KB of gzip can be gigabytes). Browsers and HTTP clients send
// request bodies uncompressed.
func rejectEncodedBody(c *fiber.Ctx) error {
	if ce := c.Get(fiber.HeaderContentEncoding); ce != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity") {
		return NewError(fiber.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"compressed request bodies (Content-Encoding) are not accepted")
	}
	return c.Next()
}
