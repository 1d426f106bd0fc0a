package nar

import (
	"fmt"
	"io"
)

// Location is one row of a Location_*.csv file: a building's point, which
// the Address rows with the same LocGUID share.
type Location struct {
	SourceLine int // line of the file where the row starts

	LocGUID string
	CSDCode string // CSD_CODE, the census subdivision (municipality)
	FEDCode string // FED_CODE, the federal electoral district

	Lat, Lng float64 // BG_LATITUDE, BG_LONGITUDE in degrees
	HasPoint bool    // false when the row has no coordinates
}

// LocationReader streams the rows of one Location_*.csv file.
type LocationReader struct {
	t                         *table
	locGUID, csd, fed, la, lo int
}

// NewLocationReader reads the header of a Location file. A file without
// LOC_GUID or the coordinates is a *FormatError.
func NewLocationReader(r io.Reader) (*LocationReader, error) {
	const what = "location file"
	t, err := openTable(r, what)
	if err != nil {
		return nil, err
	}
	c, err := t.columns(what,
		[]string{"LOC_GUID", "BG_LATITUDE", "BG_LONGITUDE"},
		[]string{"CSD_CODE", "FED_CODE"})
	if err != nil {
		return nil, err
	}
	return &LocationReader{
		t:       t,
		locGUID: c["LOC_GUID"], csd: c["CSD_CODE"], fed: c["FED_CODE"],
		la: c["BG_LATITUDE"], lo: c["BG_LONGITUDE"],
	}, nil
}

// Next returns the next row, io.EOF at the end, or a *RowError for a row
// that cannot be read (the following call goes on with the next row).
func (r *LocationReader) Next() (Location, error) {
	rec, line, err := r.t.next()
	if err != nil {
		return Location{}, err
	}
	l := Location{
		SourceLine: line,
		LocGUID:    field(rec, r.locGUID),
		CSDCode:    field(rec, r.csd),
		FEDCode:    field(rec, r.fed),
	}
	if l.LocGUID == "" {
		return Location{}, r.t.skip(line, "empty LOC_GUID")
	}
	l.Lat, l.Lng, l.HasPoint, err = coordinatePair(field(rec, r.la), field(rec, r.lo), "BG_LATITUDE", "BG_LONGITUDE")
	if err != nil {
		return Location{}, r.t.skip(line, err.Error())
	}
	if l.HasPoint && !inCanada(l.Lat, l.Lng) {
		return Location{}, r.t.skip(line, fmt.Sprintf("BG_LATITUDE/BG_LONGITUDE (%g, %g) is not in Canada", l.Lat, l.Lng))
	}
	return l, nil
}

// Stats counts the rows read so far.
func (r *LocationReader) Stats() Stats { return r.t.stats }
