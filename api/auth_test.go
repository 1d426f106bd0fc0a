package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

type tokens struct {
	AccessToken  string       `json:"accessToken"`
	RefreshToken string       `json:"refreshToken"`
	ExpiresIn    int          `json:"expiresIn"`
	User         storage.User `json:"user"`
}

func login(t *testing.T, env *testenv.API, email, password string) (*testenv.Response, tokens) {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
		Body: map[string]string{"email": email, "password": password}})
	var tk tokens
	if res.Status == 200 {
		res.JSON(t, &tk)
	}
	return res, tk
}

func refresh(t *testing.T, env *testenv.API, token string) (*testenv.Response, tokens) {
	t.Helper()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/refresh",
		Body: map[string]string{"refreshToken": token}})
	var tk tokens
	if res.Status == 200 {
		res.JSON(t, &tk)
	}
	return res, tk
}

func me(t *testing.T, env *testenv.API, access string) int {
	t.Helper()
	return testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/auth/me", Token: access}).Status
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	u := env.CreateUser(storage.RoleUser, "")

	t.Run("right password gives working tokens and an HttpOnly strict cookie", func(t *testing.T) {
		res, tk := login(t, env, u.Email, testenv.Password)
		if res.Status != 200 || tk.AccessToken == "" || tk.RefreshToken == "" || tk.ExpiresIn != 900 {
			t.Fatalf("login = %d %s", res.Status, res.Body)
		}
		if tk.User.ID != u.ID || tk.User.PasswordHash != "" {
			t.Errorf("login user = %+v", tk.User)
		}
		cookie := res.Header.Get("Set-Cookie")
		for _, want := range []string{"cm_access=", "HttpOnly", "SameSite=Strict", "path=/"} {
			if !containsFold(cookie, want) {
				t.Errorf("Set-Cookie %q lacks %s", cookie, want)
			}
		}
		if got := me(t, env, tk.AccessToken); got != 200 {
			t.Errorf("GET /api/auth/me with fresh token = %d", got)
		}
	})

	t.Run("the answer's lastLoginAt is this login, as /auth/me shows it", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		res, tk := login(t, env, u.Email, testenv.Password)
		if res.Status != 200 || tk.User.LastLoginAt == nil || tk.User.LastLoginAt.Before(before) {
			t.Fatalf("login = %d, user.lastLoginAt %v; want this login (after %v)", res.Status, tk.User.LastLoginAt, before)
		}
		var me struct {
			User struct {
				LastLoginAt *time.Time `json:"lastLoginAt"`
			} `json:"user"`
		}
		testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/auth/me", Token: tk.AccessToken}).JSON(t, &me)
		if got := me.User.LastLoginAt; got == nil || !got.Equal(*tk.User.LastLoginAt) {
			t.Errorf("/auth/me lastLoginAt %v, login answered %v; want the same", got, tk.User.LastLoginAt)
		}
	})

	t.Run("unknown email and wrong password answer the same", func(t *testing.T) {
		wrong, _ := login(t, env, u.Email, "wrong-password-123")
		unknown, _ := login(t, env, "nobody@example.test", "wrong-password-123")
		if wrong.Status != 401 || unknown.Status != 401 || string(wrong.Body) != string(unknown.Body) {
			t.Fatalf("wrong password = %d %s; unknown email = %d %s; want identical 401s",
				wrong.Status, wrong.Body, unknown.Status, unknown.Body)
		}
	})

	t.Run("email is case-insensitive", func(t *testing.T) {
		res, _ := login(t, env, "  "+upper(u.Email)+" ", testenv.Password)
		if res.Status != 200 {
			t.Fatalf("login with upper-case email = %d %s", res.Status, res.Body)
		}
	})

	t.Run("missing fields name each field", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login", Body: map[string]string{}})
		if res.Status != 400 || !contains(string(res.Body), `"field":"email"`) || !contains(string(res.Body), `"field":"password"`) {
			t.Fatalf("empty login = %d %s", res.Status, res.Body)
		}
	})

	t.Run("garbage bearer tokens are 401", func(t *testing.T) {
		for _, h := range []string{"Bearer nonsense", "Basic abc", "Bearer "} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/auth/me",
				Header: map[string]string{"Authorization": h}})
			if res.Status != 401 {
				t.Errorf("Authorization %q = %d, want 401", h, res.Status)
			}
		}
	})

	t.Run("a token signed with another secret is 401", func(t *testing.T) {
		other := testenv.NewTokensWithSecret("another-secret-another-secret-another-secret")
		tok, _, err := other.Issue(u)
		if err != nil {
			t.Fatal(err)
		}
		if got := me(t, env, tok); got != 401 {
			t.Fatalf("forged token = %d, want 401", got)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	u := env.CreateUser(storage.RoleUser, "")
	_, first := login(t, env, u.Email, testenv.Password)

	res, second := refresh(t, env, first.RefreshToken)
	if res.Status != 200 || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh = %d %s, want 200 with a new refresh token", res.Status, res.Body)
	}
	if got := me(t, env, second.AccessToken); got != 200 {
		t.Fatalf("rotated access token = %d", got)
	}

	res, third := refresh(t, env, second.RefreshToken)
	if res.Status != 200 {
		t.Fatalf("second rotation = %d %s", res.Status, res.Body)
	}

	// An attacker replays the first (spent) token: the whole family dies,
	// including the legitimate newest token.
	res, _ = refresh(t, env, first.RefreshToken)
	if res.Status != 401 {
		t.Fatalf("reused refresh token = %d %s, want 401", res.Status, res.Body)
	}
	if res, _ := refresh(t, env, third.RefreshToken); res.Status != 401 {
		t.Fatalf("newest token after reuse = %d, want 401 (family revoked)", res.Status)
	}

	// A new login starts a new family, unaffected.
	_, fresh := login(t, env, u.Email, testenv.Password)
	if res, _ := refresh(t, env, fresh.RefreshToken); res.Status != 200 {
		t.Fatalf("new family refresh = %d", res.Status)
	}

	t.Run("unknown and expired tokens are 401", func(t *testing.T) {
		if res, _ := refresh(t, env, "not-a-token"); res.Status != 401 {
			t.Errorf("unknown refresh token = %d, want 401", res.Status)
		}
		_, tk := login(t, env, u.Email, testenv.Password)
		if _, err := env.Store.Pool.Exec(context.Background(),
			`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL AND revoked_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		if res, _ := refresh(t, env, tk.RefreshToken); res.Status != 401 {
			t.Errorf("expired refresh token = %d, want 401", res.Status)
		}
	})

	t.Run("refresh tokens are stored only as hashes", func(t *testing.T) {
		var n int
		err := env.Store.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM refresh_tokens WHERE token_hash = convert_to($1, 'UTF8')`, fresh.RefreshToken).Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("raw refresh token found in the database (n=%d, err=%v)", n, err)
		}
	})
}

