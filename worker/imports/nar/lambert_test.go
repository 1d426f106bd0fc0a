package nar

import (
	"math"
	"testing"
)

// Reference values computed once with PROJ 9.1.1 (through PostGIS 3.3.2:
// ST_Transform(ST_SetSRID(ST_MakePoint(lng, lat), 4269), 3347)), whose
// EPSG:3347 definition is "+proj=lcc +lat_1=49 +lat_2=77 +lat_0=63.390675
// +lon_0=-91.86666666666666 +x_0=6200000 +y_0=3000000 +datum=NAD83".
var statCanReference = []struct {
	place    string
	lat, lng float64
	x, y     float64
}{
	{"false origin", 63.390675, -(91 + 52.0/60), 6200000, 3000000},
	{"Ottawa", 45.4236, -75.7009, 7470897.6003, 1190799.4469},
	{"Toronto", 43.6426, -79.3871, 7224736.5976, 927453.1288},
	{"Vancouver", 49.2827, -123.1207, 4018834.4056, 2007337.1902},
	{"Halifax", 44.6488, -63.5752, 8412589.7562, 1441177.0485},
	{"Iqaluit", 63.7467, -68.5170, 7292762.3627, 3241335.3262},
	{"Whitehorse", 60.7212, -135.0568, 4082387.2518, 3459268.4769},
	{"St. John's", 47.5615, -52.7126, 8980061.6556, 2152320.0161},
	{"Point Pelee", 41.9, -82.5, 7000513.3504, 686476.0540},
	{"Alert", 82.5, -62.35, 6634658.8927, 5214727.4304},
}

func TestLambertMatchesPROJ(t *testing.T) {
	t.Parallel()
	for _, ref := range statCanReference {
		t.Run(ref.place, func(t *testing.T) {
			t.Parallel()
			x, y := LatLngToLambert(ref.lat, ref.lng)
			// PROJ's values are rounded to 0.1 mm.
			if math.Abs(x-ref.x) > 0.001 || math.Abs(y-ref.y) > 0.001 {
				t.Errorf("forward(%v, %v) = (%.4f, %.4f), PROJ says (%.4f, %.4f)", ref.lat, ref.lng, x, y, ref.x, ref.y)
			}
			lat, lng := LambertToLatLng(ref.x, ref.y)
			// 1e-8 degrees is about a millimetre.
			if math.Abs(lat-ref.lat) > 1e-8 || math.Abs(lng-ref.lng) > 1e-8 {
				t.Errorf("inverse(%.4f, %.4f) = (%.10f, %.10f), want (%v, %v)", ref.x, ref.y, lat, lng, ref.lat, ref.lng)
			}
		})
	}
}

// PROJ's inverse of two arbitrary grid points, as a check that does not
// start from a round latitude and longitude.
func TestLambertInverseMatchesPROJ(t *testing.T) {
	t.Parallel()
	for _, ref := range []struct{ x, y, lat, lng float64 }{
		{7000000.5, 1500000.25, 49.015423918751, -80.874826593101},
		{4000000, 2500000, 53.070145064909, -126.890588958143},
	} {
		lat, lng := LambertToLatLng(ref.x, ref.y)
		if math.Abs(lat-ref.lat) > 1e-9 || math.Abs(lng-ref.lng) > 1e-9 {
			t.Errorf("inverse(%v, %v) = (%.12f, %.12f), PROJ says (%v, %v)", ref.x, ref.y, lat, lng, ref.lat, ref.lng)
		}
	}
}

// The worked example of EPSG Guidance Note 7-2 for Lambert Conic Conformal
// (2SP): NAD27 / Texas South Central (Clarke 1866, US survey feet), checks
// the general formulas independently of the EPSG:3347 parameters.
func TestLCCGuidanceNoteExample(t *testing.T) {
	t.Parallel()
	const ftUS = 1200.0 / 3937 // metres in a US survey foot
	p := newLCC(6378206.400, 294.97870,
		28+23.0/60, 30+17.0/60, // standard parallels
		27+50.0/60, -99, // false origin
		2000000*ftUS, 0)
	lat, lng := 28+30.0/60, -96.0
	x, y := p.forward(lat, lng)
	if e, n := x/ftUS, y/ftUS; math.Abs(e-2963503.91) > 0.01 || math.Abs(n-254759.80) > 0.01 {
		t.Errorf("forward = (%.3f, %.3f) ftUS, the guidance note says (2963503.91, 254759.80)", e, n)
	}
	gotLat, gotLng := p.inverse(2963503.91*ftUS, 254759.80*ftUS)
	if math.Abs(gotLat-lat) > 1e-7 || math.Abs(gotLng-lng) > 1e-7 {
		t.Errorf("inverse = (%.9f, %.9f), want (%v, %v)", gotLat, gotLng, lat, lng)
	}
}

// Round trips over all of Canada and a little beyond.
func TestLambertRoundTrip(t *testing.T) {
	t.Parallel()
	for lat := 40.0; lat <= 85; lat += 0.73 {
		for lng := -145.0; lng <= -50; lng += 1.17 {
			x, y := LatLngToLambert(lat, lng)
			gotLat, gotLng := LambertToLatLng(x, y)
			if math.Abs(gotLat-lat) > 1e-9 || math.Abs(gotLng-lng) > 1e-9 {
				t.Fatalf("(%v, %v) -> (%v, %v) -> (%v, %v)", lat, lng, x, y, gotLat, gotLng)
			}
		}
	}
}

func FuzzLambertRoundTrip(f *testing.F) {
	f.Add(45.4236, -75.7009)
	f.Add(82.5, -62.35)
	f.Add(41.9, -141.0)
	f.Fuzz(func(t *testing.T, lat, lng float64) {
		if math.IsNaN(lat) || math.IsNaN(lng) || !inCanada(lat, lng) {
			return
		}
		x, y := LatLngToLambert(lat, lng)
		gotLat, gotLng := LambertToLatLng(x, y)
		if math.Abs(gotLat-lat) > 1e-9 || math.Abs(gotLng-lng) > 1e-9 {
			t.Fatalf("(%v, %v) -> (%v, %v) -> (%v, %v)", lat, lng, x, y, gotLat, gotLng)
		}
	})
}

func BenchmarkLambertToLatLng(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		LambertToLatLng(7470897.6003+float64(i%1000), 1190799.4469)
	}
}
