package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/api"
	"changemaker/internal/asynqlog"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/email"
)

// dyingWorker runs the email queue with a send handler that gives up the way
// a worker that dies between its last failed attempt and marking the row
// FAILED leaves things: the task archived with its error, the row QUEUED.
func dyingWorker(t *testing.T, env *influencetest.Env) (stop func()) {
	t.Helper()
	srv := asynq.NewServer(env.Asynq, asynq.Config{
		Concurrency: 1, Queues: map[string]int{tasks.QueueEmail: 1},
		Logger: asynqlog.New(testenv.Logger(t)), LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeSendEmail, func(context.Context, *asynq.Task) error {
		return fmt.Errorf("dial smtp: connection reset by peer: %w", asynq.SkipRetry)
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	return srv.Shutdown
}

// TestSweeperRepairsStuckEmails: a QUEUED row whose task asynq archived used
// to conflict with the sweeper forever and could not be retried. The sweeper
// now marks it FAILED with the task's last error, an admin retries it, and it
// is delivered once.
func TestSweeperRepairsStuckEmails(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t)
	ctx := context.Background()
	admin := env.TokenFor(storage.RoleSuperAdmin)
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	queue := env.WorkerDeps(t).Queue
	clock := time.Now()
	em := &email.Handler{Store: env.Store, Queue: queue, Inspector: inspector, Config: env.Config,
		Log: testenv.Logger(t), Now: func() time.Time { return clock }}
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 100})
	row := func(id int64) storage.CampaignEmail {
		e, err := env.Store.EmailByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
		Body: map[string]any{"senderName": "Chris", "senderEmail": "chris@home.example", "postalCode": "T5K2J1",
			"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}})
	var accepted acceptedBody
	res.JSON(t, &accepted)
	if res.Status != 202 {
		t.Fatalf("send = %d %s", res.Status, res.Body)
	}
	id := accepted.Emails[0].ID
	taskID := tasks.SendEmailTaskID(id)

	stop := dyingWorker(t, env)
	testenv.Eventually(t, 15*time.Second, "the send task to be archived", func() bool {
		info, err := inspector.GetTaskInfo(tasks.QueueEmail, taskID)
		return err == nil && info.State == asynq.TaskStateArchived
	})
	stop()
	if got := row(id); got.Status != storage.EmailQueued {
		t.Fatalf("row = %s before the sweep, want it stuck in QUEUED", got.Status)
	}

	t.Run("a sweep before the row is a minute old leaves it alone", func(t *testing.T) {
		if err := em.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
		if got := row(id); got.Status != storage.EmailQueued {
			t.Errorf("row = %s", got.Status)
		}
	})
	clock = clock.Add(2 * time.Minute)

	t.Run("the sweeper marks the row FAILED with the task's error", func(t *testing.T) {
		for range 3 { // every sweep after the first is a no-op
			if err := em.Sweep(ctx, sweep); err != nil {
				t.Fatal(err)
			}
		}
		got := row(id)
		if got.Status != storage.EmailFailed || !strings.Contains(got.LastError, "connection reset by peer") {
			t.Fatalf("row = %s %q, want FAILED with the task's error", got.Status, got.LastError)
		}
	})

	t.Run("a retry that could not reach Redis is not undone by the sweeper", func(t *testing.T) {
		down, err := api.NewMain(unreachableDeps(t, env))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { down.Close() })
		retry := fmt.Sprintf("/api/campaigns/%d/emails/%d/retry", camp.ID, id)
		if res := testenv.Do(t, down, testenv.Request{Method: "POST", Path: retry, Token: admin}); res.Status != 202 {
			t.Fatalf("retry with Redis down = %d %s", res.Status, res.Body)
		}
		// The retry could not delete the archived task, so it still holds the
		// ID. The admin retried well after the task was archived.
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE campaign_emails SET updated_at = updated_at + interval '1 minute'
			WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if info, err := inspector.GetTaskInfo(tasks.QueueEmail, taskID); err != nil || info.State != asynq.TaskStateArchived {
			t.Fatalf("task = %+v, %v; want the old archived task", info, err)
		}
		clock = time.Now().Add(5 * time.Minute)
		if err := em.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
		if got := row(id); got.Status != storage.EmailQueued {
			t.Errorf("row = %s %q after the sweep, want QUEUED", got.Status, got.LastError)
		}
		info, err := inspector.GetTaskInfo(tasks.QueueEmail, taskID)
		if err != nil || info.State != asynq.TaskStatePending {
			t.Fatalf("task = %+v, %v; want a new pending task", info, err)
		}
		env.StartWorker(t)
		testenv.Eventually(t, 15*time.Second, "row SENT", func() bool { return row(id).Status == storage.EmailSent })
		if n := len(env.SMTP.Messages()); n != 1 {
			t.Errorf("%d messages arrived, want 1", n)
		}
	})
}

// TestAdminRetriesAStuckEmail: once the sweeper has marked a stuck row
// FAILED, the admin retry endpoint (which deletes the archived task) sends it.
func TestAdminRetriesAStuckEmail(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t)
	ctx := context.Background()
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	em := &email.Handler{Store: env.Store, Queue: env.WorkerDeps(t).Queue, Inspector: inspector, Config: env.Config,
		Log: testenv.Logger(t)}
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 0, Limit: 100})

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
		Body: map[string]any{"senderName": "Chris", "senderEmail": "chris@home.example", "postalCode": "T5K2J1",
			"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}})
	var accepted acceptedBody
	res.JSON(t, &accepted)
	if res.Status != 202 {
		t.Fatalf("send = %d %s", res.Status, res.Body)
	}
	id := accepted.Emails[0].ID
	stop := dyingWorker(t, env)
	testenv.Eventually(t, 15*time.Second, "the send task to be archived", func() bool {
		info, err := inspector.GetTaskInfo(tasks.QueueEmail, tasks.SendEmailTaskID(id))
		return err == nil && info.State == asynq.TaskStateArchived
	})
	stop()
	if err := em.Sweep(ctx, sweep); err != nil {
		t.Fatal(err)
	}
	retry := fmt.Sprintf("/api/campaigns/%d/emails/%d/retry", camp.ID, id)
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry, Token: env.TokenFor(storage.RoleSuperAdmin)}); res.Status != 202 {
		t.Fatalf("retry = %d %s", res.Status, res.Body)
	}
	env.StartWorker(t)
	testenv.Eventually(t, 15*time.Second, "row SENT", func() bool {
		e, err := env.Store.EmailByID(ctx, id)
		return err == nil && e.Status == storage.EmailSent
	})
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

