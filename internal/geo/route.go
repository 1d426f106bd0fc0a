package geo

import (
	"math"
	"slices"
)

// EarthRadius is the mean Earth radius in metres (IUGG), the one the
// haversine distances here use.
const EarthRadius = 6371008.8

// LatLng is a point in WGS84 degrees. It is spelled out rather than an
// orb.Point so that latitude and longitude cannot be swapped by accident.
type LatLng struct {
	Lat, Lng float64
}

// Distance is the great-circle (haversine) distance between a and b in
// metres.
func Distance(a, b LatLng) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(s)))
}

// RouteLength is the walk in metres from start through stops in the given
// order.
func RouteLength(start LatLng, stops []LatLng, order []int) float64 {
	total := 0.0
	prev := start
	for _, i := range order {
		total += Distance(prev, stops[i])
		prev = stops[i]
	}
	return total
}

// NearestNeighbourRoute orders stops by always walking to the closest one
// not yet visited (ties to the lower index). It is the baseline OrderRoute
// improves on.
func NearestNeighbourRoute(start LatLng, stops []LatLng) []int {
	return stopOrder(newRouteSpace(start, stops).nearestNeighbour())
}

// stopOrder turns a tour of node numbers into indexes into stops.
func stopOrder(tour []int) []int {
	out := make([]int, len(tour)-1)
	for i, v := range tour[1:] {
		out[i] = v - 1
	}
	return out
}

// OrderRoute orders canvassing stops into a walking route from start: an
// open path (the walk ends at the last door, it does not come back) that
// begins at the stop nearest start. It builds the nearest-neighbour route
// and improves it with 2-opt and Or-opt moves until neither finds a shorter
// path, so the result is never longer than nearest neighbour. The result
// lists indexes into stops; the same input always gives the same order.
// Positions are expected to be real coordinates (they come from PostGIS);
// a NaN does not panic but its stop lands wherever the search leaves it.
func OrderRoute(start LatLng, stops []LatLng) []int {
	if len(stops) <= 2 {
		return NearestNeighbourRoute(start, stops)
	}
	s := newRouteSpace(start, stops)
	tour := s.nearestNeighbour()
	s.improve(tour)
	return stopOrder(tour)
}

// routeNeighbours is how many nearest stops each stop considers linking to.
// Good moves almost always join near neighbours; a short list keeps a pass
// linear instead of quadratic.
const routeNeighbours = 12

// maxMatrixStops bounds the distance cache (n² float64s; 2,000 stops is
// 32 MB). Larger routes compute every distance they need.
const maxMatrixStops = 2000

// routeSpace numbers the start 0 and stop i as i+1. Points are kept as unit
// vectors: the straight-line (chord) distance between two of them orders
// pairs exactly as the great-circle distance does, without trigonometry,
// and 2·R·asin(chord/2) is the haversine distance itself. Great-circle
// lengths are computed only for pairs the search looks at, and remembered.
type routeSpace struct {
	xyz   [][3]float64
	n     int
	table []float64 // n×n great-circle metres, NaN until computed; nil past maxMatrixStops
	near  [][]int32
}

func newRouteSpace(start LatLng, stops []LatLng) *routeSpace {
	const rad = math.Pi / 180
	s := &routeSpace{n: len(stops) + 1}
	s.xyz = make([][3]float64, 0, s.n)
	for _, p := range append([]LatLng{start}, stops...) {
		lat, lng := p.Lat*rad, p.Lng*rad
		s.xyz = append(s.xyz, [3]float64{math.Cos(lat) * math.Cos(lng), math.Cos(lat) * math.Sin(lng), math.Sin(lat)})
	}
	if s.n <= maxMatrixStops+1 {
		s.table = make([]float64, s.n*s.n)
		for i := range s.table {
			s.table[i] = math.NaN()
		}
	}
	return s
}

