package httpx_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"changemaker/api/httpx"
)

// bindTarget has a field of each kind request bodies carry.
type bindTarget struct {
	Name    string              `json:"name"`
	Count   int                 `json:"count"`
	Ratio   float64             `json:"ratio"`
	On      *bool               `json:"on"`
	Tags    []string            `json:"tags"`
	Extra   map[string]string   `json:"extra"`
	Nested  *struct{ ID int64 } `json:"nested"`
	Subject *string             `json:"subject"`
}

// FuzzBindJSON holds the JSON binder to answering every body with nil or a
// 400 in the error format — never a panic, never another status — and to
// never letting a NUL character through into a bound string.
func FuzzBindJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{}`, `[]`, `null`, ``, `{"count":"x"}`, `{"tags":[1]}`,
		`{"name":"\u0000"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"nested":{"ID":1e400}}`, `{"count":1e3}`,
		`{"name":"a"} trailing`, `{"extra":{"a":null}}`, `{"on":true,"ratio":-0.0}`, `"str"`, `{"name":"a\\u0000"}`} {
		f.Add([]byte(s))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.Header.SetMethod(fiber.MethodPost)
		fctx.Request.Header.SetContentType(fiber.MIMEApplicationJSON)
		fctx.Request.SetBody(body)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		var dst bindTarget
		err := httpx.BindJSON(c, &dst)
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != fiber.StatusBadRequest || he.Code == "" || he.Message == "" {
				t.Fatalf("BindJSON(%q) = %#v, not a 400 in the error format", body, err)
			}
			return
		}
		for _, s := range append([]string{dst.Name}, dst.Tags...) {
			if strings.ContainsRune(s, 0) {
				t.Fatalf("BindJSON(%q) bound a NUL character: %q", body, s)
			}
		}
	})
}

// FuzzValidEmail holds the address check to what the mail code builds on:
// an accepted address is a bare address (no display name, comment, space,
// quote or line break) of at most 254 bytes, that net/mail reads back as
// itself — so it can go in a To or Reply-To header as it is.
func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"a@b.test", "eve@v.test", "Eve <eve@v.test>", "a@b", "a b@c.test", "\"a\"@b.test",
		"a@b.test\r\nBcc: x@y.test", "a(comment)@b.test", "é@ü.test", "a@@b.test", "a@b..test", ".a@b.test",
		strings.Repeat("a", 250) + "@b.test", "a@[127.0.0.1]", "a\x00@b.test", "a@b.test\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !httpx.ValidEmail(s) {
			return
		}
		if len(s) > 254 || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\r\n\"<>(),;:\\\x00") {
			t.Fatalf("ValidEmail accepted %q", s)
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("ValidEmail accepted %q, which net/mail reads as %+v, %v", s, a, err)
		}
		// The header the worker writes must carry the same address back.
		back, err := mail.ParseAddress((&mail.Address{Address: s}).String())
		if err != nil || back.Address != s {
			t.Fatalf("%q does not survive a header: %+v, %v", s, back, err)
		}
	})
}

// FuzzValidator holds the field checks that guard single-line values
// (names, subjects) to their word: a value they pass has no line break
// (which would inject a mail header), is within its length, and is not
// blank; a value they refuse is a 400 naming the field.
func FuzzValidator(f *testing.F) {
	for _, s := range []string{"Eve", "Eve\"", "O'Brien, Jr.", "a\r\nBcc: x@y.test", "a\nb", "  ", "", "\u202eevE",
		"🙂", "Zoë; (x) <y>", strings.Repeat("é", 101), "a\\b", "\x01\x07\x08\x1b\x7f"} {
		f.Add(s, 100)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = max(1, n%1000)
		var v httpx.Validator
		if v.Required("name", s) {
			v.MaxLen("name", s, n)
			v.NoLineBreaks("name", s)
		}
		err := v.Err()
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != fiber.StatusBadRequest || len(he.Details) == 0 {
				t.Fatalf("refusal of %q is %#v, not a 400 with details", s, err)
			}
			for _, d := range he.Details {
				if d.Field != "name" || d.Message == "" {
					t.Fatalf("refusal of %q has detail %+v", s, d)
				}
			}
			return
		}
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") || utf8.RuneCountInString(s) > n {
			t.Fatalf("accepted %q (max %d)", s, n)
		}
	})
}
