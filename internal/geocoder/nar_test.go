package geocoder_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"changemaker/internal/geocoder"
	"changemaker/internal/geocoder/geocodertest"
	"changemaker/internal/testenv"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestNARFindsAddressesWrittenDifferently: typed addresses meet the
// register rows they name, however they are written.
func TestNARFindsAddressesWrittenDifferently(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	ctx := context.Background()
	type bldg struct {
		row geocodertest.NARRow
		id  int64
	}
	rows := map[string]*bldg{
		"main": {row: geocodertest.NARRow{Civic: "123", Street: "Main", Type: "ST", Dir: "N", City: "Ottawa",
			Province: "ON", PostalCode: "K1A 0B1", Lat: 45.4201, Lng: -75.7003, Units: []string{"101", "102"}}},
		"denis": {row: geocodertest.NARRow{Civic: "1234", Street: "Saint-Denis", Type: "RUE", City: "Montréal",
			Province: "QC", PostalCode: "H2X 3J6", Lat: 45.5155, Lng: -73.5637, Units: []string{"4"}}},
		"rene": {row: geocodertest.NARRow{Civic: "500", Street: "René-Lévesque", Type: "BOUL", Dir: "O",
			City: "Montréal", Province: "QC", PostalCode: "H2Z 1W7", Lat: 45.5017, Lng: -73.5673}},
		"cdn": {row: geocodertest.NARRow{Civic: "3000", Street: "Côte-des-Neiges", Type: "CH", City: "Montréal",
			Province: "QC", Lat: 45.49, Lng: -73.61}},
		"first": {row: geocodertest.NARRow{Civic: "45", Street: "1st", Type: "AVE", City: "Ottawa", Province: "ON",
			PostalCode: "K1S 2G5", Lat: 45.3990, Lng: -75.6890}},
		"elm": {row: geocodertest.NARRow{Civic: "12", Suffix: "A", Street: "Elm", Type: "CRES", City: "Kanata",
			Province: "ON", Lat: 45.3, Lng: -75.9}},
		// The same street address in two towns: only the town or the
		// postal code tells them apart.
		"king-kingston": {row: geocodertest.NARRow{Civic: "10", Street: "King", Type: "ST", Dir: "E", City: "Kingston",
			Province: "ON", PostalCode: "K7L 2Z6", Lat: 44.2312, Lng: -76.4860}},
		"king-toronto": {row: geocodertest.NARRow{Civic: "10", Street: "King", Type: "ST", Dir: "E", City: "Toronto",
			Province: "ON", PostalCode: "M5C 1C3", Lat: 43.6490, Lng: -79.3776}},
	}
	for _, b := range rows {
		b.id = geocodertest.AddNAR(t, store, b.row)
	}
	nar := &geocoder.NAR{Store: store}
	cases := []struct {
		typed    string
		want     string // key of rows; "" no match
		wantConf int    // 0: any
	}{
		{"123 Main Street North, Ottawa", "main", 95},
		{"123 main st. n", "main", 95},
		{"Apt 101, 123 MAIN ST NORTH, Ottawa ON K1A 0B1", "main", 100},
		{"#101-123 Main St N", "main", 100},
		{"101-123 Main St N", "main", 100},
		{"Unit 101 123 Main St. N.", "main", 100},
		{"123 Main St N #999", "main", 85},     // the building is right, the register has no unit 999
		{"123 Main St N, K2P 1A1", "main", 75}, // another postal code: still the only building
		{"1234 rue St-Denis app. 4", "denis", 100},
		{"4-1234 RUE SAINT DENIS, Montreal", "denis", 100},
		{"500 boulevard René-Lévesque Ouest", "rene", 95},
		{"500 Blvd Rene Levesque West, Montréal", "rene", 95},
		{"45 First Avenue", "first", 95},
		{"12a Elm Crescent", "elm", 95},
		{"12 A Elm Cres, Kanata", "elm", 95},
		{"10 King St E, Kingston, ON", "king-kingston", 95},
		{"10 King Street East, Toronto", "king-toronto", 95},
		{"10 King St E, M5C 1C3", "king-toronto", 95},
		{"1234 Saint-Denis, Montréal", "denis", 85},      // no street type typed
		{"3000 chemin de la Côte-des-Neiges", "cdn", 85}, // an article the register does not write
		{"10 King St E", "", 0},                          // two towns, nothing says which
		{"123 Main St S", "", 0},                         // another direction is another street
		{"124 Main St N", "", 0},                         // another door
		{"123 Main Ave N", "", 0},                        // another street type
		{"Main Street", "", 0},                           // no civic number
		{"1234 Saint-Denis St", "", 0},                   // a street is not a rue
	}
	for _, tc := range cases {
		r, err := nar.Geocode(ctx, tc.typed)
		if tc.want == "" {
			if !errors.Is(err, geocoder.ErrNotFound) {
				t.Errorf("%q: got %+v, %v; want no match", tc.typed, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v; want %s", tc.typed, err, tc.want)
			continue
		}
		b := rows[tc.want]
		if !near(r.Lat, b.row.Lat) || !near(r.Lng, b.row.Lng) || r.Provider != "nar" {
			t.Errorf("%q: got %+v; want the point of %s (%v, %v)", tc.typed, r, tc.want, b.row.Lat, b.row.Lng)
		}
		if tc.wantConf != 0 && r.Confidence != tc.wantConf {
			t.Errorf("%q: confidence %d, want %d", tc.typed, r.Confidence, tc.wantConf)
		}
	}

	t.Run("reverse", func(t *testing.T) {
		main := rows["main"].row
		// About 11 m north of 123 Main St N.
		r, err := nar.Reverse(ctx, main.Lat+0.0001, main.Lng)
		if err != nil {
			t.Fatal(err)
		}
		if r.Address != "123 Main ST N, Ottawa ON K1A 0B1" || !near(r.Lat, main.Lat) || r.Confidence != 75 {
			t.Fatalf("reverse = %+v", r)
		}
		// Nothing of the register within 100 m of the middle of Lake Ontario.
		if _, err := nar.Reverse(ctx, 43.7, -77.9); !errors.Is(err, geocoder.ErrNotFound) {
			t.Fatalf("reverse far away: %v", err)
		}
	})
}
