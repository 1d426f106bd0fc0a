package mapcuts_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

func ptr[T any](v T) *T { return &v }

func seed(t *testing.T, env *testenv.API, addr string, lat, lng float64) storage.Location {
	t.Helper()
	loc, _, err := env.Store.FindOrCreateLocation(context.Background(), storage.LocationInput{Address: addr,
		Lat: &lat, Lng: &lng}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func square(minLng, minLat, maxLng, maxLat float64) string {
	return fmt.Sprintf("[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]", minLng, minLat, maxLng, minLat, maxLng, maxLat,
		minLng, maxLat, minLng, minLat)
}

func createCut(t *testing.T, env *testenv.API, tok string, body map[string]any) int64 {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/cuts", Body: body, Token: tok})
	if res.Status != 201 {
		t.Fatalf("create cut = %d %s", res.Status, res.Body)
	}
	var b struct {
		Cut struct {
			ID int64 `json:"id"`
		} `json:"cut"`
	}
	res.JSON(t, &b)
	return b.Cut.ID
}

func geometry(s string) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": rawJSON(s)}
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestCutRoutesRoles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	anon := ""
	user := env.TokenFor(storage.RoleUser)
	influence := env.TokenFor(storage.RoleInfluenceAdmin)
	temp := env.TokenFor(storage.RoleTemp)
	mapAdmin := env.TokenFor(storage.RoleMapAdmin)
	super := env.TokenFor(storage.RoleSuperAdmin)
	seed(t, env, "1 Role St", 45.40, -75.70)
	poly := map[string]any{"name": "Role cut", "isPublic": true, "geometry": geometry("[" + square(-75.8, 45.3, -75.6, 45.5) + "]")}
	fresh := func() int64 { return createCut(t, env, super, poly) }
	cutPath := func(suffix string) func() string {
		return func() string { return fmt.Sprintf("/api/map/cuts/%d%s", fresh(), suffix) }
	}
	static := func(p string) func() string { return func() string { return p } }
	tile := maptile.At(orb.Point{-75.70, 45.40}, 14)
	tilePath := fmt.Sprintf("/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	routes := []struct {
		method string
		path   func() string
		body   any
		ok     int
	}{
		{"GET", static("/api/map/cuts"), nil, 200},
		{"POST", static("/api/map/cuts"), poly, 201},
		{"GET", cutPath(""), nil, 200},
		{"PATCH", cutPath(""), map[string]any{"color": "#ff0000"}, 200},
		{"DELETE", cutPath(""), nil, 204},
		{"GET", cutPath("/locations"), nil, 200},
		{"GET", cutPath("/stats"), nil, 200},
		{"GET", cutPath("/export"), nil, 200},
		{"GET", static("/api/map/tiles" + tilePath), nil, 200},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path(), func(t *testing.T) {
			for _, c := range []struct {
				who, token string
				want       int
			}{
				{"anonymous", anon, 401}, {"USER", user, 403}, {"INFLUENCE_ADMIN", influence, 403},
				{"TEMP", temp, 403}, {"MAP_ADMIN", mapAdmin, r.ok}, {"SUPER_ADMIN", super, r.ok},
			} {
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path(), Body: r.body, Token: c.token})
				if res.Status != c.want {
					t.Errorf("%s: %d %.300s, want %d", c.who, res.Status, res.Body, c.want)
				}
			}
		})
	}
	// The public routes need no login, and a login changes nothing.
	for _, p := range []string{"/api/public/map/tiles" + tilePath, "/api/public/map/locations?bbox=-76,45,-75,46",
		"/api/public/map/cuts"} {
		for _, tok := range []string{anon, temp, super} {
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: p, Token: tok}); res.Status != 200 {
				t.Errorf("GET %s = %d %s, want 200", p, res.Status, res.Body)
			}
		}
	}
}

// cutLocationIDs lists the ids GET /api/map/cuts/:id/locations answers.
func cutLocationIDs(t *testing.T, env *testenv.API, tok string, cutID int64) []int64 {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d/locations?limit=100", cutID), Token: tok})
	if res.Status != 200 {
		t.Fatalf("cut locations = %d %s", res.Status, res.Body)
	}
	var b struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
		Pagination struct{ Total int } `json:"pagination"`
	}
	res.JSON(t, &b)
	out := []int64{}
	for _, d := range b.Data {
		out = append(out, d.ID)
	}
	if b.Pagination.Total != len(out) {
		t.Errorf("total %d for %d locations", b.Pagination.Total, len(out))
	}
	return out
}

