package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// cityStops scatters n doors over a few square kilometres of Ottawa,
// clustered along streets the way a cut's addresses are, from a fixed seed.
func cityStops(seed uint64, n int) (LatLng, []LatLng) {
	r := rand.New(rand.NewPCG(seed, 7))
	start := LatLng{Lat: 45.4215, Lng: -75.6972}
	stops := make([]LatLng, n)
	for i := range stops {
		street := float64(r.IntN(25))
		if r.IntN(2) == 0 {
			// An east-west street: doors spread along it.
			stops[i] = LatLng{Lat: 45.41 + street*0.001 + r.NormFloat64()*0.00005, Lng: -75.72 + r.Float64()*0.05}
		} else {
			stops[i] = LatLng{Lat: 45.40 + r.Float64()*0.03, Lng: -75.72 + street*0.002 + r.NormFloat64()*0.00005}
		}
	}
	return start, stops
}

func uniformStops(seed uint64, n int) (LatLng, []LatLng) {
	r := rand.New(rand.NewPCG(seed, 11))
	stops := make([]LatLng, n)
	for i := range stops {
		stops[i] = LatLng{Lat: 45.40 + r.Float64()*0.04, Lng: -75.74 + r.Float64()*0.06}
	}
	return LatLng{Lat: 45.42, Lng: -75.71}, stops
}

func TestDistance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		a, b LatLng
		want float64 // metres
		tol  float64
	}{
		{"same point", LatLng{45.4, -75.7}, LatLng{45.4, -75.7}, 0, 0},
		{"one degree of latitude", LatLng{0, 0}, LatLng{1, 0}, 111195, 1},
		{"Ottawa to Montreal", LatLng{45.4215, -75.6972}, LatLng{45.5017, -73.5673}, 166300, 500},
		{"across the antimeridian", LatLng{0, 179.5}, LatLng{0, -179.5}, 111195, 1},
		{"antipodes", LatLng{0, 0}, LatLng{0, 180}, math.Pi * EarthRadius, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Distance(tc.a, tc.b); math.Abs(got-tc.want) > tc.tol {
				t.Fatalf("Distance = %.1f m, want %.1f ± %.1f", got, tc.want, tc.tol)
			}
		})
	}
}

func checkRoute(t *testing.T, start LatLng, stops []LatLng, order []int) {
	t.Helper()
	if len(order) != len(stops) {
		t.Fatalf("route has %d stops, want %d", len(order), len(stops))
	}
	seen := make([]bool, len(stops))
	for _, i := range order {
		if i < 0 || i >= len(stops) || seen[i] {
			t.Fatalf("route %v is not a permutation of the stops", order)
		}
		seen[i] = true
	}
	if len(stops) == 0 {
		return
	}
	nearest := Distance(start, stops[0])
	for _, s := range stops {
		nearest = math.Min(nearest, Distance(start, s))
	}
	if got := Distance(start, stops[order[0]]); got != nearest {
		t.Fatalf("route begins %.1f m from the start, but a stop is %.1f m away", got, nearest)
	}
}

func TestOrderRoute(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 3, 4, 5, 10, 50, 200, 500} {
		for seed := uint64(1); seed <= 3; seed++ {
			for name, gen := range map[string]func(uint64, int) (LatLng, []LatLng){"streets": cityStops, "uniform": uniformStops} {
				start, stops := gen(seed, n)
				order := OrderRoute(start, stops)
				checkRoute(t, start, stops, order)
				nn := NearestNeighbourRoute(start, stops)
				checkRoute(t, start, stops, nn)
				got, base := RouteLength(start, stops, order), RouteLength(start, stops, nn)
				if got > base+1e-6 {
					t.Errorf("%s n=%d seed=%d: route %.1f m is longer than nearest neighbour's %.1f m", name, n, seed, got, base)
				}
			}
		}
	}
}

