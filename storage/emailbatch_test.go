package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// batchCampaign makes a campaign to hang email rows on.
func batchCampaign(t *testing.T, store *storage.Store) storage.Campaign {
	t.Helper()
	ctx := context.Background()
	admin, err := store.CreateUser(ctx, storage.NewUser{Email: "batch@x.test", PasswordHash: "x", Role: storage.RoleSuperAdmin})
	if err != nil {
		t.Fatal(err)
	}
	title := "Batched"
	camp, err := store.CreateCampaign(ctx, storage.CampaignFields{Title: &title}, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	return camp
}

func smtpRow(campaignID int64, sender, recipient string) storage.CampaignEmail {
	return storage.CampaignEmail{CampaignID: campaignID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
		SenderName: "S", SenderEmail: sender, RecipientKind: storage.RecipientRepresentative,
		RecipientName: recipient, RecipientEmail: recipient + "@parl.example", Subject: "s", Body: "b"}
}

// Many requests at once, of one to three recipients each: every request gets
// back its own rows, stored, in its order, and nothing else is stored.
func TestEmailBatcherGivesEveryRequestItsOwnRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	camp := batchCampaign(t, store)
	var most atomic.Int64 // the most requests one statement carried
	b := storage.NewEmailBatcher(store, storage.EmailBatcherOptions{Slots: 2, MaxRows: 20, Timeout: 10 * time.Second,
		Written: func(requests, _ int) {
			for m := most.Load(); int64(requests) > m && !most.CompareAndSwap(m, int64(requests)); m = most.Load() {
			}
		}})
	// One to three rows each, and every 50th request more rows than a
	// batch holds (a batch of its own).
	rowsOf := func(i int) int {
		if i%50 == 0 {
			return 25
		}
		return 1 + i%3
	}

	const requests = 200
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	ids := make(chan int64, 3*requests)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender := fmt.Sprintf("c%d@x.test", i)
			var rows []storage.CampaignEmail
			for r := range rowsOf(i) {
				rows = append(rows, smtpRow(camp.ID, sender, fmt.Sprintf("r%d-%d", i, r)))
			}
			got, err := b.Insert(ctx, rows)
			if err != nil {
				errs <- fmt.Errorf("request %d: %w", i, err)
				return
			}
			if len(got) != len(rows) {
				errs <- fmt.Errorf("request %d: %d rows back for %d sent", i, len(got), len(rows))
				return
			}
			for r, e := range got {
				if e.ID == 0 || e.SenderEmail != sender || e.RecipientName != rows[r].RecipientName {
					errs <- fmt.Errorf("request %d row %d: got %d %s %s, want its own %s %s", i, r,
						e.ID, e.SenderEmail, e.RecipientName, sender, rows[r].RecipientName)
					return
				}
				stored, err := store.EmailByID(ctx, e.ID)
				if err != nil || stored.SenderEmail != sender || stored.RecipientName != rows[r].RecipientName {
					errs <- fmt.Errorf("request %d row %d: stored %+v, %v", i, r, stored, err)
					return
				}
				ids <- e.ID
			}
		}()
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(60 * time.Second):
		t.Fatal("requests still waiting after 60 s")
	}
	close(errs)
	close(ids)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d handed to two requests", id)
		}
		seen[id] = true
	}
	want := 0
	for i := range requests {
		want += rowsOf(i)
	}
	var n int
	if err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_emails WHERE campaign_id = $1`, camp.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want || len(seen) != want {
		t.Errorf("%d rows stored, %d handed out; want %d", n, len(seen), want)
	}
	if most.Load() < 2 {
		t.Errorf("no statement carried more than %d request(s): nothing was batched", most.Load())
	}
}

// A request whose rows Postgres refuses, written in one batch with others,
// fails alone: the others' rows are stored and returned.
func TestEmailBatcherFailsOnlyTheBadRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	camp := batchCampaign(t, store)
	type size struct{ requests, rows int }
	written := make(chan size, 10)
	b := storage.NewEmailBatcher(store, storage.EmailBatcherOptions{Slots: 1, MaxRows: 100, Timeout: 10 * time.Second,
		Written: func(requests, rows int) { written <- size{requests, rows} }})
	next := func() size {
		t.Helper()
		select {
		case w := <-written:
			return w
		case <-time.After(10 * time.Second):
			t.Fatal("no batch written in 10 s")
			return size{}
		}
	}

	// Hold the table so the first insert waits in the one slot, and the
	// rest pile up behind it to be written together.
	tx := lockEmails(t, store)
	type result struct {
		rows []storage.CampaignEmail
		err  error
	}
	insert := func(row storage.CampaignEmail) chan result {
		ch := make(chan result, 1)
		go func() {
			got, err := b.Insert(ctx, []storage.CampaignEmail{row})
			ch <- result{got, err}
		}()
		return ch
	}
	first := insert(smtpRow(camp.ID, "first@x.test", "a"))
	if w := next(); w != (size{1, 1}) {
		t.Fatalf("first batch = %+v, want the first request alone", w)
	}
	good1 := insert(smtpRow(camp.ID, "good1@x.test", "b"))
	bad := insert(smtpRow(camp.ID+1_000_000, "bad@x.test", "c")) // no such campaign
	good2 := insert(smtpRow(camp.ID, "good2@x.test", "d"))
	waitPending(t, b, 3)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if w := next(); w != (size{3, 3}) {
		t.Fatalf("second batch = %+v, want the three requests together", w)
	}
	for name, ch := range map[string]chan result{"first": first, "good1": good1, "good2": good2} {
		r := <-ch
		if r.err != nil || len(r.rows) != 1 || r.rows[0].SenderEmail != name+"@x.test" {
			t.Errorf("%s: %+v, %v; want its row stored", name, r.rows, r.err)
		}
	}
	if r := <-bad; r.err == nil {
		t.Errorf("the request for a campaign that does not exist was stored: %+v", r.rows)
	}
	var n int
	if err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_emails WHERE campaign_id = $1`, camp.ID).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d rows stored (%v), want the 3 good ones", n, err)
	}
}