func TestCutContainment(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	inRing := seed(t, env, "1 Ring Rd", 45.35, -75.75)
	inHole := seed(t, env, "2 Hole Rd", 45.40, -75.70)
	outside := seed(t, env, "3 Far Rd", 45.60, -75.70)
	onEdge := seed(t, env, "4 Edge Rd", 45.30, -75.70)
	east := seed(t, env, "5 East Rd", 45.40, -75.45)
	noPoint, _, err := env.Store.FindOrCreateLocation(context.Background(), storage.LocationInput{Address: "6 Nowhere Rd"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	withHole := createCut(t, env, tok, map[string]any{"name": "Donut", "category": "WARD",
		"geometry": geometry("[" + square(-75.8, 45.3, -75.6, 45.5) + "," + reverseRing(square(-75.72, 45.38, -75.68, 45.42)) + "]")})
	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d/locations?limit=1&page=5", withHole), Token: tok})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"data":[]`) || !strings.Contains(string(res.Body), `"total":2`) {
		t.Errorf("a page past the end = %d %s, want no rows and total 2", res.Status, res.Body)
	}
	if got, want := cutLocationIDs(t, env, tok, withHole), []int64{inRing.ID, onEdge.ID}; !slices.Equal(got, want) {
		t.Errorf("polygon with a hole holds %v, want %v (not %d in the hole, %d outside, %d without a point)",
			got, want, inHole.ID, outside.ID, noPoint.ID)
	}
	multi := createCut(t, env, tok, map[string]any{"name": "Two parts", "geometry": map[string]any{
		"type":        "MultiPolygon",
		"coordinates": rawJSON("[[" + square(-75.8, 45.3, -75.6, 45.5) + "],[" + square(-75.5, 45.3, -75.4, 45.5) + "]]")}})
	if got, want := cutLocationIDs(t, env, tok, multi), []int64{inRing.ID, inHole.ID, onEdge.ID, east.ID}; !slices.Equal(got, want) {
		t.Errorf("multipolygon holds %v, want %v", got, want)
	}
	// A GeoJSON Feature holding the polygon is accepted, and read back as a MultiPolygon.
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d", withHole), Token: tok})
	if !strings.Contains(string(res.Body), `"type":"MultiPolygon"`) {
		t.Errorf("cut geometry = %s", res.Body)
	}
	feature := createCut(t, env, tok, map[string]any{"name": "Feature", "geometry": map[string]any{"type": "Feature",
		"properties": map[string]any{}, "geometry": geometry("[" + square(-75.5, 45.3, -75.4, 45.5) + "]")}})
	if got := cutLocationIDs(t, env, tok, feature); !slices.Equal(got, []int64{east.ID}) {
		t.Errorf("feature cut holds %v", got)
	}
	// Moving the cut moves what it holds; the location filter agrees.
	res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/map/cuts/%d", feature), Token: tok,
		Body: map[string]any{"geometry": geometry("[" + square(-75.71, 45.59, -75.69, 45.61) + "]")}})
	if res.Status != 200 {
		t.Fatalf("patch geometry = %d %s", res.Status, res.Body)
	}
	if got := cutLocationIDs(t, env, tok, feature); !slices.Equal(got, []int64{outside.ID}) {
		t.Errorf("moved cut holds %v, want [%d]", got, outside.ID)
	}
}

// reverseRing turns a ring the other way (a hole is clockwise).
func reverseRing(ring string) string {
	parts := strings.Split(strings.Trim(ring, "[]"), "],[")
	slices.Reverse(parts)
	return "[[" + strings.Join(parts, "],[") + "]]"
}

