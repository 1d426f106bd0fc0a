package geocoder_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/internal/address"
	"changemaker/internal/geocoder"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// benchStreet is a street of the benchmark's register: civic numbers
// 1..max on it, every tenth a building of units 101..110.
type benchStreet struct {
	id                     string
	civicMax               int
	suffix                 string // for every civic: "A", "1/2"
	name, typ, dir         string // as the register spells them
	city, province, postal string
	lat, lng               float64
}

var benchStreets = []benchStreet{
	{id: "main", civicMax: 400, name: "Main", typ: "ST", dir: "N", city: "Ottawa", province: "ON", postal: "K1A 0B1", lat: 45.40, lng: -75.70},
	{id: "denis", civicMax: 2000, name: "Saint-Denis", typ: "RUE", city: "Montréal", province: "QC", postal: "H2X 3J6", lat: 45.51, lng: -73.56},
	{id: "rene", civicMax: 1500, name: "René-Lévesque", typ: "BOUL", dir: "O", city: "Montréal", province: "QC", lat: 45.50, lng: -73.57},
	{id: "first", civicMax: 200, name: "1st", typ: "AVE", city: "Ottawa", province: "ON", lat: 45.39, lng: -75.69},
	{id: "king-kingston", civicMax: 300, name: "King", typ: "ST", dir: "E", city: "Kingston", province: "ON", lat: 44.23, lng: -76.48},
	{id: "king-toronto", civicMax: 600, name: "King", typ: "ST", dir: "E", city: "Toronto", province: "ON", lat: 43.65, lng: -79.37},
	{id: "bank", civicMax: 1500, name: "Bank", typ: "ST", city: "Ottawa", province: "ON", lat: 45.41, lng: -75.69},
	{id: "oconnor", civicMax: 400, name: "O'Connor", typ: "ST", city: "Ottawa", province: "ON", lat: 45.418, lng: -75.695},
	{id: "catherine", civicMax: 2500, name: "Sainte-Catherine", typ: "RUE", dir: "O", city: "Montréal", province: "QC", lat: 45.50, lng: -73.575},
	{id: "lac", civicMax: 3000, name: "du Lac", typ: "CH", city: "Lac-Beauport", province: "QC", lat: 46.95, lng: -71.29},
	{id: "queen", civicMax: 800, name: "Queen", typ: "ST", dir: "W", city: "Toronto", province: "ON", lat: 43.65, lng: -79.39},
	{id: "cdn", civicMax: 5000, name: "Côte-des-Neiges", typ: "CH", city: "Montréal", province: "QC", lat: 45.49, lng: -73.61},
	{id: "mtpleasant", civicMax: 500, name: "Mount Pleasant", typ: "RD", city: "Toronto", province: "ON", lat: 43.70, lng: -79.39},
	{id: "avenueroad", civicMax: 300, name: "Avenue", typ: "RD", city: "Toronto", province: "ON", lat: 43.67, lng: -79.39},
	{id: "elm-a", civicMax: 40, suffix: "A", name: "Elm", typ: "CRES", city: "Kanata", province: "ON", lat: 45.30, lng: -75.90},
	{id: "queen-half", civicMax: 40, suffix: "1/2", name: "Queen", typ: "ST", city: "Kanata", province: "ON", lat: 45.31, lng: -75.91},
	{id: "maple", civicMax: 60, name: "Maple", typ: "CRT", city: "Barrie", province: "ON", lat: 44.39, lng: -79.69},
	{id: "principale", civicMax: 100, name: "Principale", typ: "RUE", dir: "NE", city: "Gatineau", province: "QC", lat: 45.48, lng: -75.70},
	{id: "robson", civicMax: 1500, name: "Robson", typ: "ST", city: "Vancouver", province: "BC", postal: "V6Z 3B7", lat: 49.28, lng: -123.12},
	{id: "elgin", civicMax: 10, name: "Elgin", typ: "ST", city: "Ottawa", province: "ON", lat: 45.42, lng: -75.69},
}

// point puts civic c of street s on a line, about 10 m a number.
func (s benchStreet) point(c int) (lat, lng float64) {
	return s.lat + float64(c)*0.0001, s.lng
}

