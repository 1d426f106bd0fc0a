package maplocations_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

type locationBody struct {
	Location struct {
		ID         int64    `json:"id"`
		Address    string   `json:"address"`
		PostalCode string   `json:"postalCode"`
		Latitude   *float64 `json:"latitude"`
		Longitude  *float64 `json:"longitude"`
		UnitCount  int      `json:"unitCount"`
	} `json:"location"`
	Joined bool `json:"joined"`
}

type unitBody struct {
	Unit struct {
		ID           int64  `json:"id"`
		UnitLabel    string `json:"unitLabel"`
		SupportLevel *int   `json:"supportLevel"`
		ResidentName string `json:"residentName"`
	} `json:"unit"`
}

type historyBody struct {
	Data []struct {
		UnitID   *int64                    `json:"unitId"`
		UserID   *int64                    `json:"userId"`
		UserName string                    `json:"userName"`
		Action   string                    `json:"action"`
		Fields   []string                  `json:"fields"`
		Changes  map[string]map[string]any `json:"changes"`
	} `json:"data"`
	Pagination struct {
		Total int `json:"total"`
	} `json:"pagination"`
}

func ptr[T any](v T) *T { return &v }

// seed adds a location through the store, as an import would.
func seed(t *testing.T, env *testenv.API, addr, postal string, lat, lng *float64) storage.Location {
	t.Helper()
	loc, _, err := env.Store.FindOrCreateLocation(context.Background(), storage.LocationInput{Address: addr,
		City: "Ottawa", Province: "ON", PostalCode: postal, Lat: lat, Lng: lng}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func seedUnit(t *testing.T, env *testenv.API, locID int64, in storage.UnitInput) storage.Unit {
	t.Helper()
	u, err := env.Store.CreateUnit(context.Background(), locID, in, 0)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLocationRoutesRoles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	anon := ""
	user := env.TokenFor(storage.RoleUser)
	influence := env.TokenFor(storage.RoleInfluenceAdmin)
	temp := env.TokenFor(storage.RoleTemp)
	mapAdmin := env.TokenFor(storage.RoleMapAdmin)
	super := env.TokenFor(storage.RoleSuperAdmin)

	// Each call makes what the route works on afresh, so a DELETE answers
	// 204 for every role allowed to send it.
	n := 0
	fresh := func() (int64, int64) {
		n++
		loc := seed(t, env, fmt.Sprintf("%d Role St", n), "", ptr(45.0), ptr(-75.0))
		u := seedUnit(t, env, loc.ID, storage.UnitInput{UnitLabel: "1"})
		return loc.ID, u.ID
	}
	routes := []struct {
		method string
		path   func() string
		body   any
		ok     int
	}{
		{"GET", func() string { return "/api/map/locations" }, nil, 200},
		{"POST", func() string { n++; return "/api/map/locations" }, map[string]any{"address": "1 Created Ave"}, 0},
		{"GET", func() string { return "/api/map/locations/export" }, nil, 200},
		{"GET", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d", l) }, nil, 200},
		{"PATCH", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d", l) },
			map[string]any{"city": "Gatineau"}, 200},
		{"DELETE", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d", l) }, nil, 204},
		{"GET", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d/history", l) }, nil, 200},
		{"GET", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d/units", l) }, nil, 200},
		{"POST", func() string { l, _ := fresh(); return fmt.Sprintf("/api/map/locations/%d/units", l) },
			map[string]any{"unitLabel": "2"}, 201},
		{"PATCH", func() string { l, u := fresh(); return fmt.Sprintf("/api/map/locations/%d/units/%d", l, u) },
			map[string]any{"supportLevel": 2}, 200},
		{"DELETE", func() string { l, u := fresh(); return fmt.Sprintf("/api/map/locations/%d/units/%d", l, u) },
			nil, 204},
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
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path(), Body: r.body,
					Token: c.token})
				want := c.want
				if want == 0 { // a create: 201, or 200 when it joined the first one
					if res.Status != 201 && res.Status != 200 {
						t.Errorf("%s: %d %s, want 201 or 200", c.who, res.Status, res.Body)
					}
					continue
				}
				if res.Status != want {
					t.Errorf("%s: %d %.300s, want %d", c.who, res.Status, res.Body, want)
				}
			}
		})
	}
}

func TestLocationCreateJoinsTheSameBuilding(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	post := func(body map[string]any) (int, locationBody) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/locations", Body: body, Token: tok})
		var b locationBody
		if res.Status == 200 || res.Status == 201 {
			res.JSON(t, &b)
		} else {
			t.Fatalf("create = %d %s", res.Status, res.Body)
		}
		return res.Status, b
	}
	status, first := post(map[string]any{"address": "123 Main Street North", "city": "Ottawa", "province": "ON",
		"postalCode": "k1a0b1", "latitude": 45.4215, "longitude": -75.6972})
	if status != 201 || first.Joined || first.Location.PostalCode != "K1A 0B1" {
		t.Fatalf("first create = %d %+v", status, first)
	}
	// The same building typed differently, 20 m away: joins.
	status, again := post(map[string]any{"address": "123 main st n", "latitude": 45.42168, "longitude": -75.6972})
	if status != 200 || !again.Joined || again.Location.ID != first.Location.ID {
		t.Errorf("same building nearby = %d %+v, want 200 joined %d", status, again, first.Location.ID)
	}
	// The same words 5 km away are another building.
	status, far := post(map[string]any{"address": "123 Main St N", "latitude": 45.4665, "longitude": -75.6972})
	if status != 201 || far.Joined || far.Location.ID == first.Location.ID {
		t.Errorf("same address far away = %d %+v, want a new location", status, far)
	}
	// Without a point, the same key and postal code join.
	status, noPoint := post(map[string]any{"address": "Apt 4, 123 Main St. N.", "postalCode": "K1A 0B1"})
	if status != 200 || !noPoint.Joined || noPoint.Location.ID != first.Location.ID {
		t.Errorf("no point, same postal code = %d %+v, want joined %d", status, noPoint, first.Location.ID)
	}
	// Without a point and another postal code: a new location.
	status, other := post(map[string]any{"address": "123 Main St N", "postalCode": "K2P 1A1"})
	if status != 201 || other.Joined {
		t.Errorf("no point, other postal code = %d %+v, want a new location", status, other)
	}
	var total struct {
		Pagination struct{ Total int } `json:"pagination"`
	}
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/locations", Token: tok}).JSON(t, &total)
	if total.Pagination.Total != 3 {
		t.Errorf("%d locations, want 3", total.Pagination.Total)
	}
}

