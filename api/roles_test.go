package api_test

import (
	"fmt"
	"strings"
	"testing"

	"changemaker/api"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestRouteRoles is the role matrix of every foundation route: anonymous
// callers get 401, roles without access 403, and allowed roles succeed.
func TestRouteRoles(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	const anon = "anonymous"
	callers := []string{anon, storage.RoleTemp, storage.RoleUser, storage.RoleMapAdmin, storage.RoleInfluenceAdmin, storage.RoleSuperAdmin}
	allRoles := callers[1:]
	superOnly := []string{storage.RoleSuperAdmin}

	n := 0
	uniqueEmail := func() string { n++; return fmt.Sprintf("matrix-%d@example.test", n) }
	target := func() int64 { return env.CreateUser(storage.RoleUser, "").ID }

	routes := []struct {
		app     func() *api.App
		method  string
		path    func() string
		body    func() any
		allowed []string // nil: public
		okCode  int
	}{
		{mainApp(env), "GET", fixed("/api/users"), nil, superOnly, 200},
		{mainApp(env), "POST", fixed("/api/users"), func() any {
			return map[string]string{"email": uniqueEmail(), "role": "USER"}
		}, superOnly, 201},
		{mainApp(env), "GET", func() string { return fmt.Sprintf("/api/users/%d", target()) }, nil, superOnly, 200},
		{mainApp(env), "PATCH", func() string { return fmt.Sprintf("/api/users/%d", target()) }, func() any {
			return map[string]string{"name": "Renamed"}
		}, superOnly, 200},
		{mainApp(env), "DELETE", func() string { return fmt.Sprintf("/api/users/%d", target()) }, nil, superOnly, 204},
		{mainApp(env), "GET", fixed("/api/settings"), nil, superOnly, 200},
		{mainApp(env), "PUT", fixed("/api/settings"), func() any { return map[string]string{"organizationName": "Org"} }, superOnly, 200},
		{mainApp(env), "GET", fixed("/api/admin/queues"), nil, superOnly, 200},
		{mainApp(env), "GET", fixed("/api/admin/queues/api/queues"), nil, superOnly, 200},
		{mainApp(env), "GET", fixed("/api/auth/me"), nil, allRoles, 200},
		{mediaApp(env), "GET", fixed("/api/media/auth/me"), nil, allRoles, 200},
		{mainApp(env), "GET", fixed("/api/public/settings"), nil, nil, 200},
		{mainApp(env), "GET", fixed("/api/health"), nil, nil, 200},
		{mainApp(env), "GET", fixed("/api/metrics"), nil, nil, 200},
		{mediaApp(env), "GET", fixed("/health"), nil, nil, 200},
		{mediaApp(env), "GET", fixed("/metrics"), nil, nil, 200},
	}
	tokens := map[string]string{}
	for _, role := range allRoles {
		tokens[role] = env.TokenFor(role)
	}
	for _, r := range routes {
		path := r.path()
		for _, caller := range callers {
			name := fmt.Sprintf("%s %s as %s", r.method, strings.ReplaceAll(path, "/", "_"), caller)
			t.Run(name, func(t *testing.T) {
				req := testenv.Request{Method: r.method, Path: r.path(), Token: tokens[caller]}
				if r.body != nil {
					req.Body = r.body()
				}
				res := testenv.Do(t, r.app(), req)
				want := r.okCode
				switch {
				case r.allowed == nil:
				case caller == anon:
					want = 401
				case !containsRole(r.allowed, caller):
					want = 403
				}
				if res.Status != want {
					t.Fatalf("%s %s as %s = %d %.200s, want %d", req.Method, req.Path, caller, res.Status, res.Body, want)
				}
			})
		}
	}
}

func fixed(p string) func() string { return func() string { return p } }

func mainApp(env *testenv.API) func() *api.App  { return func() *api.App { return env.Main } }
func mediaApp(env *testenv.API) func() *api.App { return func() *api.App { return env.Media } }

func containsRole(list []string, r string) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}
