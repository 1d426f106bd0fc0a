// Package httpx is the plumbing both APIs share: the error format, JSON
// binding and validation, authentication and roles, rate limits, metrics,
// access logging and paging.
package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/internal/password"
	"changemaker/storage"
)

// Error codes, one per class of failure. Clients switch on these.
const (
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidText      = "invalid_text"
	CodeValidation       = "validation_failed"
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	// A feature switched off in the settings: 404, so to visitors (and
	// crawlers) it does not exist, while the code tells the site why.
	CodeFeatureDisabled = "feature_disabled"
	// CodeUnsupportedMediaType is a body in a format the route does not take
	// (415): a compressed request body, an upload that is not a video.
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeInternal             = "internal"
)

// Detail is one problem with one field of the request.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is an error with an HTTP status, rendered as
// {"error":{"code":…,"message":…,"details":[…]}}.
type Error struct {
	Status     int
	Code       string
	Message    string
	Details    []Detail
	RetryAfter int // seconds; sets the Retry-After header when > 0
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// NewError builds an Error.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest is a 400 for a request that is well-formed but unacceptable.
func BadRequest(message string) *Error {
	return NewError(http.StatusBadRequest, CodeBadRequest, message)
}

// Invalid is a 400 with one detail per failing field.
func Invalid(details ...Detail) *Error {
	e := NewError(http.StatusBadRequest, CodeValidation, "the request has invalid fields")
	e.Details = details
	return e
}

// Unauthorized is a 401: no credentials, or credentials that do not work.
func Unauthorized(message string) *Error {
	return NewError(http.StatusUnauthorized, CodeUnauthorized, message)
}

// Forbidden is a 403: authenticated, but not allowed.
func Forbidden(message string) *Error { return NewError(http.StatusForbidden, CodeForbidden, message) }

// NotFound is a 404 for a resource.
func NotFound(message string) *Error { return NewError(http.StatusNotFound, CodeNotFound, message) }

// Conflict is a 409.
func Conflict(message string) *Error { return NewError(http.StatusConflict, CodeConflict, message) }

// TooManyRequests is a 429 with Retry-After.
func TooManyRequests(retryAfterSeconds int) *Error {
	e := NewError(http.StatusTooManyRequests, CodeRateLimited, "too many requests; try again later")
	e.RetryAfter = retryAfterSeconds
	return e
}

// domainError is one row of the error table: an error the layers below the
// handlers return, and the answer a client gets for it.
type domainError struct {
	err     error
	status  int
	code    string
	message string // unless a Described in the chain says more
	// retryAfter, in seconds, sets Retry-After when > 0.
	retryAfter int
}

// domainErrors is the one table that turns domain errors into answers, so
// handlers return them as they are, wrapped with what was being done. The
// first row that errors.Is matches wins.
func domainErrors() []domainError {
	return []domainError{
		// Postgres is restarting or out of reach: the request may well work
		// in a moment. First, so that no wrapping description hides it.
		{storage.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "the service is unavailable; try again later", 5},
		// Every password-hashing slot of this process is busy (a flood of
		// login guesses): answered at once, without hashing.
		{password.ErrBusy, http.StatusServiceUnavailable, CodeUnavailable, "too busy to check passwords; try again shortly", 1},
		// Text Postgres cannot store (a NUL, a bad byte sequence) came from
		// the client: a 400, whichever field carried it.
		{storage.ErrInvalidText, http.StatusBadRequest, CodeInvalidText, "text must be valid UTF-8 without NUL characters", 0},
		{storage.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found", 0},
		{storage.ErrConflict, http.StatusConflict, CodeConflict, "this conflicts with what is already stored", 0},
		{storage.ErrVideoNotReady, http.StatusConflict, CodeConflict, "only a ready video can be published", 0},
		{storage.ErrTokenReused, http.StatusUnauthorized, CodeUnauthorized, "refresh token was already used; sign in again", 0},
		{storage.ErrTokenInvalid, http.StatusUnauthorized, CodeUnauthorized, "refresh token is invalid or expired", 0},
	}
}

// Described gives a domain error the words a client reads: "no such
// campaign" says more than a bare "not found". It changes only the message
// of the table row its Target names; any other error under it keeps its own
// meaning (a failed query stays a 500).
type Described struct {
	Target  error // a sentinel of the table, such as storage.ErrNotFound
	Message string
	Err     error
}

func (d *Described) Error() string { return d.Err.Error() }
func (d *Described) Unwrap() error { return d.Err }

// NotFoundf is err with the message a client reads when it is a
// storage.ErrNotFound. A nil err stays nil.
func NotFoundf(err error, format string, args ...any) error {
	return describe(err, storage.ErrNotFound, fmt.Sprintf(format, args...))
}

// Conflictf is err with the message a client reads when it is a
// storage.ErrConflict. A nil err stays nil.
func Conflictf(err error, format string, args ...any) error {
	return describe(err, storage.ErrConflict, fmt.Sprintf(format, args...))
}

func describe(err, target error, message string) error {
	if err == nil {
		return nil
	}
	return &Described{Target: target, Message: message, Err: err}
}

// describedAs finds, outermost first, the message a Described in err's
// chain gives to target.
func describedAs(err, target error) (string, bool) {
	switch x := err.(type) {
	case nil:
		return "", false
	case *Described:
		if x.Target == target {
			return x.Message, true
		}
		return describedAs(x.Err, target)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if m, ok := describedAs(e, target); ok {
				return m, true
			}
		}
		return "", false
	}
	return describedAs(errors.Unwrap(err), target)
}

// fromTable answers err by the error table, or nil when no row matches.
func fromTable(err error) *Error {
	for _, row := range domainErrors() {
		if errors.Is(err, row.err) {
			msg := row.message
			if m, ok := describedAs(err, row.err); ok {
				msg = m
			}
			e := NewError(row.status, row.code, msg)
			e.RetryAfter = row.retryAfter
			return e
		}
	}
	return nil
}

// fiberCodes maps the router's own errors to our codes.
func fiberCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeBadRequest
}