func TestLogoutRevokesRefreshToken(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	u := env.CreateUser(storage.RoleUser, "")
	_, tk := login(t, env, u.Email, testenv.Password)
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/logout",
		Body: map[string]string{"refreshToken": tk.RefreshToken}})
	if res.Status != 204 {
		t.Fatalf("logout = %d %s", res.Status, res.Body)
	}
	if !containsFold(res.Header.Get("Set-Cookie"), "cm_access=;") {
		t.Errorf("logout does not clear the cookie: %q", res.Header.Get("Set-Cookie"))
	}
	if res, _ := refresh(t, env, tk.RefreshToken); res.Status != 401 {
		t.Fatalf("refresh after logout = %d, want 401", res.Status)
	}
}

func TestInactiveUsersAreLockedOutAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	for _, status := range []string{storage.StatusSuspended, storage.StatusInactive, storage.StatusExpired} {
		t.Run(status, func(t *testing.T) {
			u := env.CreateUser(storage.RoleInfluenceAdmin, "")
			_, tk := login(t, env, u.Email, testenv.Password)
			if me(t, env, tk.AccessToken) != 200 {
				t.Fatal("token does not work before the status change")
			}
			if _, err := env.Store.UpdateUser(context.Background(), u.ID, storage.UserPatch{Status: &status}); err != nil {
				t.Fatal(err)
			}
			if got := me(t, env, tk.AccessToken); got != 401 {
				t.Errorf("access token of %s user = %d, want 401 at once", status, got)
			}
			media := testenv.Do(t, env.Media, testenv.Request{Method: "GET", Path: "/api/media/auth/me", Token: tk.AccessToken})
			if media.Status != 401 {
				t.Errorf("media API with %s user's token = %d, want 401", status, media.Status)
			}
			if res, _ := refresh(t, env, tk.RefreshToken); res.Status != 401 {
				t.Errorf("refresh of %s user = %d, want 401", status, res.Status)
			}
			if res, _ := login(t, env, u.Email, testenv.Password); res.Status != 403 {
				t.Errorf("login of %s user = %d, want 403", status, res.Status)
			}
		})
	}
	t.Run("TEMP account past its expiry", func(t *testing.T) {
		u := env.CreateUser(storage.RoleTemp, "")
		tok := env.Token(u)
		past := time.Now().Add(-time.Minute)
		if _, err := env.Store.UpdateUser(context.Background(), u.ID, storage.UserPatch{SetExpiresAt: true, ExpiresAt: &past}); err != nil {
			t.Fatal(err)
		}
		if got := me(t, env, tok); got != 401 {
			t.Errorf("expired TEMP user = %d, want 401", got)
		}
	})
	t.Run("deleted user", func(t *testing.T) {
		u := env.CreateUser(storage.RoleUser, "")
		tok := env.Token(u)
		if err := env.Store.SoftDeleteUser(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		if got := me(t, env, tok); got != 401 {
			t.Errorf("deleted user = %d, want 401", got)
		}
	})
}