func TestLocationHistory(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.CreateUser(storage.RoleMapAdmin, "")
	tok := env.Token(admin)
	do := func(method, path string, body any, want int, out any) {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: method, Path: path, Body: body, Token: tok})
		if res.Status != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, res.Status, res.Body, want)
		}
		if out != nil {
			res.JSON(t, out)
		}
	}
	var loc locationBody
	do("POST", "/api/map/locations", map[string]any{"address": "10 Elm St", "latitude": 45.1, "longitude": -75.1}, 201, &loc)
	base := fmt.Sprintf("/api/map/locations/%d", loc.Location.ID)
	do("PATCH", base, map[string]any{"address": "12 Elm St", "city": "Ottawa"}, 200, nil)
	do("PATCH", base, map[string]any{"city": "Ottawa"}, 200, nil) // no change, no history
	var unit unitBody
	do("POST", base+"/units", map[string]any{"unitLabel": "2B", "residentName": "Pat Doe", "supportLevel": 2}, 201, &unit)
	unitPath := fmt.Sprintf("%s/units/%d", base, unit.Unit.ID)
	do("PATCH", unitPath, map[string]any{"supportLevel": nil}, 200, &unit)
	if unit.Unit.SupportLevel != nil {
		t.Errorf("supportLevel null kept %v", *unit.Unit.SupportLevel)
	}
	do("DELETE", unitPath, nil, 204, nil)

	var h historyBody
	do("GET", base+"/history?limit=10", nil, 200, &h)
	if h.Pagination.Total != 5 || len(h.Data) != 5 {
		t.Fatalf("history = %+v, want 5 entries", h)
	}
	want := []struct {
		action string
		unit   bool
		fields string
	}{
		{"DELETE", true, "residentName,unitLabel"},
		{"UPDATE", true, "supportLevel"},
		{"CREATE", true, "residentName,supportLevel,unitLabel"},
		{"UPDATE", false, "address,city"},
		{"CREATE", false, "address,latitude,longitude,source"},
	}
	for i, w := range want {
		e := h.Data[i]
		if e.Action != w.action || (e.UnitID != nil) != w.unit || strings.Join(e.Fields, ",") != w.fields {
			t.Errorf("entry %d = %s unit=%v %v, want %s unit=%v %s", i, e.Action, e.UnitID != nil, e.Fields,
				w.action, w.unit, w.fields)
		}
		if e.UserID == nil || *e.UserID != admin.ID || e.UserName != admin.Name {
			t.Errorf("entry %d by %v %q, want %d", i, e.UserID, e.UserName, admin.ID)
		}
	}
	if c := h.Data[3].Changes["address"]; c["old"] != "10 Elm St" || c["new"] != "12 Elm St" {
		t.Errorf("address change = %v", c)
	}
	if c := h.Data[1].Changes["supportLevel"]; c["old"] != float64(2) || c["new"] != nil {
		t.Errorf("support level change = %v", c)
	}
	// The new address has a new key: a create of it joins.
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/locations", Token: tok,
		Body: map[string]any{"address": "12 Elm Street", "latitude": 45.1, "longitude": -75.1}})
	if res.Status != 200 {
		t.Errorf("create of the renamed address = %d, want 200 (joined)", res.Status)
	}
	do("DELETE", base, nil, 204, nil)
	do("GET", base, nil, 404, nil)
	do("GET", base+"/history", nil, 404, nil)
}

