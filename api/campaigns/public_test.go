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

func ptr[T any](v T) *T { return &v }

func TestPublicCampaigns(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	plain := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.ShowEmailCount = ptr(false) })
	highlighted := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) {
		f.HighlightCampaign = ptr(true)
		f.AllowCustomRecipients = ptr(true)
		f.AllowMailtoLink = ptr(false)
	})
	draft := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.Status = ptr(storage.CampaignDraft) })
	withMailto := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.AllowCustomRecipients = ptr(true) })
	ctx := context.Background()
	for _, c := range []storage.Campaign{highlighted, withMailto} {
		if _, err := env.Store.AddRecipient(ctx, c.ID, "City Clerk", "Clerk", "clerk@city.example"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the list shows active campaigns, highlighted first", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns"})
		var list struct {
			Data []map[string]any
		}
		res.JSON(t, &list)
		if res.Status != 200 || len(list.Data) != 3 || list.Data[0]["slug"] != highlighted.Slug {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		for _, c := range list.Data {
			if c["slug"] == draft.Slug {
				t.Error("a DRAFT campaign is listed")
			}
		}
	})
	t.Run("one campaign shows no creator, and counts only when it says so", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + plain.Slug})
		if res.Status != 200 {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		body := string(res.Body)
		for _, leak := range []string{owner.Email, "createdBy", "emailCount", "callCount"} {
			if strings.Contains(body, leak) {
				t.Errorf("public campaign contains %q: %s", leak, body)
			}
		}
	})
	t.Run("custom recipients' addresses appear only for mailto", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + highlighted.Slug})
		if res.Status != 200 || strings.Contains(string(res.Body), "clerk@city.example") || !strings.Contains(string(res.Body), "City Clerk") {
			t.Errorf("without mailto = %d %s", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + withMailto.Slug})
		if !strings.Contains(string(res.Body), "mailto:clerk%40city.example?subject=") {
			t.Errorf("with mailto = %s", res.Body)
		}
	})
	t.Run("unknown, malformed and DRAFT slugs are 404", func(t *testing.T) {
		for _, slug := range []string{"nope", "Bad%20Slug", draft.Slug} {
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + slug}); res.Status != 404 {
				t.Errorf("%s = %d", slug, res.Status)
			}
		}
	})
}

// sendSetup is a campaign with the cache for T5K2J1 filled and a custom recipient.
func sendSetup(t *testing.T, opts ...func(*config.Config)) (*influencetest.Env, storage.Campaign, storage.Recipient) {
	env := influencetest.New(t, opts...)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) {
		f.AllowCustomRecipients = ptr(true)
		f.TargetGovernmentLevels = &[]string{storage.LevelFederal, storage.LevelMunicipal}
	})
	rec, err := env.Store.AddRecipient(context.Background(), camp.ID, "City Clerk", "Clerk", "clerk@city.example")
	if err != nil {
		t.Fatal(err)
	}
	reps := []storage.Representative{
		{Key: "mp", Name: "Jane Federal", ElectedOffice: "MP", Email: testenv.RepMP.Email, GovernmentLevel: storage.LevelFederal},
		{Key: "mla", Name: "Bob Provincial", ElectedOffice: "MLA", Email: testenv.RepMLA.Email, GovernmentLevel: storage.LevelProvincial},
		{Key: "cllr", Name: "Carl NoEmail", ElectedOffice: "Councillor", GovernmentLevel: storage.LevelMunicipal},
	}
	if err := env.Store.SavePostalCode(context.Background(), storage.PostalCode{Code: "T5K2J1", Status: storage.PostalFound}, reps); err != nil {
		t.Fatal(err)
	}
	return env, camp, rec
}