// chord2 is the squared chord between nodes i and j on the unit sphere.
func (s *routeSpace) chord2(i, j int) float64 {
	a, b := &s.xyz[i], &s.xyz[j]
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dx*dx + dy*dy + dz*dz
}

// d is the great-circle distance between nodes i and j in metres.
func (s *routeSpace) d(i, j int) float64 {
	if s.table == nil {
		return s.arc(i, j)
	}
	k := i*s.n + j
	if v := s.table[k]; v == v {
		return v
	}
	v := s.arc(i, j)
	s.table[k] = v
	s.table[j*s.n+i] = v
	return v
}

func (s *routeSpace) arc(i, j int) float64 {
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(s.chord2(i, j))/2))
}

// nearestNeighbour returns the tour as node numbers, the start first.
func (s *routeSpace) nearestNeighbour() []int {
	tour := make([]int, 1, s.n)
	visited := make([]bool, s.n)
	visited[0] = true
	cur := 0
	for len(tour) < s.n {
		best, bestD := -1, math.Inf(1)
		for j := 1; j < s.n; j++ {
			if !visited[j] {
				if dj := s.chord2(cur, j); dj < bestD {
					best, bestD = j, dj
				}
			}
		}
		if best < 0 {
			// Only NaN distances are left (a stop without a real
			// position): take them in input order rather than fail.
			for j := 1; j < s.n && best < 0; j++ {
				if !visited[j] {
					best = j
				}
			}
		}
		visited[best] = true
		tour = append(tour, best)
		cur = best
	}
	return tour
}

// neighbours lists, for every node, the routeNeighbours nearest stops,
// nearest first (ties to the lower number), by insertion into a short list.
func (s *routeSpace) neighbours() {
	k := routeNeighbours
	if k > s.n-1 {
		k = s.n - 1
	}
	s.near = make([][]int32, s.n)
	dist := make([]float64, 0, k+1)
	for i := 0; i < s.n; i++ {
		list := make([]int32, 0, k+1)
		dist = dist[:0]
		for j := 1; j < s.n; j++ {
			if j == i {
				continue
			}
			dj := s.chord2(i, j)
			if len(list) == k && dj >= dist[k-1] {
				continue
			}
			at := len(list)
			for at > 0 && dist[at-1] > dj {
				at--
			}
			list = slices.Insert(list, at, int32(j))
			dist = slices.Insert(dist, at, dj)
			if len(list) > k {
				list, dist = list[:k], dist[:k]
			}
		}
		s.near[i] = list
	}
}

// eps ignores improvements below a millimetre, so float noise cannot make
// two moves undo each other forever.
const eps = 1e-3

// fixed is how many tour positions never move: the start and the stop
// nearest it, where the volunteer begins.
const fixed = 2

// maxRounds bounds the alternation of 2-opt and Or-opt; in practice it
// settles in a handful of rounds.
const maxRounds = 50

func (s *routeSpace) improve(tour []int) {
	s.neighbours()
	pos := make([]int, s.n)
	for round := 0; round < maxRounds; round++ {
		a := s.twoOpt(tour, pos)
		b := s.orOpt(tour, pos)
		if !a && !b {
			return
		}
	}
}

func (s *routeSpace) index(tour, pos []int) {
	for i, v := range tour {
		pos[v] = i
	}
}

// edge is the length of the link from tour position i to i+1, zero past
// the end of the open path.
func (s *routeSpace) edge(tour []int, i int) float64 {
	if i+1 >= len(tour) {
		return 0
	}
	return s.d(tour[i], tour[i+1])
}

