package nar

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readAddresses reads a whole Address file: the good rows and the skipped ones.
func readAddresses(t testing.TB, r io.Reader) ([]Address, []*RowError, Stats) {
	t.Helper()
	ar, err := NewAddressReader(r)
	if err != nil {
		t.Fatalf("NewAddressReader: %v", err)
	}
	var rows []Address
	var bad []*RowError
	for {
		a, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, a)
	}
	return rows, bad, ar.Stats()
}

func readLocations(t testing.TB, r io.Reader) ([]Location, []*RowError) {
	t.Helper()
	lr, err := NewLocationReader(r)
	if err != nil {
		t.Fatalf("NewLocationReader: %v", err)
	}
	var rows []Location
	var bad []*RowError
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, l)
	}
	return rows, bad
}

func openTestdata(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func lines(errs []*RowError) []int {
	var out []int
	for _, e := range errs {
		out = append(out, e.Line)
	}
	return out
}

// The older layout (LF, no BOM, minimal quoting) and the 2026 layout (two
// blockface columns after BG_Y, moved Location columns, BOM, CRLF, every
// field quoted) hold the same register: they must read the same.
func TestLayoutsReadTheSame(t *testing.T) {
	t.Parallel()
	oldRows, oldBad, oldStats := readAddresses(t, openTestdata(t, "layout-old/Address_35.csv"))
	newRows, newBad, newStats := readAddresses(t, openTestdata(t, "layout-2026/Address_35.csv"))

	if len(oldRows) != 7 {
		t.Fatalf("old layout: %d good rows, want 7: %+v", len(oldRows), oldRows)
	}
	if len(newRows) != len(oldRows) {
		t.Fatalf("2026 layout: %d good rows, old layout %d", len(newRows), len(oldRows))
	}
	for i := range oldRows {
		if oldRows[i] != newRows[i] {
			t.Errorf("row %d differs:\n old  %+v\n 2026 %+v", i, oldRows[i], newRows[i])
		}
	}
	wantBad := []int{5, 8, 9, 10, 12, 14}
	if got := lines(oldBad); !slices.Equal(got, wantBad) {
		t.Errorf("old layout skipped lines %v, want %v (%v)", got, wantBad, oldBad)
	}
	if got := lines(newBad); !slices.Equal(got, wantBad) {
		t.Errorf("2026 layout skipped lines %v, want %v (%v)", got, wantBad, newBad)
	}
	want := Stats{Rows: 13, Skipped: 6}
	if oldStats != want || newStats != want {
		t.Errorf("stats old %+v, 2026 %+v, want %+v", oldStats, newStats, want)
	}

	oldLocs, oldLocBad := readLocations(t, openTestdata(t, "layout-old/Location_35.csv"))
	newLocs, newLocBad := readLocations(t, openTestdata(t, "layout-2026/Location_35.csv"))
	if len(oldLocs) != 5 || len(newLocs) != len(oldLocs) {
		t.Fatalf("locations: old %d, 2026 %d, want 5 each", len(oldLocs), len(newLocs))
	}
	for i := range oldLocs {
		if oldLocs[i] != newLocs[i] {
			t.Errorf("location %d differs:\n old  %+v\n 2026 %+v", i, oldLocs[i], newLocs[i])
		}
	}
	if got := lines(oldLocBad); !slices.Equal(got, []int{4, 8}) || !slices.Equal(lines(newLocBad), got) {
		t.Errorf("locations skipped: old %v, 2026 %v, want [4 8]", oldLocBad, newLocBad)
	}
}

func TestAddressRows(t *testing.T) {
	t.Parallel()
	rows, bad, _ := readAddresses(t, openTestdata(t, "layout-2026/Address_35.csv"))
	locs, _ := readLocations(t, openTestdata(t, "layout-2026/Location_35.csv"))
	byLoc := map[string]Location{}
	for _, l := range locs {
		byLoc[l.LocGUID] = l
	}

	want := []struct {
		line        int
		addressLine string
		unit        string
		hasXY       bool
	}{
		{2, "101-123A Main St NW", "101", true},
		{3, "102-123A Main St NW", "102", true},
		{4, "45 Queen St W", "", true},
		{6, "1 Barrington St", "", true},        // Lambert only: no Location row
		{7, "1000 RUE Principale O", "", false}, // no coordinates anywhere
		{11, "800 1/2 Robson St", "", true},
		{13, "1 Pine Cres", "", true},
	}
	for i, w := range want {
		a := rows[i]
		if a.SourceLine != w.line || a.AddressLine != w.addressLine || a.Unit != w.unit || a.HasXY != w.hasXY {
			t.Errorf("row %d = line %d %q unit %q hasXY %v; want line %d %q unit %q hasXY %v",
				i, a.SourceLine, a.AddressLine, a.Unit, a.HasXY, w.line, w.addressLine, w.unit, w.hasXY)
		}
	}

	t.Run("fields by header name", func(t *testing.T) {
		a := rows[2]
		if a.LocGUID != "5f1c2a9e-0b6e-4c61-9a0e-000000000002" || a.AddrGUID != "a7d3e4b2-8c1f-4e2a-b5d6-000000000003" ||
			a.CivicNo != "45" || a.StreetName != "Queen" || a.StreetType != "St" || a.StreetDir != "W" ||
			a.ProvCode != "35" || a.Municipality != "Toronto" || a.MailCity != "Toronto" || a.MailProvince != "ON" ||
			a.PostalCode != "M5H 2N2" || a.NonCivic != "RR 1, Site 5" || a.BuildingUse != "2" {
			t.Errorf("Toronto row: %+v", a)
		}
	})

	t.Run("Lambert agrees with the Location file", func(t *testing.T) {
		for _, a := range rows {
			l, ok := byLoc[a.LocGUID]
			if !ok || !l.HasPoint || !a.HasXY {
				continue
			}
			if math.Abs(a.Lat-l.Lat) > 1e-7 || math.Abs(a.Lng-l.Lng) > 1e-7 {
				t.Errorf("line %d: BG_X/BG_Y gives (%.8f, %.8f), the Location file (%v, %v)", a.SourceLine, a.Lat, a.Lng, l.Lat, l.Lng)
			}
		}
	})

	t.Run("Lambert-only row gets its point", func(t *testing.T) {
		a := rows[3]
		if _, ok := byLoc[a.LocGUID]; ok {
			t.Fatalf("test data: %s should have no Location row", a.LocGUID)
		}
		if math.Abs(a.Lat-44.6488) > 1e-7 || math.Abs(a.Lng-(-63.5752)) > 1e-7 {
			t.Errorf("Halifax row at (%v, %v), want (44.6488, -63.5752)", a.Lat, a.Lng)
		}
	})

	t.Run("empty coordinates keep the row without a point", func(t *testing.T) {
		a := rows[4]
		if a.HasXY || a.X != 0 || a.Y != 0 || a.Lat != 0 || a.Lng != 0 {
			t.Errorf("row without coordinates: %+v", a)
		}
		if l := byLoc[a.LocGUID]; l.HasPoint {
			t.Errorf("its Location row has a point: %+v", l)
		}
	})

	t.Run("reasons", func(t *testing.T) {
		wantReasons := map[int]string{
			5:  "6 fields, the header has 31",
			8:  `BG_X is not a number: "abc"`,
			9:  "empty ADDR_GUID",
			10: "quoted field is not closed",
			12: "BG_Y is empty but BG_X is not",
			14: "is not in Canada",
		}
		for _, e := range bad {
			if !strings.Contains(e.Reason, wantReasons[e.Line]) {
				t.Errorf("line %d: reason %q, want it to say %q", e.Line, e.Reason, wantReasons[e.Line])
			}
			if !strings.HasPrefix(e.Error(), "line ") {
				t.Errorf("Error() = %q, want it to start with the line", e.Error())
			}
		}
	})
}

func TestMissingColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, input, want string
		location          bool
	}{
		{"no ADDR_GUID", "LOC_GUID,CIVIC_NO,OFFICIAL_STREET_NAME\nx,1,Main\n",
			"not a National Address Register address file: no ADDR_GUID column", false},
		{"several missing", "LOC_GUID,ADDR_GUID\n",
			"not a National Address Register address file: no CIVIC_NO, OFFICIAL_STREET_NAME columns", false},
		{"empty file", "",
			"not a National Address Register address file: the file is empty", false},
		{"only a BOM", "\ufeff",
			"not a National Address Register address file: the file is empty", false},
		{"a location file given as an address file", "LOC_GUID,CSD_CODE,BG_LATITUDE,BG_LONGITUDE\n",
			"not a National Address Register address file: no ADDR_GUID, CIVIC_NO, OFFICIAL_STREET_NAME columns", false},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
			"not a National Address Register address file: no LOC_GUID, ADDR_GUID, CIVIC_NO, OFFICIAL_STREET_NAME columns", false},
		{"broken header", "LOC_GUID,\"ADDR\"_GUID\n",
			"not a National Address Register address file: the header row is not CSV", false},
		{"location without coordinates", "LOC_GUID,CSD_CODE\n",
			"not a National Address Register location file: no BG_LATITUDE, BG_LONGITUDE columns", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.location {
				_, err = NewLocationReader(strings.NewReader(tc.input))
			} else {
				_, err = NewAddressReader(strings.NewReader(tc.input))
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FormatError", err)
			}
			if !strings.HasPrefix(fe.Error(), tc.want) {
				t.Errorf("err = %q, want %q", fe, tc.want)
			}
		})
	}
}