func TestOrderRouteImprovesOnNearestNeighbour(t *testing.T) {
	t.Parallel()
	start, stops := uniformStops(42, 500)
	got := RouteLength(start, stops, OrderRoute(start, stops))
	base := RouteLength(start, stops, NearestNeighbourRoute(start, stops))
	if saved := 1 - got/base; saved < 0.08 {
		t.Fatalf("route %.0f m is only %.1f%% shorter than nearest neighbour's %.0f m; want at least 8%%", got, 100*saved, base)
	}
}

func TestOrderRouteFindsTheObviousWalk(t *testing.T) {
	t.Parallel()
	// Ten doors along one street given in shuffled order, the start at one
	// end: the only sensible walk goes straight down the street.
	start := LatLng{45.4000, -75.7000}
	var stops []LatLng
	for _, k := range []int{7, 2, 9, 0, 5, 3, 8, 1, 6, 4} {
		stops = append(stops, LatLng{45.4000, -75.6999 + float64(k)*0.0002})
	}
	order := OrderRoute(start, stops)
	want := []int{3, 7, 1, 5, 9, 4, 8, 0, 6, 2}
	if !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestOrderRouteIsDeterministic(t *testing.T) {
	t.Parallel()
	start, stops := cityStops(9, 300)
	first := OrderRoute(start, stops)
	for i := 0; i < 3; i++ {
		if again := OrderRoute(start, stops); !slices.Equal(first, again) {
			t.Fatal("the same stops gave two different routes")
		}
	}
}

func TestOrderRouteDuplicateStops(t *testing.T) {
	t.Parallel()
	// Several units of one building share a point.
	start := LatLng{45.4, -75.7}
	stops := []LatLng{{45.401, -75.7}, {45.401, -75.7}, {45.402, -75.7}, {45.401, -75.7}, {45.4, -75.7}}
	checkRoute(t, start, stops, OrderRoute(start, stops))
}

func TestRouteSpaceDistanceIsHaversine(t *testing.T) {
	t.Parallel()
	start, stops := uniformStops(3, 50)
	s := newRouteSpace(start, stops)
	for i := 0; i < len(stops); i++ {
		for j := 0; j < len(stops); j++ {
			if got, want := s.d(i+1, j+1), Distance(stops[i], stops[j]); math.Abs(got-want) > 1e-6 {
				t.Fatalf("stops %d,%d: %v m, haversine says %v m", i, j, got, want)
			}
		}
	}
}

func TestOrderRouteNaNDoesNotPanic(t *testing.T) {
	t.Parallel()
	start := LatLng{45.4, -75.7}
	stops := []LatLng{{45.401, -75.7}, {math.NaN(), -75.7}, {45.402, -75.7}, {45.403, math.NaN()}}
	order := OrderRoute(start, stops)
	seen := map[int]bool{}
	for _, i := range order {
		seen[i] = true
	}
	if len(order) != len(stops) || len(seen) != len(stops) {
		t.Fatalf("route %v is not a permutation", order)
	}
}

func TestOrderRouteWithoutDistanceTable(t *testing.T) {
	t.Parallel()
	start, stops := uniformStops(5, maxMatrixStops+1)
	s := newRouteSpace(start, stops)
	if s.table != nil {
		t.Fatal("a route past maxMatrixStops built the table")
	}
	if d := s.d(1, 2); math.Abs(d-Distance(stops[0], stops[1])) > 1e-6 {
		t.Fatalf("distance without the table = %v, want %v", d, Distance(stops[0], stops[1]))
	}
}

func TestOrderRoute500Fast(t *testing.T) {
	if testing.Short() || raceEnabled {
		// The time target is for a normal build; the race detector slows
		// this loop tenfold. The benchmark reports the real figure.
		return
	}
	t.Parallel()
	start, stops := uniformStops(1, 500)
	began := time.Now()
	OrderRoute(start, stops)
	if took := time.Since(began); took > time.Second {
		t.Fatalf("500 stops took %v; the target is 200 ms (a second allowed for a loaded machine)", took)
	}
}
