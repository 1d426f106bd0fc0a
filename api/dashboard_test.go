package api_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"changemaker/api"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// browser is an http.Client with a cookie jar, as a browser keeps cookies.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, url, accept string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func browserLogin(t *testing.T, c *http.Client, base, email string) {
	t.Helper()
	res, err := c.Post(base+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"`+email+`","password":"`+testenv.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("login = %d", res.StatusCode)
	}
}

// TestDashboardInABrowser walks the path a browser takes: sign-in page,
// login (which sets the cookie), then the dashboard page, its script and
// the JSON API the script calls — all carried by the cookie alone.
func TestDashboardInABrowser(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	queuesApp, err := api.NewQueues(env.Deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { queuesApp.Close() })
	for name, app := range map[string]*api.App{"mounted in the main API": env.Main, "standalone queues process": queuesApp} {
		t.Run(name, func(t *testing.T) {
			base := testenv.Serve(t, app)
			admin := env.CreateUser(storage.RoleSuperAdmin, "")
			b := browser(t)

			status, body, _ := get(t, b, base+"/api/admin/queues", "text/html,application/xhtml+xml")
			if status != 401 || !strings.Contains(body, "<form") || !strings.Contains(body, "/api/auth/login") {
				t.Fatalf("anonymous browser = %d, want 401 with a sign-in form; body %.200s", status, body)
			}
			status, body, _ = get(t, b, base+"/api/admin/queues/api/queues", "application/json")
			if status != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
				t.Fatalf("anonymous API call = %d %s, want 401 JSON", status, body)
			}

			browserLogin(t, b, base, admin.Email)
			status, body, _ = get(t, b, base+"/api/admin/queues", "text/html")
			if status != 200 || !strings.Contains(body, "<html") {
				t.Fatalf("dashboard after login = %d %.200s", status, body)
			}
			script := regexp.MustCompile(`src="([^"]+\.js)"`).FindStringSubmatch(body)
			if script == nil {
				t.Fatalf("dashboard page has no script: %.500s", body)
			}
			if status, _, h := get(t, b, base+script[1], ""); status != 200 || !strings.Contains(h.Get("Content-Type"), "javascript") {
				t.Fatalf("dashboard script %s = %d %s", script[1], status, h.Get("Content-Type"))
			}
			status, body, _ = get(t, b, base+"/api/admin/queues/api/queues", "application/json")
			if status != 200 || !strings.Contains(body, "queues") {
				t.Fatalf("dashboard API with cookie = %d %.200s", status, body)
			}

			t.Run("another role's cookie is 403", func(t *testing.T) {
				mapAdmin := env.CreateUser(storage.RoleMapAdmin, "")
				b := browser(t)
				browserLogin(t, b, base, mapAdmin.Email)
				if status, _, _ := get(t, b, base+"/api/admin/queues", "text/html"); status != 403 {
					t.Fatalf("MAP_ADMIN browser = %d, want 403", status)
				}
			})
		})
	}
}

// TestCookieDoesNotAuthenticateJSONRoutes: the cookie exists for the
// dashboard only; JSON routes take Bearer tokens, so a cross-site form
// cannot ride the cookie into them.
func TestCookieDoesNotAuthenticateJSONRoutes(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	base := testenv.Serve(t, env.Main)
	admin := env.CreateUser(storage.RoleSuperAdmin, "")
	b := browser(t)
	browserLogin(t, b, base, admin.Email)
	if status, _, _ := get(t, b, base+"/api/users", "application/json"); status != 401 {
		t.Fatalf("GET /api/users with only the cookie = %d, want 401", status)
	}
}
