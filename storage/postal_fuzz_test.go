package storage_test

import (
	"strings"
	"testing"

	"changemaker/storage"
)

// FuzzNormalizePostalCode holds the postal code reader to what its callers
// rely on: an accepted code is the six-character key the cache and
// Represent's URL use (so it cannot carry a path or a space), and reading
// it again changes nothing.
func FuzzNormalizePostalCode(f *testing.F) {
	for _, s := range []string{"T5K 2J1", "t5k2j1", " T5K-2J1 ", "T5K\t2J1", "D5K 2J1", "T5K 2J", "T5K 2J1 1",
		"../../x", "ｔ5ｋ2ｊ1", "T5K\u00a02J1", "ß5K2J1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := storage.NormalizePostalCode(s)
		if !ok {
			return
		}
		if len(code) != 6 || strings.ContainsFunc(code, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			t.Fatalf("NormalizePostalCode(%q) accepted %q, not six ASCII letters and digits", s, code)
		}
		again, ok := storage.NormalizePostalCode(code)
		if !ok || again != code {
			t.Fatalf("NormalizePostalCode(%q) = %q, which reads back as %q, %v", s, code, again, ok)
		}
		spaced, ok := storage.NormalizePostalCode(strings.ToLower(code[:3] + " " + code[3:]))
		if !ok || spaced != code {
			t.Fatalf("the written form of %q reads as %q, %v", code, spaced, ok)
		}
	})
}