func TestHeaderNames(t *testing.T) {
	t.Parallel()
	// Lower case, stray spaces, a quoted BOM-prefixed first name, columns in
	// an order no release used, and a duplicate (the first one wins).
	in := "\ufeff\" loc_guid \",Civic_No,OFFICIAL_STREET_NAME,ADDR_GUID,CIVIC_NO\r\n" +
		"L1,12,Main,A1,99\r\n"
	rows, bad, _ := readAddresses(t, strings.NewReader(in))
	if len(bad) != 0 || len(rows) != 1 {
		t.Fatalf("rows %+v, bad %v", rows, bad)
	}
	if a := rows[0]; a.LocGUID != "L1" || a.AddrGUID != "A1" || a.CivicNo != "12" || a.AddressLine != "12 Main" || a.HasXY {
		t.Errorf("row = %+v", a)
	}
}

func TestLineNumbers(t *testing.T) {
	t.Parallel()
	// A quoted field over two lines, a blank line, and a bad row after them:
	// lines are those of the file, as a person opening it would count.
	in := "LOC_GUID,ADDR_GUID,CIVIC_NO,OFFICIAL_STREET_NAME\n" +
		"L1,A1,1,\"Main\nStreet\"\n" + // lines 2-3
		"\n" + // line 4
		"L2,A2,2\n" + // line 5: too few fields
		"L3,A3,3,Oak\n" // line 6
	rows, bad, stats := readAddresses(t, strings.NewReader(in))
	if len(rows) != 2 || rows[0].SourceLine != 2 || rows[1].SourceLine != 6 {
		t.Errorf("rows %+v", rows)
	}
	if len(bad) != 1 || bad[0].Line != 5 {
		t.Errorf("bad %v, want line 5", bad)
	}
	if stats != (Stats{Rows: 3, Skipped: 1}) {
		t.Errorf("stats %+v", stats)
	}
}

