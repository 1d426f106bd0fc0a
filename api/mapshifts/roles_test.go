package mapshifts_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestShiftRouteRoles: every shift route, for every kind of caller:
// anonymous 401 (the public routes answer anyone), a role without access
// 403, the roles with access succeed.
func TestShiftRouteRoles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
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
	admin := tokens[storage.RoleMapAdmin]
	fresh := func() int64 {
		return createShift(t, env, admin, map[string]any{"isPublic": true, "capacity": 100})[0].ID
	}
	shared := fresh()
	// signedUp makes a shift the caller (or, for anonymous, a volunteer) is on.
	signedUp := func(caller string) int64 {
		id := fresh()
		tok := tokens[caller]
		if caller == anon {
			tok = tokens[storage.RoleUser]
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Token: tok, Path: fmt.Sprintf("/api/map/shifts/%d/signup", id)})
		if res.Status != 201 {
			t.Fatalf("signup = %d %s", res.Status, res.Body)
		}
		return id
	}
	n := 0
	routes := []struct {
		method  string
		path    func(caller string) string
		body    func() any
		allowed []string // nil: public
		ok      int
	}{
		{"POST", fixed("/api/map/shifts"), func() any {
			return map[string]any{"title": "T", "date": future, "startTime": "09:00", "endTime": "10:00", "capacity": 5}
		}, admins, 201},
		{"GET", fixed("/api/map/shifts"), nil, everyone, 200},
		{"GET", func(string) string { return fmt.Sprintf("/api/map/shifts/%d", shared) }, nil, everyone, 200},
		{"PATCH", func(string) string { return fmt.Sprintf("/api/map/shifts/%d", shared) }, func() any {
			return map[string]any{"description": "Bring water"}
		}, admins, 200},
		{"DELETE", func(string) string { return fmt.Sprintf("/api/map/shifts/%d", fresh()) }, nil, admins, 200},
		{"POST", func(string) string { return fmt.Sprintf("/api/map/shifts/%d/signup", fresh()) }, nil, everyone, 201},
		{"DELETE", func(c string) string { return fmt.Sprintf("/api/map/shifts/%d/signup", signedUp(c)) }, nil, everyone, 204},
		{"GET", func(string) string { return fmt.Sprintf("/api/map/shifts/%d/signups", shared) }, nil, admins, 200},
		{"POST", func(string) string { return fmt.Sprintf("/api/map/shifts/%d/signups", fresh()) }, func() any {
			return map[string]any{"userId": users[storage.RoleTemp].ID}
		}, admins, 201},
		{"DELETE", func(string) string {
			return fmt.Sprintf("/api/map/shifts/%d/signups/%d", signedUp(storage.RoleUser), users[storage.RoleUser].ID)
		}, nil, admins, 204},
		{"GET", func(string) string { return fmt.Sprintf("/api/map/shifts/%d/signups/export", shared) }, nil, admins, 200},
		{"GET", fixed("/api/public/map/shifts"), nil, nil, 200},
		{"POST", func(string) string { return fmt.Sprintf("/api/public/map/shifts/%d/signup", shared) }, func() any {
			n++
			return map[string]any{"name": "Visitor", "email": fmt.Sprintf("visitor-%d@home.example", n)}
		}, nil, 201},
	}
	for _, r := range routes {
		for _, caller := range callers {
			path := r.path(caller)
			t.Run(fmt.Sprintf("%s %s as %s", r.method, strings.ReplaceAll(path, "/", "_"), caller), func(t *testing.T) {
				req := testenv.Request{Method: r.method, Path: path, Token: tokens[caller],
					Header: map[string]string{"X-Real-Ip": fmt.Sprintf("198.51.100.%d", len(caller))}}
				if r.body != nil {
					req.Body = r.body()
				}
				res := testenv.Do(t, env.Main, req)
				want := r.ok
				switch {
				case r.allowed == nil:
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
}

func fixed(p string) func(string) string { return func(string) string { return p } }

// TestShiftBadInput: what a client gets wrong is a 4xx that names the field.
func TestShiftBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	shift := createShift(t, env, admin, map[string]any{"isPublic": true})[0]
	good := func(extra map[string]any) map[string]any {
		v := map[string]any{"title": "T", "date": future, "startTime": "09:00", "endTime": "10:00", "capacity": 5}
		for k, x := range extra {
			if x == nil {
				delete(v, k)
			} else {
				v[k] = x
			}
		}
		return v
	}
	id := fmt.Sprintf("/api/map/shifts/%d", shift.ID)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"no title", "POST", "/api/map/shifts", good(map[string]any{"title": nil}), 400, "title"},
		{"title with a line break", "POST", "/api/map/shifts", good(map[string]any{"title": "a\nb"}), 400, "title"},
		{"bad date", "POST", "/api/map/shifts", good(map[string]any{"date": "2030-02-30"}), 400, "date"},
		{"bad time", "POST", "/api/map/shifts", good(map[string]any{"startTime": "9am"}), 400, "startTime"},
		{"end before start", "POST", "/api/map/shifts", good(map[string]any{"endTime": "08:00"}), 400, "endTime"},
		{"capacity 0", "POST", "/api/map/shifts", good(map[string]any{"capacity": 0}), 400, "capacity"},
		{"capacity a string", "POST", "/api/map/shifts", good(map[string]any{"capacity": "ten"}), 400, "capacity"},
		{"no such cut", "POST", "/api/map/shifts", good(map[string]any{"cutId": 999999}), 400, "cutId"},
		{"13 weeks", "POST", "/api/map/shifts", good(map[string]any{"repeat": map[string]any{"weeks": 13}}), 400, "repeat.weeks"},
		{"bad weekday", "POST", "/api/map/shifts", good(map[string]any{"repeat": map[string]any{"weeks": 2, "weekdays": []string{"MONDAY"}}}), 400, "repeat.weekdays"},
		{"not JSON", "POST", "/api/map/shifts", "[", 400, ""},
		{"bad scope", "PATCH", id + "?scope=some", map[string]any{"title": "x"}, 400, "scope"},
		{"status FULL by hand", "PATCH", id, map[string]any{"status": "FULL"}, 400, "status"},
		{"patch end before start", "PATCH", id, map[string]any{"endTime": "09:00"}, 400, "endTime"},
		{"patch cut not a number", "PATCH", id, map[string]any{"cutId": "x"}, 400, "cutId"},
		{"patch no such shift", "PATCH", "/api/map/shifts/999999", map[string]any{"title": "x"}, 404, ""},
		{"id not a number", "GET", "/api/map/shifts/x", nil, 400, "id"},
		{"list bad from", "GET", "/api/map/shifts?from=tomorrow", nil, 400, "from"},
		{"list bad status", "GET", "/api/map/shifts?status=HALF", nil, 400, "status"},
		{"add no user", "POST", id + "/signups", map[string]any{"userId": 999999}, 400, "userId"},
		{"add userId 0", "POST", id + "/signups", map[string]any{}, 400, "userId"},
		{"remove someone not on it", "DELETE", id + "/signups/999999", nil, 404, ""},
		{"signup to no shift", "POST", "/api/map/shifts/999999/signup", nil, 404, ""},
		{"public signup without email", "POST", "/api/public/map/shifts/" + fmt.Sprint(shift.ID) + "/signup", map[string]any{"name": "A"}, 400, "email"},
		{"public signup bad email", "POST", "/api/public/map/shifts/" + fmt.Sprint(shift.ID) + "/signup", map[string]any{"name": "A", "email": "not an address"}, 400, "email"},
		{"public signup without name", "POST", "/api/public/map/shifts/" + fmt.Sprint(shift.ID) + "/signup", map[string]any{"email": "a@b.example"}, 400, "name"},
		{"public list bad to", "GET", "/api/public/map/shifts?to=x", nil, 400, "to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := testenv.Do(t, env.Main, testenv.Request{Method: c.method, Path: c.path, Body: c.body, Token: admin})
			if res.Status != c.status {
				t.Fatalf("= %d %.300s, want %d", res.Status, res.Body, c.status)
			}
			if c.field != "" && !strings.Contains(string(res.Body), `"field":"`+c.field+`"`) {
				t.Fatalf("= %.300s, want a detail on %s", res.Body, c.field)
			}
		})
	}
}
