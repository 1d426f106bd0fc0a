package campaigns_test

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/email"
	"changemaker/worker/represent"
)

type lookupBody struct {
	PostalCode      storage.PostalCode       `json:"postalCode"`
	Representatives []storage.Representative `json:"representatives"`
}

func repByName(t *testing.T, reps []storage.Representative, name string) storage.Representative {
	t.Helper()
	for _, r := range reps {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no representative %q in %+v", name, reps)
	return storage.Representative{}
}

type acceptedBody struct {
	Emails []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"emails"`
}

// TestSendEmailFlow is the headline flow: an admin creates and activates a
// campaign, a visitor looks up their representatives and writes to two of
// them, and the messages reach the SMTP server with the right headers.
func TestSendEmailFlow(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleInfluenceAdmin)

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/campaigns", Token: admin, Body: map[string]any{
		"title": "Fund Transit", "emailSubject": "Transit for {{postalCode}}, {{representativeName}}",
		"emailBody":              "Dear {{representativeName}} ({{representativeTitle}}, {{representativeDistrict}}),\n\nFund transit.\n\n{{senderName}} <{{senderEmail}}>, {{campaignTitle}}",
		"targetGovernmentLevels": []string{"FEDERAL", "PROVINCIAL", "MUNICIPAL"},
	}})
	var created campaignBody
	res.JSON(t, &created)
	if res.Status != 201 {
		t.Fatalf("create = %d %s", res.Status, res.Body)
	}
	slug := created.Campaign.Slug
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + slug}); res.Status != 404 {
		t.Errorf("a DRAFT campaign is public: %d", res.Status)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: admin,
		Path: fmt.Sprintf("/api/campaigns/%d", created.Campaign.ID), Body: map[string]any{"status": "ACTIVE"}})
	if res.Status != 200 {
		t.Fatalf("activate = %d %s", res.Status, res.Body)
	}

	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/representatives/lookup",
		Body: map[string]any{"postalCode": "t5k 2j1", "campaign": slug}})
	var found lookupBody
	res.JSON(t, &found)
	if res.Status != 200 {
		t.Fatalf("lookup = %d %s", res.Status, res.Body)
	}
	// The MP is in both of Represent's lists; the school trustee is at a level
	// the campaign does not target.
	if len(found.Representatives) != 4 {
		t.Fatalf("lookup gave %d representatives, want 4 (MP once, MLA, councillor, mayor): %s", len(found.Representatives), res.Body)
	}
	mp := repByName(t, found.Representatives, testenv.RepMP.Name)
	mla := repByName(t, found.Representatives, testenv.RepMLA.Name)
	if mp.GovernmentLevel != "FEDERAL" || mla.GovernmentLevel != "PROVINCIAL" || found.PostalCode.City != "Edmonton" {
		t.Errorf("levels %s/%s city %q", mp.GovernmentLevel, mla.GovernmentLevel, found.PostalCode.City)
	}

	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + slug + "/send-email",
		Body: map[string]any{"senderName": "Chris Constituent", "senderEmail": "chris@home.example", "postalCode": "T5K 2J1",
			"recipients": []map[string]any{{"representativeId": mp.ID}, {"email": testenv.RepMLA.Email}}}})
	var accepted acceptedBody
	res.JSON(t, &accepted)
	if res.Status != 202 || len(accepted.Emails) != 2 || accepted.Emails[0].Status != "QUEUED" {
		t.Fatalf("send = %d %s", res.Status, res.Body)
	}
	if strings.Contains(string(res.Body), "chris@home.example") {
		t.Errorf("the answer echoes the sender's address: %s", res.Body)
	}

	msgs := env.SMTP.WaitFor(t, 2, 15*time.Second)
	byTo := map[string]testenv.SMTPMessage{}
	for _, m := range msgs {
		byTo[m.To[0]] = m
	}
	m, ok := byTo[testenv.RepMP.Email]
	if !ok {
		t.Fatalf("no message to the MP among %d", len(msgs))
	}
	from, _ := mail.ParseAddress(m.Header.Get("From"))
	replyTo, _ := mail.ParseAddress(m.Header.Get("Reply-To"))
	if from == nil || from.Address != "campaigns@org.example" || from.Name != "Test Organization" {
		t.Errorf("From = %q", m.Header.Get("From"))
	}
	if replyTo == nil || replyTo.Address != "chris@home.example" || replyTo.Name != "Chris Constituent" {
		t.Errorf("Reply-To = %q", m.Header.Get("Reply-To"))
	}
	mpEmailID := accepted.Emails[0].ID
	if got, want := m.Header.Get("Message-Id"), fmt.Sprintf("<campaign-email-%d@org.example>", mpEmailID); got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if subject := m.Subject(); subject != "Transit for T5K2J1, Jane Federal" {
		t.Errorf("Subject = %q", subject)
	}
	if m.From != "campaigns@org.example" {
		t.Errorf("envelope sender = %q", m.From)
	}
	body := m.Text()
	if !strings.Contains(body, "Dear Jane Federal (MP, Edmonton Centre)") || !strings.Contains(body, "Chris Constituent <chris@home.example>, Fund Transit") {
		t.Errorf("body not rendered:\n%s", body)
	}

	testenv.Eventually(t, 10*time.Second, "both rows SENT", func() bool {
		for _, a := range accepted.Emails {
			e, err := env.Store.EmailByID(context.Background(), a.ID)
			if err != nil || e.Status != storage.EmailSent {
				return false
			}
		}
		return true
	})
	row, _ := env.Store.EmailByID(context.Background(), mpEmailID)
	if row.MessageID != fmt.Sprintf("<campaign-email-%d@org.example>", mpEmailID) || row.SentAt == nil {
		t.Errorf("row = %+v", row)
	}

	t.Run("the admin sees the log and the stats", func(t *testing.T) {
		base := fmt.Sprintf("/api/campaigns/%d/emails", created.Campaign.ID)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: base + "?status=SENT", Token: admin})
		var list struct {
			Data       []storage.CampaignEmail
			Pagination struct{ Total int }
		}
		res.JSON(t, &list)
		if res.Status != 200 || list.Pagination.Total != 2 {
			t.Errorf("list = %d %s", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: base + "/stats", Token: admin})
		var stats struct{ Stats storage.EmailStats }
		res.JSON(t, &stats)
		if stats.Stats.ByStatus["SENT"] != 2 || stats.Stats.Total != 2 {
			t.Errorf("stats = %s", res.Body)
		}
	})
	t.Run("the public page counts sent emails once the sweep has", func(t *testing.T) {
		// Sending leaves the count to the periodic sweep (ApplyEmailCounts).
		if _, err := env.Store.ApplyEmailCounts(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + slug})
		var page struct {
			Campaign struct {
				EmailCount *int `json:"emailCount"`
			} `json:"campaign"`
		}
		res.JSON(t, &page)
		if page.Campaign.EmailCount == nil || *page.Campaign.EmailCount != 2 {
			t.Errorf("public page = %s", res.Body)
		}
	})
	t.Run("running a sent row's task again sends nothing", func(t *testing.T) {
		em := &email.Handler{Store: env.Store, Config: env.Config, Log: testenv.Logger(t)}
		task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: mpEmailID})
		if err := em.Send(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		if n := len(env.SMTP.Messages()); n != 2 {
			t.Errorf("%d messages after re-running a SENT row, want 2", n)
		}
	})
}

// unreachableDeps returns env's API deps with Redis and the queue pointed at
// a port where nothing listens: Redis is down for this API.
func unreachableDeps(t *testing.T, env *influencetest.Env) api.Deps {
	deps := env.Deps
	deps.Redis = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { deps.Redis.Close() })
	q := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { q.Close() })
	deps.Queue = q
	deps.Inspector = nil
	return deps
}

// TestSendEmailWhileRedisIsDown: the email is accepted while Redis is
// unreachable, and the sweeper delivers it, once, when Redis is back.
func TestSendEmailWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	// Fill the cache while Redis is up, without a worker: the lookup handler is called directly.
	rp := &represent.Handler{Store: env.Store, Redis: env.Redis, HTTP: http.DefaultClient, BaseURL: env.Represent.URL,
		RateLimit: 55, CacheTTL: time.Hour, Log: testenv.Logger(t)}
	lookup, _ := tasks.NewRepresentLookup(tasks.RepresentLookup{PostalCode: testenv.RepresentCodeSmall})
	if err := rp.Lookup(context.Background(), lookup); err != nil {
		t.Fatal(err)
	}

	down, err := api.NewMain(unreachableDeps(t, env))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { down.Close() })
	res := testenv.Do(t, down, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
		Body: map[string]any{"senderName": "Pat", "senderEmail": "pat@home.example", "postalCode": "K1A 0B1",
			"recipients": []map[string]any{{"email": testenv.RepSmallMP.Email}}}})
	var accepted acceptedBody
	res.JSON(t, &accepted)
	if res.Status != 202 || len(accepted.Emails) != 1 {
		t.Fatalf("send with Redis down = %d %s, want 202", res.Status, res.Body)
	}
	id := accepted.Emails[0].ID
	if row, err := env.Store.EmailByID(context.Background(), id); err != nil || row.Status != storage.EmailQueued {
		t.Fatalf("row = %+v, %v; want QUEUED", row, err)
	}
	if keys, _ := env.Redis.Keys(context.Background(), "asynq:*").Result(); len(keys) != 0 {
		t.Fatalf("the real Redis holds asynq keys %v; the down API reached it", keys)
	}

	// Redis is back: a worker runs, and the sweeper finds the row.
	env.StartWorker(t)
	em := &email.Handler{Store: env.Store, Queue: env.WorkerDeps(t).Queue, Config: env.Config, Log: testenv.Logger(t)}
	sweep, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 0, Limit: 100})
	for range 3 { // sweeping again while the task is live or after it ran must not send twice
		if err := em.Sweep(context.Background(), sweep); err != nil {
			t.Fatal(err)
		}
	}
	msgs := env.SMTP.WaitFor(t, 1, 15*time.Second)
	testenv.Eventually(t, 10*time.Second, "row SENT", func() bool {
		row, err := env.Store.EmailByID(context.Background(), id)
		return err == nil && row.Status == storage.EmailSent
	})
	if err := em.Sweep(context.Background(), sweep); err != nil {
		t.Fatal(err)
	}
	// Give a wrongly enqueued duplicate every chance to be delivered before counting.
	inspector := asynq.NewInspector(env.Asynq)
	defer inspector.Close()
	testenv.Eventually(t, 10*time.Second, "the email queue to drain", func() bool {
		info, err := inspector.GetQueueInfo(tasks.QueueEmail)
		return err == nil && info.Pending == 0 && info.Active == 0 && info.Retry == 0
	})
	msgs = env.SMTP.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != testenv.RepSmallMP.Email {
		t.Fatalf("%d messages arrived, want exactly 1 to the MP", len(msgs))
	}
}
