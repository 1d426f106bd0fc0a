package geocoder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"changemaker/internal/address"
	"changemaker/internal/geo"
	"changemaker/storage"
)

// NARStore is what the nar provider reads: the imported National Address
// Register buildings (storage.Store).
type NARStore interface {
	NARByKeys(ctx context.Context, keys []string) ([]storage.NARCandidate, error)
	NearestNAR(ctx context.Context, lat, lng float64) (storage.NARCandidate, error)
}

// NAR geocodes against the National Address Register rows already imported
// into Postgres, without a network call. A typed address is parsed into an
// address.Key (street types and directions in English and French, unit
// forms, accents and case evened out) and its building key looked up in
// map_locations.address_key, which the import fills with the same key.
type NAR struct {
	Store NARStore
	// ReverseRadius bounds (metres) how far a reverse look-up takes the
	// nearest register building; 0 is 100.
	ReverseRadius float64
}

func (n *NAR) Name() string { return "nar" }

// Local reports that nar makes no network call: the chain does not cache it.
func (n *NAR) Local() bool { return true }

// sameBuildingMeters: candidates this close together are one building
// imported twice, not an ambiguity.
const sameBuildingMeters = 60

// Geocode finds the register building of query. When several register
// buildings share the key (123 Main St in two towns), the postal code and
// then the town named in query decide; a tie between places far apart is
// no match, so the next provider gets to try the whole address.
func (n *NAR) Geocode(ctx context.Context, query string) (Result, error) {
	if strings.TrimSpace(query) == "" {
		return Result{}, &Error{Provider: "nar", Op: "geocode", Message: "empty address"}
	}
	a := address.Parse(query)
	if a.Civic == "" || a.Street == "" {
		return Result{}, fmt.Errorf("nar geocode: no civic number and street in the address: %w", ErrNotFound)
	}
	cands, err := n.Store.NARByKeys(ctx, []string{a.Key.Building().String()})
	if err != nil {
		return Result{}, n.storeError("geocode", ctx, err)
	}
	loose := false
	if len(cands) == 0 {
		// What people leave out or add: the street type ("1010
		// Ste-Catherine O"), a French article the register does not
		// write ("chemin de la Côte-des-Neiges").
		keys := looseKeys(a.Key.Building())
		if len(keys) == 0 {
			return Result{}, notFound("nar", "geocode")
		}
		if cands, err = n.Store.NARByKeys(ctx, keys); err != nil {
			return Result{}, n.storeError("geocode", ctx, err)
		}
		if len(cands) == 0 {
			return Result{}, notFound("nar", "geocode")
		}
		loose = true
	}
	folded := " " + foldWords(query) + " "
	best, bestScore, tied := -1, -1, false
	postalOK := false
	for i, c := range cands {
		score := 0
		pc := address.PostalCode(c.PostalCode)
		if a.PostalCode != "" && pc == a.PostalCode {
			score += 4
		}
		if city := foldWords(c.City); city != "" && strings.Contains(folded, " "+city+" ") {
			score += 2
		}
		switch {
		case score > bestScore:
			best, bestScore, tied = i, score, false
			postalOK = a.PostalCode != "" && pc == a.PostalCode
		case score == bestScore && distanceMeters(c.Lat, c.Lng, cands[best].Lat, cands[best].Lng) > sameBuildingMeters:
			tied = true
		}
	}
	if tied {
		return Result{}, fmt.Errorf("nar geocode: %d register buildings match and nothing tells them apart: %w",
			len(cands), ErrNotFound)
	}
	c := cands[best]
	conf := 95
	if loose {
		conf -= 10
	}
	if a.PostalCode != "" && !postalOK {
		conf -= 20 // the address says another postal code
	}
	if a.Unit != "" {
		if hasUnit(c.Units, a.Unit) {
			conf += 5
		} else {
			conf -= 10 // the building is right; the register does not know the unit
		}
	}
	return Result{Lat: c.Lat, Lng: c.Lng, Address: formatNAR(c), Provider: "nar", Confidence: clamp(conf)}, nil
}

// Reverse finds the nearest register building within ReverseRadius.
func (n *NAR) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&client{provider: "nar"}, lat, lng); err != nil {
		return Result{}, err
	}
	c, err := n.Store.NearestNAR(ctx, lat, lng)
	if errors.Is(err, storage.ErrNotFound) {
		return Result{}, notFound("nar", "reverse")
	}
	if err != nil {
		return Result{}, n.storeError("reverse", ctx, err)
	}
	radius := n.ReverseRadius
	if radius <= 0 {
		radius = 100
	}
	if c.Meters > radius {
		return Result{}, fmt.Errorf("nar reverse: nearest register address is %.0f m away: %w", c.Meters, ErrNotFound)
	}
	conf := 50
	switch {
	case c.Meters <= 10:
		conf = 90
	case c.Meters <= 30:
		conf = 75
	}
	return Result{Lat: c.Lat, Lng: c.Lng, Address: formatNAR(c), Provider: "nar", Confidence: conf}, nil
}

func (n *NAR) storeError(op string, ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("nar %s: %w", op, ctx.Err())
	}
	// The database being away passes; the look-up itself cannot be wrong.
	return &Error{Provider: "nar", Op: op, Retryable: true, Message: "register look-up failed", Err: err}
}

func hasUnit(labels []string, unit string) bool {
	for _, l := range labels {
		if address.FromParts("", "", "", "", "", l).Unit == unit {
			return true
		}
	}
	return false
}

// formatNAR writes a register building as one line: "123 Main St, Ottawa ON K1A 0B1".
func formatNAR(c storage.NARCandidate) string {
	s := c.Address
	if c.City != "" {
		s += ", " + c.City
	}
	if tail := strings.TrimSpace(c.Province + " " + c.PostalCode); tail != "" {
		s += " " + tail
		if c.City == "" {
			s = c.Address + ", " + tail
		}
	}
	return s
}

// foldWords upper-cases s, strips accents and keeps letters and digits as
// single-spaced words ("Saint-Jean-sur-Richelieu" → "SAINT JEAN SUR RICHELIEU").
func foldWords(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

func distanceMeters(lat1, lng1, lat2, lng2 float64) float64 {
	return geo.Distance(geo.LatLng{Lat: lat1, Lng: lng1}, geo.LatLng{Lat: lat2, Lng: lng2})
}

// looseKeys are the building keys k may have meant: without a leading
// French article (the register often writes names without them), and, when
// k has no street type, with each common one.
func looseKeys(k address.Key) []string {
	commonTypes := [...]string{"ST", "AVE", "RD", "DR", "BLVD", "CRES", "CRT", "PL", "LANE", "WAY", "RUE", "CH",
		"MONTEE", "RANG", "COTE", "TERR", "CIR", "GATE", "TRAIL", "PKY", "HWY", "LINE", "CONC", "SDRD"}
	frenchArticles := [...]string{"DE LA ", "DE L ", "DES ", "DU ", "DE ", "D "}
	streets := []string{k.Street}
	for _, a := range frenchArticles {
		if rest, ok := strings.CutPrefix(k.Street, a); ok && rest != "" {
			streets = append(streets, rest)
			break
		}
	}
	var out []string
	for i, st := range streets {
		v := k
		v.Street = st
		if i > 0 {
			out = append(out, v.String())
		}
		if k.Type == "" {
			for _, t := range commonTypes {
				v.Type = t
				out = append(out, v.String())
			}
		}
	}
	return out
}