func TestSendEmailRejectsBadInput(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t)
	ctx := context.Background()
	reps, _ := env.Store.RepresentativesFor(ctx, "T5K2J1")
	var mlaID, noEmailID int64
	for _, r := range reps {
		switch r.Key {
		case "mla":
			mlaID = r.ID
		case "cllr":
			noEmailID = r.ID
		}
	}
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	paused := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.Status = ptr(storage.CampaignPaused) })
	noSMTP := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.AllowSMTPEmail = ptr(false) })
	good := func() map[string]any {
		return map[string]any{"senderName": "Chris", "senderEmail": "chris@home.example", "postalCode": "T5K 2J1",
			"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}
	}
	with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
	without := func(k string) map[string]any { b := good(); delete(b, k); return b }
	cases := []struct {
		name string
		slug string
		body any
		want int
	}{
		{"bad postal code", camp.Slug, with("postalCode", "12345"), 400},
		{"US zip", camp.Slug, with("postalCode", "90210-1234"), 400},
		{"unknown slug", "no-such-campaign", good(), 404},
		{"paused campaign", paused.Slug, good(), 409},
		{"campaign without SMTP sending", noSMTP.Slug, good(), 409},
		{"arbitrary address", camp.Slug, with("recipients", []map[string]any{{"email": "friend@anywhere.example"}}), 400},
		{"representative at a level not targeted", camp.Slug, with("recipients", []map[string]any{{"representativeId": mlaID}}), 400},
		{"representative without email", camp.Slug, with("recipients", []map[string]any{{"representativeId": noEmailID}}), 400},
		{"someone else's custom recipient", camp.Slug, with("recipients", []map[string]any{{"customRecipientId": 999999}}), 400},
		{"empty recipient", camp.Slug, with("recipients", []map[string]any{{}}), 400},
		{"no recipients", camp.Slug, with("recipients", []map[string]any{}), 400},
		{"too many recipients", camp.Slug, with("recipients", make([]map[string]any, 21)), 400},
		{"postal code not looked up", camp.Slug, with("postalCode", "K1A 0B1"), 409},
		{"CR/LF in sender name", camp.Slug, with("senderName", "Chris\r\nBcc: everyone@example.com"), 400},
		{"LF in sender name", camp.Slug, with("senderName", "Chris\nX-Evil: 1"), 400},
		{"CR/LF in subject", camp.Slug, with("subject", "Hello\r\nBcc: everyone@example.com"), 400},
		{"oversize body", camp.Slug, with("body", strings.Repeat("x", 10_001)), 400},
		{"oversize sender name", camp.Slug, with("senderName", strings.Repeat("x", 101)), 400},
		{"bad sender email", camp.Slug, with("senderEmail", "chris at home"), 400},
		{"sender email with a display name", camp.Slug, with("senderEmail", "Chris <chris@home.example>"), 400},
		{"missing sender name", camp.Slug, without("senderName"), 400},
		{"missing sender email", camp.Slug, without("senderEmail"), 400},
		{"missing postal code", camp.Slug, without("postalCode"), 400},
		{"missing recipients", camp.Slug, without("recipients"), 400},
		{"malformed JSON", camp.Slug, `{"senderName":`, 400},
		{"wrong type", camp.Slug, with("recipients", "everyone"), 400},
		{"empty body", camp.Slug, "", 400},
	}
	for _, c := range cases {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + c.slug + "/send-email", Body: c.body})
		if res.Status != c.want {
			t.Errorf("%s: = %d %s, want %d", c.name, res.Status, res.Body, c.want)
		}
	}
	st, err := env.Store.CampaignEmailStats(ctx, camp.ID)
	if err != nil || st.Total != 0 {
		t.Errorf("rejected requests stored %d rows (%v)", st.Total, err)
	}

	t.Run("a custom recipient by ID, and duplicates collapse", func(t *testing.T) {
		recs, _ := env.Store.Recipients(ctx, camp.ID)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
			Body: with("recipients", []map[string]any{{"customRecipientId": recs[0].ID}, {"email": "CLERK@city.example"}, {"email": testenv.RepMP.Email}})})
		var accepted acceptedBody
		res.JSON(t, &accepted)
		if res.Status != 202 || len(accepted.Emails) != 2 {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
	})
}

