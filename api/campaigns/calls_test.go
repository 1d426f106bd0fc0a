package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

type callBody struct {
	Call struct {
		ID             int64  `json:"id"`
		RecipientName  string `json:"recipientName"`
		RecipientTitle string `json:"recipientTitle"`
	} `json:"call"`
	CallCount *int `json:"callCount"`
}

func TestRecordCall(t *testing.T) {
	t.Parallel()
	env, camp, rec := sendSetup(t, func(c *config.Config) { c.Influence.CallRateLimit = 1000 })
	ctx := context.Background()
	repID := map[string]int64{}
	reps, _ := env.Store.RepresentativesFor(ctx, "T5K2J1")
	for _, r := range reps {
		repID[r.Key] = r.ID
	}
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	shown := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.ShowCallCount = ptr(true) })
	paused := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.Status = ptr(storage.CampaignPaused) })
	draft := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.Status = ptr(storage.CampaignDraft) })
	call := func(slug string, body any, header map[string]string) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + slug + "/call",
			Body: body, Header: header})
	}
	callCount := func(id int64) int {
		c, err := env.Store.CampaignByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.CallCount
	}

	t.Run("a call to a representative, even one without email, is counted", func(t *testing.T) {
		res := call(camp.Slug, map[string]any{"postalCode": "t5k 2j1", "recipient": map[string]any{"representativeId": repID["cllr"]}}, nil)
		var out callBody
		res.JSON(t, &out)
		if res.Status != 201 || out.Call.ID == 0 || out.Call.RecipientName != "Carl NoEmail" {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		if out.CallCount != nil {
			t.Errorf("the answer shows the count of a campaign that hides it: %s", res.Body)
		}
		if strings.Contains(string(res.Body), "T5K") {
			t.Errorf("the answer echoes the caller's postal code: %s", res.Body)
		}
		if n := callCount(camp.ID); n != 1 {
			t.Errorf("call count = %d, want 1", n)
		}
	})
	t.Run("a custom recipient needs no postal code", func(t *testing.T) {
		res := call(camp.Slug, map[string]any{"recipient": map[string]any{"customRecipientId": rec.ID}}, nil)
		if res.Status != 201 {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		if n := callCount(camp.ID); n != 2 {
			t.Errorf("call count = %d, want 2", n)
		}
	})
	t.Run("nothing about the caller is stored", func(t *testing.T) {
		rows, err := env.Store.Pool.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_name = 'campaign_calls' ORDER BY ordinal_position`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		// Whom they called and when; the key only dedupes a retried report.
		want := "id campaign_id recipient_kind recipient_name recipient_title recipient_level idempotency_key created_at"
		if got := strings.Join(cols, " "); got != want {
			t.Errorf("campaign_calls columns = %s; want only %s", got, want)
		}
	})
	t.Run("a repeated Idempotency-Key counts once", func(t *testing.T) {
		before := callCount(camp.ID)
		body := map[string]any{"postalCode": "T5K2J1", "recipient": map[string]any{"email": testenv.RepMP.Email}}
		key := map[string]string{"Idempotency-Key": "call-7f3a"}
		first, again := call(camp.Slug, body, key), call(camp.Slug, body, key)
		var a, b callBody
		first.JSON(t, &a)
		again.JSON(t, &b)
		if first.Status != 201 || again.Status != 200 || a.Call.ID != b.Call.ID {
			t.Fatalf("first = %d %s, again = %d %s", first.Status, first.Body, again.Status, again.Body)
		}
		// The same key in the body (for browsers, which CORS keeps from sending the header).
		body["idempotencyKey"] = "call-7f3a"
		if res := call(camp.Slug, body, nil); res.Status != 200 {
			t.Errorf("key in the body = %d %s, want 200", res.Status, res.Body)
		}
		if n := callCount(camp.ID); n != before+1 {
			t.Errorf("call count = %d, want %d", n, before+1)
		}
		// Keys are per campaign.
		if res := call(shown.Slug, map[string]any{"postalCode": "T5K2J1", "recipient": map[string]any{"email": testenv.RepMP.Email}},
			key); res.Status != 201 {
			t.Errorf("the same key on another campaign = %d %s, want 201", res.Status, res.Body)
		}
	})
	t.Run("the count is public only when the campaign shows it", func(t *testing.T) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug})
		if res.Status != 200 || strings.Contains(string(res.Body), "callCount") {
			t.Errorf("hidden = %d %s", res.Status, res.Body)
		}
		res = call(shown.Slug, map[string]any{"postalCode": "T5K2J1", "recipient": map[string]any{"representativeId": repID["mp"]}}, nil)
		var out callBody
		res.JSON(t, &out)
		if res.Status != 201 || out.CallCount == nil || *out.CallCount != 2 {
			t.Errorf("call on a shown campaign = %d %s, want callCount 2", res.Status, res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + shown.Slug})
		var page struct {
			Campaign struct {
				CallCount *int `json:"callCount"`
			} `json:"campaign"`
		}
		res.JSON(t, &page)
		if page.Campaign.CallCount == nil || *page.Campaign.CallCount != 2 {
			t.Errorf("public page = %s, want callCount 2", res.Body)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns"})
		if !strings.Contains(string(res.Body), `"callCount":2`) {
			t.Errorf("public list = %s, want the shown campaign's callCount", res.Body)
		}
	})
	t.Run("bad input is a 4xx and counts nothing", func(t *testing.T) {
		before := callCount(camp.ID)
		good := func() map[string]any {
			return map[string]any{"postalCode": "T5K 2J1", "recipient": map[string]any{"representativeId": repID["mp"]}}
		}
		with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
		without := func(k string) map[string]any { b := good(); delete(b, k); return b }
		cases := []struct {
			name   string
			slug   string
			body   any
			header map[string]string
			want   int
		}{
			{"unknown slug", "no-such-campaign", good(), nil, 404},
			{"DRAFT campaign", draft.Slug, good(), nil, 404},
			{"paused campaign", paused.Slug, good(), nil, 409},
			{"bad postal code", camp.Slug, with("postalCode", "12345"), nil, 400},
			{"missing postal code for a representative", camp.Slug, without("postalCode"), nil, 400},
			{"postal code not looked up", camp.Slug, with("postalCode", "K1A 0B1"), nil, 409},
			{"representative at a level not targeted", camp.Slug, with("recipient", map[string]any{"representativeId": repID["mla"]}), nil, 400},
			{"another code's representative", camp.Slug, with("recipient", map[string]any{"representativeId": 999999}), nil, 400},
			{"arbitrary address", camp.Slug, with("recipient", map[string]any{"email": "friend@anywhere.example"}), nil, 400},
			{"unknown custom recipient", camp.Slug, with("recipient", map[string]any{"customRecipientId": 999999}), nil, 400},
			{"empty recipient", camp.Slug, with("recipient", map[string]any{}), nil, 400},
			{"missing recipient", camp.Slug, without("recipient"), nil, 400},
			{"oversize idempotency key", camp.Slug, good(), map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}, 400},
			{"malformed JSON", camp.Slug, `{"recipient":`, nil, 400},
			{"wrong type", camp.Slug, with("recipient", "the mayor"), nil, 400},
			{"empty body", camp.Slug, "", nil, 400},
		}
		for _, c := range cases {
			res := call(c.slug, c.body, c.header)
			if res.Status != c.want || res.ErrorCode() == "" {
				t.Errorf("%s: = %d %s, want %d", c.name, res.Status, res.Body, c.want)
			}
		}
		if n := callCount(camp.ID); n != before {
			t.Errorf("rejected calls changed the count from %d to %d", before, n)
		}
	})
	t.Run("the admin sees calls by recipient; roles", func(t *testing.T) {
		path := fmt.Sprintf("/api/campaigns/%d/calls/stats", camp.ID)
		campOwner, _ := env.Store.UserByID(ctx, *camp.CreatedBy)
		for _, c := range []struct {
			who, token string
			want       int
		}{
			{"anonymous", "", 401}, {"USER", env.TokenFor(storage.RoleUser), 403},
			{"MAP_ADMIN", env.TokenFor(storage.RoleMapAdmin), 403}, {"TEMP", env.TokenFor(storage.RoleTemp), 403},
			{"another INFLUENCE_ADMIN", env.TokenFor(storage.RoleInfluenceAdmin), 403},
			{"the owner", env.Token(campOwner), 200}, {"SUPER_ADMIN", env.TokenFor(storage.RoleSuperAdmin), 200},
		} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: path, Token: c.token})
			if res.Status != c.want {
				t.Errorf("%s: = %d %s, want %d", c.who, res.Status, res.Body, c.want)
				continue
			}
			if c.want != 200 {
				continue
			}
			var out struct {
				Stats struct {
					Total       int                 `json:"total"`
					ByRecipient []storage.CallCount `json:"byRecipient"`
				} `json:"stats"`
			}
			res.JSON(t, &out)
			if out.Stats.Total != callCount(camp.ID) || len(out.Stats.ByRecipient) != 3 {
				t.Errorf("%s: stats = %s", c.who, res.Body)
			}
		}
	})
}

func TestRecordCallRateLimit(t *testing.T) {
	t.Parallel()
	env, camp, rec := sendSetup(t, func(c *config.Config) {
		c.Influence.CallRateLimit = 2
		c.TrustedProxies = []string{"0.0.0.0"} // X-Real-Ip names the client, as nginx sets it
	})
	call := func(ip string) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/call",
			Header: map[string]string{"X-Real-Ip": ip},
			Body:   map[string]any{"recipient": map[string]any{"customRecipientId": rec.ID}}})
	}
	for i := range 2 {
		if res := call("203.0.113.7"); res.Status != 201 {
			t.Fatalf("call %d = %d %s", i, res.Status, res.Body)
		}
	}
	res := call("203.0.113.7")
	if res.Status != 429 || res.Header.Get("Retry-After") == "" || res.ErrorCode() != "rate_limited" {
		t.Errorf("third from one IP = %d %s (Retry-After %q), want 429", res.Status, res.Body, res.Header.Get("Retry-After"))
	}
	if res := call("203.0.113.8"); res.Status != 201 {
		t.Errorf("another IP = %d, want 201", res.Status)
	}
	c, _ := env.Store.CampaignByID(context.Background(), camp.ID)
	if c.CallCount != 3 {
		t.Errorf("call count = %d, want 3", c.CallCount)
	}
}
