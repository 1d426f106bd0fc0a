package media

import (
	"errors"
	"testing"
)

// FuzzParseRange holds the Range reader to never answering outside the
// file: a range it accepts starts in the file, is not empty and ends by the
// file's end, whatever the header and the size; anything it refuses is
// errRange (a 416), never another error.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=0-0", "bytes=-1", "bytes=5-2", "bytes=-", "bytes=0-99999999999999999999",
		"bytes=-99999999999999999999", "bytes= 1 - 2 ", "bytes=0-1,3-4", "items=0-1", "bytes=+1-2", "bytes=1--2",
		"bytes=-0", "bytes", "=", "bytes=9223372036854775807-"} {
		f.Add(s, int64(100))
	}
	f.Add("bytes=0-", int64(0))
	f.Add("bytes=-5", int64(1))
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1) // a file's size is never negative
		}
		start, length, ok, err := parseRange(header, size)
		if err != nil {
			if ok || !errors.Is(err, errRange) {
				t.Fatalf("parseRange(%q, %d) = ok %v, err %v: a refusal must be errRange alone", header, size, ok, err)
			}
			return
		}
		if !ok {
			return
		}
		if start < 0 || length <= 0 || start >= size || length > size-start {
			t.Fatalf("parseRange(%q, %d) = start %d, length %d: outside the file", header, size, start, length)
		}
	})
}
