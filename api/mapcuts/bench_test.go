package mapcuts_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// The benchmark city: the locations are spread uniformly over this box
// (about 31 × 33 km, the size of a large Canadian city), so a city-zoom tile
// and a cut hold what they would in a real one.
const (
	benchMinLng, benchMinLat = -75.90, 45.25
	benchWidth, benchHeight  = 0.40, 0.30
	// benchCutShare is the share of the box the stats cut covers: 5 %, which
	// is 50,000 locations of 1,000,000.
	benchCutShare = 0.05
)

// LoadBenchLocations fills an empty database with n locations in the
// benchmark box and about 1.2 units each (70 % with a support level), with
// generate_series inside Postgres (no rows cross the network), then
// ANALYZEs. sorted stores the rows in spatial order (by geohash), as
// `CLUSTER map_locations USING map_locations_geom_idx` leaves them;
// otherwise they lie in random order, the worst case for every spatial
// query (each point found costs a heap page read). A million take about
// two minutes on the shared development machine.
func LoadBenchLocations(ctx context.Context, pool *pgxpool.Pool, n int, sorted bool) error {
	order := "g"
	if sorted {
		order = "ST_GeoHash(p, 9)"
	}
	for _, q := range []string{
		`SELECT setseed(0.42)`,
		fmt.Sprintf(`INSERT INTO map_locations (address, city, province, geom, source)
			SELECT g || ' Bench St', 'Benchville', 'ON', p, 'CSV'
			FROM (SELECT g, ST_SetSRID(ST_MakePoint(%g + random() * %g, %g + random() * %g), 4326) AS p
			      FROM generate_series(1, %d) g) s
			ORDER BY %s`, benchMinLng, benchWidth, benchMinLat, benchHeight, n, order),
		`INSERT INTO map_units (location_id, unit_label, resident_name, support_level)
			SELECT id, '', 'Resident ' || id,
			       CASE WHEN random() < 0.7 THEN (1 + floor(random() * 4))::smallint END
			FROM map_locations`,
		`INSERT INTO map_units (location_id, unit_label, support_level)
			SELECT id, '2', CASE WHEN random() < 0.7 THEN (1 + floor(random() * 4))::smallint END
			FROM map_locations WHERE id % 5 = 0`,
		`ANALYZE map_locations`,
		`ANALYZE map_units`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("load bench locations: %w", err)
		}
	}
	return nil
}

// benchSorted is MAP_BENCH_LAYOUT: "sorted" (the default) or "random".
func benchSorted(b *testing.B) bool {
	switch s := os.Getenv("MAP_BENCH_LAYOUT"); s {
	case "", "sorted":
		return true
	case "random":
		return false
	default:
		b.Fatalf("MAP_BENCH_LAYOUT=%q: want sorted or random", s)
		return false
	}
}

// benchCount is MAP_BENCH_LOCATIONS, default 20,000 (the figure is
// 1,000,000: run that on a quiet machine).
func benchCount(b *testing.B) int {
	n := 20_000
	if s := os.Getenv("MAP_BENCH_LOCATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("MAP_BENCH_LOCATIONS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// BenchmarkMapAtScale loads MAP_BENCH_LOCATIONS locations (laid out as
// MAP_BENCH_LAYOUT says), then measures,
// in-process through the whole main API (middleware, auth, handler,
// Postgres): the first page of a cut's locations, tiles at a city zoom and
// at street zoom, and the stats of a cut holding 5 % of the locations.
// Each reports p50-ms and p95-ms over its b.N requests; run with
// -benchtime=200x for a steady p95:
//
//	MAP_BENCH_LOCATIONS=1000000 go test -run '^$' -bench MapAtScale -benchtime 200x -timeout 1h ./api/mapcuts/
func BenchmarkMapAtScale(b *testing.B) {
	n := benchCount(b)
	env := testenv.NewAPI(b)
	ctx := context.Background()
	start := time.Now()
	sorted := benchSorted(b)
	if err := LoadBenchLocations(ctx, env.Store.Pool, n, sorted); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d locations (sorted: %v) in %s", n, sorted, time.Since(start).Round(time.Millisecond))
	tok := env.TokenFor(storage.RoleMapAdmin)

	side := math.Sqrt(benchCutShare)
	cx, cy := benchMinLng+benchWidth/2, benchMinLat+benchHeight/2
	w, h := benchWidth*side/2, benchHeight*side/2
	geom := fmt.Sprintf(`{"type":"MultiPolygon","coordinates":[[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]]}`,
		cx-w, cy-h, cx+w, cy-h, cx+w, cy+h, cx-w, cy+h, cx-w, cy-h)
	name := "Bench cut"
	cut, err := env.Store.CreateCut(ctx, storage.CutFields{Name: &name, Geometry: &geom}, 0)
	if err != nil {
		b.Fatal(err)
	}
	stats, err := env.Store.CutStats(ctx, cut.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the cut holds %d locations, %d units", stats.Locations, stats.Units)

	city := maptile.At(orb.Point{cx, cy}, 12)
	street := maptile.At(orb.Point{cx, cy}, 15)
	for _, bc := range []struct{ name, path string }{
		{"cut-locations-first-page", fmt.Sprintf("/api/map/cuts/%d/locations?limit=20", cut.ID)},
		{"admin-tile-z12-city", fmt.Sprintf("/api/map/tiles/12/%d/%d.mvt", city.X, city.Y)},
		{"public-tile-z12-city", fmt.Sprintf("/api/public/map/tiles/12/%d/%d.mvt", city.X, city.Y)},
		{"admin-tile-z15-street", fmt.Sprintf("/api/map/tiles/15/%d/%d.mvt", street.X, street.Y)},
		{"cut-stats", fmt.Sprintf("/api/map/cuts/%d/stats", cut.ID)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			size := 0
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				res, err := env.Main.Test(req, -1)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(t0))
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s = %d %v %.200s", bc.path, res.StatusCode, err, body)
				}
				size = len(body)
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[int(math.Ceil(p*float64(len(lat))))-1].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(size), "bytes")
		})
	}
}
