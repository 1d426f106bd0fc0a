// Package geocoder holds the geocoding providers the geocode fleet tries in
// turn: clients for Nominatim, Photon, Mapbox and Google behind one
// interface. Every client gets its URL, key and limits from its config
// (nothing here reads the environment), uses an http.Client with a
// timeout, honours the context, and sorts failures into permanent and
// retryable so a task handler knows whether asking again can help.
package geocoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Result is where a provider put an address.
type Result struct {
	Lat, Lng   float64
	Address    string // the provider's formatted address
	Provider   string // "nominatim", "photon", "mapbox", "google"
	Confidence int    // 0–100: how sure the match is to the door (see docs/map.md)
}

// Geocoder is one provider.
type Geocoder interface {
	// Name is the provider's name, as in GEOCODE_PROVIDERS and Result.Provider.
	Name() string
	// Geocode finds the best match for a typed address. No match is an
	// error wrapping ErrNotFound.
	Geocode(ctx context.Context, query string) (Result, error)
	// Reverse finds the address at a point. No address there is an error
	// wrapping ErrNotFound.
	Reverse(ctx context.Context, lat, lng float64) (Result, error)
}

// Throttle is waited on before every request to a provider whose terms
// cap the request rate (Nominatim's public server: one a second). The
// fleet plugs in a limit kept in Redis so that all its workers together
// keep to it.
type Throttle interface {
	Wait(ctx context.Context) error
}

// DefaultTimeout bounds one request when a config leaves Timeout zero.
const DefaultTimeout = 10 * time.Second

// maxBody bounds how much of an answer is read; a geocoding answer for one
// result is a few kilobytes.
const maxBody = 1 << 20

var (
	// ErrNotFound: the provider answered and found nothing. Asking the
	// same provider again will not help; another provider might.
	ErrNotFound = errors.New("no match")
	// ErrPermanent matches (errors.Is) every *Error that asking again will
	// not fix: a bad key, a refused or malformed request. A task handler
	// wraps these with asynq.SkipRetry.
	ErrPermanent = errors.New("permanent geocoder failure")
	// ErrRetryable matches every *Error that may pass later: rate limits,
	// timeouts, network failures, 5xx answers.
	ErrRetryable = errors.New("retryable geocoder failure")
)

// Error is a provider failure. It never holds the request URL, which
// carries the API key.
type Error struct {
	Provider   string
	Op         string // "geocode" or "reverse"
	StatusCode int    // the HTTP status; 0 when there was no answer
	Retryable  bool
	RetryAfter time.Duration // from a Retry-After header; 0 when none
	Message    string        // what went wrong, from the provider when it said
	Err        error         // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Provider, e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Retryable {
		b.WriteString(" (retryable)")
	} else {
		b.WriteString(" (permanent)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets callers test the kind with errors.Is(err, ErrPermanent) or
// errors.Is(err, ErrRetryable).
func (e *Error) Is(target error) bool {
	return target == ErrRetryable && e.Retryable || target == ErrPermanent && !e.Retryable
}

// IsPermanent reports whether asking the same provider again cannot help:
// a permanent failure or no match.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrNotFound)
}

func notFound(provider, op string) error {
	return fmt.Errorf("%s %s: %w", provider, op, ErrNotFound)
}

// client is the HTTP plumbing every provider shares.
type client struct {
	provider  string
	http      *http.Client
	userAgent string
	throttle  Throttle
}

func newClient(provider string, timeout time.Duration, userAgent string, throttle Throttle) client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return client{provider: provider, http: &http.Client{Timeout: timeout}, userAgent: userAgent, throttle: throttle}
}

func (c *client) fail(op string, status int, retryable bool, msg string, err error) *Error {
	return &Error{Provider: c.provider, Op: op, StatusCode: status, Retryable: retryable, Message: msg, Err: err}
}

// getJSON waits on the throttle, sends a GET and decodes a 200 answer into
// dst. Other answers become an *Error whose Message comes from
// errorMessage (the provider's own words) when it finds one.
func (c *client) getJSON(ctx context.Context, op string, u *url.URL, dst any, errorMessage func([]byte) string) error {
	if c.throttle != nil {
		if err := c.throttle.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: wait for rate limit: %w", c.provider, op, ctx.Err())
			}
			return c.fail(op, 0, true, "wait for rate limit", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return c.fail(op, 0, false, "build request", stripURL(err))
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", c.provider, op, ctx.Err())
		}
		return c.fail(op, 0, true, "request failed", stripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: read answer: %w", c.provider, op, ctx.Err())
		}
		return c.fail(op, resp.StatusCode, true, "read answer", stripURL(err))
	}
	if resp.StatusCode != http.StatusOK {
		msg := ""
		if errorMessage != nil {
			msg = errorMessage(body)
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		e := c.fail(op, resp.StatusCode, retryableStatus(resp.StatusCode), clip(msg), nil)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return e
	}
	if err := json.Unmarshal(body, dst); err != nil {
		// A garbled 200 is usually a proxy or a cut connection, not the
		// provider changing its format overnight: worth another try.
		return c.fail(op, resp.StatusCode, true, "answer is not the expected JSON", err)
	}
	return nil
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// stripURL drops the URL from a *url.Error: it carries the API key.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clip keeps a provider's message to one short line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// messageField reads {"message": "…"} or {"error": "…"} answers.
func messageField(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	if m.Message != "" {
		return m.Message
	}
	switch e := m.Error.(type) {
	case string:
		return e
	case map[string]any:
		if s, ok := e["message"].(string); ok {
			return s
		}
	}
	return ""
}

func checkQuery(c *client, query string) error {
	if strings.TrimSpace(query) == "" {
		return c.fail("geocode", 0, false, "empty address", nil)
	}
	return nil
}

func checkPoint(c *client, lat, lng float64) error {
	if math.IsNaN(lat) || math.IsNaN(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return c.fail("reverse", 0, false, fmt.Sprintf("point %v, %v is outside latitude -90..90, longitude -180..180", lat, lng), nil)
	}
	return nil
}

func baseURL(provider, raw, fallback string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		raw = fallback
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q must be an http(s) URL", provider, raw)
	}
	return u, nil
}

// endpoint joins a path to the base URL and sets the query.
func endpoint(base *url.URL, path string, q url.Values) *url.URL {
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + path
	u.RawQuery = q.Encode()
	return &u
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func clamp(c int) int {
	return max(0, min(100, c))
}
