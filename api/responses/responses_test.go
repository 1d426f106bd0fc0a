package responses_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

func submit(t *testing.T, env *influencetest.Env, slug string, body map[string]any, ip string) *testenv.Response {
	t.Helper()
	return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + slug + "/responses",
		Body: body, Header: map[string]string{"X-Real-Ip": ip}})
}

func goodResponse() map[string]any {
	return map[string]any{"representativeName": "Jane Federal", "representativeTitle": "MP",
		"representativeLevel": "FEDERAL", "responseType": "EMAIL", "responseText": "Thank you, I will look into it.",
		"comment": "Encouraging!", "submitterName": "Chris Constituent", "submitterEmail": "chris@home.example"}
}

type created struct {
	Response struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"response"`
}

func TestResponseWall(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	ownerTok := env.Token(owner)
	camp := env.CreateCampaign(t, owner.ID)
	noWall := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) { f.ShowResponseWall = new(bool) })
	user := env.TokenFor(storage.RoleUser)

	res := submit(t, env, camp.Slug, goodResponse(), "198.51.100.1")
	var first created
	res.JSON(t, &first)
	if res.Status != 201 || first.Response.Status != "PENDING" {
		t.Fatalf("submit = %d %s", res.Status, res.Body)
	}
	anon := goodResponse()
	anon["isAnonymous"] = true
	anon["submitterName"] = "Secret Person"
	anon["submitterEmail"] = ""
	res = submit(t, env, camp.Slug, anon, "198.51.100.1")
	var second created
	res.JSON(t, &second)
	if res.Status != 201 {
		t.Fatalf("anonymous submit = %d %s", res.Status, res.Body)
	}

	t.Run("the verification link arrives and verifies", func(t *testing.T) {
		msgs := env.SMTP.WaitFor(t, 1, 15*time.Second)
		if msgs[0].To[0] != "chris@home.example" {
			t.Fatalf("verification went to %v", msgs[0].To)
		}
		link := regexp.MustCompile(`http://changemaker\.test(/api/public/responses/verify/[A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[0].Text())
		if link == nil {
			t.Fatalf("no link in %q", msgs[0].Body)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: link[1]}); res.Status != 200 {
			t.Fatalf("verify = %d %s", res.Status, res.Body)
		}
		r, _ := env.Store.ResponseByID(context.Background(), first.Response.ID)
		if r.VerifiedAt == nil {
			t.Error("not verified")
		}
		tampered := link[1][:len(link[1])-2] + "AA"
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: tampered}); res.Status != 400 {
			t.Errorf("tampered token = %d", res.Status)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/responses/verify/nonsense"}); res.Status != 400 {
			t.Errorf("nonsense token = %d", res.Status)
		}
		expired := storage.SignResponseToken(storage.ResponseTokenKey(env.Config.EncryptionKey), first.Response.ID, time.Now().Add(-time.Minute))
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/responses/verify/" + expired}); res.Status != 400 {
			t.Errorf("expired token = %d", res.Status)
		}
	})

	wall := func(query string) []map[string]any {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug + "/responses" + query})
		if res.Status != 200 {
			t.Fatalf("wall = %d %s", res.Status, res.Body)
		}
		if strings.Contains(string(res.Body), "chris@home.example") || strings.Contains(string(res.Body), "Secret Person") {
			t.Errorf("the wall leaks a submitter: %s", res.Body)
		}
		var b struct{ Data []map[string]any }
		res.JSON(t, &b)
		return b.Data
	}
	t.Run("pending responses are not on the wall", func(t *testing.T) {
		if got := wall(""); len(got) != 0 {
			t.Errorf("wall = %v", got)
		}
	})

	t.Run("moderation roles", func(t *testing.T) {
		path := fmt.Sprintf("/api/responses/%d", first.Response.ID)
		body := map[string]any{"status": "APPROVED", "note": "ok"}
		for _, c := range []struct {
			who, token string
			want       int
		}{
			{"anonymous", "", 401}, {"USER", env.TokenFor(storage.RoleUser), 403},
			{"MAP_ADMIN", env.TokenFor(storage.RoleMapAdmin), 403}, {"TEMP", env.TokenFor(storage.RoleTemp), 403},
			{"another INFLUENCE_ADMIN", env.TokenFor(storage.RoleInfluenceAdmin), 403},
			{"owner", ownerTok, 200}, {"SUPER_ADMIN", env.TokenFor(storage.RoleSuperAdmin), 200},
		} {
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: path, Token: c.token, Body: body}); res.Status != c.want {
				t.Errorf("%s: = %d %s, want %d", c.who, res.Status, res.Body, c.want)
			}
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Path: path, Token: ownerTok, Body: map[string]any{"status": "PENDING"}}); res.Status != 400 {
			t.Errorf("bad status = %d", res.Status)
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "PATCH", Token: ownerTok,
			Path: fmt.Sprintf("/api/responses/%d", second.Response.ID), Body: body})
		if res.Status != 200 {
			t.Fatalf("approve second = %d", res.Status)
		}
		res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/responses?status=APPROVED&campaignId=" + fmt.Sprint(camp.ID), Token: ownerTok})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"total":2`) {
			t.Errorf("admin list = %d %s", res.Status, res.Body)
		}
	})

	t.Run("approved responses show; anonymous ones without a name", func(t *testing.T) {
		got := wall("?sort=verified")
		if len(got) != 2 || got[0]["isVerified"] != true {
			t.Fatalf("wall = %v", got)
		}
		if got[0]["submitterName"] != "Chris Constituent" || got[1]["submitterName"] != nil {
			t.Errorf("names = %v / %v", got[0]["submitterName"], got[1]["submitterName"])
		}
	})

	t.Run("one upvote per client and per user", func(t *testing.T) {
		// influencetest trusts in-process requests as the proxy: X-Real-Ip is the client.
		up := func(id int64, ip, token string) *testenv.Response {
			return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/public/responses/%d/upvote", id),
				Token: token, Header: map[string]string{"X-Real-Ip": ip}})
		}
		id := second.Response.ID
		for _, c := range []struct {
			what, ip, token string
			count           int
			already         bool
		}{
			{"first from an IP", "198.51.100.7", "", 1, false},
			{"again from the same IP", "198.51.100.7", "", 1, true},
			{"from another IP", "198.51.100.8", "", 2, false},
			{"from an IPv6 client", "2001:db8:9:9::1", "", 3, false},
			{"from another address in the same /64", "2001:db8:9:9:abcd::2", "", 3, true},
			{"from the next /64", "2001:db8:9:a::1", "", 4, false},
			{"a user, from a voting IP", "198.51.100.7", user, 5, false},
			{"the same user from another IP", "198.51.100.9", user, 5, true},
		} {
			res := up(id, c.ip, c.token)
			var b struct {
				UpvoteCount    int  `json:"upvoteCount"`
				AlreadyUpvoted bool `json:"alreadyUpvoted"`
			}
			res.JSON(t, &b)
			if res.Status != 200 || b.UpvoteCount != c.count || b.AlreadyUpvoted != c.already {
				t.Errorf("%s = %d %s, want count %d, alreadyUpvoted %v", c.what, res.Status, res.Body, c.count, c.already)
			}
		}
		// Every vote counted above is stored, each under a user ID or a
		// salted hash: the address itself never reaches the table.
		rows, err := env.Store.Pool.Query(context.Background(),
			`SELECT voter_key FROM response_upvotes WHERE response_id = $1`, id)
		if err != nil {
			t.Fatalf("read voter keys: %v", err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read voter keys: %v", err)
		}
		if len(keys) != 5 {
			t.Errorf("%d voter keys stored (%q), want 5", len(keys), keys)
		}
		voterKey := regexp.MustCompile(`^(u:[0-9]+|ip:[0-9a-f]{32})$`)
		for _, k := range keys {
			if !voterKey.MatchString(k) || strings.Contains(k, "198.51") || strings.Contains(k, "2001:db8") {
				t.Errorf("voter key %q is neither a user ID nor a salted hash: a raw IP may be stored", k)
			}
		}
		if got := wall("?sort=upvotes"); got[0]["id"] != float64(id) {
			t.Errorf("sort by upvotes: first is %v", got[0]["id"])
		}
		if res := up(999999, "198.51.100.7", ""); res.Status != 404 {
			t.Errorf("unknown response = %d", res.Status)
		}
		if res := up(id, "198.51.100.7", "garbage"); res.Status != 401 {
			t.Errorf("bad token = %d", res.Status)
		}
	})

	t.Run("bad input is a 4xx", func(t *testing.T) {
		with := func(k string, v any) map[string]any { b := goodResponse(); b[k] = v; return b }
		for name, c := range map[string]struct {
			slug string
			body map[string]any
			want int
		}{
			"no wall":          {noWall.Slug, goodResponse(), 404},
			"unknown slug":     {"nope", goodResponse(), 404},
			"missing rep name": {camp.Slug, with("representativeName", ""), 400},
			"bad type":         {camp.Slug, with("responseType", "TELEGRAM"), 400},
			"bad level":        {camp.Slug, with("representativeLevel", "GALACTIC"), 400},
			"missing text":     {camp.Slug, with("responseText", " "), 400},
			"oversize text":    {camp.Slug, with("responseText", strings.Repeat("x", 10_001)), 400},
			"bad email":        {camp.Slug, with("submitterEmail", "nope"), 400},
			"CR/LF in name":    {camp.Slug, with("submitterName", "A\r\nBcc: x@y.z"), 400},
		} {
			if res := submit(t, env, c.slug, c.body, "198.51.100.20"); res.Status != c.want {
				t.Errorf("%s: = %d %s, want %d", name, res.Status, res.Body, c.want)
			}
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/public/campaigns/" + camp.Slug + "/responses?sort=random"}); res.Status != 400 {
			t.Errorf("bad sort = %d", res.Status)
		}
	})

	t.Run("delete", func(t *testing.T) {
		path := fmt.Sprintf("/api/responses/%d", second.Response.ID)
		for _, c := range []struct {
			who, token string
			want       int
		}{
			{"anonymous", "", 401}, {"USER", env.TokenFor(storage.RoleUser), 403},
			{"MAP_ADMIN", env.TokenFor(storage.RoleMapAdmin), 403}, {"TEMP", env.TokenFor(storage.RoleTemp), 403},
			{"another INFLUENCE_ADMIN", env.TokenFor(storage.RoleInfluenceAdmin), 403},
			{"owner", ownerTok, 204}, {"owner again", ownerTok, 404},
		} {
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path, Token: c.token}); res.Status != c.want {
				t.Errorf("%s = %d %s, want %d", c.who, res.Status, res.Body, c.want)
			}
		}
		// A SUPER_ADMIN deletes any response, here one to a campaign they did not create.
		path = fmt.Sprintf("/api/responses/%d", first.Response.ID)
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path, Token: env.TokenFor(storage.RoleSuperAdmin)}); res.Status != 204 {
			t.Errorf("SUPER_ADMIN = %d %s, want 204", res.Status, res.Body)
		}
		if _, err := env.Store.ResponseByID(context.Background(), first.Response.ID); err == nil {
			t.Error("the response is still there")
		}
	})
}

func TestResponseRateLimit(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Influence.ResponseRateLimit = 2 })
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	camp := env.CreateCampaign(t, owner.ID)
	body := goodResponse()
	body["submitterEmail"] = ""
	for i := range 2 {
		if res := submit(t, env, camp.Slug, body, "198.51.100.9"); res.Status != 201 {
			t.Fatalf("submit %d = %d", i, res.Status)
		}
	}
	res := submit(t, env, camp.Slug, body, "198.51.100.9")
	if res.Status != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("third = %d, want 429 with Retry-After", res.Status)
	}
	if res := submit(t, env, camp.Slug, body, "198.51.100.10"); res.Status != 201 {
		t.Errorf("first from another IP = %d, want 201", res.Status)
	}
	for i, ip := range []string{"2001:db8:7:7::1", "2001:db8:7:7::2"} {
		if res := submit(t, env, camp.Slug, body, ip); res.Status != 201 {
			t.Fatalf("IPv6 submit %d = %d", i, res.Status)
		}
	}
	if res := submit(t, env, camp.Slug, body, "2001:db8:7:7:ffff::3"); res.Status != 429 {
		t.Errorf("third from the same /64 = %d, want 429", res.Status)
	}
}