func TestUnclosedQuoteStopsWithAReason(t *testing.T) {
	t.Parallel()
	// A quote that is never closed swallows the rest of the file by CSV's
	// rules; the reader must neither buffer gigabytes nor pretend the file
	// ended well.
	var b strings.Builder
	b.WriteString("LOC_GUID,ADDR_GUID,CIVIC_NO,OFFICIAL_STREET_NAME\nL1,A1,1,Main\nL2,A2,2,\"Oak\n")
	row := "L3,A3,3,Elm\n"
	for b.Len() < 3*maxRecordBytes {
		b.WriteString(row)
	}
	ar, err := NewAddressReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if a, err := ar.Next(); err != nil || a.AddrGUID != "A1" {
		t.Fatalf("first row: %+v, %v", a, err)
	}
	_, err = ar.Next()
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "after line 2") {
		t.Fatalf("err = %v, want a *FormatError naming line 2", err)
	}
	if _, again := ar.Next(); again != err {
		t.Errorf("next call: %v, want the same error", again)
	}
}

func TestLocationRows(t *testing.T) {
	t.Parallel()
	rows, bad := readLocations(t, openTestdata(t, "layout-old/Location_35.csv"))
	first := rows[0]
	if first.SourceLine != 2 || first.LocGUID != "5f1c2a9e-0b6e-4c61-9a0e-000000000001" || first.CSDCode != "3506008" ||
		first.FEDCode != "35075" || first.Lat != 45.4236 || first.Lng != -75.7009 || !first.HasPoint {
		t.Errorf("first location: %+v", first)
	}
	if rows[2].HasPoint {
		t.Errorf("location without coordinates: %+v", rows[2])
	}
	if len(bad) != 2 || !strings.Contains(bad[0].Reason, `BG_LATITUDE is not a number: "north"`) ||
		!strings.Contains(bad[1].Reason, "not in Canada") {
		t.Errorf("bad = %v", bad)
	}
}
