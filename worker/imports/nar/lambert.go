package nar

import "math"

// Statistics Canada Lambert, EPSG:3347: NAD83 (GRS80 ellipsoid), Lambert
// Conic Conformal with two standard parallels (EPSG method 9802).
const (
	grs80A      = 6378137.0
	grs80InvF   = 298.257222101
	statCanLat1 = 49.0
	statCanLat2 = 77.0
	statCanLatF = 63.390675
	statCanLonF = -(91 + 52.0/60) // 91°52'W; often written -91.866667
	statCanFE   = 6200000.0
	statCanFN   = 3000000.0
)

// LambertToLatLng converts Statistics Canada Lambert coordinates (EPSG:3347,
// as in the NAR's BG_X and BG_Y) to NAD83 latitude and longitude in degrees.
func LambertToLatLng(x, y float64) (lat, lng float64) {
	return statCanLambert().inverse(x, y)
}

// LatLngToLambert is the forward projection, EPSG:3347 from NAD83 degrees.
func LatLngToLambert(lat, lng float64) (x, y float64) {
	return statCanLambert().forward(lat, lng)
}

// statCanLambert is built on each call rather than kept in a package
// variable; readers build it once.
func statCanLambert() lcc {
	return newLCC(grs80A, grs80InvF, statCanLat1, statCanLat2, statCanLatF, statCanLonF, statCanFE, statCanFN)
}

// lcc is a Lambert Conic Conformal (2SP) projection on an ellipsoid, as
// given in IOGP Publication 373-7-2 (EPSG Guidance Note 7-2), section
// "Lambert Conic Conformal (2SP)". Angles are kept in radians, lengths in
// the unit of a, fe and fn.
type lcc struct {
	a, e   float64
	lonF   float64
	fe, fn float64
	n      float64
	aF     float64 // a·F
	rF     float64 // radius at the false origin's latitude
}

func newLCC(a, invF, lat1, lat2, latF, lonF, fe, fn float64) lcc {
	f := 1 / invF
	e := math.Sqrt(2*f - f*f)
	p1, p2, pF := rad(lat1), rad(lat2), rad(latF)
	m1, m2 := lccM(p1, e), lccM(p2, e)
	t1, t2, tF := lccT(p1, e), lccT(p2, e), lccT(pF, e)
	var n float64
	if lat1 == lat2 {
		n = math.Sin(p1)
	} else {
		n = (math.Log(m1) - math.Log(m2)) / (math.Log(t1) - math.Log(t2))
	}
	F := m1 / (n * math.Pow(t1, n))
	return lcc{
		a: a, e: e, lonF: rad(lonF), fe: fe, fn: fn, n: n,
		aF: a * F,
		rF: a * F * math.Pow(tF, n),
	}
}

func (p lcc) forward(lat, lng float64) (x, y float64) {
	r := p.aF * math.Pow(lccT(rad(lat), p.e), p.n)
	theta := p.n * (rad(lng) - p.lonF)
	return p.fe + r*math.Sin(theta), p.fn + p.rF - r*math.Cos(theta)
}

func (p lcc) inverse(x, y float64) (lat, lng float64) {
	dx, dy := x-p.fe, p.rF-(y-p.fn)
	sign := 1.0
	if p.n < 0 {
		sign = -1
	}
	r := sign * math.Hypot(dx, dy)
	t := math.Pow(r/p.aF, 1/p.n)
	theta := math.Atan2(sign*dx, sign*dy)
	// Latitude has no closed form: iterate phi = pi/2 - 2 atan(t·((1-e sin phi)/(1+e sin phi))^(e/2)).
	// It converges to below 1e-12 rad (sub-millimetre) in a handful of steps.
	phi := math.Pi/2 - 2*math.Atan(t)
	for i := 0; i < 15; i++ {
		es := p.e * math.Sin(phi)
		next := math.Pi/2 - 2*math.Atan(t*math.Pow((1-es)/(1+es), p.e/2))
		if math.Abs(next-phi) < 1e-12 {
			phi = next
			break
		}
		phi = next
	}
	return deg(phi), deg(theta/p.n + p.lonF)
}

func lccM(phi, e float64) float64 {
	es := e * math.Sin(phi)
	return math.Cos(phi) / math.Sqrt(1-es*es)
}

func lccT(phi, e float64) float64 {
	es := e * math.Sin(phi)
	return math.Tan(math.Pi/4-phi/2) / math.Pow((1-es)/(1+es), e/2)
}

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }
