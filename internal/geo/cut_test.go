package geo

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

const (
	square      = `[[[-75.70,45.40],[-75.60,45.40],[-75.60,45.50],[-75.70,45.50],[-75.70,45.40]]]`
	squareHole  = `[[[-75.70,45.40],[-75.60,45.40],[-75.60,45.50],[-75.70,45.50],[-75.70,45.40]],[[-75.68,45.42],[-75.68,45.48],[-75.62,45.48],[-75.62,45.42],[-75.68,45.42]]]`
	farSquare   = `[[[-75.50,45.40],[-75.40,45.40],[-75.40,45.50],[-75.50,45.50],[-75.50,45.40]]]`
	polygonJSON = `{"type":"Polygon","coordinates":` + square + `}`
)

func TestParseMultiPolygonAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		in       string
		polygons int
		rings    []int
	}{
		{"a Polygon", polygonJSON, 1, []int{1}},
		{"a Polygon with a hole", `{"type":"Polygon","coordinates":` + squareHole + `}`, 1, []int{2}},
		{"a MultiPolygon of two", `{"type":"MultiPolygon","coordinates":[` + square + `,` + farSquare + `]}`, 2, []int{1, 1}},
		{"a Feature wrapping a Polygon", `{"type":"Feature","properties":{"name":"Ward 4"},"geometry":` + polygonJSON + `}`, 1, []int{1}},
		{"a Feature wrapping a MultiPolygon", `{"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[` + squareHole + `]}}`, 1, []int{2}},
		{"positions with altitude", `{"type":"Polygon","coordinates":[[[0,0,10],[1,0,10],[1,1,10],[0,0,10]]]}`, 1, []int{1}},
		{"a repeated position", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,0]]]}`, 1, []int{1}},
		{"a hole touching the shell at one point", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[0,2],[2,1],[2,3],[0,2]]]}`, 1, []int{2}},
		{"an island inside another polygon's hole", `{"type":"MultiPolygon","coordinates":[[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[8,2],[8,8],[2,8],[2,2]]],[[[4,4],[6,4],[6,6],[4,6],[4,4]]]]}`, 2, []int{2, 1}},
		{"polygons sharing one corner", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[1,1],[2,1],[2,2],[1,2],[1,1]]]]}`, 2, []int{1, 1}},
		{"the corners of the map", `{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}`, 1, []int{1}},
		{"surrounding whitespace", "\n  " + polygonJSON + "\t\n", 1, []int{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mp, err := ParseMultiPolygon([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseMultiPolygon: %v", err)
			}
			if len(mp) != tc.polygons {
				t.Fatalf("got %d polygons, want %d", len(mp), tc.polygons)
			}
			for i, p := range mp {
				if len(p) != tc.rings[i] {
					t.Errorf("polygon %d has %d rings, want %d", i, len(p), tc.rings[i])
				}
				for ri, r := range p {
					if r[0] != r[len(r)-1] {
						t.Errorf("polygon %d ring %d is not closed", i, ri)
					}
					for k := 1; k < len(r); k++ {
						if r[k] == r[k-1] {
							t.Errorf("polygon %d ring %d keeps a repeated position", i, ri)
						}
					}
					ccw := ringArea(r) > 0
					if (ri == 0) != ccw {
						t.Errorf("polygon %d ring %d: counter-clockwise=%v, RFC 7946 wants shells counter-clockwise and holes clockwise", i, ri, ccw)
					}
				}
			}
		})
	}
}

func TestParseMultiPolygonOrientsRings(t *testing.T) {
	t.Parallel()
	// A clockwise shell with a counter-clockwise hole: both get turned.
	in := `{"type":"Polygon","coordinates":[[[0,0],[0,4],[4,4],[4,0],[0,0]],[[1,1],[3,1],[3,3],[1,3],[1,1]]]}`
	mp, err := ParseMultiPolygon([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := orb.MultiPolygon{{
		{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}},
		{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}},
	}}
	if !orb.Equal(mp, want) {
		t.Fatalf("got %v, want %v", mp, want)
	}
}

func TestParseMultiPolygonRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want string // a phrase the message must hold
	}{
		{"nothing", ``, "geometry is empty"},
		{"null", `null`, "geometry is empty"},
		{"not JSON", `{"type":`, "not a GeoJSON object"},
		{"a JSON array", `[1,2]`, "not a GeoJSON object"},
		{"no type", `{"coordinates":` + square + `}`, `no "type"`},
		{"a Point", `{"type":"Point","coordinates":[1,2]}`, `"Point" is not accepted`},
		{"a LineString", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`, `"LineString" is not accepted`},
		{"a FeatureCollection", `{"type":"FeatureCollection","features":[]}`, "FeatureCollection is not accepted"},
		{"a Feature without geometry", `{"type":"Feature","geometry":null,"properties":{}}`, "Feature has no geometry"},
		{"a Feature wrapping a Point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, `"Point" is not accepted`},
		{"no coordinates", `{"type":"Polygon"}`, `no "coordinates"`},
		{"coordinates of the wrong depth", `{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}`, "list of rings"},
		{"a MultiPolygon with Polygon coordinates", `{"type":"MultiPolygon","coordinates":` + square + `}`, "list of polygons"},
		{"a string for a number", `{"type":"Polygon","coordinates":[[[0,"0"],[1,0],[1,1],[0,0]]]}`, "found a JSON string"},
		{"a position of one number", `{"type":"Polygon","coordinates":[[[0],[1,0],[1,1],[0,0]]]}`, "polygon 1, outer ring, position 1: a position must be [longitude, latitude]"},
		{"a position of four numbers", `{"type":"Polygon","coordinates":[[[0,0],[1,0,0,0],[1,1],[0,0]]]}`, "position 2: a position must be"},
		{"a null coordinate", `{"type":"Polygon","coordinates":[[[0,0],[1,null],[1,1],[0,0]]]}`, "null where a number belongs"},
		{"an empty Polygon", `{"type":"Polygon","coordinates":[]}`, "polygon 1: polygon is empty"},
		{"an empty MultiPolygon", `{"type":"MultiPolygon","coordinates":[]}`, "geometry is empty"},
		{"an empty ring", `{"type":"Polygon","coordinates":[[]]}`, "ring is empty"},
		{"three positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "ring has 3 positions; a ring needs at least four"},
		{"an unclosed ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "outer ring: ring is not closed: its last position [0, 1] must repeat its first [0, 0]"},
		{"an unclosed hole", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,2]]]}`, "polygon 1, hole 1: ring is not closed"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, "position 3: latitude 91 is outside -90..90"},
		{"longitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, "longitude 181 is outside -180..180"},
		{"swapped, with the hint", `{"type":"Polygon","coordinates":[[[45.4,-175.7],[45.4,-175.6],[45.5,-175.6],[45.4,-175.7]]]}`, "are longitude and latitude swapped?"},
		{"a ring of repeated points", `{"type":"Polygon","coordinates":[[[0,0],[0,0],[1,1],[1,1],[0,0]]]}`, "fewer than three distinct corners"},
		{"a flat ring", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`, "ring has no area"},
		{"a bow tie", `{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}`, "outer ring: ring crosses itself near [1, 1]"},
		{"a ring touching itself", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[2,0],[0,4],[0,0]]]}`, "ring crosses itself near [2, 0]"},
		{"a spike back along an edge", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[4,2],[4,6],[0,4],[0,0]]]}`, "ring crosses itself"},
		{"a hole outside its shell", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[5,5],[6,5],[6,6],[5,6],[5,5]]]}`, "polygon 1, hole 1: hole lies outside the outer ring"},
		{"a hole crossing its shell", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[3,1],[5,1],[5,3],[3,3],[3,1]]]}`, "hole 1: hole crosses the outer ring near"},
		{"a hole sharing an edge with its shell", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[0,1],[2,1],[2,3],[0,3],[0,1]]]}`, "hole 1: hole shares an edge with the outer ring near [0, "},
		{"holes crossing each other", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[1,1],[5,1],[5,5],[1,5],[1,1]],[[3,3],[7,3],[7,7],[3,7],[3,3]]]}`, "hole 2: hole crosses hole 1"},
		{"a hole inside a hole", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[1,1],[9,1],[9,9],[1,9],[1,1]],[[3,3],[7,3],[7,7],[3,7],[3,3]]]}`, "hole 2: hole lies inside hole 1"},
		{"polygons crossing", `{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]}`, "polygon 2: polygon crosses polygon 1"},
		{"polygons sharing an edge", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[1,0],[2,0],[2,1],[1,1],[1,0]]]]}`, "polygon 2: polygon shares an edge with polygon 1"},
		{"a polygon inside another", `{"type":"MultiPolygon","coordinates":[[[[0,0],[10,0],[10,10],[0,10],[0,0]]],[[[4,4],[6,4],[6,6],[4,6],[4,4]]]]}`, "polygon 2: polygon lies inside polygon 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mp, err := ParseMultiPolygon([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted %v", mp)
			}
			var inv *InvalidGeometryError
			if !errors.As(err, &inv) {
				t.Fatalf("error %T %v is not an *InvalidGeometryError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("message %q does not say %q", err.Error(), tc.want)
			}
		})
	}
}