func TestCutStatsAndWalkList(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	ctx := context.Background()
	// Along one street, created out of walking order.
	l1 := seed(t, env, "1 Line St", 45.4, -75.700)
	l2 := seed(t, env, "4 Line St", 45.4, -75.703)
	l3 := seed(t, env, "2 Line St", 45.4, -75.701)
	l4 := seed(t, env, "3 Line St", 45.4, -75.702)
	seed(t, env, "9 Elsewhere", 46.0, -75.0)
	for _, u := range []struct {
		loc   int64
		label string
		level *int
	}{{l1.ID, "A", ptr(1)}, {l1.ID, "B", ptr(1)}, {l3.ID, "", ptr(4)}, {l4.ID, "", nil}} {
		if _, err := env.Store.CreateUnit(ctx, u.loc, storage.UnitInput{UnitLabel: u.label, SupportLevel: u.level,
			ResidentName: "-Resident " + u.label}, 0); err != nil {
			t.Fatal(err)
		}
	}
	cut := createCut(t, env, tok, map[string]any{"name": "Line", "geometry": geometry("[" + square(-75.71, 45.39, -75.69, 45.41) + "]")})

	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d/stats", cut), Token: tok})
	var s struct {
		Stats struct {
			Locations, Units, Visited int
			CompletionPercent         float64
			BySupportLevel            map[string]int
		}
	}
	res.JSON(t, &s)
	if st := s.Stats; st.Locations != 4 || st.Units != 4 || st.Visited != 0 || st.CompletionPercent != 0 ||
		st.BySupportLevel["1"] != 2 || st.BySupportLevel["4"] != 1 || st.BySupportLevel["unknown"] != 1 ||
		st.BySupportLevel["2"] != 0 {
		t.Errorf("stats = %+v", st)
	}

	// A door knocked (twice) at one of the four buildings: one visited.
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/sessions", Token: tok,
		Body: map[string]any{"cutId": cut}})
	var sess struct{ Session struct{ ID int64 } }
	res.JSON(t, &sess)
	for _, outcome := range []string{"NOT_HOME", "SPOKE_WITH"} {
		res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits", Token: tok,
			Body: map[string]any{"clientId": uuid.NewString(), "sessionId": sess.Session.ID, "locationId": l3.ID, "outcome": outcome}})
		if res.Status != 201 {
			t.Fatalf("visit = %d %s", res.Status, res.Body)
		}
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d/stats", cut), Token: tok})
	res.JSON(t, &s)
	if st := s.Stats; st.Locations != 4 || st.Visited != 1 || st.CompletionPercent != 25 {
		t.Errorf("stats after visits at one building = %+v, want 1 of 4 visited (25%%)", st)
	}

	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/cuts/%d/export", cut), Token: tok})
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("walk list = %d %s", res.Status, res.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0]+":"+r[1]+r[3])
	}
	want := []string{fmt.Sprintf("1:%dA", l1.ID), fmt.Sprintf("1:%dB", l1.ID), fmt.Sprintf("2:%d", l3.ID),
		fmt.Sprintf("3:%d", l4.ID), fmt.Sprintf("4:%d", l2.ID)}
	if !slices.Equal(got, want) {
		t.Errorf("walk list stops = %v, want %v", got, want)
	}
	if rows[0][0] != "stop" || rows[0][1] != "location_id" || rows[1][12] != "'-Resident A" {
		t.Errorf("walk list header %v, first row %v", rows[0], rows[1])
	}
}

func decodeTile(t *testing.T, body []byte) mvt.Layers {
	t.Helper()
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("the tile does not decode as MVT: %v", err)
	}
	return layers
}

