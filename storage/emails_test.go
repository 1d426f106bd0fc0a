package storage_test

import (
	"context"
	"testing"
	"time"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestMarkingSentWritesOnlyItsRow: marking an email SENT used to bump its
// campaign's email_count in the same transaction, so concurrent sends of one
// campaign queued on the campaign row, and a worker killed while it waited
// had already had its message accepted: a duplicate. Now the mark takes no
// lock on the campaign, and the count follows in ApplyEmailCounts, exactly.
func TestMarkingSentWritesOnlyItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	admin, err := store.CreateUser(ctx, storage.NewUser{Email: "a@x.test", PasswordHash: "x", Role: storage.RoleSuperAdmin})
	if err != nil {
		t.Fatal(err)
	}
	title := "Count me"
	camp, err := store.CreateCampaign(ctx, storage.CampaignFields{Title: &title}, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	row := func(method, status string) storage.CampaignEmail {
		return storage.CampaignEmail{CampaignID: camp.ID, Method: method, Status: status,
			RecipientKind: storage.RecipientRepresentative, RecipientEmail: "mp@parl.example"}
	}
	rows, err := store.InsertEmails(ctx, []storage.CampaignEmail{row(storage.MethodSMTP, storage.EmailQueued),
		row(storage.MethodSMTP, storage.EmailQueued), row(storage.MethodSMTP, storage.EmailQueued),
		row(storage.MethodMailto, storage.EmailClicked)})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a mark does not wait on a locked campaign row", func(t *testing.T) {
		tx, err := store.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, `SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE`, camp.ID); err != nil {
			t.Fatal(err)
		}
		mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		accepted := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
		ok, err := store.MarkEmailSent(mctx, rows[0].ID, "<m0@x>", accepted)
		if err != nil || !ok {
			t.Fatalf("mark SENT while the campaign row is locked = %v, %v; want done at once", ok, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := store.EmailByID(ctx, rows[0].ID)
		if got.Status != storage.EmailSent || got.SentAt == nil || !got.SentAt.Equal(accepted) {
			t.Errorf("row = %s sent at %v, want SENT at the acceptance time %v", got.Status, got.SentAt, accepted)
		}
	})

	t.Run("the mark's asynchronous commit stays in its own transaction", func(t *testing.T) {
		// MarkEmailSent turns synchronous_commit off for its statement only:
		// the pooled connection it used must not keep it for whatever runs
		// on it next (a user's row, a campaign).
		one, err := storage.Open(ctx, store.Pool.Config().ConnString(), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer one.Close()
		if ok, err := one.MarkEmailSent(ctx, rows[2].ID, "<m2@x>", time.Now()); err != nil || !ok {
			t.Fatal(ok, err)
		}
		var setting string
		if err := one.Pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&setting); err != nil || setting != "on" {
			t.Fatalf("synchronous_commit after a mark = %q, %v; want on", setting, err)
		}
	})

	t.Run("counts are exact once applied, and applied once", func(t *testing.T) {
		if ok, err := store.MarkEmailSent(ctx, rows[1].ID, "<m1@x>", time.Now()); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, err := store.MarkEmailSent(ctx, rows[1].ID, "<m1@x>", time.Now()); err != nil || ok {
			t.Fatalf("marking a SENT row again = %v, %v; want false", ok, err)
		}
		n, err := store.ApplyEmailCounts(ctx, 1) // a batch smaller than the backlog
		if err != nil || n != 1 {
			t.Fatalf("first batch = %d, %v; want 1", n, err)
		}
		for {
			n, err := store.ApplyEmailCounts(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		c, _ := store.CampaignByID(ctx, camp.ID)
		if c.EmailCount != 4 { // three SENT, one MAILTO
			t.Errorf("email count = %d, want 4", c.EmailCount)
		}
	})
}
