package nar

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeZip builds a release archive from name -> content.
func makeZip(t *testing.T, files map[string]string, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testdataString(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenRelease(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Addresses/Address_35.csv":            testdataString(t, "layout-2026/Address_35.csv"),
		"Addresses/Address_10.csv":            "LOC_GUID,ADDR_GUID,CIVIC_NO,OFFICIAL_STREET_NAME\nL9,A9,1,Water\n",
		"Locations/Location_35.csv":           testdataString(t, "layout-2026/Location_35.csv"),
		"Locations/Location_10.csv":           "LOC_GUID,BG_LATITUDE,BG_LONGITUDE\nL9,47.56,-52.71\n",
		"README.txt":                          "not data",
		"__MACOSX/Addresses/._Address_35.csv": "resource fork",
	}
	data := makeZip(t, files, "README.txt", "Addresses/", "Addresses/Address_35.csv", "Addresses/Address_10.csv",
		"Locations/Location_35.csv", "Locations/Location_10.csv", "__MACOSX/Addresses/._Address_35.csv")
	rel, err := OpenRelease(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rel.Addresses {
		names = append(names, f.Kind.String()+":"+f.Province+":"+f.Name)
	}
	for _, f := range rel.Locations {
		names = append(names, f.Kind.String()+":"+f.Province+":"+f.Name)
	}
	want := "address:10:Addresses/Address_10.csv address:35:Addresses/Address_35.csv " +
		"location:10:Locations/Location_10.csv location:35:Locations/Location_35.csv"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("files = %s\nwant    %s", got, want)
	}

	addr35, ok := rel.File("Addresses/Address_35.csv")
	if !ok {
		t.Fatal("File(Addresses/Address_35.csv) not found")
	}
	locs := rel.LocationsFor(addr35)
	if len(locs) != 1 || locs[0].Name != "Locations/Location_35.csv" {
		t.Errorf("LocationsFor(Address_35) = %+v", locs)
	}

	rc, err := addr35.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rows, bad, _ := readAddresses(t, rc)
	oldRows, _, _ := readAddresses(t, openTestdata(t, "layout-old/Address_35.csv"))
	if len(rows) != len(oldRows) || len(bad) != 6 {
		t.Fatalf("from the zip: %d rows, %d bad; want %d and 6", len(rows), len(bad), len(oldRows))
	}
	for i := range rows {
		if rows[i] != oldRows[i] {
			t.Errorf("row %d from the zip differs: %+v", i, rows[i])
		}
	}
}

func TestBrokenRelease(t *testing.T) {
	t.Parallel()
	good := makeZip(t, map[string]string{"Address_35.csv": testdataString(t, "layout-old/Address_35.csv")}, "Address_35.csv")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("LOC_GUID,ADDR_GUID\n"), "not a readable zip archive"},
		{"empty", nil, "not a readable zip archive"},
		{"truncated", good[:len(good)/2], "not a readable zip archive"},
		{"no Address file", makeZip(t, map[string]string{"Location_35.csv": "LOC_GUID\n"}, "Location_35.csv"), "holds no Address_*.csv file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := OpenRelease(bytes.NewReader(tc.data), int64(len(tc.data)))
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, tc.want) {
				t.Errorf("err = %v, want a *FormatError saying %q", err, tc.want)
			}
		})
	}

	t.Run("damaged entry", func(t *testing.T) {
		t.Parallel()
		// Flip a byte of the stored data: the directory still reads, the
		// entry fails its checksum while streaming, and the reader says so.
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "Address_35.csv", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		content := testdataString(t, "layout-old/Address_35.csv")
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		i := bytes.Index(data, []byte("Barrington"))
		data[i] = 'X'
		rel, err := OpenRelease(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rel.Addresses[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		ar, err := NewAddressReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err = ar.Next()
			var re *RowError
			if errors.As(err, &re) || err == nil {
				continue
			}
			break
		}
		if !errors.Is(err, zip.ErrChecksum) {
			t.Errorf("err = %v, want zip.ErrChecksum", err)
		}
	})
}

func TestClassifyName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		kind Kind
		part string
		ok   bool
	}{
		{"Address_10.csv", AddressFile, "10", true},
		{"Addresses/Address_35_part_2.csv", AddressFile, "35_part_2", true},
		{`Locations\LOCATION_24.CSV`, LocationFile, "24", true},
		{"address_.csv", 0, "", false},
		{"Address_10.txt", 0, "", false},
		{"__MACOSX/._Address_10.csv", 0, "", false},
		{"Addresses.csv", 0, "", false},
	} {
		kind, part, ok := ClassifyName(tc.name)
		if kind != tc.kind || part != tc.part || ok != tc.ok {
			t.Errorf("ClassifyName(%q) = %v, %q, %v; want %v, %q, %v", tc.name, kind, part, ok, tc.kind, tc.part, tc.ok)
		}
	}
}
