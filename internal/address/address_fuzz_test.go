package address

import (
	"strings"
	"testing"
	"unicode"
)

func notUpper(r rune) bool { return unicode.ToUpper(r) != r }

// FuzzParse holds Parse to never panicking and to keys that can be stored
// and compared: upper case (as far as a letter has an upper case), no "|" (the String separator), no spaces at
// either end.
func FuzzParse(f *testing.F) {
	for _, s := range benchAddresses {
		f.Add(s)
	}
	f.Add("#-")
	f.Add("12-")
	f.Add("Apt # , 1/2 - Nord Est")
	f.Fuzz(func(t *testing.T, s string) {
		a := Parse(s)
		for _, v := range []string{a.Civic, a.Suffix, a.Street, a.Type, a.Direction, a.Unit, a.PostalCode} {
			if strings.Contains(v, "|") || strings.TrimSpace(v) != v || strings.ContainsFunc(v, notUpper) {
				t.Fatalf("Parse(%q) = %+v: field %q cannot go in a key", s, a, v)
			}
		}
	})
}