func TestSendEmailRateLimit(t *testing.T) {
	t.Parallel()
	// influencetest trusts in-process requests as the proxy: X-Real-Ip is the client.
	env, camp, _ := sendSetup(t, func(c *config.Config) { c.Influence.SendRateLimit = 2 })
	send := func(ip, sender string) *testenv.Response {
		t.Helper()
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
			Header: map[string]string{"X-Real-Ip": ip},
			Body: map[string]any{"senderName": "Chris", "senderEmail": sender, "postalCode": "T5K2J1",
				"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}})
	}
	expect := func(res *testenv.Response, want int, what string) {
		t.Helper()
		if res.Status != want {
			t.Errorf("%s = %d %s, want %d", what, res.Status, res.Body, want)
		}
		if want == 429 && res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", what)
		}
	}
	t.Run("per client, whatever the sender", func(t *testing.T) {
		expect(send("203.0.113.1", "s1@home.example"), 202, "first from one IP")
		expect(send("203.0.113.1", "s2@home.example"), 202, "second from one IP")
		expect(send("203.0.113.1", "s3@home.example"), 429, "third from one IP")
		expect(send("203.0.113.9", "s4@home.example"), 202, "first from another IP")
	})
	t.Run("an IPv6 client is its /64", func(t *testing.T) {
		expect(send("2001:db8:5:6::1", "v1@home.example"), 202, "first from the /64")
		expect(send("2001:db8:5:6::2", "v2@home.example"), 202, "second from the /64")
		expect(send("2001:db8:5:6:ffff::3", "v3@home.example"), 429, "third from the /64")
		expect(send("2001:db8:5:7::1", "v4@home.example"), 202, "first from the next /64")
	})
	t.Run("per sender, whatever the client", func(t *testing.T) {
		expect(send("203.0.113.2", "same@home.example"), 202, "the sender from a first IP")
		expect(send("203.0.113.3", "SAME@home.example"), 202, "the sender from a second IP")
		expect(send("203.0.113.4", "same@home.example"), 429, "the sender from a third IP")
		// The limit was the sender's, not the third IP's.
		expect(send("203.0.113.4", "other@home.example"), 202, "another sender from the third IP")
	})
	t.Run("a client over its limit does not use up the sender's", func(t *testing.T) {
		expect(send("203.0.113.5", "a5@home.example"), 202, "first from one IP")
		expect(send("203.0.113.5", "b5@home.example"), 202, "second from one IP")
		expect(send("203.0.113.5", "fresh@home.example"), 429, "third from one IP, a new sender")
		expect(send("203.0.113.6", "fresh@home.example"), 202, "the new sender from another IP")
		expect(send("203.0.113.7", "fresh@home.example"), 202, "the new sender from a third IP: its first refused request did not count")
	})
}

func TestFailedEmailAndRetry(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t)
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	send := func() int64 {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
			Body: map[string]any{"senderName": "Chris", "senderEmail": "chris@home.example", "postalCode": "T5K2J1",
				"recipients": []map[string]any{{"email": testenv.RepMP.Email}}}})
		var accepted acceptedBody
		res.JSON(t, &accepted)
		if res.Status != 202 {
			t.Fatalf("send = %d %s", res.Status, res.Body)
		}
		return accepted.Emails[0].ID
	}
	status := func(id int64) string {
		e, err := env.Store.EmailByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return e.Status
	}

	t.Run("a temporary refusal is retried", func(t *testing.T) {
		env.SMTP.FailNext(451, 2)
		id := send()
		testenv.Eventually(t, 15*time.Second, "row SENT", func() bool { return status(id) == storage.EmailSent })
		e, _ := env.Store.EmailByID(context.Background(), id)
		if e.Attempts != 3 {
			t.Errorf("attempts = %d, want 3", e.Attempts)
		}
	})
	t.Run("a permanent refusal fails at once, and an admin retries it", func(t *testing.T) {
		before := len(env.SMTP.Messages())
		env.SMTP.FailNext(550, 1)
		id := send()
		testenv.Eventually(t, 15*time.Second, "row FAILED", func() bool { return status(id) == storage.EmailFailed })
		retry := fmt.Sprintf("/api/campaigns/%d/emails/%d/retry", camp.ID, id)
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry}); res.Status != 401 {
			t.Errorf("anonymous retry = %d", res.Status)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry, Token: env.TokenFor(storage.RoleUser)}); res.Status != 403 {
			t.Errorf("USER retry = %d", res.Status)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry, Token: admin}); res.Status != 202 {
			t.Fatalf("retry = %d %s", res.Status, res.Body)
		}
		testenv.Eventually(t, 15*time.Second, "row SENT after retry", func() bool { return status(id) == storage.EmailSent })
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: retry, Token: admin}); res.Status != 409 {
			t.Errorf("retrying a SENT email = %d, want 409", res.Status)
		}
		if n := len(env.SMTP.Messages()) - before; n != 1 {
			t.Errorf("%d messages arrived, want 1", n)
		}
	})
}

