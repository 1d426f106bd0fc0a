package campaigns_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestSendRoutesCampaignCache: the public send routes keep the campaign they
// read by slug in memory (SEND_CAMPAIGN_CACHE_TTL, an hour here, so only a
// notification can refresh it), and an admin's change — made through
// another API process, so only Postgres' NOTIFY can tell this one — takes
// effect within a second.
func TestSendRoutesCampaignCache(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t, func(c *config.Config) {
		c.Influence.CampaignCacheTTL = time.Hour
		c.Influence.SendRateLimit = 1_000_000
	})
	ctx := context.Background()
	send := sender(t, env)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	setStatus := func(status string) {
		t.Helper()
		exec(`UPDATE campaigns SET status = $1 WHERE id = $2`, status, camp.ID)
	}

	// The campaign is served from memory: with the trigger off, pausing it
	// in Postgres goes unnoticed. (The listener connects in the
	// background: until it does, every request reads Postgres.)
	exec(`ALTER TABLE campaigns DISABLE TRIGGER campaigns_worker_cache_update`)
	testenv.Eventually(t, 15*time.Second, "the send route to keep the campaign in memory", func() bool {
		setStatus(storage.CampaignActive)
		if got := send(camp.Slug); got != 202 {
			t.Fatalf("send to the active campaign = %d, want 202", got)
		}
		setStatus(storage.CampaignPaused)
		return send(camp.Slug) == 202
	})
	exec(`ALTER TABLE campaigns ENABLE TRIGGER campaigns_worker_cache_update`)

	// awaitChange: after an admin's change, the route answers want. With
	// the cache's lifetime an hour, only the notification can bring that
	// about; it takes milliseconds (the deadline is generous for a loaded
	// machine: timings belong in benchmarks, not in pass/fail tests).
	awaitChange := func(what, slug string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := send(slug)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: send = %d 10 s after the change, want %d", what, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	t.Run("an admin pauses the campaign", func(t *testing.T) {
		paused := storage.CampaignPaused
		if _, err := env.Store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{Status: &paused}); err != nil {
			t.Fatal(err)
		}
		awaitChange("paused", camp.Slug, 409)
	})
	t.Run("and activates it again", func(t *testing.T) {
		active := storage.CampaignActive
		if _, err := env.Store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{Status: &active}); err != nil {
			t.Fatal(err)
		}
		awaitChange("active again", camp.Slug, 202)
	})
	t.Run("turns SMTP sending off", func(t *testing.T) {
		no := false
		if _, err := env.Store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{AllowSMTPEmail: &no}); err != nil {
			t.Fatal(err)
		}
		awaitChange("SMTP off", camp.Slug, 409)
		yes := true
		if _, err := env.Store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{AllowSMTPEmail: &yes}); err != nil {
			t.Fatal(err)
		}
		awaitChange("SMTP on", camp.Slug, 202)
	})
	t.Run("renames its slug", func(t *testing.T) {
		slug := camp.Slug + "-renamed"
		if _, err := env.Store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{Slug: &slug}); err != nil {
			t.Fatal(err)
		}
		awaitChange("old slug", camp.Slug, 404)
		if got := send(slug); got != 202 {
			t.Errorf("send to the new slug = %d, want 202", got)
		}
	})
	t.Run("deletes it", func(t *testing.T) {
		other := env.CreateCampaign(t, *camp.CreatedBy)
		if got := send(other.Slug); got != 202 {
			t.Fatalf("send = %d, want 202", got)
		}
		if err := env.Store.DeleteCampaign(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		awaitChange("deleted", other.Slug, 404)
	})
}

// TestSendRoutesWithoutCampaignCache: SEND_CAMPAIGN_CACHE_TTL=0 reads the
// campaign on every request: a change is seen at once, notified or not.
func TestSendRoutesWithoutCampaignCache(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t, func(c *config.Config) { c.Influence.CampaignCacheTTL = 0 })
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	sendTo := sender(t, env)
	send := func() int { return sendTo(camp.Slug) }
	exec(`ALTER TABLE campaigns DISABLE TRIGGER campaigns_worker_cache_update`)
	if got := send(); got != 202 {
		t.Fatalf("send = %d, want 202", got)
	}
	exec(`UPDATE campaigns SET status = 'PAUSED' WHERE id = $1`, camp.ID)
	if got := send(); got != 409 {
		t.Errorf("send to a paused campaign = %d, want 409", got)
	}
}

// TestSendRoutesRepresentativesCache: the send routes keep a postal code's
// representatives in memory too (an hour here), and a change of them in
// Postgres (a refreshed lookup) reaches the route by notification.
func TestSendRoutesRepresentativesCache(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t, func(c *config.Config) {
		c.Influence.CampaignCacheTTL = time.Hour
		c.Influence.SendRateLimit = 1_000_000
	})
	ctx := context.Background()
	sendTo := sender(t, env)
	send := func() int { return sendTo(camp.Slug) }
	setEmail := func(email string) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE representatives SET email = $1 WHERE postal_code = 'T5K2J1' AND name = $2`,
			email, testenv.RepMP.Name); err != nil {
			t.Fatal(err)
		}
	}

	// Kept: with the trigger off, the representative's new address goes
	// unnoticed and the old one is still a recipient.
	exec := func(sql string) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER TABLE representatives DISABLE TRIGGER representatives_cache`)
	testenv.Eventually(t, 15*time.Second, "the send route to keep the representatives in memory", func() bool {
		setEmail(testenv.RepMP.Email)
		if got := send(); got != 202 {
			t.Fatalf("send to the representative = %d, want 202", got)
		}
		setEmail("moved@parl.example")
		return send() == 202
	})
	exec(`ALTER TABLE representatives ENABLE TRIGGER representatives_cache`)

	// A change announced by Postgres: the old address is refused, then the
	// address restored is accepted again.
	for _, step := range []struct {
		email string
		want  int
	}{{"moved-again@parl.example", 400}, {testenv.RepMP.Email, 202}} {
		setEmail(step.email)
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("send = %d after the representative's address became %s", step.want, step.email),
			func() bool { return send() == step.want })
	}
}

// sender returns a send-email to a campaign's slug, for its MP, from a new
// sender address each time; it answers the status.
func sender(t *testing.T, env *influencetest.Env) func(slug string) int {
	var n int
	return func(slug string) int {
		t.Helper()
		n++
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + slug + "/send-email",
			Body: map[string]any{"senderName": "Chris", "senderEmail": fmt.Sprintf("chris%d@home.example", n),
				"postalCode": "T5K2J1", "recipients": []map[string]any{{"email": testenv.RepMP.Email}}}}).Status
	}
}