// TestSweeperMarksAcceptedEmailsSent: when the SMTP server accepted a
// message but the row could not be marked SENT, the task is archived and the
// row stays QUEUED. The sweeper used to mark such a row FAILED, which invited
// an admin retry and a second copy. It now marks it SENT with the message ID
// that went out, and the retry is refused.
func TestSweeperMarksAcceptedEmailsSent(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t)
	ctx := context.Background()
	// Postgres refuses to mark any row SENT, as a database that fails at
	// the wrong moment would.
	if _, err := env.Store.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'the database went away'; END $$;
		CREATE TRIGGER refuse_sent BEFORE UPDATE ON campaign_emails
			FOR EACH ROW WHEN (NEW.status = 'SENT') EXECUTE FUNCTION refuse_sent();`); err != nil {
		t.Fatal(err)
	}
	env.StartWorker(t)
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	em := &email.Handler{Store: env.Store, Queue: env.WorkerDeps(t).Queue, Inspector: inspector, Config: env.Config,
		Log: testenv.Logger(t), Now: func() time.Time { return time.Now().Add(2 * time.Minute) }}
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 100})

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
		Body: map[string]any{"senderName": "Chris", "senderEmail": "chris@home.example", "postalCode": "T5K2J1",
			"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}})
	var accepted acceptedBody
	res.JSON(t, &accepted)
	if res.Status != 202 {
		t.Fatalf("send = %d %s", res.Status, res.Body)
	}
	id := accepted.Emails[0].ID
	testenv.Eventually(t, 15*time.Second, "the send task to be archived", func() bool {
		info, err := inspector.GetTaskInfo(tasks.QueueEmail, tasks.SendEmailTaskID(id))
		return err == nil && info.State == asynq.TaskStateArchived
	})
	msgs := env.SMTP.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at the SMTP server, want the 1 it accepted", len(msgs))
	}
	row, _ := env.Store.EmailByID(ctx, id)
	if row.Status != storage.EmailQueued {
		t.Fatalf("row = %s, want QUEUED (it could not be marked)", row.Status)
	}
	if _, err := env.Store.Pool.Exec(ctx, `DROP TRIGGER refuse_sent ON campaign_emails`); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		if err := em.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
	}
	row, _ = env.Store.EmailByID(ctx, id)
	if row.Status != storage.EmailSent || row.MessageID == "" || row.MessageID != msgs[0].Header.Get("Message-Id") {
		t.Errorf("row = %s %q (message %q), want SENT with the message's ID", row.Status, row.MessageID, msgs[0].Header.Get("Message-Id"))
	}
	if c, _ := env.Store.CampaignByID(ctx, camp.ID); c.EmailCount != 1 {
		t.Errorf("email count = %d, want 1", c.EmailCount)
	}
	retry := fmt.Sprintf("/api/campaigns/%d/emails/%d/retry", camp.ID, id)
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry, Token: env.TokenFor(storage.RoleSuperAdmin)})
	if res.Status != 409 {
		t.Errorf("admin retry = %d %s, want 409", res.Status, res.Body)
		testenv.Eventually(t, 15*time.Second, "the retried row to settle", func() bool {
			e, err := env.Store.EmailByID(ctx, id)
			return err == nil && e.Status != storage.EmailQueued
		})
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}