func TestMainTokenWorksOnMediaAPI(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	u := env.CreateUser(storage.RoleMapAdmin, "")
	_, tk := login(t, env, u.Email, testenv.Password)
	res := testenv.Do(t, env.Media, testenv.Request{Method: "GET", Path: "/api/media/auth/me", Token: tk.AccessToken})
	var body struct {
		User storage.User `json:"user"`
	}
	res.JSON(t, &body)
	if res.Status != 200 || body.User.ID != u.ID || body.User.Role != storage.RoleMapAdmin {
		t.Fatalf("media API with main API token = %d %s", res.Status, res.Body)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) { c.RegisterRateLimit = 100 })
	body := map[string]string{"email": "new@example.test", "password": "a-long-enough-password", "name": "New"}
	// Off on a fresh install: an anonymous visitor cannot make an account.
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register", Body: body}); res.Status != 403 {
		t.Fatalf("register on a fresh install = %d %s, want 403 (registration is off by default)", res.Status, res.Body)
	}
	var st struct {
		AllowRegistration bool `json:"allowRegistration"`
	}
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/settings", Token: env.TokenFor(storage.RoleSuperAdmin)}).JSON(t, &st)
	if st.AllowRegistration {
		t.Errorf("settings allowRegistration = true on a fresh install, want false")
	}
	env.AllowRegistration()
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register", Body: body})
	var tk tokens
	res.JSON(t, &tk)
	if res.Status != 201 || tk.User.Role != storage.RoleUser || tk.AccessToken == "" {
		t.Fatalf("register = %d %s, want 201 as USER", res.Status, res.Body)
	}
	if again := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register", Body: body}); again.Status != 409 {
		t.Errorf("duplicate register = %d, want 409", again.Status)
	}
	short := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register",
		Body: map[string]string{"email": "x@example.test", "password": "short"}})
	if short.Status != 400 || !contains(string(short.Body), `"field":"password"`) {
		t.Errorf("short password = %d %s", short.Status, short.Body)
	}
	twoLines := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register",
		Body: map[string]string{"email": "y@example.test", "password": "a-long-enough-password", "name": "New\r\nBcc: x@example.test"}})
	if twoLines.Status != 400 || !contains(string(twoLines.Body), `"field":"name"`) {
		t.Errorf("a name with a line break = %d %s, want 400 on name", twoLines.Status, twoLines.Body)
	}
	off := false
	if _, err := env.Store.UpdateSettings(context.Background(), storage.SettingsPatch{AllowRegistration: &off}); err != nil {
		t.Fatal(err)
	}
	body["email"] = "other@example.test"
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register", Body: body}); res.Status != 403 {
		t.Errorf("register while switched off = %d, want 403", res.Status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) {
		c.LoginRateLimit, c.LoginAccountRateLimit = 3, 3
		// In-process requests come from 0.0.0.0: trust it as the proxy, so
		// X-Real-Ip picks the client address as nginx would set it.
		c.TrustedProxies = []string{"0.0.0.0"}
	})
	u := env.CreateUser(storage.RoleUser, "")

	t.Run("per account from unknown devices, whatever the IP", func(t *testing.T) {
		var last *testenv.Response
		for i := 0; i < 4; i++ {
			last = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
				Body:   map[string]string{"email": u.Email, "password": "wrong-password-1"},
				Header: map[string]string{"X-Real-Ip": fmt.Sprintf("10.0.0.%d", i+1)}})
		}
		if last.Status != 429 || last.Header.Get("Retry-After") == "" || last.ErrorCode() != "rate_limited" {
			t.Fatalf("4th login for one email = %d %s (Retry-After %q), want 429", last.Status, last.Body, last.Header.Get("Retry-After"))
		}
		// Even the right password is refused until the window passes.
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
			Body:   map[string]string{"email": u.Email, "password": testenv.Password},
			Header: map[string]string{"X-Real-Ip": "10.0.1.1"}})
		if res.Status != 429 {
			t.Errorf("right password while limited = %d, want 429", res.Status)
		}
	})

	t.Run("per IP, whatever the email", func(t *testing.T) {
		var last *testenv.Response
		for i := 0; i < 4; i++ {
			last = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
				Body:   map[string]string{"email": fmt.Sprintf("guess-%d@example.test", i), "password": "wrong-password-1"},
				Header: map[string]string{"X-Real-Ip": "10.9.9.9"}})
			if i < 3 && last.Status != 401 {
				t.Fatalf("attempt %d = %d, want 401", i+1, last.Status)
			}
		}
		if last.Status != 429 {
			t.Fatalf("4th login from one IP = %d %s, want 429", last.Status, last.Body)
		}
	})
}

// TestLoginWorksWhileRedisIsDown: the rate limiter fails open, so a Redis
// outage does not lock everyone out.
func TestLoginWorksWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	u := env.CreateUser(storage.RoleUser, "")
	deps := env.Deps
	deps.Redis = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer deps.Redis.Close()
	app, err := api.NewMain(deps)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	res := testenv.Do(t, app, testenv.Request{Method: "POST", Path: "/api/auth/login",
		Body: map[string]string{"email": u.Email, "password": testenv.Password}})
	if res.Status != 200 {
		t.Fatalf("login with Redis down = %d %s, want 200", res.Status, res.Body)
	}
}
