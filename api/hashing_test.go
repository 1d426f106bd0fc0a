package api_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"changemaker/api/auth"
	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestLoginFloodCannotStarveTheProcess: every login used to run a bcrypt
// with no bound on how many ran at once, so a flood of wrong guesses starved
// health checks and pages. With every hashing slot and the queue taken, a
// login answers 503 with Retry-After at once, without hashing, while health
// still answers 200.
func TestLoginFloodCannotStarveTheProcess(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) {
		c.HashConcurrency, c.HashQueue, c.HashWait = 1, 0, time.Second
	})
	u := env.CreateUser(storage.RoleUser, "")
	admin := env.CreateUser(storage.RoleSuperAdmin, "")
	env.AllowRegistration()

	// The first request of an app pays for loading the OpenAPI checker:
	// pay it before timing anything.
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/health"})
	// The owner signed in from this device before the flood.
	first, _ := login(t, env, u.Email, testenv.Password)
	device := deviceCookie(first.Header)
	if first.Status != 200 || device == "" {
		t.Fatalf("owner's first login = %d, device cookie %q", first.Status, device)
	}
	release, err := env.Deps.Hashing.Acquire(context.Background())
	if err != nil {
		t.Fatalf("take the only hashing slot: %v", err)
	}
	t.Run("login past the queue answers 503 with Retry-After at once", func(t *testing.T) {
		start := time.Now()
		res, _ := login(t, env, u.Email, testenv.Password)
		took := time.Since(start)
		if res.Status != 503 || res.ErrorCode() != "unavailable" {
			t.Fatalf("login with hashing saturated = %d %s, want 503 unavailable", res.Status, res.Body)
		}
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After = %q, want a number of seconds", res.Header.Get("Retry-After"))
		}
		if took > 500*time.Millisecond {
			t.Errorf("the refusal took %v, want it at once", took)
		}
	})
	t.Run("an unknown email is refused the same way", func(t *testing.T) {
		res, _ := login(t, env, "nobody@example.test", "wrong-password-1")
		if res.Status != 503 {
			t.Fatalf("login of unknown email with hashing saturated = %d %s, want 503", res.Status, res.Body)
		}
	})
	t.Run("register and user creation are bounded too", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/register",
			Body: map[string]string{"email": "new@example.test", "password": "a-long-password-1", "name": "New"}})
		if res.Status != 503 {
			t.Errorf("register with hashing saturated = %d %s, want 503", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/users", Token: env.Token(admin),
			Body: map[string]string{"email": "made@example.test", "password": "a-long-password-1", "name": "Made", "role": storage.RoleUser}})
		if res.Status != 503 {
			t.Errorf("create user with hashing saturated = %d %s, want 503", res.Status, res.Body)
		}
	})
	t.Run("health still answers 200", func(t *testing.T) {
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/health"}); res.Status != 200 {
			t.Fatalf("health with hashing saturated = %d %s, want 200", res.Status, res.Body)
		}
	})
	t.Run("refused attempts do not count against the owner's limits", func(t *testing.T) {
		// More 503s than the per-address limit allows guesses: none of them
		// checked a password, so none may turn into a 429 afterwards.
		for i := 0; i <= env.Config.LoginRateLimit; i++ {
			if res, _ := login(t, env, u.Email, testenv.Password); res.Status != 503 {
				t.Fatalf("login %d with hashing saturated = %d %s, want 503", i+1, res.Status, res.Body)
			}
		}
	})
	t.Run("the owner's known device still gets in", func(t *testing.T) {
		// Guesses cannot carry a valid device cookie, so a device that
		// signed in before has a lane of its own when hashing is saturated.
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
			Body:   map[string]string{"email": u.Email, "password": testenv.Password},
			Header: map[string]string{"Cookie": auth.DeviceCookie + "=" + device}})
		if res.Status != 200 {
			t.Fatalf("login from the known device with hashing saturated = %d %s, want 200", res.Status, res.Body)
		}
		forged := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/auth/login",
			Body:   map[string]string{"email": u.Email, "password": testenv.Password},
			Header: map[string]string{"Cookie": auth.DeviceCookie + "=" + device + "x"}})
		if forged.Status != 503 {
			t.Errorf("login with a forged device cookie, hashing saturated = %d, want 503", forged.Status)
		}
	})
	release()
	t.Run("once a slot is free, login works again", func(t *testing.T) {
		if res, _ := login(t, env, u.Email, testenv.Password); res.Status != 200 {
			t.Fatalf("login after release = %d %s, want 200", res.Status, res.Body)
		}
	})
}
