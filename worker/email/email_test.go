package email_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/email"
)

// TestVerificationFailuresDoNotStarveTheSweeper: a verification email the
// fleet gave up on used to stay "unsent" (and its archived task kept its ID)
// for the link's 30 days, so the sweeper picked it up on every run, ahead of
// newer ones; enough of them filled its whole batch, and a verification lost
// in a Redis outage never went out. Now the failure is recorded and the
// sweeper skips such rows.
func TestVerificationFailuresDoNotStarveTheSweeper(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	ctx := context.Background()
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	clock := time.Now()
	em := &email.Handler{Store: env.Store, Queue: env.WorkerDeps(t).Queue, Inspector: inspector, Config: env.Config,
		Log: testenv.Logger(t), Now: func() time.Time { return clock }}
	// A batch of one: the oldest unsent verification is the only one swept.
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 1})

	submit := func(email string) int64 {
		t.Helper()
		body := map[string]any{"representativeName": "Jane Federal", "responseType": "EMAIL",
			"responseText": "Thank you.", "submitterName": "Chris", "submitterEmail": email}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/responses",
			Body: body, Header: map[string]string{"X-Real-Ip": "198.51.100.1"}})
		var out struct {
			Response struct {
				ID int64 `json:"id"`
			} `json:"response"`
		}
		res.JSON(t, &out)
		if res.Status != 201 {
			t.Fatalf("submit = %d %s", res.Status, res.Body)
		}
		return out.Response.ID
	}
	response := func(id int64) storage.Response {
		t.Helper()
		r, err := env.Store.ResponseByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	archived := func(id int64) func() bool {
		return func() bool {
			info, err := inspector.GetTaskInfo(tasks.QueueEmail, tasks.VerifyResponseTaskID(id))
			return err == nil && info.State == asynq.TaskStateArchived
		}
	}

	// The failures, oldest first.
	env.SMTP.FailNext(550, 1)
	refused := submit("refused@home.example")
	testenv.Eventually(t, 15*time.Second, "the refused verification to be archived", archived(refused))
	t.Run("a permanent refusal is recorded", func(t *testing.T) {
		r := response(refused)
		if r.VerificationFailedAt == nil || r.VerificationSentAt != nil || !strings.Contains(r.VerificationError, "550") {
			t.Errorf("response = failed %v sent %v %q, want failed with the refusal", r.VerificationFailedAt,
				r.VerificationSentAt, r.VerificationError)
		}
	})
	env.SMTP.FailNext(451, tasks.SendEmailMaxRetry+1)
	exhausted := submit("busy@home.example")
	testenv.Eventually(t, 30*time.Second, "the retried verification to be archived", archived(exhausted))
	t.Run("running out of retries is recorded", func(t *testing.T) {
		if r := response(exhausted); r.VerificationFailedAt == nil || !strings.Contains(r.VerificationError, "451") {
			t.Errorf("response = failed %v %q, want failed after its last retry", r.VerificationFailedAt, r.VerificationError)
		}
	})
	// A task archived without its failure recorded (as a worker that dies
	// at the wrong moment leaves it): only the archive knows.
	if err := inspector.PauseQueue(tasks.QueueEmail); err != nil {
		t.Fatal(err)
	}
	died := submit("died@home.example")
	if err := inspector.ArchiveTask(tasks.QueueEmail, tasks.VerifyResponseTaskID(died)); err != nil {
		t.Fatal(err)
	}
	if err := inspector.UnpauseQueue(tasks.QueueEmail); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Minute)
	t.Run("the sweeper records a failure only the archived task knows", func(t *testing.T) {
		for range 3 { // refused and exhausted are skipped; died takes the batch, then is skipped too
			if err := em.Sweep(ctx, sweep); err != nil {
				t.Fatal(err)
			}
		}
		if r := response(died); r.VerificationFailedAt == nil || !strings.Contains(r.VerificationError, "archived") {
			t.Errorf("response = failed %v %q, want failed with the task's error", r.VerificationFailedAt, r.VerificationError)
		}
	})

	t.Run("a verification lost in Redis still goes out", func(t *testing.T) {
		before := len(env.SMTP.Messages())
		// Stored while Redis was down: no task.
		lost, err := env.Store.CreateResponse(ctx, storage.Response{CampaignID: camp.ID, RepresentativeName: "Jane Federal",
			ResponseType: "EMAIL", ResponseText: "Thank you.", SubmitterEmail: "lost@home.example"})
		if err != nil {
			t.Fatal(err)
		}
		clock = time.Now().Add(2 * time.Minute)
		if err := em.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
		msgs := env.SMTP.WaitFor(t, before+1, 15*time.Second)
		if to := msgs[len(msgs)-1].To; len(to) != 1 || to[0] != "lost@home.example" {
			t.Errorf("the sweep sent a verification to %v, want lost@home.example", to)
		}
		testenv.Eventually(t, 15*time.Second, "the verification recorded as sent", func() bool {
			return response(lost.ID).VerificationSentAt != nil
		})
		if n := len(env.SMTP.Messages()) - before; n != 1 {
			t.Errorf("%d messages, want 1: the failed verifications are not sent again", n)
		}
	})
}