type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details"`
}

// ErrorHandler renders every error in the one format. Unknown errors are a
// 500 whose cause is logged, never shown.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	refusals := newLogSampler(refusalLogEvery, refusalLogKeys)
	return func(c *fiber.Ctx, err error) error {
		e := AsError(err)
		switch {
		case e.Status == http.StatusServiceUnavailable:
			// Expected under load or an outage (busy hashing, Postgres
			// away), and answered with Retry-After: a flood of them must
			// not read as a flood of bugs, nor fill the disk — a login
			// flood is refused at 10,000 a second. One line per route and
			// cause every refusalLogEvery, with how many it stands for.
			if n, ok := refusals.admit(c.Route().Path+"\x00"+err.Error(), time.Now()); ok {
				log.Warn("request refused for now", "err", err, "method", c.Method(), "path", c.Path(),
					"request_id", RequestID(c), "refused_since_last_line", n)
			}
		case e.Status >= 500:
			log.Error("request failed", "err", err, "method", c.Method(), "path", c.Path(),
				"request_id", RequestID(c))
		}
		if e.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
		}
		details := e.Details
		if details == nil {
			details = []Detail{}
		}
		return c.Status(e.Status).JSON(errorBody{Error: errorPayload{Code: e.Code, Message: e.Message, Details: details}})
	}
}

// AsError turns any error into an *Error, hiding internal causes.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := fromTable(err); e != nil {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		switch fe.Code {
		case http.StatusBadRequest:
			// fasthttp's own parse errors quote the raw request back,
			// Authorization header and all.
			msg = "malformed request"
		case http.StatusNotFound:
			msg = "no such route"
		case http.StatusMethodNotAllowed:
			msg = "method not allowed on this route"
		case http.StatusRequestEntityTooLarge:
			msg = "request body too large"
		}
		if fe.Code >= 500 {
			msg = "internal error"
		}
		return NewError(fe.Code, fiberCode(fe.Code), msg)
	}
	return NewError(http.StatusInternalServerError, CodeInternal, "internal error")
}

// How often a refusal (503) of one route for one cause is logged, and how
// many such route/cause pairs are tracked at most.
const (
	refusalLogEvery = 10 * time.Second
	refusalLogKeys  = 1024
)

// logSampler lets one log line per key through per interval and counts the
// ones it held back, so a flood of identical events costs a line, not a
// line each.
type logSampler struct {
	every time.Duration
	max   int
	mu    sync.Mutex
	seen  map[string]*sampled
}

type sampled struct {
	last time.Time
	held int
}

func newLogSampler(every time.Duration, maxKeys int) *logSampler {
	return &logSampler{every: every, max: maxKeys, seen: make(map[string]*sampled)}
}

// admit reports whether an event of key should be logged at now, and how
// many events of that key it stands for (itself and those held back since
// the last line).
func (s *logSampler) admit(key string, now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.seen[key]
	if e == nil {
		if len(s.seen) >= s.max {
			// Forget everything rather than grow without bound: the
			// worst case is one extra line per key.
			clear(s.seen)
		}
		s.seen[key] = &sampled{last: now}
		return 1, true
	}
	if now.Sub(e.last) < s.every {
		e.held++
		return 0, false
	}
	n := e.held + 1
	e.last, e.held = now, 0
	return n, true
}