// MAILTO rows update the campaign's count in a transaction of their own:
// the batcher refuses them rather than store them without it.
func TestEmailBatcherTakesSMTPRowsOnly(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	camp := batchCampaign(t, store)
	b := storage.NewEmailBatcher(store, storage.EmailBatcherOptions{Slots: 1, MaxRows: 10, Timeout: 10 * time.Second})
	row := smtpRow(camp.ID, "m@x.test", "r")
	row.Method, row.Status = storage.MethodMailto, storage.EmailClicked
	if _, err := b.Insert(context.Background(), []storage.CampaignEmail{row}); err == nil {
		t.Fatal("a MAILTO row went through the batcher")
	}
}

// waitPending waits until n requests wait for a batch to take them.
func waitPending(t *testing.T, b *storage.EmailBatcher, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); b.PendingRequests() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests pending, want %d", b.PendingRequests(), n)
		}
	}
}

// A request whose context ends while it waits for a batch (the client went
// away) is withdrawn at once and never stored.
func TestEmailBatcherWithdrawsACancelledRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	camp := batchCampaign(t, store)
	started := make(chan struct{}, 10)
	b := storage.NewEmailBatcher(store, storage.EmailBatcherOptions{Slots: 1, MaxRows: 10, Timeout: 10 * time.Second,
		Written: func(int, int) { started <- struct{}{} }})
	tx := lockEmails(t, store)
	first := make(chan error, 1)
	go func() {
		_, err := b.Insert(ctx, []storage.CampaignEmail{smtpRow(camp.ID, "first@x.test", "a")})
		first <- err
	}()
	<-started // the first holds the one slot, its statement waiting for the lock

	cctx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := b.Insert(cctx, []storage.CampaignEmail{smtpRow(camp.ID, "second@x.test", "b")})
		second <- err
	}()
	waitPending(t, b, 1)
	cancel()
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled request = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled request still waits")
	}
	if n := b.PendingRequests(); n != 0 {
		t.Errorf("%d requests pending after the withdrawal, want 0", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var senders []string
	rows, err := store.Pool.Query(ctx, `SELECT sender_email FROM campaign_emails WHERE campaign_id = $1`, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		senders = append(senders, s)
	}
	if rows.Err() != nil || len(senders) != 1 || senders[0] != "first@x.test" {
		t.Errorf("stored senders %v (%v), want only first@x.test", senders, rows.Err())
	}
}

// lockEmails holds campaign_emails in a transaction until it is rolled back
// (or the test ends): every INSERT waits for it.
func lockEmails(t *testing.T, store *storage.Store) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) }) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE campaign_emails IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return tx
}
