package mapcanvass_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestCanvassRouteRoles: every canvassing route, for every kind of caller:
// anonymous 401, a role without access 403, the roles with access succeed.
func TestCanvassRouteRoles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	f := fixtures{t, env}
	cut := f.cut(-75.71, 45.40, -75.69, 45.42)
	loc, _ := f.location("5 Oak St", 45.41, -75.70, 0)
	const anon = "anonymous"
	callers := []string{anon, storage.RoleTemp, storage.RoleUser, storage.RoleMapAdmin, storage.RoleInfluenceAdmin,
		storage.RoleSuperAdmin}
	everyone := callers[1:]
	admins := []string{storage.RoleMapAdmin, storage.RoleSuperAdmin}
	users := map[string]storage.User{}
	tokens := map[string]string{}
	for _, role := range everyone {
		users[role] = env.CreateUser(role, "")
		tokens[role] = env.Token(users[role])
	}
	// ownSession is a session of the caller (anonymous callers get one of a
	// volunteer's, which they must not reach either).
	ownSession := func(caller string) int64 {
		tok := tokens[caller]
		if caller == anon {
			tok = tokens[storage.RoleUser]
		}
		return startSession(t, env, tok, cut)
	}
	routes := []struct {
		method, path string
		path2        func(caller string) string
		body         func() any
		allowed      []string
		ok           int
	}{
		{method: "POST", path: "/api/map/canvass/sessions", body: func() any { return map[string]any{"cutId": cut} },
			allowed: everyone, ok: 201},
		{method: "GET", path2: func(c string) string { return fmt.Sprintf("/api/map/canvass/sessions/%d", ownSession(c)) },
			allowed: everyone, ok: 200},
		{method: "POST", path2: func(c string) string { return fmt.Sprintf("/api/map/canvass/sessions/%d/end", ownSession(c)) },
			allowed: everyone, ok: 200},
		{method: "GET", path2: func(c string) string {
			return fmt.Sprintf("/api/map/canvass/sessions/%d/route?lat=45.41&lng=-75.7", ownSession(c))
		}, allowed: everyone, ok: 200},
		{method: "POST", path2: func(c string) string { return fmt.Sprintf("/api/map/canvass/sessions/%d/track", ownSession(c)) },
			body:    func() any { return map[string]any{"points": []map[string]any{{"latitude": 45.41, "longitude": -75.7}}} },
			allowed: everyone, ok: 201},
		{method: "GET", path2: func(c string) string { return fmt.Sprintf("/api/map/canvass/sessions/%d/track", ownSession(c)) },
			allowed: everyone, ok: 200},
		{method: "POST", path: "/api/map/canvass/visits", body: func() any {
			return map[string]any{"clientId": uuid.NewString(), "locationId": loc, "outcome": "NOT_HOME"}
		}, allowed: everyone, ok: 201},
		{method: "GET", path: "/api/map/canvass/activity", allowed: admins, ok: 200},
		{method: "GET", path: "/api/map/canvass/leaderboard", allowed: everyone, ok: 200},
		{method: "GET", path: "/api/map/canvass/stats/me", allowed: everyone, ok: 200},
		{method: "GET", path: "/api/map/canvass/assignments", allowed: everyone, ok: 200},
	}
	for _, r := range routes {
		for _, caller := range callers {
			path := r.path
			if r.path2 != nil {
				path = r.path2(caller)
			}
			t.Run(fmt.Sprintf("%s %s as %s", r.method, strings.ReplaceAll(path, "/", "_"), caller), func(t *testing.T) {
				req := testenv.Request{Method: r.method, Path: path, Token: tokens[caller]}
				if r.body != nil {
					req.Body = r.body()
				}
				res := testenv.Do(t, env.Main, req)
				want := r.ok
				switch {
				case caller == anon:
					want = 401
				case !slices.Contains(r.allowed, caller) && caller != storage.RoleSuperAdmin:
					want = 403
				}
				if res.Status != want {
					t.Fatalf("= %d %.300s, want %d", res.Status, res.Body, want)
				}
			})
		}
	}
	t.Run("an admin may read and end a volunteer's session; a volunteer may not", func(t *testing.T) {
		sess := startSession(t, env, tokens[storage.RoleTemp], cut)
		for _, c := range []struct {
			role string
			want int
		}{{storage.RoleUser, 404}, {storage.RoleInfluenceAdmin, 404}, {storage.RoleMapAdmin, 200}} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: tokens[c.role],
				Path: fmt.Sprintf("/api/map/canvass/sessions/%d/end", sess)})
			if res.Status != c.want {
				t.Fatalf("end as %s = %d, want %d", c.role, res.Status, c.want)
			}
		}
		// Track points are the volunteer's alone, admin or not.
		other := startSession(t, env, tokens[storage.RoleTemp], cut)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: tokens[storage.RoleMapAdmin],
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/track", other),
			Body: map[string]any{"points": []map[string]any{{"latitude": 45.41, "longitude": -75.7}}}})
		if res.Status != 404 {
			t.Fatalf("admin track = %d, want 404", res.Status)
		}
		// Reading a track: the volunteer and map admins, nobody else.
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: tokens[storage.RoleTemp],
			Path: fmt.Sprintf("/api/map/canvass/sessions/%d/track", other),
			Body: map[string]any{"points": []map[string]any{{"latitude": 45.41, "longitude": -75.7, "accuracy": 8,
				"recordedAt": "2026-12-01T10:00:00Z"}, {"latitude": 45.4101, "longitude": -75.7001}}}}); res.Status != 201 {
			t.Fatalf("post track = %d %s", res.Status, res.Body)
		}
		for _, c := range []struct {
			role string
			want int
		}{{storage.RoleTemp, 200}, {storage.RoleUser, 404}, {storage.RoleInfluenceAdmin, 404}, {storage.RoleMapAdmin, 200}, {storage.RoleSuperAdmin, 200}} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Token: tokens[c.role],
				Path: fmt.Sprintf("/api/map/canvass/sessions/%d/track", other)})
			if res.Status != c.want {
				t.Fatalf("read track as %s = %d, want %d", c.role, res.Status, c.want)
			}
			if c.want != 200 {
				continue
			}
			var body struct {
				Points []struct {
					Latitude float64  `json:"latitude"`
					Accuracy *float64 `json:"accuracy"`
				} `json:"points"`
			}
			res.JSON(t, &body)
			if len(body.Points) != 2 || body.Points[0].Latitude != 45.41 || body.Points[0].Accuracy == nil ||
				*body.Points[0].Accuracy != 8 || body.Points[1].Accuracy != nil {
				t.Fatalf("track as %s: %s; want the two points in order, the first with accuracy 8", c.role, res.Body)
			}
		}
	})
}

