package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestInfluenceSwitch: with enableInfluence off, every public influence
// route answers 404 feature_disabled, while the admin routes keep working.
func TestInfluenceSwitch(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Influence.ToggleCacheTTL = 0 })
	super := env.TokenFor(storage.RoleSuperAdmin)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	ownerTok := env.Token(owner)
	camp := env.CreateCampaign(t, owner.ID)
	slug := camp.Slug
	public := []testenv.Request{
		{Method: "GET", Path: "/api/public/campaigns"},
		{Method: "GET", Path: "/api/public/campaigns/" + slug},
		{Method: "POST", Path: "/api/public/campaigns/" + slug + "/send-email", Body: map[string]any{}},
		{Method: "POST", Path: "/api/public/campaigns/" + slug + "/mailto", Body: map[string]any{}},
		{Method: "POST", Path: "/api/public/campaigns/" + slug + "/call", Body: map[string]any{}},
		{Method: "GET", Path: "/api/public/campaigns/" + slug + "/responses"},
		{Method: "POST", Path: "/api/public/campaigns/" + slug + "/responses", Body: map[string]any{}},
		{Method: "POST", Path: "/api/public/representatives/lookup", Body: map[string]any{"postalCode": "T5K2J1"}},
		{Method: "GET", Path: "/api/public/responses/verify/some-token"},
		{Method: "POST", Path: "/api/public/responses/1/upvote"},
	}
	admin := []struct {
		req  testenv.Request
		want int
	}{
		{testenv.Request{Method: "GET", Path: "/api/campaigns", Token: ownerTok}, 200},
		{testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/campaigns/%d", camp.ID), Token: ownerTok}, 200},
		{testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/campaigns/%d", camp.ID), Token: ownerTok,
			Body: map[string]any{"description": "still editable"}}, 200},
		{testenv.Request{Method: "POST", Path: "/api/campaigns", Token: ownerTok, Body: map[string]any{"title": "Prepared while off"}}, 201},
		{testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/campaigns/%d/calls/stats", camp.ID), Token: ownerTok}, 200},
		{testenv.Request{Method: "GET", Path: "/api/representatives", Token: ownerTok}, 200},
		{testenv.Request{Method: "GET", Path: "/api/responses", Token: ownerTok}, 200},
		{testenv.Request{Method: "GET", Path: "/api/public/settings"}, 200},
	}
	setInfluence := func(t *testing.T, on bool) {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Token: super,
			Body: map[string]any{"enableInfluence": on}})
		if res.Status != 200 {
			t.Fatalf("PUT settings = %d %s", res.Status, res.Body)
		}
	}

	t.Run("off: public routes are 404 feature_disabled", func(t *testing.T) {
		setInfluence(t, false)
		for _, req := range public {
			res := testenv.Do(t, env.Main, req)
			if res.Status != 404 || res.ErrorCode() != httpx.CodeFeatureDisabled {
				t.Errorf("%s %s = %d %s, want 404 %s", req.Method, req.Path, res.Status, res.Body, httpx.CodeFeatureDisabled)
			}
		}
	})
	t.Run("off: admin routes keep working", func(t *testing.T) {
		for _, a := range admin {
			if res := testenv.Do(t, env.Main, a.req); res.Status != a.want {
				t.Errorf("%s %s = %d %s, want %d", a.req.Method, a.req.Path, res.Status, res.Body, a.want)
			}
		}
		// Admin routes still check roles while the switch is off.
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/campaigns"}); res.Status != 401 {
			t.Errorf("anonymous admin list = %d, want 401", res.Status)
		}
	})
	t.Run("on again: the public routes answer", func(t *testing.T) {
		setInfluence(t, true)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + slug})
		if res.Status != 200 {
			t.Errorf("public campaign = %d %s", res.Status, res.Body)
		}
		// Past the switch, the handlers judge the request as before.
		res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + slug + "/call", Body: map[string]any{}})
		if res.Status != 400 {
			t.Errorf("empty call = %d %s, want 400", res.Status, res.Body)
		}
	})
}

// fakeSettings counts reads and answers what it is told.
type fakeSettings struct {
	mu    sync.Mutex
	on    bool
	err   error
	reads atomic.Int64
}

func (f *fakeSettings) GetSettings(context.Context) (storage.Settings, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return storage.Settings{EnableInfluence: f.on}, f.err
}

func (f *fakeSettings) set(on bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on, f.err = on, err
}

// TestFeatureSwitchCache: the switch is read once per TTL, a failed read
// keeps the last answer, and with no answer yet the routes stay on.
func TestFeatureSwitchCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	settings := &fakeSettings{}
	sw := &httpx.FeatureSwitch{Settings: settings, Feature: "campaigns", On: func(st storage.Settings) bool { return st.EnableInfluence }, TTL: 2 * time.Second, Now: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	t.Run("an unreadable switch with no answer yet stays on", func(t *testing.T) {
		settings.set(false, errors.New("database is down"))
		if !sw.Enabled(ctx) {
			t.Error("Enabled = false")
		}
	})
	t.Run("read once per TTL, by many requests at once", func(t *testing.T) {
		settings.set(false, nil)
		before := settings.reads.Load()
		var wg sync.WaitGroup
		var on atomic.Int64
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if sw.Enabled(ctx) {
					on.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := settings.reads.Load() - before; n != 1 || on.Load() != 0 {
			t.Errorf("%d reads, %d answered on; want 1 read, all off", n, on.Load())
		}
		settings.set(true, nil)
		advance(time.Second)
		if sw.Enabled(ctx) {
			t.Error("within the TTL the switch changed")
		}
		advance(1500 * time.Millisecond)
		if !sw.Enabled(ctx) {
			t.Error("after the TTL the switch did not change")
		}
	})
	t.Run("a failed read keeps the last answer", func(t *testing.T) {
		settings.set(false, errors.New("database is down"))
		advance(3 * time.Second)
		if !sw.Enabled(ctx) {
			t.Error("a failed read turned the switch off")
		}
	})
}
