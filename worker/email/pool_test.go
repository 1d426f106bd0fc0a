package email_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

// TestSMTPSettingsChangeMidStream: a worker sends a stream of campaign
// emails over its pooled connection to the settings' SMTP server; an admin
// points the settings at another server. The worker's cached settings are
// dropped by the change's notification, the next emails go to the new
// server over a new connection, and every email arrives exactly once, none
// lost, none at both.
func TestSMTPSettingsChangeMidStream(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	ctx := context.Background()
	oldSrv, newSrv := testenv.NewSMTPServer(t), testenv.NewSMTPServer(t)
	point := func(s *testenv.SMTPServer) {
		t.Helper()
		host, port, plain := s.Host, s.Port, "none"
		if _, err := env.Store.UpdateSettings(ctx, storage.SettingsPatch{SMTPHost: &host, SMTPPort: &port,
			SMTPTLS: &plain}); err != nil {
			t.Fatal(err)
		}
	}
	point(oldSrv)
	env.StartWorker(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	queue := asynq.NewClient(env.Asynq)
	t.Cleanup(func() { queue.Close() })

	var ids []int64
	send := func() int64 {
		t.Helper()
		i := len(ids)
		rows, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: camp.ID,
			Method: storage.MethodSMTP, Status: storage.EmailQueued, SenderName: "Chris",
			SenderEmail: "chris@home.example", RecipientKind: storage.RecipientRepresentative,
			RecipientName: "Jane Federal", RecipientEmail: fmt.Sprintf("jane%d@parl.example", i),
			Subject: "Hello", Body: "Dear Jane"}})
		if err != nil {
			t.Fatal(err)
		}
		id := rows[0].ID
		task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: id})
		if _, err := queue.Enqueue(task); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 20*time.Second, fmt.Sprintf("email %d to be SENT", i), func() bool {
			row, err := env.Store.EmailByID(ctx, id)
			return err == nil && row.Status == storage.EmailSent
		})
		ids = append(ids, id)
		return id
	}
	at := func(s *testenv.SMTPServer, id int64) int {
		n := 0
		for _, m := range s.Messages() {
			if m.Header.Get("Message-Id") == fmt.Sprintf("<campaign-email-%d@org.example>", id) ||
				m.Header.Get("Message-Id") == fmt.Sprintf("<campaign-email-%d@changemaker.local>", id) {
				n++
			}
		}
		return n
	}

	for range 5 {
		send()
	}
	if n := len(oldSrv.Messages()); n != 5 {
		t.Fatalf("the first server got %d messages, want 5", n)
	}
	point(newSrv)
	// The change reaches the worker by notification; until it has, emails
	// may still go to the first server (each once).
	testenv.Eventually(t, 20*time.Second, "an email at the new server", func() bool {
		send()
		return len(newSrv.Messages()) > 0
	})
	oldCount := len(oldSrv.Messages())
	for range 5 {
		send()
	}
	if n := len(oldSrv.Messages()); n != oldCount {
		t.Errorf("after the switch the first server got %d more messages, want none", n-oldCount)
	}
	for i, id := range ids {
		if o, n := at(oldSrv, id), at(newSrv, id); o+n != 1 {
			t.Errorf("email %d (row %d): %d copies at the first server, %d at the new one; want exactly one", i, id, o, n)
		}
	}
	if total := len(oldSrv.Messages()) + len(newSrv.Messages()); total != len(ids) {
		t.Errorf("%d messages arrived for %d emails", total, len(ids))
	}
	if len(env.SMTP.Messages()) != 0 {
		t.Errorf("the SMTP_* fallback server got %d messages; the settings name a server", len(env.SMTP.Messages()))
	}
}
