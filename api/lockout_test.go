package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/api/auth"
	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestGuessesCannotLockTheOwnerOut: ten wrong guesses used to lock the
// owner out for 15 minutes from anywhere. A device that signed in before
// carries a signed cookie and is limited on its own, so an attacker's
// guesses from many addresses are limited (per address and per account)
// while the owner's next login from their device still works.
func TestGuessesCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) {
		c.TrustedProxies = []string{"0.0.0.0"} // X-Real-Ip names the client, as behind nginx
	})
	owner := env.CreateUser(storage.RoleUser, "")
	attempt := func(ip, password, cookie string) *testenv.Response {
		h := map[string]string{"X-Real-Ip": ip}
		if cookie != "" {
			h["Cookie"] = auth.DeviceCookie + "=" + cookie
		}
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
			Body: map[string]string{"email": owner.Email, "password": password}, Header: h})
	}

	first := attempt("192.0.2.10", testenv.Password, "")
	if first.Status != 200 {
		t.Fatalf("owner's first login = %d %s", first.Status, first.Body)
	}
	device := deviceCookie(first.Header)
	if device == "" {
		t.Fatalf("a successful login set no %s cookie: %v", auth.DeviceCookie, first.Header.Values("Set-Cookie"))
	}

	limited := 0
	for i := 0; i < 100; i++ {
		res := attempt(fmt.Sprintf("198.51.%d.%d", i/50, i%50+1), "wrong-password-1", "")
		switch res.Status {
		case 401:
		case 429:
			limited++
		default:
			t.Fatalf("guess %d = %d %s, want 401 or 429", i+1, res.Status, res.Body)
		}
	}
	if limited == 0 {
		t.Errorf("100 guesses from rotating addresses: none limited")
	}
	t.Logf("attacker: %d of 100 guesses answered 429", limited)

	t.Run("the owner still gets in from the known device", func(t *testing.T) {
		if res := attempt("192.0.2.10", testenv.Password, device); res.Status != 200 {
			t.Fatalf("owner's login from the known device after the attack = %d %s, want 200", res.Status, res.Body)
		}
	})
	t.Run("a forged or foreign device cookie counts as unknown", func(t *testing.T) {
		for _, forged := range []string{"abc.def", device + "x", "nonce-only"} {
			if res := attempt("203.0.113.7", testenv.Password, forged); res.Status != 429 {
				t.Errorf("login with device cookie %q during the attack = %d, want 429", forged, res.Status)
			}
		}
	})
	t.Run("a known device's own wrong guesses are limited on its own key", func(t *testing.T) {
		var last *testenv.Response
		for i := 0; i <= env.Config.LoginRateLimit; i++ {
			last = attempt("192.0.2.10", "wrong-password-1", device)
		}
		if last.Status != 429 {
			t.Fatalf("guess %d from the known device = %d, want 429", env.Config.LoginRateLimit+1, last.Status)
		}
	})
}

func deviceCookie(h http.Header) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == auth.DeviceCookie {
			return c.Value
		}
	}
	return ""
}

// TestLoginLimitHoldsWithRedisDown: with Redis out of reach the limiter used
// to fail open (30 of 30 wrong guesses answered 401). It falls back to a
// per-process limit: the real login route still answers 429 past the limit.
func TestLoginLimitHoldsWithRedisDown(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	owner := env.CreateUser(storage.RoleUser, "")
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	deps := env.Deps
	deps.Redis = down
	app, err := api.NewMain(deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })

	got := map[int]int{}
	for i := 0; i < 30; i++ {
		res := testenv.Do(t, app, testenv.Request{Method: "POST", Path: "/api/auth/login",
			Body: map[string]string{"email": owner.Email, "password": "wrong-password-1"}})
		got[res.Status]++
		if res.Status != 401 && res.Status != 429 {
			t.Fatalf("guess %d with Redis down = %d %s, want 401 or 429", i+1, res.Status, res.Body)
		}
	}
	if got[429] == 0 || got[401] > env.Config.LoginRateLimit {
		t.Fatalf("30 wrong guesses with Redis down answered %v; want at most %d 401s, then 429", got, env.Config.LoginRateLimit)
	}
}