func TestMailto(t *testing.T) {
	t.Parallel()
	env, camp, rec := sendSetup(t)
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/mailto",
		Body: map[string]any{"postalCode": "T5K 2J1", "recipient": map[string]any{"email": testenv.RepMP.Email}}})
	var out struct {
		ID     int64  `json:"id"`
		Mailto string `json:"mailto"`
	}
	res.JSON(t, &out)
	if res.Status != 201 || !strings.HasPrefix(out.Mailto, "mailto:jane.federal%40parl.example?subject=") {
		t.Fatalf("= %d %s", res.Status, res.Body)
	}
	e, _ := env.Store.EmailByID(context.Background(), out.ID)
	if e.Method != storage.MethodMailto || e.Status != storage.EmailClicked {
		t.Errorf("row = %+v", e)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/mailto",
		Body: map[string]any{"recipient": map[string]any{"customRecipientId": rec.ID}}})
	if res.Status != 201 {
		t.Errorf("custom recipient = %d %s", res.Status, res.Body)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/mailto",
		Body: map[string]any{"postalCode": "T5K 2J1", "recipient": map[string]any{"email": "friend@anywhere.example"}}})
	if res.Status != 400 {
		t.Errorf("arbitrary address = %d", res.Status)
	}
	c, _ := env.Store.CampaignByID(context.Background(), camp.ID)
	if c.EmailCount != 2 {
		t.Errorf("email count = %d, want 2", c.EmailCount)
	}
}

// TestMailtoIsOffByDefault: mailto links publish custom recipients' email
// addresses, so a campaign created without allowMailtoLink has none and
// shows no address; an admin who turns them on gets them.
func TestMailtoIsOffByDefault(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	tok := env.TokenFor(storage.RoleInfluenceAdmin)
	do := func(method, path string, body any) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: method, Path: path, Body: body, Token: tok})
	}
	res := do("POST", "/api/campaigns", map[string]any{"title": "Quiet Clerks", "status": "ACTIVE",
		"emailSubject": "Please", "emailBody": "Act.", "allowCustomRecipients": true})
	var created campaignBody
	res.JSON(t, &created)
	if res.Status != 201 || created.Campaign.AllowMailtoLink {
		t.Fatalf("create = %d %s, want allowMailtoLink false", res.Status, res.Body)
	}
	camp := created.Campaign
	path := fmt.Sprintf("/api/campaigns/%d", camp.ID)
	if res := do("POST", path+"/recipients", map[string]any{"name": "City Clerk", "email": "clerk@city.example"}); res.Status != 201 {
		t.Fatalf("add recipient = %d %s", res.Status, res.Body)
	}
	page := func() string {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug})
		if res.Status != 200 {
			t.Fatalf("public page = %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	t.Run("no address in public", func(t *testing.T) {
		body := page()
		if strings.Contains(body, "clerk@city.example") || strings.Contains(body, "clerk%40city.example") ||
			strings.Contains(body, "mailto:") || !strings.Contains(body, "City Clerk") {
			t.Errorf("public page = %s", body)
		}
		recs, _ := env.Store.Recipients(context.Background(), camp.ID)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/mailto",
			Body: map[string]any{"recipient": map[string]any{"customRecipientId": recs[0].ID}}})
		if res.Status != 409 || strings.Contains(string(res.Body), "clerk") {
			t.Errorf("mailto = %d %s, want 409", res.Status, res.Body)
		}
	})
	t.Run("the column defaults to off too", func(t *testing.T) {
		var on bool
		if err := env.Store.Pool.QueryRow(context.Background(), `INSERT INTO campaigns (slug, title)
			VALUES ('raw-insert', 'Raw') RETURNING allow_mailto_link`).Scan(&on); err != nil || on {
			t.Errorf("allow_mailto_link of a raw insert = %v, %v; want false", on, err)
		}
	})
	t.Run("an admin who turns it on publishes the address", func(t *testing.T) {
		if res := do("PATCH", path, map[string]any{"allowMailtoLink": true}); res.Status != 200 {
			t.Fatalf("turn on = %d %s", res.Status, res.Body)
		}
		if body := page(); !strings.Contains(body, "mailto:clerk%40city.example?subject=") {
			t.Errorf("public page = %s", body)
		}
	})
}

// TestSendEmailOversizeBodyIs413: a body over API_BODY_LIMIT is refused
// before it is read, with the JSON error, and stores nothing.
func TestSendEmailOversizeBodyIs413(t *testing.T) {
	t.Parallel()
	env, camp, _ := sendSetup(t, func(c *config.Config) { c.APIBodyLimit = 64 << 10 })
	base := testenv.Serve(t, env.Main)
	status, body := testenv.PostDeclaringLength(t, base, "/api/public/campaigns/"+camp.Slug+"/send-email", 128<<10, 0, nil)
	if status != 413 || !strings.Contains(body, `"code":"payload_too_large"`) {
		t.Fatalf("oversize send-email = %d %s, want 413 payload_too_large", status, body)
	}
	var n int
	if err := env.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM campaign_emails").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows stored (err %v), want none", n, err)
	}
}