// twoOpt reverses tour[i+1..j] when joining tour[i] to tour[j] and
// tour[i+1] to tour[j+1] is shorter; j at the end of the path just
// reverses the tail. It repeats until no such move is left.
func (s *routeSpace) twoOpt(tour, pos []int) bool {
	last := len(tour) - 1
	any := false
	for improved := true; improved; {
		improved = false
		s.index(tour, pos)
		for i := fixed - 1; i < last-1; i++ {
			a := tour[i]
			dab := s.edge(tour, i)
			try := func(j int) bool {
				if j <= i+1 {
					return false
				}
				delta := s.d(a, tour[j]) - dab
				if j < last {
					delta += s.d(tour[i+1], tour[j+1]) - s.edge(tour, j)
				}
				if delta < -eps {
					reverse(tour, i+1, j)
					s.index(tour, pos)
					return true
				}
				return false
			}
			// Joining a to its near neighbours, then the free tail end.
			for _, c := range s.near[a] {
				if s.d(a, int(c)) >= dab {
					break
				}
				if try(pos[c]) {
					improved, any = true, true
					dab = s.edge(tour, i)
				}
			}
			if try(last) {
				improved, any = true, true
			}
			// The mirror move: tour[i+1] joined to a near neighbour's
			// predecessor, found from tour[i+1]'s own list.
			b := tour[i+1]
			for _, c := range s.near[b] {
				if s.d(b, int(c)) >= s.edge(tour, i) {
					break
				}
				j := pos[c] - 1
				if j <= i+1 {
					continue
				}
				if try(j) {
					improved, any = true, true
					break
				}
			}
		}
	}
	return any
}

func reverse(tour []int, i, j int) {
	for ; i < j; i, j = i+1, j-1 {
		tour[i], tour[j] = tour[j], tour[i]
	}
}

// orOpt moves a run of one to three stops to sit between a near neighbour
// and the stop before or after it, reversed if that is shorter.
func (s *routeSpace) orOpt(tour, pos []int) bool {
	last := len(tour) - 1
	any := false
	buf := make([]int, 0, 3)
	for improved := true; improved; {
		improved = false
		s.index(tour, pos)
	segments:
		for i := fixed; i <= last; i++ {
			for l := 1; l <= 3 && i+l-1 <= last; l++ {
				j := i + l - 1 // the run is tour[i..j]
				p := tour[i-1]
				first, end := tour[i], tour[j]
				removeGain := s.d(p, first) + s.edge(tour, j)
				if j < last {
					removeGain -= s.d(p, tour[j+1])
				}
				for _, endpoint := range [2]int{first, end} {
					for _, c := range s.near[endpoint] {
						k := pos[c]
						if k >= i-1 && k <= j {
							continue
						}
						// Insert between tour[k] and tour[k+1], or between
						// tour[k-1] and tour[k].
						for _, at := range [2]int{k, k - 1} {
							if at < fixed-1 || (at >= i-1 && at <= j) {
								continue
							}
							x := tour[at]
							var addFwd, addRev float64
							if at < last {
								y := tour[at+1]
								base := s.d(x, y)
								addFwd = s.d(x, first) + s.d(end, y) - base
								addRev = s.d(x, end) + s.d(first, y) - base
							} else {
								addFwd = s.d(x, first)
								addRev = s.d(x, end)
							}
							rev := addRev < addFwd
							add := math.Min(addFwd, addRev)
							if add-removeGain < -eps {
								buf = append(buf[:0], tour[i:j+1]...)
								if rev {
									for a, b := 0, len(buf)-1; a < b; a, b = a+1, b-1 {
										buf[a], buf[b] = buf[b], buf[a]
									}
								}
								moveRun(tour, i, j, at, buf)
								s.index(tour, pos)
								improved, any = true, true
								continue segments
							}
						}
					}
				}
			}
		}
	}
	return any
}

// moveRun removes tour[i..j] and puts run (the same stops, maybe reversed)
// after what was tour[at].
func moveRun(tour []int, i, j, at int, run []int) {
	l := j - i + 1
	if at > j {
		copy(tour[i:], tour[j+1:at+1])
		copy(tour[at-l+1:], run)
	} else {
		copy(tour[at+1+l:], tour[at+1:i])
		copy(tour[at+1:], run)
	}
}
