package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// maxProblems keeps an error about a badly broken drawing short enough to
// show in a form; the first few problems are enough to fix it.
const maxProblems = 10

// Problem is one thing wrong with a cut's geometry. Where names the place in
// words ("polygon 1, hole 2, position 5") so a person can find it.
type Problem struct {
	Where   string
	Message string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Message
	}
	return p.Where + ": " + p.Message
}

// InvalidGeometryError lists what is wrong with a cut's geometry. Callers
// answer it with a 400 whose message is Error().
type InvalidGeometryError struct {
	Problems []Problem
}

func (e *InvalidGeometryError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid geometry: " + strings.Join(parts, "; ")
}

func invalid(where, format string, args ...any) *InvalidGeometryError {
	return &InvalidGeometryError{Problems: []Problem{{Where: where, Message: fmt.Sprintf(format, args...)}}}
}

// ParseMultiPolygon reads a GeoJSON Polygon, MultiPolygon, or Feature
// holding one, validates it, and returns it as a MultiPolygon (the one shape
// cuts are stored in) with consecutive repeated positions dropped, any third
// coordinate dropped, and rings oriented as RFC 7946 asks (shells
// counter-clockwise, holes clockwise). Every failure is an
// *InvalidGeometryError.
func ParseMultiPolygon(data []byte) (orb.MultiPolygon, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, invalid("", "geometry is empty")
	}
	var head struct {
		Type        string          `json:"type"`
		Geometry    json.RawMessage `json:"geometry"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, invalid("", "geometry is not a GeoJSON object: %s", jsonReason(err))
	}
	raw := data
	switch head.Type {
	case "Feature":
		g := bytes.TrimSpace(head.Geometry)
		if len(g) == 0 || bytes.Equal(g, []byte("null")) {
			return nil, invalid("", "the Feature has no geometry")
		}
		raw = g
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, invalid("", "the Feature's geometry is not a GeoJSON object: %s", jsonReason(err))
		}
	case "Polygon", "MultiPolygon":
	case "FeatureCollection":
		return nil, invalid("", "a FeatureCollection is not accepted: send one Feature, Polygon or MultiPolygon")
	case "":
		return nil, invalid("", `geometry has no "type"`)
	default:
		return nil, invalid("", "geometry type %q is not accepted: send a Polygon or MultiPolygon", head.Type)
	}
	switch head.Type {
	case "Polygon", "MultiPolygon":
	default:
		return nil, invalid("", "geometry type %q is not accepted: send a Polygon or MultiPolygon", head.Type)
	}
	if len(bytes.TrimSpace(head.Coordinates)) == 0 || bytes.Equal(bytes.TrimSpace(head.Coordinates), []byte("null")) {
		return nil, invalid("", `geometry has no "coordinates"`)
	}
	// orb silently reads [1] as [1, 0] and null as 0, so the shape of every
	// position is checked on the raw numbers before orb sees them.
	if err := checkPositions(head.Type, head.Coordinates); err != nil {
		return nil, err
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, invalid("", "geometry could not be read: %s", jsonReason(err))
	}
	var mp orb.MultiPolygon
	switch v := g.Geometry().(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{v}
	case orb.MultiPolygon:
		mp = v
	default:
		return nil, invalid("", "geometry type %q is not accepted: send a Polygon or MultiPolygon", g.Type)
	}
	if err := Validate(mp); err != nil {
		return nil, err
	}
	return normalise(mp), nil
}

func jsonReason(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("found a JSON %s where a %s belongs", typ.Value, typ.Type)
	}
	return err.Error()
}

// checkPositions decodes the coordinates as plain numbers and reports the
// first position that is not two or three numbers.
func checkPositions(typ string, coords json.RawMessage) error {
	var polys [][][][]*json.Number
	if typ == "Polygon" {
		var p [][][]*json.Number
		if err := json.Unmarshal(coords, &p); err != nil {
			return invalid("", "a Polygon's coordinates must be a list of rings, each a list of [longitude, latitude] positions: %s", jsonReason(err))
		}
		polys = [][][][]*json.Number{p}
	} else if err := json.Unmarshal(coords, &polys); err != nil {
		return invalid("", "a MultiPolygon's coordinates must be a list of polygons, each a list of rings of [longitude, latitude] positions: %s", jsonReason(err))
	}
	for pi, p := range polys {
		for ri, r := range p {
			for i, pos := range r {
				if len(pos) < 2 || len(pos) > 3 {
					return invalid(where(pi, ri, i), "a position must be [longitude, latitude] (optionally with an altitude), found %d numbers", len(pos))
				}
				for _, n := range pos {
					if n == nil {
						return invalid(where(pi, ri, i), "a position holds null where a number belongs")
					}
				}
			}
		}
	}
	return nil
}

// where names a polygon, ring and position (ring 0 is the outer boundary,
// position -1 means the whole ring) counting from one, as people do.
func where(poly, ring, pos int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "polygon %d", poly+1)
	if ring == 0 {
		b.WriteString(", outer ring")
	} else if ring > 0 {
		fmt.Fprintf(&b, ", hole %d", ring)
	}
	if pos >= 0 {
		fmt.Fprintf(&b, ", position %d", pos+1)
	}
	return b.String()
}

// Validate reports everything wrong with mp as an *InvalidGeometryError, or
// nil. It checks what PostGIS's ST_IsValid would reject in a drawn turf,
// so that containment queries on stored cuts are well defined.
func Validate(mp orb.MultiPolygon) error {
	v := &validator{}
	v.run(mp)
	if len(v.problems) == 0 {
		return nil
	}
	return &InvalidGeometryError{Problems: v.problems}
}

type validator struct {
	problems []Problem
}

func (v *validator) add(where, format string, args ...any) {
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, Problem{Where: where, Message: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) run(mp orb.MultiPolygon) {
	if len(mp) == 0 {
		v.add("", "geometry is empty: it has no polygons")
		return
	}
	for pi, p := range mp {
		if len(p) == 0 {
			v.add(where(pi, -1, -1), "polygon is empty: it has no rings")
			continue
		}
		for ri, r := range p {
			v.ring(pi, ri, r)
		}
	}
	if len(v.problems) > 0 {
		// Crossing and nesting tests assume closed rings in range.
		return
	}
	clean := dedupe(mp)
	for pi, p := range clean {
		for ri, r := range p {
			if len(r) < 4 {
				v.add(where(pi, ri, -1), "ring has fewer than three distinct corners")
			} else if flat(r) {
				v.add(where(pi, ri, -1), "ring has no area: all its corners lie on one line")
			}
		}
	}
	if len(v.problems) > 0 {
		return
	}
	v.crossings(clean)
	if len(v.problems) > 0 {
		return
	}
	v.nesting(clean)
}

func (v *validator) ring(pi, ri int, r orb.Ring) {
	w := where(pi, ri, -1)
	if len(r) == 0 {
		v.add(w, "ring is empty")
		return
	}
	for i, pt := range r {
		lng, lat := pt[0], pt[1]
		switch {
		case math.IsNaN(lng) || math.IsNaN(lat) || math.IsInf(lng, 0) || math.IsInf(lat, 0):
			v.add(where(pi, ri, i), "coordinate is not a finite number")
			return
		case lat < -90 || lat > 90:
			if lng >= -90 && lng <= 90 && lat >= -180 && lat <= 180 {
				v.add(where(pi, ri, i), "latitude %v is outside -90..90; GeoJSON puts longitude first: are longitude and latitude swapped?", lat)
			} else {
				v.add(where(pi, ri, i), "latitude %v is outside -90..90", lat)
			}
			return
		case lng < -180 || lng > 180:
			v.add(where(pi, ri, i), "longitude %v is outside -180..180", lng)
			return
		}
	}
	if len(r) < 4 {
		v.add(w, "ring has %d positions; a ring needs at least four (three corners and the first repeated at the end)", len(r))
		return
	}
	if r[0] != r[len(r)-1] {
		v.add(w, "ring is not closed: its last position %v must repeat its first %v", fmtPoint(r[len(r)-1]), fmtPoint(r[0]))
	}
}

func fmtPoint(p orb.Point) string {
	return fmt.Sprintf("[%v, %v]", p[0], p[1])
}

// dedupe drops consecutive repeated positions, which PostGIS accepts but
// which would make zero-length edges in the crossing test.
func dedupe(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, len(mp))
	for pi, p := range mp {
		out[pi] = make(orb.Polygon, len(p))
		for ri, r := range p {
			nr := make(orb.Ring, 0, len(r))
			for i, pt := range r {
				if i > 0 && pt == r[i-1] {
					continue
				}
				nr = append(nr, pt)
			}
			out[pi][ri] = nr
		}
	}
	return out
}

// flat reports whether every corner of r lies on one line. The signed area
// cannot tell this: a bow tie's two halves cancel to zero.
func flat(r orb.Ring) bool {
	for i := 2; i < len(r)-1; i++ {
		if orient(r[0], r[1], r[i]) != 0 {
			return false
		}
	}
	return true
}

// ringArea is the shoelace sum: positive counter-clockwise, negative
// clockwise, zero when degenerate.
func ringArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

type edge struct {
	a, b       orb.Point
	poly, ring int
	idx        int // edge i runs from position i to i+1
	n          int // edges in its ring
	minX, maxX float64
}

// crossings finds edges that meet where they should not: within a ring any
// contact between edges that are not neighbours, between rings of one
// polygon a crossing or a shared stretch (touching at a point is allowed, as
// in OGC), between polygons any crossing. A sweep over x keeps this near
// linear for the drawings people make.
func (v *validator) crossings(mp orb.MultiPolygon) {
	var edges []edge
	for pi, p := range mp {
		for ri, r := range p {
			n := len(r) - 1
			for i := 0; i < n; i++ {
				a, b := r[i], r[i+1]
				edges = append(edges, edge{a: a, b: b, poly: pi, ring: ri, idx: i, n: n,
					minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0])})
			}
		}
	}
	sort.SliceStable(edges, func(i, j int) bool { return edges[i].minX < edges[j].minX })
	reported := map[[4]int]bool{}
	for i := range edges {
		e := &edges[i]
		for j := i + 1; j < len(edges) && edges[j].minX <= e.maxX; j++ {
			f := &edges[j]
			if math.Max(e.a[1], e.b[1]) < math.Min(f.a[1], f.b[1]) || math.Max(f.a[1], f.b[1]) < math.Min(e.a[1], e.b[1]) {
				continue
			}
			kind := intersect(e.a, e.b, f.a, f.b)
			if kind == none {
				continue
			}
			key := [4]int{e.poly, e.ring, f.poly, f.ring}
			if e.poly > f.poly || (e.poly == f.poly && e.ring > f.ring) {
				key = [4]int{f.poly, f.ring, e.poly, e.ring}
			}
			if reported[key] {
				continue
			}
			switch {
			case e.poly == f.poly && e.ring == f.ring:
				if neighbours(e, f) && kind != overlap {
					continue
				}
				reported[key] = true
				v.add(where(e.poly, e.ring, -1), "ring crosses itself near %s", fmtPoint(meetPoint(e, f)))
			case e.poly == f.poly:
				if kind == touch {
					continue
				}
				reported[key] = true
				lo, hi := e, f
				if key[1] != e.ring {
					lo, hi = f, e
				}
				verb := "crosses"
				if kind == overlap {
					verb = "shares an edge with"
				}
				if lo.ring == 0 {
					v.add(where(hi.poly, hi.ring, -1), "hole %s the outer ring near %s", verb, fmtPoint(meetPoint(e, f)))
				} else {
					v.add(where(hi.poly, hi.ring, -1), "hole %s hole %d near %s", verb, lo.ring, fmtPoint(meetPoint(e, f)))
				}
			default:
				if kind == touch {
					continue
				}
				reported[key] = true
				lo, hi := e, f
				if key[0] != e.poly {
					lo, hi = f, e
				}
				verb := "crosses"
				if kind == overlap {
					verb = "shares an edge with"
				}
				v.add(where(hi.poly, -1, -1), "polygon %s polygon %d near %s; polygons of a MultiPolygon may touch only at points", verb, lo.poly+1, fmtPoint(meetPoint(e, f)))
			}
			if len(v.problems) >= maxProblems {
				return
			}
		}
	}
}

// neighbours reports whether two edges of one ring share a corner by
// construction (consecutive, or the last and the first).
func neighbours(e, f *edge) bool {
	d := e.idx - f.idx
	if d < 0 {
		d = -d
	}
	return d == 1 || d == e.n-1
}

func meetPoint(e, f *edge) orb.Point {
	for _, p := range []orb.Point{e.a, e.b} {
		if orient(f.a, f.b, p) == 0 && onSegment(f.a, f.b, p) {
			return p
		}
	}
	for _, p := range []orb.Point{f.a, f.b} {
		if orient(e.a, e.b, p) == 0 && onSegment(e.a, e.b, p) {
			return p
		}
	}
	// A proper crossing: solve for the point on e.
	d1 := orb.Point{e.b[0] - e.a[0], e.b[1] - e.a[1]}
	d2 := orb.Point{f.b[0] - f.a[0], f.b[1] - f.a[1]}
	den := d1[0]*d2[1] - d1[1]*d2[0]
	if den == 0 {
		return e.a
	}
	t := ((f.a[0]-e.a[0])*d2[1] - (f.a[1]-e.a[1])*d2[0]) / den
	return orb.Point{round7(e.a[0] + t*d1[0]), round7(e.a[1] + t*d1[1])}
}

// round7 keeps a computed point to GeoJSON's customary seven decimals
// (about a centimetre) so messages do not show float noise.
func round7(x float64) float64 {
	return math.Round(x*1e7) / 1e7
}

type contact int

const (
	none    contact = iota
	touch           // the segments meet at one point that is an end of one of them
	cross           // the segments cross at a point inside both
	overlap         // the segments share a stretch
)

func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

func intersect(a, b, c, d orb.Point) contact {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if o1 == 0 && o2 == 0 {
		// Collinear: they overlap when their projections share more than a point.
		ax, bx, cx, dx := a[0], b[0], c[0], d[0]
		if ax == bx {
			ax, bx, cx, dx = a[1], b[1], c[1], d[1]
		}
		lo1, hi1 := math.Min(ax, bx), math.Max(ax, bx)
		lo2, hi2 := math.Min(cx, dx), math.Max(cx, dx)
		lo, hi := math.Max(lo1, lo2), math.Min(hi1, hi2)
		switch {
		case lo < hi:
			return overlap
		case lo == hi:
			return touch
		}
		return none
	}
	if o1 != o2 && o3 != o4 {
		if o1 == 0 || o2 == 0 || o3 == 0 || o4 == 0 {
			return touch
		}
		return cross
	}
	if (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b)) {
		return touch
	}
	return none
}

// nesting checks, once no rings cross, that every hole lies inside its
// shell and outside its sibling holes, and that no polygon lies inside the
// filled part of another.
func (v *validator) nesting(mp orb.MultiPolygon) {
	for pi, p := range mp {
		for ri := 1; ri < len(p); ri++ {
			switch side(p[0], p[ri]) {
			case outside:
				v.add(where(pi, ri, -1), "hole lies outside the outer ring")
				continue
			}
			for rj := 1; rj < len(p); rj++ {
				if rj != ri && side(p[rj], p[ri]) == inside {
					v.add(where(pi, ri, -1), "hole lies inside hole %d", rj)
				}
			}
		}
	}
	for pi, p := range mp {
		for qi, q := range mp {
			if pi == qi || side(q[0], p[0]) != inside {
				continue
			}
			inHole := false
			for _, h := range q[1:] {
				if side(h, p[0]) == inside {
					inHole = true
					break
				}
			}
			if !inHole {
				v.add(where(pi, -1, -1), "polygon lies inside polygon %d: polygons of a MultiPolygon must not overlap", qi+1)
			}
		}
	}
}

type placement int

const (
	onBoundary placement = iota
	inside
	outside
)

// side says where ring r lies relative to ring outer, given that they do not
// cross: the first corner of r not on outer's boundary decides; failing
// that, the middle of an edge.
func side(outer, r orb.Ring) placement {
	for _, pt := range r {
		if s := pointIn(outer, pt); s != onBoundary {
			return s
		}
	}
	for i := 0; i+1 < len(r); i++ {
		mid := orb.Point{(r[i][0] + r[i+1][0]) / 2, (r[i][1] + r[i+1][1]) / 2}
		if s := pointIn(outer, mid); s != onBoundary {
			return s
		}
	}
	return onBoundary
}

func pointIn(r orb.Ring, p orb.Point) placement {
	in := false
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if orient(a, b, p) == 0 && onSegment(a, b, p) {
			return onBoundary
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	if in {
		return inside
	}
	return outside
}

// normalise returns the validated geometry deduplicated and oriented as
// RFC 7946 recommends.
func normalise(mp orb.MultiPolygon) orb.MultiPolygon {
	out := dedupe(mp)
	for _, p := range out {
		for ri, r := range p {
			ccw := ringArea(r) > 0
			if (ri == 0) != ccw {
				r.Reverse()
			}
		}
	}
	return out
}
