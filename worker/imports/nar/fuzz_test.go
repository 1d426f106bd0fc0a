package nar

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// The seeds are in testdata/fuzz/Fuzz*/; `go test` runs them every time,
// `go test -fuzz=FuzzAddressReader ./worker/imports/nar` searches further.

type readResult struct {
	rows    []Address
	badLine []int
	end     error
}

// readAll reads everything, checking on the way what must hold for any
// input: it ends, line numbers only grow, the counts add up, a good row has
// its identifiers and a sane point and address line.
func readAll(t *testing.T, data []byte) (readResult, bool) {
	ar, err := NewAddressReader(bytes.NewReader(data))
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Reason == "" {
			t.Fatalf("NewAddressReader: %v (%T), want a *FormatError", err, err)
		}
		return readResult{}, false
	}
	var res readResult
	last := 1
	budget := bytes.Count(data, []byte{'\n'}) + 2 // a call consumes at least one line
	for ; ; budget-- {
		if budget < 0 {
			t.Fatalf("reader does not end: more calls than lines")
		}
		a, err := ar.Next()
		var re *RowError
		switch {
		case errors.As(err, &re):
			if re.Line <= last {
				t.Fatalf("skipped line %d after line %d", re.Line, last)
			}
			if re.Reason == "" {
				t.Fatalf("line %d skipped without a reason", re.Line)
			}
			last = re.Line
			res.badLine = append(res.badLine, re.Line)
			continue
		case err != nil:
			var fe *FormatError
			if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
				t.Fatalf("Next: %v (%T), want io.EOF or a *FormatError", err, err)
			}
			res.end = err
			if _, again := ar.Next(); again != err {
				t.Fatalf("after %v, Next returned %v", err, again)
			}
		default:
			checkAddress(t, a, last)
			last = a.SourceLine
			res.rows = append(res.rows, a)
			continue
		}
		break
	}
	st := ar.Stats()
	if st.Rows != len(res.rows)+len(res.badLine) || st.Skipped != len(res.badLine) {
		t.Fatalf("stats %+v, but %d rows and %d skipped", st, len(res.rows), len(res.badLine))
	}
	return res, true
}

func checkAddress(t *testing.T, a Address, prevLine int) {
	t.Helper()
	if a.SourceLine <= prevLine {
		t.Fatalf("row at line %d after line %d", a.SourceLine, prevLine)
	}
	if a.AddrGUID == "" || a.LocGUID == "" {
		t.Fatalf("row without identifiers: %+v", a)
	}
	if a.HasXY {
		if !inCanada(a.Lat, a.Lng) || math.IsNaN(a.X) || math.IsInf(a.X, 0) || math.IsNaN(a.Y) || math.IsInf(a.Y, 0) {
			t.Fatalf("row with a bad point: %+v", a)
		}
	} else if a.X != 0 || a.Y != 0 || a.Lat != 0 || a.Lng != 0 {
		t.Fatalf("row without a point has coordinates: %+v", a)
	}
	l := a.AddressLine
	if l != strings.TrimSpace(l) || strings.Contains(l, "  ") || strings.ContainsAny(l, "\r\n\t") {
		t.Fatalf("address line %q is not one clean line", l)
	}
}

func FuzzAddressReader(f *testing.F) {
	f.Add([]byte("LOC_GUID,ADDR_GUID,CIVIC_NO,OFFICIAL_STREET_NAME,BG_X,BG_Y\nL1,A1,1,Main,7470897.6003,1190799.4469\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, ok := readAll(t, data)
		if !ok || bytes.HasPrefix(data, []byte("\ufeff")) || bytes.IndexByte(data, '\r') >= 0 {
			return
		}
		// A BOM and CRLF line ends, as Windows tools write, change nothing.
		windows := append([]byte("\ufeff"), bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))...)
		other, ok := readAll(t, windows)
		if !ok {
			t.Fatalf("with a BOM and CRLF the header no longer reads")
		}
		if len(other.rows) != len(plain.rows) || len(other.badLine) != len(plain.badLine) {
			t.Fatalf("with a BOM and CRLF: %d rows, %d skipped; without: %d, %d",
				len(other.rows), len(other.badLine), len(plain.rows), len(plain.badLine))
		}
		for i := range plain.rows {
			if other.rows[i] != plain.rows[i] {
				t.Fatalf("row %d differs with a BOM and CRLF:\n%+v\n%+v", i, other.rows[i], plain.rows[i])
			}
		}
	})
}

func FuzzLocationReader(f *testing.F) {
	f.Add([]byte("LOC_GUID,BG_LATITUDE,BG_LONGITUDE\nL1,45.4236,-75.7009\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lr, err := NewLocationReader(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("NewLocationReader: %v (%T), want a *FormatError", err, err)
			}
			return
		}
		last := 1
		for budget := bytes.Count(data, []byte{'\n'}) + 2; ; budget-- {
			if budget < 0 {
				t.Fatal("reader does not end")
			}
			l, err := lr.Next()
			var re *RowError
			if errors.As(err, &re) {
				if re.Line <= last {
					t.Fatalf("skipped line %d after line %d", re.Line, last)
				}
				last = re.Line
				continue
			}
			if err != nil {
				var fe *FormatError
				if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
					t.Fatalf("Next: %v (%T)", err, err)
				}
				return
			}
			if l.SourceLine <= last || l.LocGUID == "" || (l.HasPoint && !inCanada(l.Lat, l.Lng)) ||
				(!l.HasPoint && (l.Lat != 0 || l.Lng != 0)) {
				t.Fatalf("bad location after line %d: %+v", last, l)
			}
			last = l.SourceLine
		}
	})
}
