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

// SingleLine rejects line breaks and every other C0/C1 control character
// (U+0000–U+001F, U+007F–U+009F, and U+2028/U+2029) in a name, subject or
// other one-line field. Such a value cannot be put in a mail header as it
// stands: accepting it would mean a 2xx now and a message that never leaves.
func (v *Validator) SingleLine(field, s string) {
	switch {
	case strings.ContainsAny(s, "\r\n\u0085\u2028\u2029"):
		v.Add(field, "must not contain line breaks")
	case strings.IndexFunc(s, isControl) >= 0:
		v.Add(field, "must not contain control characters")
	}
}

// MultiLine rejects the control characters of SingleLine in a body or other
// multi-line text, except the line feed and the tab.
func (v *Validator) MultiLine(field, s string) {
	if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }) >= 0 {
		v.Add(field, "must not contain control characters other than line feeds and tabs")
	}
}

// NoLineBreaks is SingleLine under its former name.
func (v *Validator) NoLineBreaks(field, s string) { v.SingleLine(field, s) }

// isControl reports whether r is a C0 or C1 control character.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// Err returns the collected problems as a 400, or nil.
func (v *Validator) Err() error {
	if len(v.details) == 0 {
		return nil
	}
	return Invalid(v.details...)
}

var (
	emailShape  = regexp.MustCompile(`^[^\s@<>()",;:\\]{1,64}@[^\s@<>()",;:\\]+$`)
	domainLabel = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$`)
)

// ValidEmail reports whether s is a bare email address: the one rule for
// every address Changemaker accepts (API fields, `admin create-user`). A
// local part of at most 64 bytes without spaces, quotes or specials; a
// domain of host-name labels (letters, digits, inner hyphens), with or
// without a dot — `admin@localhost`, which dev.sh creates, is an address;
// no IP literals; at most 254 bytes; and net/mail reads it back as itself,
// so it can go into a header as it is.
func ValidEmail(s string) bool {
	if len(s) > 254 || !emailShape.MatchString(s) {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	for _, label := range strings.Split(domain, ".") {
		if !domainLabel.MatchString(label) {
			return false
		}
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
