package campaigns

import (
	"strings"
	"testing"
	"unicode/utf8"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// FuzzValidateSender holds the checks on a constituent's name, address and
// postal code to what the email row and the worker rely on: once they
// pass, the name is trimmed, not blank, short and on one line, the address
// is a bare valid address, and the postal code is in its stored form.
func FuzzValidateSender(f *testing.F) {
	for _, s := range [][3]string{
		{"Eve", "eve@v.test", "T5K 2J1"},
		{"Eve\"", "eve@v.test", "t5k2j1"},
		{" Zoë O'Brien, Jr. ", " eve@v.test ", ""},
		{"a\r\nBcc: x@y.test", "eve@v.test", "T5K 2J1"},
		{"\u202eevE 🙂", "Eve <eve@v.test>", "T5K 2J"},
		{strings.Repeat("é", 101), "eve@v.test", "T5K-2J1"},
		{"\x01\x07\x08\x1b\x7f", "e@v", "../x"},
	} {
		f.Add(s[0], s[1], s[2], false)
	}
	f.Fuzz(func(t *testing.T, name, email, postal string, postalRequired bool) {
		in := [3]string{name, email, postal}
		var v httpx.Validator
		validateSender(&v, &name, &email, &postal, postalRequired)
		if v.Err() != nil {
			return
		}
		if name != strings.TrimSpace(name) || name == "" || utf8.RuneCountInString(name) > maxSenderName ||
			strings.ContainsAny(name, "\r\n") {
			t.Fatalf("accepted %q as the name %q", in, name)
		}
		if !httpx.ValidEmail(email) {
			t.Fatalf("accepted %q with the address %q", in, email)
		}
		if postal == "" {
			if postalRequired {
				t.Fatalf("accepted %q without the postal code it requires", in)
			}
			return
		}
		if code, ok := storage.NormalizePostalCode(postal); !ok || code != postal {
			t.Fatalf("accepted %q with the postal code %q, not in its stored form", in, postal)
		}
	})
}