func TestValidateListsSeveralProblems(t *testing.T) {
	t.Parallel()
	mp := orb.MultiPolygon{
		{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}},
		{{{0, 0}, {1, 0}, {0, 0}}},
	}
	err := Validate(mp)
	var inv *InvalidGeometryError
	if !errors.As(err, &inv) || len(inv.Problems) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	if inv.Problems[0].Where != "polygon 1, outer ring" || inv.Problems[1].Where != "polygon 2, outer ring" {
		t.Fatalf("problems name the wrong places: %+v", inv.Problems)
	}
}

func TestValidateCapsProblems(t *testing.T) {
	t.Parallel()
	var mp orb.MultiPolygon
	for i := 0; i < 3*maxProblems; i++ {
		mp = append(mp, orb.Polygon{{{0, 0}, {1, 0}}})
	}
	var inv *InvalidGeometryError
	if err := Validate(mp); !errors.As(err, &inv) || len(inv.Problems) != maxProblems {
		t.Fatalf("want %d problems, got %v", maxProblems, err)
	}
}

func TestParseMultiPolygonLargeRing(t *testing.T) {
	t.Parallel()
	// A many-sided ring (a traced ward boundary) must validate quickly and
	// pass; the sweep keeps this from being quadratic.
	ring := orb.Ring{}
	const n = 20000
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / n
		ring = append(ring, orb.Point{-75.6 + 0.1*math.Cos(a), 45.4 + 0.1*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	data, err := geojson.NewGeometry(orb.Polygon{ring}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	mp, err := ParseMultiPolygon(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(mp[0][0]) != n+1 {
		t.Fatalf("ring has %d positions, want %d", len(mp[0][0]), n+1)
	}
}
