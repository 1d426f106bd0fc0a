package nar

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Address is one row of an Address_*.csv file: one civic address, or one
// unit of a building (rows of the same building share LocGUID).
type Address struct {
	SourceLine int // line of the file where the row starts

	LocGUID  string // the building; joins the Location file
	AddrGUID string // the address itself; stable across releases

	Unit        string // APT_NO_LABEL
	CivicNo     string // CIVIC_NO
	CivicSuffix string // CIVIC_NO_SUFFIX
	StreetName  string // OFFICIAL_STREET_NAME
	StreetType  string // OFFICIAL_STREET_TYPE
	StreetDir   string // OFFICIAL_STREET_DIR

	ProvCode     string // PROV_CODE, the two-digit SGC code (24 is Quebec)
	Municipality string // CSD_ENG_NAME
	MailCity     string // MAIL_MUN_NAME
	MailProvince string // MAIL_PROV_ABVN
	PostalCode   string // MAIL_POSTAL_CODE

	NonCivic    string // BU_N_CIVIC_ADD: the building's non-civic address, if any
	BuildingUse string // BU_USE, as published

	// X and Y are BG_X and BG_Y, Statistics Canada Lambert (EPSG:3347) in
	// metres; HasXY is false when the row has none. Lat and Lng are the same
	// point in degrees (NAD83, which stays within about a metre of WGS84).
	// The Location file's BG_LATITUDE/BG_LONGITUDE are the published values
	// and are preferred; these are for buildings that have no row there.
	X, Y     float64
	Lat, Lng float64
	HasXY    bool

	// AddressLine is the one-line street address, "101-123A Main St NW".
	AddressLine string
}

// AddressReader streams the rows of one Address_*.csv file.
type AddressReader struct {
	t    *table
	proj lcc // built once: its constants cost as much as a row's inverse

	locGUID, addrGUID, unit, civic, suffix, street, typ, dir   int
	prov, csd, mailCity, mailProv, postal, x, y, nonCivic, use int
}

// NewAddressReader reads the header of an Address file. A file without the
// columns an address needs is a *FormatError.
func NewAddressReader(r io.Reader) (*AddressReader, error) {
	const what = "address file"
	t, err := openTable(r, what)
	if err != nil {
		return nil, err
	}
	c, err := t.columns(what,
		[]string{"LOC_GUID", "ADDR_GUID", "CIVIC_NO", "OFFICIAL_STREET_NAME"},
		[]string{
			"APT_NO_LABEL", "CIVIC_NO_SUFFIX", "OFFICIAL_STREET_TYPE", "OFFICIAL_STREET_DIR",
			"PROV_CODE", "CSD_ENG_NAME", "MAIL_MUN_NAME", "MAIL_PROV_ABVN", "MAIL_POSTAL_CODE",
			"BG_X", "BG_Y", "BU_N_CIVIC_ADD", "BU_USE",
		})
	if err != nil {
		return nil, err
	}
	return &AddressReader{
		t:       t,
		proj:    statCanLambert(),
		locGUID: c["LOC_GUID"], addrGUID: c["ADDR_GUID"], unit: c["APT_NO_LABEL"],
		civic: c["CIVIC_NO"], suffix: c["CIVIC_NO_SUFFIX"], street: c["OFFICIAL_STREET_NAME"],
		typ: c["OFFICIAL_STREET_TYPE"], dir: c["OFFICIAL_STREET_DIR"],
		prov: c["PROV_CODE"], csd: c["CSD_ENG_NAME"], mailCity: c["MAIL_MUN_NAME"],
		mailProv: c["MAIL_PROV_ABVN"], postal: c["MAIL_POSTAL_CODE"],
		x: c["BG_X"], y: c["BG_Y"], nonCivic: c["BU_N_CIVIC_ADD"], use: c["BU_USE"],
	}, nil
}

// Next returns the next row. At the end it returns io.EOF. A row that
// cannot be read is a *RowError and the following call goes on with the next
// row; any other error ends the file.
func (r *AddressReader) Next() (Address, error) {
	rec, line, err := r.t.next()
	if err != nil {
		return Address{}, err
	}
	a := Address{
		SourceLine:   line,
		LocGUID:      field(rec, r.locGUID),
		AddrGUID:     field(rec, r.addrGUID),
		Unit:         field(rec, r.unit),
		CivicNo:      field(rec, r.civic),
		CivicSuffix:  field(rec, r.suffix),
		StreetName:   field(rec, r.street),
		StreetType:   field(rec, r.typ),
		StreetDir:    field(rec, r.dir),
		ProvCode:     field(rec, r.prov),
		Municipality: field(rec, r.csd),
		MailCity:     field(rec, r.mailCity),
		MailProvince: field(rec, r.mailProv),
		PostalCode:   field(rec, r.postal),
		NonCivic:     field(rec, r.nonCivic),
		BuildingUse:  field(rec, r.use),
	}
	if a.AddrGUID == "" {
		return Address{}, r.t.skip(line, "empty ADDR_GUID")
	}
	if a.LocGUID == "" {
		return Address{}, r.t.skip(line, "empty LOC_GUID")
	}
	a.X, a.Y, a.HasXY, err = coordinatePair(field(rec, r.x), field(rec, r.y), "BG_X", "BG_Y")
	if err != nil {
		return Address{}, r.t.skip(line, err.Error())
	}
	if a.HasXY {
		a.Lat, a.Lng = r.proj.inverse(a.X, a.Y)
		if !inCanada(a.Lat, a.Lng) {
			return Address{}, r.t.skip(line, fmt.Sprintf("BG_X/BG_Y (%g, %g) is not in Canada", a.X, a.Y))
		}
	}
	a.AddressLine = BuildAddressLine(a)
	return a, nil
}

// Stats counts the rows read so far.
func (r *AddressReader) Stats() Stats { return r.t.stats }

// field returns column i of rec, trimmed; "" when the file has no such column.
func field(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// coordinatePair parses two coordinates that are both given or both empty.
// Half a pair is an error: it means a shifted or damaged row, not a building
// without a point.
func coordinatePair(xs, ys, xName, yName string) (x, y float64, ok bool, err error) {
	if xs == "" && ys == "" {
		return 0, 0, false, nil
	}
	if xs == "" {
		return 0, 0, false, fmt.Errorf("%s is empty but %s is not", xName, yName)
	}
	if ys == "" {
		return 0, 0, false, fmt.Errorf("%s is empty but %s is not", yName, xName)
	}
	if x, err = parseCoordinate(xs, xName); err != nil {
		return 0, 0, false, err
	}
	if y, err = parseCoordinate(ys, yName); err != nil {
		return 0, 0, false, err
	}
	return x, y, true, nil
}

func parseCoordinate(s, name string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s is not a number: %q", name, clip(s))
	}
	return v, nil
}

// clip keeps a quoted value in a reason short.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if s[i]&0xC0 != 0x80 { // not inside a UTF-8 sequence
			return s[:i] + "…"
		}
	}
	return s[:max] + "…"
}

// inCanada is a generous box around the country: coordinates outside it are
// swapped, shifted or in the wrong system, and would put a door on the map
// where no volunteer can knock.
func inCanada(lat, lng float64) bool {
	return lat >= 40 && lat <= 85 && lng >= -145 && lng <= -50
}
