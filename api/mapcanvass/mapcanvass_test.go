package mapcanvass_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/maintenance"
)

// fixtures inserts map rows straight into Postgres: the locations and cuts
// modules belong to other packages, and these tests need only their rows.
type fixtures struct {
	t   *testing.T
	env *testenv.API
}

func (f fixtures) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.env.Store.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// cut makes a rectangular cut.
func (f fixtures) cut(minLng, minLat, maxLng, maxLat float64) int64 {
	f.t.Helper()
	var id int64
	err := f.env.Store.Pool.QueryRow(context.Background(), `INSERT INTO map_cuts (name, geom)
		VALUES ('Ward '||gen_random_uuid(), ST_Multi(ST_MakeEnvelope($1, $2, $3, $4, 4326))) RETURNING id`,
		minLng, minLat, maxLng, maxLat).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// location makes a building at lat, lng with the given number of units.
func (f fixtures) location(address string, lat, lng float64, units int) (int64, []int64) {
	f.t.Helper()
	ctx := context.Background()
	var id int64
	if err := f.env.Store.Pool.QueryRow(ctx, `INSERT INTO map_locations (address, geom)
		VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`, address, lng, lat).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	var unitIDs []int64
	for i := range units {
		var u int64
		if err := f.env.Store.Pool.QueryRow(ctx, `INSERT INTO map_units (location_id, unit_label, resident_name, phone)
			VALUES ($1, $2, 'Resident Person', '613-555-0100') RETURNING id`, id, fmt.Sprint(101+i)).Scan(&u); err != nil {
			f.t.Fatal(err)
		}
		unitIDs = append(unitIDs, u)
	}
	return id, unitIDs
}

func (f fixtures) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.env.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

type session struct {
	Session struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"session"`
}

func startSession(t *testing.T, env *testenv.API, token string, cutID int64) int64 {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/sessions", Token: token,
		Body: map[string]any{"cutId": cutID}})
	if res.Status != 201 {
		t.Fatalf("start session = %d %s", res.Status, res.Body)
	}
	var s session
	res.JSON(t, &s)
	return s.Session.ID
}

type visitAnswer struct {
	Visit struct {
		ID           int64  `json:"id"`
		ClientID     string `json:"clientId"`
		LocationID   int64  `json:"locationId"`
		UnitID       *int64 `json:"unitId"`
		SupportLevel *int   `json:"supportLevel"`
	} `json:"visit"`
	Duplicate bool `json:"duplicate"`
}

// TestRepeatedClientIDCountedOnce: a phone that posts the same visit again
// (a retry, a backlog sent twice, a doubled entry in one batch) records
// one visit and reads the first answer back.
func TestRepeatedClientIDCountedOnce(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	f := fixtures{t, env}
	vol := env.CreateUser(storage.RoleTemp, "")
	token := env.Token(vol)
	cut := f.cut(-75.70, 45.40, -75.69, 45.41)
	sess := startSession(t, env, token, cut)
	house, houseUnits := f.location("1 Elm St", 45.401, -75.699, 1)
	tower, towerUnits := f.location("2 Elm St", 45.402, -75.698, 3)
	visits := func() int {
		return f.count(`SELECT count(*) FROM map_canvass_visits`)
	}
	post := func(body any) *testenv.Response {
		t.Helper()
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits", Token: token,
			Body: body})
	}

	one := map[string]any{"clientId": uuid.NewString(), "sessionId": sess, "locationId": house,
		"outcome": "SPOKE_WITH", "supportLevel": 2, "notes": "Likes the plan"}
	first := post(one)
	if first.Status != 201 {
		t.Fatalf("first post = %d %s", first.Status, first.Body)
	}
	var a1, a2 visitAnswer
	first.JSON(t, &a1)
	t.Run("a single visit posted twice is one visit", func(t *testing.T) {
		again := post(one)
		again.JSON(t, &a2)
		if again.Status != 201 || a2.Visit.ID != a1.Visit.ID || !a2.Duplicate || a1.Duplicate {
			t.Fatalf("again = %d %s, want the first visit back marked duplicate", again.Status, again.Body)
		}
		if n := visits(); n != 1 {
			t.Fatalf("visits = %d, want 1", n)
		}
	})
	t.Run("the support level went to the building's only unit, with a VISIT history row", func(t *testing.T) {
		if a1.Visit.UnitID == nil || *a1.Visit.UnitID != houseUnits[0] {
			t.Fatalf("visit unit = %v, want %d", a1.Visit.UnitID, houseUnits[0])
		}
		if n := f.count(`SELECT count(*) FROM map_units WHERE id = $1 AND support_level = 2`, houseUnits[0]); n != 1 {
			t.Fatal("unit support level not written")
		}
		if n := f.count(`SELECT count(*) FROM map_location_history WHERE location_id = $1 AND action = 'VISIT'
			AND changes->'supportLevel'->>'new' = '2'`, house); n != 1 {
			t.Fatalf("VISIT history rows = %d, want 1 (not one per post)", n)
		}
	})
	t.Run("inside one batch and across batches", func(t *testing.T) {
		ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
		batch := []map[string]any{
			{"clientId": ids[0], "sessionId": sess, "unitId": towerUnits[0], "outcome": "NOT_HOME"},
			{"clientId": ids[1], "sessionId": sess, "unitId": towerUnits[1], "outcome": "SPOKE_WITH", "supportLevel": 1},
			{"clientId": ids[0], "sessionId": sess, "unitId": towerUnits[0], "outcome": "NOT_HOME"},
			{"clientId": one["clientId"], "sessionId": sess, "locationId": house, "outcome": "SPOKE_WITH"},
		}
		res := post(map[string]any{"visits": batch})
		if res.Status != 201 {
			t.Fatalf("batch = %d %s", res.Status, res.Body)
		}
		var out struct {
			Visits []visitAnswer `json:"visits"`
		}
		res.JSON(t, &out)
		if len(out.Visits) != 4 || out.Visits[0].Duplicate || out.Visits[1].Duplicate || !out.Visits[2].Duplicate ||
			!out.Visits[3].Duplicate || out.Visits[2].Visit.ID != out.Visits[0].Visit.ID ||
			out.Visits[3].Visit.ID != a1.Visit.ID {
			t.Fatalf("batch answer = %s", res.Body)
		}
		if n := visits(); n != 3 {
			t.Fatalf("visits = %d, want 3", n)
		}
		// The whole backlog again, plus one new door.
		batch = append(batch, map[string]any{"clientId": ids[2], "sessionId": sess, "unitId": towerUnits[2],
			"outcome": "REFUSED"})
		res = post(map[string]any{"visits": batch})
		res.JSON(t, &out)
		if res.Status != 201 || len(out.Visits) != 5 || !out.Visits[1].Duplicate || out.Visits[4].Duplicate {
			t.Fatalf("second batch = %d %s", res.Status, res.Body)
		}
		if n := visits(); n != 4 {
			t.Fatalf("visits = %d, want 4", n)
		}
		if n := f.count(`SELECT count(*) FROM map_canvass_visits WHERE location_id = $1`, tower); n != 3 {
			t.Fatalf("tower visits = %d, want 3", n)
		}
	})
	t.Run("the same visit posted by many retries at once is one visit", func(t *testing.T) {
		before := visits()
		body := map[string]any{"clientId": uuid.NewString(), "sessionId": sess, "unitId": towerUnits[2],
			"outcome": "COME_BACK_LATER", "supportLevel": 4}
		ids := make([]int64, 8)
		statuses := make([]int, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits",
					Token: token, Body: body})
				var a visitAnswer
				if res.Status == 201 {
					res.JSON(t, &a)
				}
				ids[i], statuses[i] = a.Visit.ID, res.Status
			}()
		}
		wg.Wait()
		for i := range ids {
			if statuses[i] != 201 || ids[i] != ids[0] {
				t.Fatalf("answers = %v ids %v, want 201 and one visit", statuses, ids)
			}
		}
		if n := visits(); n != before+1 {
			t.Fatalf("visits = %d, want %d", n, before+1)
		}
		if n := f.count(`SELECT count(*) FROM map_location_history WHERE unit_id = $1 AND changes->>'visitId' = $2`,
			towerUnits[2], fmt.Sprint(ids[0])); n != 1 {
			t.Fatalf("history rows = %d, want 1", n)
		}
	})
	t.Run("another volunteer cannot reuse a clientId", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits",
			Token: env.TokenFor(storage.RoleUser), Body: map[string]any{"clientId": one["clientId"],
				"locationId": house, "outcome": "REFUSED"}})
		if res.Status != 409 {
			t.Fatalf("reuse = %d %s, want 409", res.Status, res.Body)
		}
	})
	t.Run("volunteers cannot change personal data", func(t *testing.T) {
		res := post(map[string]any{"clientId": uuid.NewString(), "unitId": towerUnits[0], "outcome": "SPOKE_WITH",
			"residentName": "Someone Else", "phone": "555"})
		if res.Status != 400 || !strings.Contains(string(res.Body), "residentName") {
			t.Fatalf("personal data = %d %s, want 400 naming residentName", res.Status, res.Body)
		}
		if n := f.count(`SELECT count(*) FROM map_units WHERE location_id = $1 AND resident_name = 'Resident Person'`, tower); n != 3 {
			t.Fatal("personal data changed")
		}
	})
	t.Run("a support level for a building of several units needs the unit", func(t *testing.T) {
		res := post(map[string]any{"clientId": uuid.NewString(), "locationId": tower, "outcome": "SPOKE_WITH",
			"supportLevel": 3})
		if res.Status != 400 || !strings.Contains(string(res.Body), "unitId") {
			t.Fatalf("= %d %s, want 400 on unitId", res.Status, res.Body)
		}
	})
	t.Run("the metric counts each visit once", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/metrics"})
		for _, want := range []string{`cm_map_canvass_visits_total{outcome="SPOKE_WITH"} 2`,
			`cm_map_canvass_visits_total{outcome="NOT_HOME"} 1`, `cm_map_canvass_visits_total{outcome="REFUSED"} 1`} {
			if !strings.Contains(string(res.Body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("the stats count each visit once", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/canvass/stats/me", Token: token})
		var st struct {
			Visits    int            `json:"visits"`
			ByOutcome map[string]int `json:"byOutcome"`
			Doors     int            `json:"doors"`
		}
		res.JSON(t, &st)
		if st.Visits != 5 || st.ByOutcome["SPOKE_WITH"] != 2 || st.ByOutcome["COME_BACK_LATER"] != 1 || st.Doors != 2 {
			t.Fatalf("stats = %s", res.Body)
		}
	})
}

// TestRouteFromStartPoint: the route lists the cut's unsettled buildings,
// nearest the start first and then along the street, and none outside it.
func TestRouteFromStartPoint(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	f := fixtures{t, env}
	vol := env.CreateUser(storage.RoleUser, "")
	token := env.Token(vol)
	cut := f.cut(-75.71, 45.40, -75.69, 45.42)
	// Ten houses along a street running east, inserted out of order.
	ids := make([]int64, 10)
	for _, i := range []int{7, 2, 9, 0, 5, 3, 8, 1, 6, 4} {
		ids[i], _ = f.location(fmt.Sprintf("%d Main St", 100+2*i), 45.41, -75.709+0.001*float64(i), 0)
	}
	outside, _ := f.location("1 Far Rd", 45.50, -75.70, 0)
	sess := startSession(t, env, token, cut)
	route := func(lat, lng float64) []int64 {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Token: token,
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/route?lat=%v&lng=%v", sess, lat, lng)})
		if res.Status != 200 {
			t.Fatalf("route = %d %s", res.Status, res.Body)
		}
		var out struct {
			Stops []struct {
				LocationID int64 `json:"locationId"`
			} `json:"stops"`
			TotalMeters float64 `json:"totalMeters"`
		}
		res.JSON(t, &out)
		got := make([]int64, len(out.Stops))
		for i, s := range out.Stops {
			got[i] = s.LocationID
		}
		return got
	}
	t.Run("from the east end, westwards", func(t *testing.T) {
		got := route(45.41, -75.6995)
		want := make([]int64, 10)
		for i := range want {
			want[i] = ids[9-i]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("route = %v, want %v (outside the cut: %d)", got, want, outside)
		}
	})
	t.Run("settled doors leave the route; not-home doors stay", func(t *testing.T) {
		for i, outcome := range map[int]string{0: "SPOKE_WITH", 1: "NOT_HOME"} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits", Token: token,
				Body: map[string]any{"clientId": uuid.NewString(), "locationId": ids[i], "outcome": outcome}})
			if res.Status != 201 {
				t.Fatalf("visit = %d %s", res.Status, res.Body)
			}
		}
		got := route(45.41, -75.7095)
		if len(got) != 9 || got[0] != ids[1] || got[8] != ids[9] {
			t.Fatalf("route = %v, want 9 stops from %d to %d", got, ids[1], ids[9])
		}
		// In this session the not-home door is visited: it leaves too.
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/canvass/visits", Token: token,
			Body: map[string]any{"clientId": uuid.NewString(), "sessionId": sess, "locationId": ids[1],
				"outcome": "NOT_HOME"}})
		if res.Status != 201 {
			t.Fatalf("visit = %d %s", res.Status, res.Body)
		}
		if got := route(45.41, -75.7095); len(got) != 8 || got[0] != ids[2] {
			t.Fatalf("route = %v, want 8 stops from %d", got, ids[2])
		}
	})
	t.Run("another volunteer's session is not found", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Token: env.TokenFor(storage.RoleTemp),
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/route?lat=45.41&lng=-75.7", sess)})
		if res.Status != 404 {
			t.Fatalf("= %d, want 404", res.Status)
		}
	})
}

// TestIdleSessionsAbandoned: the periodic task abandons sessions idle for
// 12 hours, and only those; a track upload keeps a session alive.
func TestIdleSessionsAbandoned(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	f := fixtures{t, env}
	token := env.TokenFor(storage.RoleUser)
	cut := f.cut(-75.71, 45.40, -75.69, 45.42)
	idle, busy, fresh := startSession(t, env, token, cut), startSession(t, env, token, cut), startSession(t, env, token, cut)
	f.exec(`UPDATE map_canvass_sessions SET last_activity_at = now() - interval '13 hours', started_at = now() - interval '14 hours'
		WHERE id = ANY($1)`, []int64{idle, busy})
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: token,
		Path: fmt.Sprintf("/api/map/canvass/sessions/%d/track", busy),
		Body: map[string]any{"points": []map[string]any{{"latitude": 45.41, "longitude": -75.70, "accuracy": 8},
			{"latitude": 45.4101, "longitude": -75.7001, "recordedAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}}}})
	if res.Status != 201 {
		t.Fatalf("track = %d %s", res.Status, res.Body)
	}
	task, err := tasks.NewAbandonCanvassIdle(tasks.AbandonCanvassIdle{IdleHours: tasks.CanvassSessionIdleHours})
	if err != nil {
		t.Fatal(err)
	}
	h := &maintenance.Handler{Store: env.Store, Log: testenv.Logger(t)}
	for range 2 { // twice: the second run changes nothing
		if err := h.AbandonCanvassIdle(context.Background(), task); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id int64) string {
		s, err := env.Store.CanvassSessionByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return s.Status
	}
	if got := [3]string{status(idle), status(busy), status(fresh)}; got != [3]string{"ABANDONED", "ACTIVE", "ACTIVE"} {
		t.Fatalf("statuses idle, busy, fresh = %v", got)
	}
	t.Run("an abandoned session takes no track and cannot be ended", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: token,
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/end", idle)})
		if res.Status != 409 {
			t.Fatalf("end = %d %s, want 409", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: token,
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/track", idle),
			Body: map[string]any{"points": []map[string]any{{"latitude": 45.41, "longitude": -75.70}}}})
		if res.Status != 409 {
			t.Fatalf("track = %d %s, want 409", res.Status, res.Body)
		}
	})
	t.Run("ending a session completes it", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: token,
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/end", fresh)})
		var s session
		res.JSON(t, &s)
		if res.Status != 200 || s.Session.Status != "COMPLETED" {
			t.Fatalf("end = %d %s", res.Status, res.Body)
		}
	})
}
