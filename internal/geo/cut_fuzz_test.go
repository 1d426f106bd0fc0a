package geo

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// FuzzParseMultiPolygon holds the parser to three promises for any input:
// it never panics, every refusal is an *InvalidGeometryError, and whatever
// it accepts is valid and reads back unchanged once written out again.
// Seeds live in testdata/fuzz/FuzzParseMultiPolygon as well as here.
func FuzzParseMultiPolygon(f *testing.F) {
	for _, s := range []string{
		polygonJSON,
		`{"type":"Polygon","coordinates":` + squareHole + `}`,
		`{"type":"MultiPolygon","coordinates":[` + square + `,` + farSquare + `]}`,
		`{"type":"Feature","geometry":` + polygonJSON + `}`,
		`{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`,
		`{"type":"Polygon","coordinates":[[[0],[1,0],[1,1],[0,0]]]}`,
		`{"type":"GeometryCollection","geometries":[]}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mp, err := ParseMultiPolygon(data)
		if err != nil {
			var inv *InvalidGeometryError
			if !errors.As(err, &inv) || len(inv.Problems) == 0 {
				t.Fatalf("refusal %T %v is not an *InvalidGeometryError with problems", err, err)
			}
			return
		}
		if len(mp) == 0 {
			t.Fatal("accepted an empty geometry")
		}
		if err := Validate(mp); err != nil {
			t.Fatalf("accepted geometry does not validate: %v", err)
		}
		out, err := geojson.NewGeometry(mp).MarshalJSON()
		if err != nil {
			t.Fatalf("marshal accepted geometry: %v", err)
		}
		again, err := ParseMultiPolygon(out)
		if err != nil {
			t.Fatalf("written-out geometry %s is refused: %v", out, err)
		}
		if !orb.Equal(mp, again) {
			t.Fatalf("round trip changed the geometry:\n%v\n%v", mp, again)
		}
	})
}
