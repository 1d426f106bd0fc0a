package media_test

import (
	"fmt"
	"testing"
	"time"

	"changemaker/api"
	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/testenv"
)

// TestMediaSwitch: with enableMedia off in the site settings the public
// gallery (list, video, view, stream, thumbnail, reactions) answers 404
// feature_disabled to everyone, while the admin routes keep working.
func TestMediaSwitch(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *config.Config) { c.Media.SettingsTTL = 0 }) // read the switch on every request
	v := b.readyVideo(t, "switch", []byte("0123456789"))
	b.withThumbnail(t, v)
	b.publish(t, v.ID, "videos")
	owner := b.owner

	setMedia := func(t *testing.T, on bool) {
		t.Helper()
		res := testenv.Do(t, b.env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Token: owner,
			Body: map[string]bool{"enableMedia": on}})
		if res.Status != 200 {
			t.Fatalf("set enableMedia=%v = %d %s", on, res.Status, res.Body)
		}
	}
	public := []testenv.Request{
		{Method: "GET", Path: "/api/media/public"},
		{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d", v.ID)},
		{Method: "POST", Path: fmt.Sprintf("/api/media/public/%d/view", v.ID)},
		{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d/stream", v.ID), Header: map[string]string{"Range": "bytes=0-1"}},
		{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d/thumbnail", v.ID)},
		{Method: "POST", Path: "/api/media/reactions", Body: map[string]any{"mediaId": v.ID, "type": "wow"}},
	}
	admin := []testenv.Request{
		{Method: "GET", Path: "/api/media/videos", Token: b.manager},
		{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d", v.ID), Token: b.manager},
		{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d/stream", v.ID), Token: b.manager},
		{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d/thumbnail", v.ID), Token: b.manager},
		{Method: "GET", Path: "/api/media/shared", Token: b.manager},
		{Method: "POST", Path: fmt.Sprintf("/api/media/shared/%d", v.ID), Token: b.manager, Body: map[string]string{"category": "curated"}},
		{Method: "GET", Path: "/api/media/jobs", Token: b.manager},
	}

	t.Run("on: the gallery is public", func(t *testing.T) {
		for _, req := range public {
			if res := b.do(t, req); res.Status >= 300 {
				t.Errorf("%s %s = %d %s, want 2xx", req.Method, req.Path, res.Status, res.Body)
			}
		}
	})
	t.Run("off: every public gallery route is 404 feature_disabled, signed in or not", func(t *testing.T) {
		setMedia(t, false)
		for _, token := range []string{"", b.user, owner} {
			for _, req := range public {
				req.Token = token
				res := b.do(t, req)
				if res.Status != 404 || res.ErrorCode() != httpx.CodeFeatureDisabled || res.ErrorCode() != "feature_disabled" {
					t.Errorf("%s %s (token %v) = %d %s, want 404 %s", req.Method, req.Path, token != "", res.Status, res.Body, httpx.CodeFeatureDisabled)
				}
			}
		}
	})
	t.Run("off: the admin routes keep working", func(t *testing.T) {
		for _, req := range admin {
			if res := b.do(t, req); res.Status >= 300 {
				t.Errorf("%s %s = %d %s, want 2xx", req.Method, req.Path, res.Status, res.Body)
			}
		}
	})
	t.Run("on again: the gallery is back", func(t *testing.T) {
		setMedia(t, true)
		for _, req := range public {
			if res := b.do(t, req); res.Status >= 300 {
				t.Errorf("%s %s = %d %s, want 2xx", req.Method, req.Path, res.Status, res.Body)
			}
		}
	})
	t.Run("with the default TTL a change shows within seconds", func(t *testing.T) {
		deps := b.env.Deps
		deps.Config.Media.SettingsTTL = 300 * time.Millisecond
		app, err := api.NewMedia(deps)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		req := testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/public/%d", v.ID)}
		if res := testenv.Do(t, app, req); res.Status != 200 {
			t.Fatalf("= %d %s, want 200", res.Status, res.Body)
		}
		setMedia(t, false)
		testenv.Eventually(t, 5*time.Second, "the switch to reach the media API", func() bool {
			return testenv.Do(t, app, req).Status == 404
		})
		setMedia(t, true)
		testenv.Eventually(t, 5*time.Second, "the switch to reach the media API", func() bool {
			return testenv.Do(t, app, req).Status == 200
		})
	})
}