func layerNamed(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func TestTiles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	ctx := context.Background()
	// Both buildings in the middle of one street-zoom tile (so in one tile at every zoom).
	center := maptile.At(orb.Point{-75.6972, 45.4215}, 16).Bound().Center()
	lat, lng := center.Lat(), center.Lon()
	loc := seed(t, env, "77 Private Lane", lat, lng)
	seed(t, env, "79 Private Lane", lat+0.0005, lng)
	if _, err := env.Store.CreateUnit(ctx, loc.ID, storage.UnitInput{UnitLabel: "3", ResidentName: "Secret Resident",
		Phone: "613-555-0199", Email: "secret@resident.example", SupportLevel: ptr(2), Notes: "hidden note"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CreateUnit(ctx, loc.ID, storage.UnitInput{UnitLabel: "4", SupportLevel: ptr(3)}, 0); err != nil {
		t.Fatal(err)
	}
	// Two doors knocked at the first building: the tile shows the last.
	if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO map_canvass_visits (client_id, location_id, outcome, visited_at) VALUES
		(gen_random_uuid(), $1, 'NOT_HOME', '2026-11-29T17:00:00Z'), (gen_random_uuid(), $1, 'SPOKE_WITH', '2026-11-30T18:00:00Z')`, loc.ID); err != nil {
		t.Fatal(err)
	}
	createCut(t, env, tok, map[string]any{"name": "Private Turf", "geometry": geometry("[" + square(-75.71, 45.41, -75.69, 45.43) + "]")})
	createCut(t, env, tok, map[string]any{"name": "Published Ward", "isPublic": true, "color": "#00ff00",
		"geometry": geometry("[" + square(-75.72, 45.40, -75.68, 45.44) + "]")})

	at := func(z maptile.Zoom) maptile.Tile { return maptile.At(orb.Point{lng, lat}, z) }
	get := func(path string) *testenv.Response {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: path, Token: tok})
		if res.Status != 200 || res.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
			t.Fatalf("GET %s = %d %s %.200s", path, res.Status, res.Header.Get("Content-Type"), res.Body)
		}
		return res
	}
	tilePath := func(prefix string, tl maptile.Tile) string {
		return fmt.Sprintf("%s/%d/%d/%d.mvt", prefix, tl.Z, tl.X, tl.Y)
	}

	t.Run("admin tile at street zoom: buildings with their counts", func(t *testing.T) {
		tl := at(16)
		res := get(tilePath("/api/map/tiles", tl))
		if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("Cache-Control = %q", cc)
		}
		layers := decodeTile(t, res.Body)
		layers.ProjectToWGS84(tl)
		locs := layerNamed(layers, "locations")
		if locs == nil || len(locs.Features) != 2 {
			t.Fatalf("locations layer = %+v", locs)
		}
		var found bool
		for _, f := range locs.Features {
			if f.Properties["id"] != float64(loc.ID) {
				if f.Properties["visited"] != false || f.Properties["lastOutcome"] != nil {
					t.Errorf("a building nobody visited: %v", f.Properties)
				}
				continue
			}
			if f.Properties["visited"] != true || f.Properties["lastOutcome"] != "SPOKE_WITH" ||
				f.Properties["lastVisitedAt"] != float64(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC).Unix()) {
				t.Errorf("the visited building's last visit: %v", f.Properties)
			}
			found = true
			p := f.Geometry.(orb.Point)
			if math.Abs(p.Lat()-lat) > 1e-4 || math.Abs(p.Lon()-lng) > 1e-4 {
				t.Errorf("point at %v, want %v,%v", p, lng, lat)
			}
			if f.Properties["address"] != "77 Private Lane" || f.Properties["unitCount"] != float64(2) ||
				f.Properties["maxSupportLevel"] != float64(3) {
				t.Errorf("properties = %v", f.Properties)
			}
		}
		if !found {
			t.Errorf("location %d not in the tile", loc.ID)
		}
		if cuts := layerNamed(layers, "cuts"); cuts == nil || len(cuts.Features) != 2 {
			t.Errorf("cuts layer = %+v", cuts)
		}
	})

	t.Run("admin tile at city zoom: clusters", func(t *testing.T) {
		layers := decodeTile(t, get(tilePath("/api/map/tiles", at(10))).Body)
		clusters := layerNamed(layers, "clusters")
		if clusters == nil || layerNamed(layers, "locations") != nil {
			t.Fatalf("layers at zoom 10: %+v", layers)
		}
		total := 0
		for _, f := range clusters.Features {
			total += int(f.Properties["count"].(float64))
		}
		if total != 2 || len(clusters.Features) > 2 {
			t.Errorf("clusters count %d buildings in %d features, want 2", total, len(clusters.Features))
		}
	})

	t.Run("public tiles hold no personal data", func(t *testing.T) {
		for _, z := range []maptile.Zoom{16, 14, 10, 4} {
			tl := at(z)
			res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: tilePath("/api/public/map/tiles", tl)})
			if res.Status != 200 || res.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
				t.Fatalf("public tile z%d = %d", z, res.Status)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
				t.Errorf("Cache-Control = %q", cc)
			}
			for _, secret := range []string{"Private Lane", "Secret", "613-555", "secret@", "hidden", "Private Turf"} {
				if strings.Contains(string(res.Body), secret) {
					t.Errorf("z%d: the public tile holds %q", z, secret)
				}
			}
			layers := decodeTile(t, res.Body)
			points := 0
			for _, l := range layers {
				for _, f := range l.Features {
					if f.ID != nil {
						t.Errorf("z%d %s: a feature id %v", z, l.Name, f.ID)
					}
					for k := range f.Properties {
						allowed := map[string][]string{"points": {}, "clusters": {"count"}, "cuts": {"name", "color", "opacity"}}[l.Name]
						if !slices.Contains(allowed, k) {
							t.Errorf("z%d: layer %q has property %q", z, l.Name, k)
						}
					}
					switch l.Name {
					case "points":
						points++
					case "clusters":
						points += int(f.Properties["count"].(float64))
					case "cuts":
						if f.Properties["name"] != "Published Ward" {
							t.Errorf("z%d: unpublished cut %v in the public tile", z, f.Properties["name"])
						}
					default:
						t.Errorf("z%d: unexpected layer %q", z, l.Name)
					}
				}
			}
			if points != 2 {
				t.Errorf("z%d: the public tile shows %d buildings, want 2", z, points)
			}
		}
	})

	t.Run("an empty tile is an empty answer", func(t *testing.T) {
		res := get("/api/map/tiles/16/0/0.mvt")
		if len(decodeTile(t, res.Body)) != 0 {
			t.Errorf("layers in an empty tile: %d bytes", len(res.Body))
		}
	})
}

func TestPublicMap(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Map.PublicMaxPoints = 2 })
	tok := env.TokenFor(storage.RoleMapAdmin)
	for i := 0; i < 3; i++ {
		l := seed(t, env, fmt.Sprintf("%d Public St", i+1), 45.4+float64(i)*0.001, -75.7)
		if _, err := env.Store.CreateUnit(context.Background(), l.ID, storage.UnitInput{ResidentName: "Hidden Name",
			Email: "hidden@example.test"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	seed(t, env, "9 Outside St", 40, -70)
	createCut(t, env, tok, map[string]any{"name": "Secret Plan", "geometry": geometry("[" + square(-75.8, 45.3, -75.6, 45.5) + "]")})
	pub := createCut(t, env, tok, map[string]any{"name": "Open Ward", "isPublic": true, "geometry": geometry("[" + square(-75.8, 45.3, -75.6, 45.5) + "]")})

	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/map/locations?bbox=-76,45,-75,46"})
	var b struct {
		Data      []map[string]any
		Truncated bool
		MaxPoints int
	}
	res.JSON(t, &b)
	if res.Status != 200 || len(b.Data) != 2 || !b.Truncated || b.MaxPoints != 2 {
		t.Errorf("public locations = %d %s", res.Status, res.Body)
	}
	for _, p := range b.Data {
		if len(p) != 2 || p["latitude"] == nil || p["longitude"] == nil {
			t.Errorf("public point %v holds more than a position", p)
		}
	}
	if s := string(res.Body); strings.Contains(s, "Public St") || strings.Contains(s, "Hidden") || strings.Contains(s, "hidden@") {
		t.Errorf("public points leak: %s", s)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/map/locations?bbox=-70.5,39.5,-69.5,40.5"})
	res.JSON(t, &b)
	if len(b.Data) != 1 || b.Truncated {
		t.Errorf("small box = %s", res.Body)
	}

	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/map/cuts"})
	var cuts struct{ Data []map[string]any }
	res.JSON(t, &cuts)
	if len(cuts.Data) != 1 || cuts.Data[0]["id"] != float64(pub) || cuts.Data[0]["name"] != "Open Ward" {
		t.Errorf("public cuts = %s", res.Body)
	}
	if strings.Contains(string(res.Body), "createdBy") {
		t.Errorf("public cuts say who drew them: %s", res.Body)
	}
}

func TestCutBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	good := "[" + square(-75.8, 45.3, -75.6, 45.5) + "]"
	cut := createCut(t, env, tok, map[string]any{"name": "Fine", "geometry": geometry(good)})
	cp := fmt.Sprintf("/api/map/cuts/%d", cut)
	withGeom := func(g any) map[string]any { return map[string]any{"name": "X", "geometry": g} }
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
		says               string
	}{
		{"no name", "POST", "/api/map/cuts", map[string]any{"geometry": geometry(good)}, 400, "name"},
		{"no geometry", "POST", "/api/map/cuts", map[string]any{"name": "X"}, 400, "geometry"},
		{"unclosed ring", "POST", "/api/map/cuts", withGeom(geometry("[[[0,0],[1,0],[1,1],[0,1]]]")), 400, "not closed"},
		{"three positions", "POST", "/api/map/cuts", withGeom(geometry("[[[0,0],[1,0],[0,0]]]")), 400, "at least four"},
		{"latitude out of range", "POST", "/api/map/cuts", withGeom(geometry("[[[0,0],[1,0],[1,95],[0,0]]]")), 400, "outside -90..90"},
		{"self-intersection", "POST", "/api/map/cuts", withGeom(geometry("[[[0,0],[1,1],[1,0],[0,1],[0,0]]]")), 400, "crosses itself"},
		{"a point", "POST", "/api/map/cuts", withGeom(map[string]any{"type": "Point", "coordinates": []float64{0, 0}}), 400, "not accepted"},
		{"geometry a string", "POST", "/api/map/cuts", withGeom("polygon"), 400, "geometry"},
		{"bad colour", "POST", "/api/map/cuts", map[string]any{"name": "X", "color": "red", "geometry": geometry(good)}, 400, "color"},
		{"opacity above 1", "POST", "/api/map/cuts", map[string]any{"name": "X", "opacity": 1.5, "geometry": geometry(good)}, 400, "opacity"},
		{"bad category", "POST", "/api/map/cuts", map[string]any{"name": "X", "category": "CITY", "geometry": geometry(good)}, 400, "category"},
		{"not JSON", "POST", "/api/map/cuts", "{", 400, ""},
		{"patch blank name", "PATCH", cp, map[string]any{"name": " "}, 400, "name"},
		{"patch bad geometry", "PATCH", cp, map[string]any{"geometry": geometry("[[[0,0],[1,0],[1,1]]]")}, 400, "geometry"},
		{"patch unknown", "PATCH", "/api/map/cuts/999999", map[string]any{"name": "Y"}, 404, ""},
		{"id not a number", "GET", "/api/map/cuts/abc", nil, 400, ""},
		{"unknown cut", "GET", "/api/map/cuts/999999", nil, 404, ""},
		{"locations of unknown cut", "GET", "/api/map/cuts/999999/locations", nil, 404, ""},
		{"stats of unknown cut", "GET", "/api/map/cuts/999999/stats", nil, 404, ""},
		{"export of unknown cut", "GET", "/api/map/cuts/999999/export", nil, 404, ""},
		{"delete unknown cut", "DELETE", "/api/map/cuts/999999", nil, 404, ""},
		{"list bad category", "GET", "/api/map/cuts?category=x", nil, 400, ""},
		{"list bad isPublic", "GET", "/api/map/cuts?isPublic=maybe", nil, 400, ""},
		{"tile zoom 23", "GET", "/api/map/tiles/23/0/0.mvt", nil, 400, "z"},
		{"tile x off the grid", "GET", "/api/map/tiles/2/4/0.mvt", nil, 400, "x"},
		{"tile y negative", "GET", "/api/map/tiles/2/0/-1.mvt", nil, 400, "y"},
		{"tile y not a number", "GET", "/api/map/tiles/2/0/a.mvt", nil, 400, "y"},
		{"public tile off the grid", "GET", "/api/public/map/tiles/1/2/2.mvt", nil, 400, "x"},
		{"public points without bbox", "GET", "/api/public/map/locations", nil, 400, "bbox"},
		{"public points bad bbox", "GET", "/api/public/map/locations?bbox=-76,91,-75,92", nil, 400, "bbox"},
	} {
		res := testenv.Do(t, env.Main, testenv.Request{Method: tc.method, Path: tc.path, Body: tc.body, Token: tok})
		if res.Status != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.path, res.Status, res.Body, tc.want)
		}
		if tc.says != "" && !strings.Contains(string(res.Body), tc.says) {
			t.Errorf("%s: the answer does not say %q: %s", tc.name, tc.says, res.Body)
		}
	}
}