func TestLocationFiltersAndExport(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleSuperAdmin)
	ctx := context.Background()
	a := seed(t, env, "1 Alpha Rd", "K1A 0B1", ptr(45.40), ptr(-75.70))
	b := seed(t, env, "2 Beta Rd", "K2B 2B2", ptr(45.50), ptr(-75.60))
	c := seed(t, env, "=HYPERLINK(\"x\") 3 Gamma Rd", "", nil, nil)
	seedUnit(t, env, a.ID, storage.UnitInput{UnitLabel: "101", SupportLevel: ptr(1), ResidentName: "+1 Ann",
		SourceID: ptr("ADDR-101")})
	seedUnit(t, env, a.ID, storage.UnitInput{UnitLabel: "102", SupportLevel: ptr(3), SourceID: ptr("ADDR-102")})
	cut, err := env.Store.CreateCut(ctx, storage.CutFields{Name: ptr("Around B"),
		Geometry: ptr(`{"type":"MultiPolygon","coordinates":[[[[-75.65,45.45],[-75.55,45.45],[-75.55,45.55],[-75.65,45.55],[-75.65,45.45]]]]}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(query string) []int64 {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/locations" + query, Token: tok})
		if res.Status != 200 {
			t.Fatalf("list%s = %d %s", query, res.Status, res.Body)
		}
		var body struct {
			Data []struct {
				ID int64 `json:"id"`
			} `json:"data"`
		}
		res.JSON(t, &body)
		out := []int64{}
		for _, d := range body.Data {
			out = append(out, d.ID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{a.ID, b.ID, c.ID}},
		{"?bbox=-75.75,45.35,-75.65,45.45", []int64{a.ID}},
		{"?postalCode=k2b2b2", []int64{b.ID}},
		{"?supportLevel=3", []int64{a.ID}},
		{"?supportLevel=2", []int64{}},
		{"?q=beta", []int64{b.ID}},
		{"?q=%25", []int64{}},
		{fmt.Sprintf("?cutId=%d", cut.ID), []int64{b.ID}},
		{"?cutId=999999", []int64{}},
	} {
		if got := ids(tc.query); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("list%s = %v, want %v", tc.query, got, tc.want)
		}
	}

	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/locations/export", Token: tok})
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, res.Body)
	}
	if got := strings.Join(rows[0][:9], ","); got != "location_id,address,unit,postal_code,latitude,longitude,support_level,source,source_id" {
		t.Errorf("header = %s", got)
	}
	if len(rows) != 5 { // header, two units of a, b, c
		t.Fatalf("export has %d rows, want 5:\n%s", len(rows), res.Body)
	}
	if r := rows[1]; r[0] != fmt.Sprint(a.ID) || r[2] != "101" || r[4] != "45.4000000" || r[5] != "-75.7000000" ||
		r[6] != "1" || r[8] != "ADDR-101" || r[11] != "'+1 Ann" {
		t.Errorf("first unit row = %q", r)
	}
	if r := rows[3]; r[0] != fmt.Sprint(b.ID) || r[2] != "" || r[6] != "" || r[8] != "" {
		t.Errorf("building without units = %q", r)
	}
	if r := rows[4]; !strings.HasPrefix(r[1], "'=HYPERLINK") || r[4] != "" {
		t.Errorf("formula cell not guarded: %q", r)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/locations/export?supportLevel=3", Token: tok})
	if n := strings.Count(string(res.Body), "\n"); n != 3 {
		t.Errorf("filtered export has %d lines, want 3 (header and a's two units):\n%s", n, res.Body)
	}
}

func TestLocationExportStreamsManyRows(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	const n = 3000
	if _, err := env.Store.Pool.Exec(context.Background(), `
		INSERT INTO map_locations (address, geom)
		SELECT g || ' Bulk St', ST_SetSRID(ST_MakePoint(-75 - g * 1e-5, 45 + g * 1e-5), 4326)
		FROM generate_series(1, $1::int) g`, n); err != nil {
		t.Fatal(err)
	}
	base := testenv.Serve(t, env.Main)
	res := testenv.SendRaw(t, base, "GET", "/api/map/locations/export", map[string]string{"Authorization": "Bearer " + tok}, nil)
	if res.Status != 200 {
		t.Fatalf("export = %d", res.Status)
	}
	if got := strings.Count(string(res.Body), "\n"); got != n+1 {
		t.Errorf("export has %d lines, want %d", got, n+1)
	}
}

func TestLocationBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	tok := env.TokenFor(storage.RoleMapAdmin)
	loc := seed(t, env, "5 Bad Input Way", "", ptr(45.0), ptr(-75.0))
	u := seedUnit(t, env, loc.ID, storage.UnitInput{UnitLabel: "1", SourceID: ptr("TAKEN")})
	lp := fmt.Sprintf("/api/map/locations/%d", loc.ID)
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"bbox with three numbers", "GET", "/api/map/locations?bbox=1,2,3", nil, 400},
		{"bbox not numbers", "GET", "/api/map/locations?bbox=a,b,c,d", nil, 400},
		{"bbox out of range", "GET", "/api/map/locations?bbox=-200,45,-75,46", nil, 400},
		{"bbox min above max", "GET", "/api/map/locations?bbox=-75,46,-76,45", nil, 400},
		{"bbox NaN", "GET", "/api/map/locations?bbox=NaN,45,-75,46", nil, 400},
		{"cutId not a number", "GET", "/api/map/locations?cutId=abc", nil, 400},
		{"cutId zero", "GET", "/api/map/locations?cutId=0", nil, 400},
		{"bad postal code filter", "GET", "/api/map/locations?postalCode=12345", nil, 400},
		{"support level 5", "GET", "/api/map/locations?supportLevel=5", nil, 400},
		{"export bad bbox", "GET", "/api/map/locations/export?bbox=x", nil, 400},
		{"export unknown cut", "GET", "/api/map/locations/export?cutId=999999", nil, 404},
		{"id not a number", "GET", "/api/map/locations/abc", nil, 400},
		{"id negative", "GET", "/api/map/locations/-1", nil, 400},
		{"unknown id", "GET", "/api/map/locations/999999", nil, 404},
		{"no body", "POST", "/api/map/locations", nil, 400},
		{"not JSON", "POST", "/api/map/locations", "{", 400},
		{"no address", "POST", "/api/map/locations", map[string]any{"city": "Ottawa"}, 400},
		{"blank address", "POST", "/api/map/locations", map[string]any{"address": "  "}, 400},
		{"address too long", "POST", "/api/map/locations", map[string]any{"address": strings.Repeat("a", 301)}, 400},
		{"address with a line break", "POST", "/api/map/locations", map[string]any{"address": "1 A St\n2 B St"}, 400},
		{"latitude out of range", "POST", "/api/map/locations", map[string]any{"address": "1 A St", "latitude": 91, "longitude": -75}, 400},
		{"longitude out of range", "POST", "/api/map/locations", map[string]any{"address": "1 A St", "latitude": 45, "longitude": -181}, 400},
		{"latitude alone", "POST", "/api/map/locations", map[string]any{"address": "1 A St", "latitude": 45}, 400},
		{"latitude a string", "POST", "/api/map/locations", map[string]any{"address": "1 A St", "latitude": "45", "longitude": -75}, 400},
		{"bad postal code", "POST", "/api/map/locations", map[string]any{"address": "1 A St", "postalCode": "90210"}, 400},
		{"NUL in address", "POST", "/api/map/locations", `{"address":"1 A St\u0000"}`, 400},
		{"patch blank address", "PATCH", lp, map[string]any{"address": ""}, 400},
		{"patch half a point", "PATCH", lp, map[string]any{"latitude": nil}, 400},
		{"patch unknown", "PATCH", "/api/map/locations/999999", map[string]any{"city": "X"}, 404},
		{"delete unknown", "DELETE", "/api/map/locations/999999", nil, 404},
		{"history bad page", "GET", lp + "/history?page=0", nil, 400},
		{"units of unknown location", "GET", "/api/map/locations/999999/units", nil, 404},
		{"unit support level 0", "POST", lp + "/units", map[string]any{"supportLevel": 0}, 400},
		{"unit bad email", "POST", lp + "/units", map[string]any{"email": "not-an-email"}, 400},
		{"unit bad lawn sign", "POST", lp + "/units", map[string]any{"lawnSign": "MAYBE"}, 400},
		{"unit label too long", "POST", lp + "/units", map[string]any{"unitLabel": strings.Repeat("9", 41)}, 400},
		{"unit taken sourceId", "POST", lp + "/units", map[string]any{"sourceId": "TAKEN"}, 409},
		{"unit on unknown location", "POST", "/api/map/locations/999999/units", map[string]any{"unitLabel": "1"}, 404},
		{"unit id not a number", "PATCH", lp + "/units/x", map[string]any{"unitLabel": "1"}, 400},
		{"unit of another location", "PATCH", fmt.Sprintf("/api/map/locations/%d/units/%d", loc.ID+1000, u.ID), map[string]any{"unitLabel": "1"}, 404},
		{"unit sourceId change", "PATCH", fmt.Sprintf("%s/units/%d", lp, u.ID), map[string]any{"sourceId": "X"}, 400},
		{"delete unknown unit", "DELETE", lp + "/units/999999", nil, 404},
	} {
		res := testenv.Do(t, env.Main, testenv.Request{Method: tc.method, Path: tc.path, Body: tc.body, Token: tok})
		if res.Status != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.path, res.Status, res.Body, tc.want)
		}
		if res.Status >= 400 && res.ErrorCode() == "" {
			t.Errorf("%s: no error code in %s", tc.name, res.Body)
		}
	}
}