// TestVerificationSentButNotRecordedIsNotSentTwice: the SMTP server accepts
// the verification email, then recording it fails. The sweeper must record
// it as sent, not send a second copy.
func TestVerificationSentButNotRecordedIsNotSentTwice(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	ctx := context.Background()
	if _, err := env.Store.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_verification_sent() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'the database went away'; END $$;
		CREATE TRIGGER refuse_verification_sent BEFORE UPDATE ON campaign_responses
			FOR EACH ROW WHEN (NEW.verification_sent_at IS NOT NULL AND OLD.verification_sent_at IS NULL)
			EXECUTE FUNCTION refuse_verification_sent();`); err != nil {
		t.Fatal(err)
	}
	env.StartWorker(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	em := &email.Handler{Store: env.Store, Queue: env.WorkerDeps(t).Queue, Inspector: inspector, Config: env.Config,
		Log: testenv.Logger(t), Now: func() time.Time { return time.Now().Add(2 * time.Minute) }}
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 100})

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/responses",
		Body: map[string]any{"representativeName": "Jane Federal", "responseType": "EMAIL",
			"responseText": "Thank you.", "submitterName": "Chris", "submitterEmail": "chris@home.example"}})
	var out struct {
		Response struct {
			ID int64 `json:"id"`
		} `json:"response"`
	}
	res.JSON(t, &out)
	if res.Status != 201 {
		t.Fatalf("submit = %d %s", res.Status, res.Body)
	}
	id := out.Response.ID
	testenv.Eventually(t, 15*time.Second, "the verification task to be archived", func() bool {
		info, err := inspector.GetTaskInfo(tasks.QueueEmail, tasks.VerifyResponseTaskID(id))
		return err == nil && info.State == asynq.TaskStateArchived
	})
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("%d messages at the SMTP server, want the 1 it accepted", n)
	}
	if _, err := env.Store.Pool.Exec(ctx, `DROP TRIGGER refuse_verification_sent ON campaign_responses`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := em.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
	}
	r, err := env.Store.ResponseByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.VerificationSentAt == nil || r.VerificationFailedAt != nil {
		t.Errorf("response: sent %v, failed %v; want recorded as sent", r.VerificationSentAt, r.VerificationFailedAt)
	}
	// Nothing more may go out: no live verification task, one message.
	info, err := inspector.GetTaskInfo(tasks.QueueEmail, tasks.VerifyResponseTaskID(id))
	if err == nil && info.State != asynq.TaskStateArchived {
		t.Errorf("a verification task is %v after the sweep, want none live", info.State)
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	e := storage.CampaignEmail{SenderName: "Chris", SenderEmail: "c@h.example", PostalCode: "T5K2J1",
		RecipientName: "Jane", RecipientTitle: "MP", RecipientDistrict: "Centre"}
	got := email.Render("{{representativeName}} ({{representativeTitle}}, {{representativeDistrict}}) from {{userName}} <{{senderEmail}}> in {{postalCode}}: {{campaignTitle}} {{unknown}}", e, "Transit")
	if want := "Jane (MP, Centre) from Chris <c@h.example> in T5K2J1: Transit {{unknown}}"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

// TestSentAtIsTheSMTPAcceptance: sent_at is when the SMTP server answered 250
// to the end of DATA, not when the worker got round to committing (after
// RSET and QUIT, behind any wait on the database): a message is out at its
// 250, and the gap is the duplicate window docs/influence.md measures.
func TestSentAtIsTheSMTPAcceptance(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	ctx := context.Background()
	const hold = 1500 * time.Millisecond
	env.SMTP.HoldAfterData(hold)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	rows, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: camp.ID, Method: storage.MethodSMTP,
		Status: storage.EmailQueued, SenderName: "Chris", SenderEmail: "chris@home.example",
		RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
		RecipientEmail: "jane@parl.example", Subject: "Hello", Body: "Dear Jane"}})
	if err != nil {
		t.Fatal(err)
	}
	em := &email.Handler{Store: env.Store, Config: env.Config, Log: testenv.Logger(t)}
	task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: rows[0].ID})
	if err := em.Send(ctx, task); err != nil {
		t.Fatal(err)
	}
	msgs := env.SMTP.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	row, _ := env.Store.EmailByID(ctx, rows[0].ID)
	if row.Status != storage.EmailSent || row.SentAt == nil {
		t.Fatalf("row = %s sent at %v, want SENT", row.Status, row.SentAt)
	}
	if gap := row.SentAt.Sub(msgs[0].AcceptedAt); gap < -hold/3 || gap > hold/3 {
		t.Errorf("sent_at is %v after the server's 250, want the 250 itself (the server then stalled %v)", gap, hold)
	}
}

// TestSettingsServerMustBePublicWhenPrivateIsOff: with SMTP_ALLOW_PRIVATE
// off, the settings' smtpHost is checked where the connection is made, on
// the address the name resolves to then: "localhost" passes the save-time
// check (it is a name) but resolves to 127.0.0.1, so the email fails for good
// (no retry, no message), saying why. With the default (on), the same
// settings deliver.
func TestSettingsServerMustBePublicWhenPrivateIsOff(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	ctx := context.Background()
	host, port, plain := "localhost", env.SMTP.Port, "none"
	if _, err := env.Store.UpdateSettings(ctx, storage.SettingsPatch{SMTPHost: &host, SMTPPort: &port, SMTPTLS: &plain}); err != nil {
		t.Fatal(err)
	}
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	send := func(allowPrivate bool) (storage.CampaignEmail, error) {
		rows, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: camp.ID, Method: storage.MethodSMTP,
			Status: storage.EmailQueued, SenderName: "Chris", SenderEmail: "chris@home.example",
			RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
			RecipientEmail: "jane@parl.example", Subject: "Hello", Body: "Dear Jane"}})
		if err != nil {
			t.Fatal(err)
		}
		cfg := env.Config
		cfg.SMTPAllowPrivate = allowPrivate
		em := &email.Handler{Store: env.Store, Config: cfg, Log: testenv.Logger(t)}
		task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: rows[0].ID})
		sendErr := em.Send(ctx, task)
		row, err := env.Store.EmailByID(ctx, rows[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return row, sendErr
	}

	row, err := send(false)
	if !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("send to a settings server on 127.0.0.1 with private addresses off = %v, want a permanent failure", err)
	}
	if row.Status != storage.EmailFailed || !strings.Contains(row.LastError, "SMTP_ALLOW_PRIVATE") {
		t.Errorf("row = %s %q, want FAILED saying SMTP_ALLOW_PRIVATE", row.Status, row.LastError)
	}
	if n := len(env.SMTP.Messages()); n != 0 {
		t.Fatalf("%d messages reached the private server, want 0", n)
	}

	row, err = send(true)
	if err != nil || row.Status != storage.EmailSent {
		t.Fatalf("send with private addresses allowed = %v, row %s; want SENT", err, row.Status)
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}
