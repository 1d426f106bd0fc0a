package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestPublicPageCache: the public page is reused for PUBLIC_CAMPAIGN_CACHE_TTL,
// an edit through this API process shows at once, and TTL 0 reads every time.
func TestPublicPageCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	page := func(t *testing.T, env *influencetest.Env, slug string) string {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + slug})
		if res.Status != 200 || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("= %d %q %s", res.Status, res.Header.Get("Content-Type"), res.Body)
		}
		return string(res.Body)
	}
	retitle := func(t *testing.T, env *influencetest.Env, id int64, title string) {
		t.Helper()
		// As another API process (or the worker, for the counts) changes it.
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE campaigns SET title = $2 WHERE id = $1`, id, title); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("reused within the TTL; an edit through the API shows at once", func(t *testing.T) {
		t.Parallel()
		env := influencetest.New(t, func(c *config.Config) { c.Influence.PageCacheTTL = time.Hour })
		owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
		camp := env.CreateCampaign(t, owner.ID)
		first := page(t, env, camp.Slug)
		retitle(t, env, camp.ID, "Changed Elsewhere")
		if got := page(t, env, camp.Slug); got != first {
			t.Errorf("within the TTL the page changed:\n%s\n%s", first, got)
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/campaigns/%d", camp.ID),
			Token: env.Token(owner), Body: map[string]any{"title": "Changed Here"}})
		if res.Status != 200 {
			t.Fatalf("PATCH = %d %s", res.Status, res.Body)
		}
		if got := page(t, env, camp.Slug); !strings.Contains(got, `"title":"Changed Here"`) {
			t.Errorf("after an edit through the API = %s", got)
		}
		// A new slug is served, the old one is gone at once.
		res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/campaigns/%d", camp.ID),
			Token: env.Token(owner), Body: map[string]any{"slug": "renamed-" + camp.Slug}})
		if res.Status != 200 {
			t.Fatalf("PATCH slug = %d %s", res.Status, res.Body)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug}); res.Status != 404 {
			t.Errorf("old slug = %d, want 404", res.Status)
		}
		page(t, env, "renamed-"+camp.Slug)
		// Pausing through the API keeps it public; archiving removes it at once.
		res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/campaigns/%d", camp.ID),
			Token: env.Token(owner), Body: map[string]any{"status": "ARCHIVED"}})
		if res.Status != 200 {
			t.Fatalf("archive = %d %s", res.Status, res.Body)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/renamed-" + camp.Slug}); res.Status != 404 {
			t.Errorf("archived campaign = %d, want 404", res.Status)
		}
	})
	t.Run("TTL 0 reads the campaign every time", func(t *testing.T) {
		t.Parallel()
		env := influencetest.New(t, func(c *config.Config) { c.Influence.PageCacheTTL = 0 })
		owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
		camp := env.CreateCampaign(t, owner.ID)
		page(t, env, camp.Slug)
		retitle(t, env, camp.ID, "Changed Elsewhere")
		if got := page(t, env, camp.Slug); !strings.Contains(got, `"title":"Changed Elsewhere"`) {
			t.Errorf("= %s", got)
		}
	})
}