// TestCanvassBadInput: what a client gets wrong is a 4xx that says what.
func TestCanvassBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	f := fixtures{t, env}
	cut := f.cut(-75.71, 45.40, -75.69, 45.42)
	loc, units := f.location("5 Oak St", 45.41, -75.70, 2)
	other, _ := f.location("7 Oak St", 45.41, -75.701, 0)
	token := env.TokenFor(storage.RoleTemp)
	sess := startSession(t, env, token, cut)
	foreign := startSession(t, env, env.TokenFor(storage.RoleUser), cut)
	visit := func(extra map[string]any) map[string]any {
		v := map[string]any{"clientId": uuid.NewString(), "locationId": loc, "outcome": "NOT_HOME"}
		for k, x := range extra {
			if x == nil {
				delete(v, k)
			} else {
				v[k] = x
			}
		}
		return v
	}
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = visit(nil)
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"session without cut", "POST", "/api/map/canvass/sessions", map[string]any{}, 400, "cutId"},
		{"session in no cut", "POST", "/api/map/canvass/sessions", map[string]any{"cutId": 999999}, 400, "cutId"},
		{"session for no shift", "POST", "/api/map/canvass/sessions", map[string]any{"cutId": cut, "shiftId": 999999}, 400, "shiftId"},
		{"session body not JSON", "POST", "/api/map/canvass/sessions", "{", 400, ""},
		{"session cutId a string", "POST", "/api/map/canvass/sessions", map[string]any{"cutId": "one"}, 400, "cutId"},
		{"session id not a number", "GET", "/api/map/canvass/sessions/abc", nil, 400, "id"},
		{"no such session", "POST", "/api/map/canvass/sessions/999999/end", nil, 404, ""},
		{"route without lat", "GET", fmt.Sprintf("/api/map/canvass/sessions/%d/route?lng=-75.7", sess), nil, 400, "lat"},
		{"route lat out of range", "GET", fmt.Sprintf("/api/map/canvass/sessions/%d/route?lat=95&lng=-75.7", sess), nil, 400, "lat"},
		{"route lng NaN", "GET", fmt.Sprintf("/api/map/canvass/sessions/%d/route?lat=45&lng=NaN", sess), nil, 400, "lng"},
		{"visit without clientId", "POST", "/api/map/canvass/visits", visit(map[string]any{"clientId": nil}), 400, "clientId"},
		{"visit clientId not a UUID", "POST", "/api/map/canvass/visits", visit(map[string]any{"clientId": "abc"}), 400, "clientId"},
		{"visit without a door", "POST", "/api/map/canvass/visits", visit(map[string]any{"locationId": nil}), 400, "locationId"},
		{"visit to no location", "POST", "/api/map/canvass/visits", visit(map[string]any{"locationId": 999999}), 400, "locationId"},
		{"visit to no unit", "POST", "/api/map/canvass/visits", visit(map[string]any{"unitId": 999999}), 400, "unitId"},
		{"unit of another location", "POST", "/api/map/canvass/visits", visit(map[string]any{"locationId": other, "unitId": units[0]}), 400, "unitId"},
		{"bad outcome", "POST", "/api/map/canvass/visits", visit(map[string]any{"outcome": "MAYBE"}), 400, "outcome"},
		{"support level 5", "POST", "/api/map/canvass/visits", visit(map[string]any{"unitId": units[0], "supportLevel": 5}), 400, "supportLevel"},
		{"notes too long", "POST", "/api/map/canvass/visits", visit(map[string]any{"notes": strings.Repeat("x", 2001)}), 400, "notes"},
		{"visit in the future", "POST", "/api/map/canvass/visits", visit(map[string]any{"visitedAt": "2999-01-01T00:00:00Z"}), 400, "visitedAt"},
		{"visit in someone else's session", "POST", "/api/map/canvass/visits", visit(map[string]any{"sessionId": foreign}), 400, "sessionId"},
		{"email of a resident", "POST", "/api/map/canvass/visits", visit(map[string]any{"email": "x@y.example"}), 400, "email"},
		{"empty batch", "POST", "/api/map/canvass/visits", map[string]any{"visits": []any{}}, 400, "visits"},
		{"batch too big", "POST", "/api/map/canvass/visits", map[string]any{"visits": many}, 400, "visits"},
		{"bad visit in a batch", "POST", "/api/map/canvass/visits", map[string]any{"visits": []any{visit(nil), visit(map[string]any{"outcome": "X"})}}, 400, "visits[1].outcome"},
		{"visits not a list", "POST", "/api/map/canvass/visits", map[string]any{"visits": "all"}, 400, "visits"},
		{"no track points", "POST", fmt.Sprintf("/api/map/canvass/sessions/%d/track", sess), map[string]any{"points": []any{}}, 400, "points"},
		{"track point off the globe", "POST", fmt.Sprintf("/api/map/canvass/sessions/%d/track", sess), map[string]any{"points": []any{map[string]any{"latitude": 99, "longitude": 0}}}, 400, "points[0].latitude"},
		{"track point without longitude", "POST", fmt.Sprintf("/api/map/canvass/sessions/%d/track", sess), map[string]any{"points": []any{map[string]any{"latitude": 45}}}, 400, "points[0].longitude"},
		{"leaderboard days 0", "GET", "/api/map/canvass/leaderboard?days=0", nil, 400, "days"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := testenv.Do(t, env.Main, testenv.Request{Method: c.method, Path: c.path, Body: c.body, Token: token})
			if res.Status != c.status {
				t.Fatalf("= %d %.300s, want %d", res.Status, res.Body, c.status)
			}
			if c.field != "" && !strings.Contains(string(res.Body), `"field":"`+c.field+`"`) {
				t.Fatalf("= %.300s, want a detail on %s", res.Body, c.field)
			}
		})
	}
	if n := f.count(`SELECT count(*) FROM map_canvass_visits`); n != 0 {
		t.Fatalf("bad input recorded %d visits", n)
	}
}
