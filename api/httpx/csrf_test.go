package httpx_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/storage"
)

type oneUser struct{ u storage.User }

func (o oneUser) UserByID(context.Context, int64) (storage.User, error) { return o.u, nil }

// TestCookieCredentialRefusesCrossSiteWrites: a route that accepts the
// HttpOnly access cookie (the queue dashboard) refuses a state-changing
// request a browser marks as coming from another site, whether it says so
// with Sec-Fetch-Site or only with Origin; same-origin requests, reads, and
// bearer tokens (which a browser never adds by itself) pass.
func TestCookieCredentialRefusesCrossSiteWrites(t *testing.T) {
	t.Parallel()
	admin := storage.User{ID: 7, Email: "a@example.org", Role: storage.RoleSuperAdmin, Status: storage.StatusActive}
	tokens := httpx.NewTokens("csrf-test-secret-0123456789abcdef0123", httpx.AccessTokenTTL)
	token, _, err := tokens.Issue(admin)
	if err != nil {
		t.Fatal(err)
	}
	auth := httpx.NewAuth(tokens, oneUser{admin})
	app := newApp(t)
	app.All("/dash", auth.RequireWithCookie(storage.RoleSuperAdmin), func(c *fiber.Ctx) error { return c.SendString("done") })

	for _, tc := range []struct {
		name, method string
		header       map[string]string
		bearer       bool
		want         int
	}{
		{"cross-site POST (Sec-Fetch-Site)", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 403},
		{"same-site POST from another origin", "DELETE", map[string]string{"Sec-Fetch-Site": "same-site"}, false, 403},
		{"POST with a foreign Origin only", "POST", map[string]string{"Origin": "https://evil.example.com"}, false, 403},
		{"POST with a null Origin", "POST", map[string]string{"Origin": "null"}, false, 403},
		{"same-origin POST", "POST", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, false, 200},
		{"POST with the same Origin only", "POST", map[string]string{"Origin": "http://example.com:8443"}, false, 200},
		{"POST from no browser", "POST", nil, false, 200},
		{"cross-site GET (a link)", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 200},
		{"cross-site POST with a bearer token", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://example.com/dash", nil)
			if tc.bearer {
				req.Header.Set("Authorization", "Bearer "+token)
			} else {
				req.Header.Set("Cookie", httpx.AccessCookie+"="+token)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			res, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.want {
				t.Fatalf("= %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
