package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// BindJSON decodes the request body into dst. Malformed JSON, a body of the
// wrong shape and an empty body are 400s that say what is wrong.
func BindJSON(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(body) == 0 {
		return NewError(fiber.StatusBadRequest, CodeInvalidJSON, "request body must be a JSON object")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			e := NewError(fiber.StatusBadRequest, CodeInvalidJSON, "request body has a field of the wrong type")
			e.Details = []Detail{{Field: typeErr.Field, Message: fmt.Sprintf("must be %s", jsonKind(typeErr.Type.Kind().String()))}}
			return e
		}
		return NewError(fiber.StatusBadRequest, CodeInvalidJSON, "request body is not valid JSON")
	}
	// encoding/json turns invalid UTF-8 into U+FFFD but keeps \u0000, which
	// Postgres refuses in text.
	if bytes.Contains(body, []byte(`\u0000`)) {
		return NewError(fiber.StatusBadRequest, CodeInvalidText, "request body must not contain NUL characters")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// Validator collects field problems; Err returns them as one 400.
type Validator struct {
	details []Detail
}

// Add records a problem with field.
func (v *Validator) Add(field, message string) { v.details = append(v.details, Detail{field, message}) }

// Check records message for field when ok is false.
func (v *Validator) Check(ok bool, field, message string) {
	if !ok {
		v.Add(field, message)
	}
}

// Required checks that s is not blank.
func (v *Validator) Required(field, s string) bool {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "is required")
		return false
	}
	return true
}

// MaxLen checks that s has at most n characters.
func (v *Validator) MaxLen(field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		v.Add(field, fmt.Sprintf("must be at most %d characters", n))
	}
}

// Email checks that s is a plain address (no display name, no CR/LF).
func (v *Validator) Email(field, s string) {
	if !ValidEmail(s) {
		v.Add(field, "must be a valid email address")
	}
}

// OneOf checks that s is one of allowed.
func (v *Validator) OneOf(field, s string, allowed []string) {
	if !slices.Contains(allowed, s) {
		v.Add(field, "must be one of "+strings.Join(allowed, ", "))
	}
}

// NoLineBreaks rejects CR and LF, which would let a value inject mail headers.
func (v *Validator) NoLineBreaks(field, s string) {
	if strings.ContainsAny(s, "\r\n") {
		v.Add(field, "must not contain line breaks")
	}
}

// Err returns the collected problems as a 400, or nil.
func (v *Validator) Err() error {
	if len(v.details) == 0 {
		return nil
	}
	return Invalid(v.details...)
}

var emailShape = regexp.MustCompile(`^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$`)

// ValidEmail reports whether s is a bare email address.
func ValidEmail(s string) bool {
	if len(s) > 254 || !emailShape.MatchString(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// ParamID reads a positive integer route parameter; anything else is a 400.
func ParamID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, Invalid(Detail{Field: name, Message: "must be a positive integer"})
	}
	return id, nil
}