type benchCase struct {
	typed    string
	civic    int
	streetID string // "" for an expected miss
}

func readTyped(b *testing.B) []benchCase {
	f, err := os.Open("testdata/typed_addresses.txt")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []benchCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			b.Fatalf("bad line %q", line)
		}
		c := benchCase{typed: strings.TrimSpace(parts[0])}
		if id := strings.TrimSpace(parts[2]); id != "-" {
			c.streetID = id
			if c.civic, err = strconv.Atoi(strings.TrimSpace(parts[1])); err != nil {
				b.Fatalf("bad civic in %q", line)
			}
		}
		out = append(out, c)
	}
	return out
}

// loadRegister writes the benchmark's register with COPY, as the import
// does: about 17,000 buildings and 17,000 units.
func loadRegister(b *testing.B, store *storage.Store) int {
	ctx := context.Background()
	var locs [][]any
	for _, s := range benchStreets {
		for c := 1; c <= s.civicMax; c++ {
			civic := strconv.Itoa(c)
			line := civic + s.suffix + " " + s.name + " " + s.typ
			if s.dir != "" {
				line += " " + s.dir
			}
			key := address.FromParts(civic, s.suffix, s.name, s.typ, s.dir, "").Building().String()
			lat, lng := s.point(c)
			locs = append(locs, []any{line, s.city, s.province, s.postal, "NAR",
				s.id + "-" + civic, key, "POINT(" + strconv.FormatFloat(lng, 'f', 7, 64) + " " + strconv.FormatFloat(lat, 'f', 7, 64) + ")"})
		}
	}
	// COPY into a staging table, then one INSERT that builds the points.
	err := store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE bench_locs (address text, city text, province text,
			postal_code text, source text, source_id text, address_key text, wkt text) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_locs"},
			[]string{"address", "city", "province", "postal_code", "source", "source_id", "address_key", "wkt"},
			pgx.CopyFromRows(locs)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO map_locations (address, city, province, postal_code, source, source_id,
			address_key, geom) SELECT address, city, province, postal_code, source, source_id, address_key,
			ST_GeomFromText(wkt, 4326) FROM bench_locs`); err != nil {
			return err
		}
		// Every tenth building holds apartments 101..110.
		_, err := tx.Exec(ctx, `INSERT INTO map_units (location_id, unit_label, source_id)
			SELECT l.id, u::text, l.source_id || '-' || u FROM map_locations l, generate_series(101, 110) u
			WHERE l.source = 'NAR' AND l.id % 10 = 0`)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Pool.Exec(ctx, `ANALYZE map_locations; ANALYZE map_units`); err != nil {
		b.Fatal(err)
	}
	return len(locs)
}

// BenchmarkNAR measures the nar geocoder on one goroutine (one worker's
// share): addresses a second over the typed list, and the list's hit rate
// (the right building found; an expected miss counts as a hit when nothing
// is found).
func BenchmarkNAR(b *testing.B) {
	store := testenv.DB(b)
	n := loadRegister(b, store)
	cases := readTyped(b)
	streets := map[string]benchStreet{}
	for _, s := range benchStreets {
		streets[s.id] = s
	}
	nar := &geocoder.NAR{Store: store}
	ctx := context.Background()

	right := 0
	for _, c := range cases {
		r, err := nar.Geocode(ctx, c.typed)
		if c.streetID == "" {
			if err == nil {
				b.Logf("false match: %q → %s", c.typed, r.Address)
			} else {
				right++
			}
			continue
		}
		lat, lng := streets[c.streetID].point(c.civic)
		if err != nil || !near(r.Lat, lat) || !near(r.Lng, lng) {
			b.Logf("miss: %q → %+v, %v", c.typed, r, err)
			continue
		}
		right++
	}

	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		_, _ = nar.Geocode(ctx, cases[i%len(cases)].typed)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "addr/s")
	b.ReportMetric(100*float64(right)/float64(len(cases)), "hit-%")
	b.ReportMetric(float64(n), "buildings")
}
