package nar

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Kind tells an Address file from a Location file.
type Kind int

const (
	AddressFile Kind = iota + 1
	LocationFile
)

func (k Kind) String() string {
	switch k {
	case AddressFile:
		return "address"
	case LocationFile:
		return "location"
	}
	return "unknown"
}

// ReleaseFile is one CSV file of a release archive.
type ReleaseFile struct {
	Name string // path inside the archive
	Kind Kind
	// Part is what follows "Address_" or "Location_" in the file name, e.g.
	// "10" or "35_part_1"; Province is its leading digits, the province code.
	Part     string
	Province string
	Size     int64 // uncompressed, as the archive declares it

	f *zip.File
}

// Open streams the file's content. A damaged entry shows up as an error
// from Read (zip: checksum error), which the readers pass on.
func (f ReleaseFile) Open() (io.ReadCloser, error) {
	rc, err := f.f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s in the release archive: %w", f.Name, err)
	}
	return rc, nil
}

// Release lists the Address and Location files of a release .zip, sorted by
// name. Nothing is read or decompressed until a file is opened.
type Release struct {
	Addresses []ReleaseFile
	Locations []ReleaseFile
}

// OpenRelease reads the directory of a release archive. An archive that is
// not a zip, or is damaged, or holds no Address file is a *FormatError.
func OpenRelease(r io.ReaderAt, size int64) (*Release, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register release: not a readable zip archive (%v)", err)}
	}
	rel := &Release{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		kind, part, ok := ClassifyName(f.Name)
		if !ok {
			continue
		}
		rf := ReleaseFile{
			Name: f.Name, Kind: kind, Part: part, Province: leadingDigits(part),
			Size: int64(f.UncompressedSize64), f: f,
		}
		if kind == AddressFile {
			rel.Addresses = append(rel.Addresses, rf)
		} else {
			rel.Locations = append(rel.Locations, rf)
		}
	}
	if len(rel.Addresses) == 0 {
		return nil, &FormatError{Reason: "not a National Address Register release: the archive holds no Address_*.csv file"}
	}
	byName := func(s []ReleaseFile) func(i, j int) bool {
		return func(i, j int) bool { return s[i].Name < s[j].Name }
	}
	sort.Slice(rel.Addresses, byName(rel.Addresses))
	sort.Slice(rel.Locations, byName(rel.Locations))
	return rel, nil
}

// LocationsFor returns the Location files of the province an Address file
// belongs to: where its LOC_GUIDs find their points.
func (rel *Release) LocationsFor(addr ReleaseFile) []ReleaseFile {
	var out []ReleaseFile
	for _, l := range rel.Locations {
		if l.Province == addr.Province {
			out = append(out, l)
		}
	}
	return out
}

// File finds a file by its name in the archive, so that a task that carries
// only the name can open it again.
func (rel *Release) File(name string) (ReleaseFile, bool) {
	for _, list := range [][]ReleaseFile{rel.Addresses, rel.Locations} {
		for _, f := range list {
			if f.Name == name {
				return f, true
			}
		}
	}
	return ReleaseFile{}, false
}

// ClassifyName tells whether a file name is a NAR Address or Location file
// ("Addresses/Address_10.csv", "Location_35_part_2.csv"), and its part.
// Uploads of loose CSV files are sorted with it too.
func ClassifyName(name string) (kind Kind, part string, ok bool) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	if strings.HasPrefix(base, "._") { // macOS resource forks in zips made by Finder
		return 0, "", false
	}
	lower := strings.ToLower(base)
	if !strings.HasSuffix(lower, ".csv") {
		return 0, "", false
	}
	stem := base[:len(base)-len(".csv")]
	for _, c := range []struct {
		prefix string
		kind   Kind
	}{{"address_", AddressFile}, {"location_", LocationFile}} {
		if strings.HasPrefix(strings.ToLower(stem), c.prefix) && len(stem) > len(c.prefix) {
			return c.kind, stem[len(c.prefix):], true
		}
	}
	return 0, "", false
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
