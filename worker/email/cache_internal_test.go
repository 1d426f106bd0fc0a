package email

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestCacheFollowsChanges: the worker's copy of the settings and of a
// campaign is reused between emails, and dropped as soon as an admin
// changes them (the NOTIFY of migration 0015), also after the listening
// connection was lost and came back.
func TestCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	c := NewCache(time.Hour)
	go func() {
		defer close(stopped)
		c.Listen(ctx, store.Pool, testenv.Logger(t))
	}()
	testenv.Eventually(t, 10*time.Second, "the cache's LISTEN connection", c.Live)

	h := &Handler{Store: store, Config: testenv.Config(), Log: testenv.Logger(t)}
	var loads atomic.Int32
	host := func() string {
		t.Helper()
		m, err := c.mailer(ctx, func(ctx context.Context) (mailer, error) {
			loads.Add(1)
			return h.loadMailer(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		return m.Server.Host
	}
	setHost := func(name string) {
		t.Helper()
		if _, err := store.UpdateSettings(ctx, storage.SettingsPatch{SMTPHost: &name}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("settings are read once, then kept", func(t *testing.T) {
		first := host()
		for range 5 {
			if got := host(); got != first {
				t.Fatalf("host = %q, then %q without a change", first, got)
			}
		}
		if n := loads.Load(); n != 1 {
			t.Errorf("six emails read the settings %d times, want 1", n)
		}
	})

	t.Run("a change of the settings is seen", func(t *testing.T) {
		setHost("mail-one.example.org")
		testenv.Eventually(t, 10*time.Second, "the new SMTP host", func() bool { return host() == "mail-one.example.org" })
		n := loads.Load()
		host()
		if loads.Load() != n {
			t.Error("the new settings were not kept")
		}
	})

	t.Run("a campaign's title", func(t *testing.T) {
		u, err := store.CreateUser(ctx, storage.NewUser{Email: "admin@example.test", Name: "Admin", PasswordHash: "x",
			Role: storage.RoleInfluenceAdmin})
		if err != nil {
			t.Fatal(err)
		}
		title := "Before"
		camp, err := store.CreateCampaign(ctx, storage.CampaignFields{Title: &title}, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var campLoads atomic.Int32
		get := func() string {
			t.Helper()
			v, err := c.campaign(ctx, camp.ID, func(ctx context.Context) (campaignInfo, error) {
				campLoads.Add(1)
				got, err := store.CampaignByID(ctx, camp.ID)
				return campaignInfo{Title: got.Title, Slug: got.Slug}, err
			})
			if err != nil {
				t.Fatal(err)
			}
			return v.Title
		}
		if get() != "Before" || get() != "Before" || campLoads.Load() != 1 {
			t.Fatalf("campaign read %d times for two emails, want 1", campLoads.Load())
		}
		after := "After"
		if _, err := store.UpdateCampaign(ctx, camp.ID, storage.CampaignFields{Title: &after}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 10*time.Second, "the new title", func() bool { return get() == "After" })
	})

	t.Run("after the listening connection is lost", func(t *testing.T) {
		host()
		if _, err := store.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
			t.Fatal(err)
		}
		setHost("mail-two.example.org")
		testenv.Eventually(t, 10*time.Second, "the host changed while the listener was down",
			func() bool { return host() == "mail-two.example.org" })
		testenv.Eventually(t, 10*time.Second, "the listener to come back", c.Live)
		setHost("mail-three.example.org")
		testenv.Eventually(t, 10*time.Second, "the host changed after it came back",
			func() bool { return host() == "mail-three.example.org" })
	})
}
