package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

func TestUsersAdmin(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	adminUser := env.CreateUser(storage.RoleSuperAdmin, "")
	admin := env.Token(adminUser)
	do := func(method, path string, body any) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: method, Path: path, Body: body, Token: admin})
	}

	t.Run("create without a password returns a generated one that works", func(t *testing.T) {
		res := do("POST", "/api/users", map[string]string{"email": "vol@example.test", "name": "Vol", "role": "MAP_ADMIN"})
		var body struct {
			User              storage.User `json:"user"`
			GeneratedPassword string       `json:"generatedPassword"`
		}
		res.JSON(t, &body)
		if res.Status != 201 || body.GeneratedPassword == "" || body.User.Role != "MAP_ADMIN" {
			t.Fatalf("create = %d %s", res.Status, res.Body)
		}
		if strings.Contains(string(res.Body), "password_hash") || strings.Contains(string(res.Body), "$2a$") {
			t.Fatal("response leaks the password hash")
		}
		if res, _ := login(t, env, "vol@example.test", body.GeneratedPassword); res.Status != 200 {
			t.Fatalf("login with generated password = %d", res.Status)
		}
		if again := do("POST", "/api/users", map[string]string{"email": "VOL@example.test", "role": "USER"}); again.Status != 409 {
			t.Fatalf("duplicate email = %d, want 409", again.Status)
		}
	})

	t.Run("an expiry is set, kept when left out, and cleared with null", func(t *testing.T) {
		u := env.CreateUser(storage.RoleUser, "")
		path := fmt.Sprintf("/api/users/%d", u.ID)
		expiry := func(res *testenv.Response) *string {
			t.Helper()
			var body struct {
				User struct {
					ExpiresAt *string `json:"expiresAt"`
				} `json:"user"`
			}
			res.JSON(t, &body)
			if res.Status != 200 {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			return body.User.ExpiresAt
		}
		if got := expiry(do("PATCH", path, map[string]any{"expiresAt": "2031-01-02T03:04:05Z"})); got == nil || !strings.HasPrefix(*got, "2031-01-02T03:04:05") {
			t.Fatalf("after setting it: expiresAt %v", got)
		}
		if got := expiry(do("PATCH", path, map[string]any{"name": "Renamed"})); got == nil {
			t.Fatal("a PATCH without expiresAt cleared it")
		}
		if got := expiry(do("PATCH", path, map[string]any{"expiresAt": nil})); got != nil {
			t.Fatalf("after expiresAt null: %q, want no expiry", *got)
		}
		if got := expiry(do("GET", path, nil)); got != nil {
			t.Fatalf("read back: expiresAt %q, want none", *got)
		}
	})

	t.Run("list pages, searches and filters", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			env.CreateUser(storage.RoleInfluenceAdmin, "")
		}
		var page struct {
			Data       []storage.User `json:"data"`
			Pagination struct {
				Page, Limit, Total, TotalPages int
			} `json:"pagination"`
		}
		res := do("GET", "/api/users?role=INFLUENCE_ADMIN&limit=2&page=2", nil)
		res.JSON(t, &page)
		if res.Status != 200 || len(page.Data) != 1 || page.Pagination.Total != 3 || page.Pagination.TotalPages != 2 {
			t.Fatalf("filtered page 2 = %d %s", res.Status, res.Body)
		}
		res = do("GET", "/api/users?search=vol@", nil)
		res.JSON(t, &page)
		if len(page.Data) != 1 || page.Data[0].Email != "vol@example.test" {
			t.Fatalf("search = %s", res.Body)
		}
		for _, q := range []string{"role=KING", "status=ZOMBIE", "limit=0", "limit=1000", "page=-1", "page=x"} {
			if res := do("GET", "/api/users?"+q, nil); res.Status != 400 {
				t.Errorf("GET /api/users?%s = %d, want 400", q, res.Status)
			}
		}
	})

	t.Run("patch changes role and status; a suspended user is locked out", func(t *testing.T) {
		u := env.CreateUser(storage.RoleUser, "")
		tok := env.Token(u)
		res := do("PATCH", fmt.Sprintf("/api/users/%d", u.ID), map[string]string{"role": "INFLUENCE_ADMIN", "status": "SUSPENDED"})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"status":"SUSPENDED"`) {
			t.Fatalf("patch = %d %s", res.Status, res.Body)
		}
		if got := me(t, env, tok); got != 401 {
			t.Fatalf("suspended user's token = %d, want 401", got)
		}
		bad := do("PATCH", fmt.Sprintf("/api/users/%d", u.ID), map[string]any{"role": "KING", "email": "x", "password": "short"})
		if bad.Status != 400 || strings.Count(string(bad.Body), `"field"`) != 3 {
			t.Fatalf("bad patch = %d %s, want 400 naming three fields", bad.Status, bad.Body)
		}
	})

	t.Run("an admin cannot demote, deactivate or delete themselves", func(t *testing.T) {
		self := fmt.Sprintf("/api/users/%d", adminUser.ID)
		for _, body := range []map[string]string{{"role": "USER"}, {"status": "INACTIVE"}} {
			if res := do("PATCH", self, body); res.Status != 400 {
				t.Errorf("self patch %v = %d, want 400", body, res.Status)
			}
		}
		if res := do("DELETE", self, nil); res.Status != 400 {
			t.Errorf("self delete = %d, want 400", res.Status)
		}
	})

	t.Run("delete is soft and ends the user's access", func(t *testing.T) {
		u := env.CreateUser(storage.RoleUser, "")
		tok := env.Token(u)
		if res := do("DELETE", fmt.Sprintf("/api/users/%d", u.ID), nil); res.Status != 204 {
			t.Fatalf("delete = %d %s", res.Status, res.Body)
		}
		var deletedAt *string
		env.Store.Pool.QueryRow(context.Background(), "SELECT deleted_at::text FROM users WHERE id = $1", u.ID).Scan(&deletedAt)
		if deletedAt == nil {
			t.Fatal("row gone or deleted_at unset; want a soft delete")
		}
		if res := do("GET", fmt.Sprintf("/api/users/%d", u.ID), nil); res.Status != 404 {
			t.Errorf("get deleted = %d, want 404", res.Status)
		}
		if res := do("DELETE", fmt.Sprintf("/api/users/%d", u.ID), nil); res.Status != 404 {
			t.Errorf("delete twice = %d, want 404", res.Status)
		}
		if got := me(t, env, tok); got != 401 {
			t.Errorf("deleted user's token = %d, want 401", got)
		}
	})
}

func TestSettings(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	put := func(body any) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Body: body, Token: admin})
	}
	res := put(map[string]any{"organizationName": "Friends of the River", "emailFromAddress": "hello@river.test",
		"smtpHost": "smtp.river.test", "smtpPort": 2525, "smtpUsername": "mailer", "smtpPassword": "s3cret-smtp-pass",
		"enableMap": false})
	if res.Status != 200 {
		t.Fatalf("put = %d %s", res.Status, res.Body)
	}

	t.Run("the SMTP password is never returned, only whether it is set", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/settings", Token: admin})
		body := string(res.Body)
		if strings.Contains(body, "s3cret-smtp-pass") || !strings.Contains(body, `"smtpPasswordSet":true`) ||
			!strings.Contains(body, `"smtpPort":2525`) || !strings.Contains(body, `"enableMap":false`) {
			t.Fatalf("GET /api/settings = %s", body)
		}
	})

	t.Run("the SMTP password is encrypted at rest and decrypts with ENCRYPTION_KEY", func(t *testing.T) {
		st, err := env.Store.GetSettings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(st.SMTPPasswordEnc) == 0 || strings.Contains(string(st.SMTPPasswordEnc), "s3cret") {
			t.Fatalf("stored password %q is not sealed", st.SMTPPasswordEnc)
		}
		box, _ := storage.NewSecretBox(env.Config.EncryptionKey)
		plain, err := box.Open(st.SMTPPasswordEnc)
		if err != nil || string(plain) != "s3cret-smtp-pass" {
			t.Fatalf("open = %q, %v", plain, err)
		}
	})

	t.Run("public settings carry no secrets or addresses", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/settings"})
		body := string(res.Body)
		if res.Status != 200 || !strings.Contains(body, "Friends of the River") {
			t.Fatalf("public settings = %d %s", res.Status, body)
		}
		for _, secret := range []string{"smtp", "@", "mailer", "Password"} {
			if strings.Contains(body, secret) {
				t.Errorf("public settings contain %q: %s", secret, body)
			}
		}
	})

	t.Run("the from address is stored trimmed", func(t *testing.T) {
		res := put(map[string]any{"emailFromAddress": "  news@river.test  "})
		if !strings.Contains(string(res.Body), `"emailFromAddress":"news@river.test"`) {
			t.Fatalf("after a padded address = %s", res.Body)
		}
	})

	t.Run("empty password clears it", func(t *testing.T) {
		res := put(map[string]any{"smtpPassword": ""})
		if !strings.Contains(string(res.Body), `"smtpPasswordSet":false`) {
			t.Fatalf("after clearing = %s", res.Body)
		}
	})

	t.Run("bad values are 400 with one detail per field", func(t *testing.T) {
		res := put(map[string]any{"smtpPort": 70000, "smtpTls": "maybe", "emailFromAddress": "not-an-address",
			"organizationName": "Evil\r\nBcc: x@y.z"})
		if res.Status != 400 || strings.Count(string(res.Body), `"field"`) != 4 {
			t.Fatalf("bad settings = %d %s", res.Status, res.Body)
		}
	})
}

func TestPasswordResetEndsSessions(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	u := env.CreateUser(storage.RoleUser, "")
	_, tk := login(t, env, u.Email, testenv.Password)
	res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/users/%d", u.ID),
		Token: admin, Body: map[string]string{"password": "a-brand-new-password"}})
	if res.Status != 200 {
		t.Fatalf("reset = %d %s", res.Status, res.Body)
	}
	if res, _ := refresh(t, env, tk.RefreshToken); res.Status != 401 {
		t.Fatalf("refresh token after a password reset = %d, want 401", res.Status)
	}
	if res, _ := login(t, env, u.Email, "a-brand-new-password"); res.Status != 200 {
		t.Fatalf("login with the new password = %d", res.Status)
	}
}

// TestBadTextIs400: Postgres refuses NUL and invalid UTF-8 in text; those
// come from the client and must be a 400, never a 500.
func TestBadTextIs400(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	cases := []testenv.Request{
		{Method: "POST", Path: "/api/auth/login", Body: `{"email":"a\u0000@b.co","password":"whatever-123"}`},
		{Method: "GET", Path: "/api/users?search=%00", Token: admin},
		{Method: "GET", Path: "/api/users?search=%ff", Token: admin},
		{Method: "GET", Path: "/api/users?%ff=x", Token: admin},
		{Method: "POST", Path: "/api/users", Token: admin, Body: `{"email":"n@b.co","role":"USER","name":"x\u0000y"}`},
		{Method: "PUT", Path: "/api/settings", Token: admin, Body: `{"organizationName":"Org\u0000"}`},
	}
	for _, req := range cases {
		res := testenv.Do(t, env.Main, req)
		if res.Status != 400 {
			t.Errorf("%s %s %v = %d %s, want 400", req.Method, req.Path, req.Body, res.Status, res.Body)
		}
	}
}
