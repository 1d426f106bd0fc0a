package campaigns_test

import (
	"fmt"
	"strings"
	"testing"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

type campaignBody struct {
	Campaign storage.Campaign `json:"campaign"`
}

func TestAdminRoutesRoles(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	ownerTok := env.Token(owner)
	camp := env.CreateCampaign(t, owner.ID)
	anon := ""
	user := env.TokenFor(storage.RoleUser)
	mapAdmin := env.TokenFor(storage.RoleMapAdmin)
	temp := env.TokenFor(storage.RoleTemp)
	super := env.TokenFor(storage.RoleSuperAdmin)
	otherInfluence := env.TokenFor(storage.RoleInfluenceAdmin)

	id := camp.ID
	routes := []struct {
		method, path string
		body         any
		okStatus     int
	}{
		{"GET", "/api/campaigns", nil, 200},
		{"GET", fmt.Sprintf("/api/campaigns/%d", id), nil, 200},
		{"PATCH", fmt.Sprintf("/api/campaigns/%d", id), map[string]any{"description": "updated"}, 200},
		{"GET", fmt.Sprintf("/api/campaigns/%d/recipients", id), nil, 200},
		{"GET", fmt.Sprintf("/api/campaigns/%d/emails", id), nil, 200},
		{"GET", fmt.Sprintf("/api/campaigns/%d/emails/stats", id), nil, 200},
		{"GET", "/api/representatives", nil, 200},
		{"GET", "/api/representatives/stats", nil, 200},
		{"DELETE", "/api/representatives/cache?postalCode=K1A0B1", nil, 200},
		{"GET", "/api/responses", nil, 200},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, c := range []struct {
				who, token string
				want       int
			}{
				{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403}, {"TEMP", temp, 403},
				{"INFLUENCE_ADMIN owner", ownerTok, r.okStatus}, {"SUPER_ADMIN", super, r.okStatus},
			} {
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path, Body: r.body, Token: c.token})
				if res.Status != c.want {
					t.Errorf("%s: %d %s, want %d", c.who, res.Status, res.Body, c.want)
				}
			}
		})
	}
	t.Run("POST /api/campaigns", func(t *testing.T) {
		for _, c := range []struct {
			who, token string
			want       int
		}{{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403},
			{"INFLUENCE_ADMIN", ownerTok, 201}, {"SUPER_ADMIN", super, 201}} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/campaigns", Token: c.token,
				Body: map[string]any{"title": "Roles " + c.who}})
			if res.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.who, res.Status, res.Body, c.want)
			}
		}
	})
	t.Run("recipient writes and retry", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"POST", fmt.Sprintf("/api/campaigns/%d/recipients", id)},
			{"DELETE", fmt.Sprintf("/api/campaigns/%d/recipients/1", id)},
			{"POST", fmt.Sprintf("/api/campaigns/%d/emails/1/retry", id)},
		} {
			for _, c := range []struct {
				who, token string
				want       int
			}{{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403}, {"TEMP", temp, 403}} {
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path, Token: c.token,
					Body: map[string]any{"name": "n", "email": "a@b.example"}})
				if res.Status != c.want {
					t.Errorf("%s %s by %s = %d, want %d", r.method, r.path, c.who, res.Status, c.want)
				}
			}
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/campaigns/%d/recipients", id),
			Token: super, Body: map[string]any{"name": "n", "email": "super@b.example"}})
		if res.Status != 201 {
			t.Errorf("SUPER_ADMIN adds a recipient = %d", res.Status)
		}
	})
	t.Run("an INFLUENCE_ADMIN may not manage another's campaign", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/api/campaigns/%d", id)},
			{"PATCH", fmt.Sprintf("/api/campaigns/%d", id)},
			{"DELETE", fmt.Sprintf("/api/campaigns/%d", id)},
			{"GET", fmt.Sprintf("/api/campaigns/%d/emails", id)},
			{"POST", fmt.Sprintf("/api/campaigns/%d/recipients", id)},
		} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path, Token: otherInfluence,
				Body: map[string]any{"description": "x", "name": "n", "email": "a@b.example"}})
			if res.Status != 403 {
				t.Errorf("%s %s by another INFLUENCE_ADMIN = %d %s, want 403", r.method, r.path, res.Status, res.Body)
			}
		}
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/campaigns", Token: otherInfluence})
		var list struct{ Data []storage.Campaign }
		res.JSON(t, &list)
		for _, c := range list.Data {
			if c.ID == id {
				t.Errorf("another INFLUENCE_ADMIN's list shows campaign %d", id)
			}
		}
	})
	t.Run("DELETE by the owner, then 404", func(t *testing.T) {
		c2 := env.CreateCampaign(t, owner.ID)
		path := fmt.Sprintf("/api/campaigns/%d", c2.ID)
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path}); res.Status != 401 {
			t.Errorf("anonymous delete = %d", res.Status)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path, Token: user}); res.Status != 403 {
			t.Errorf("USER delete = %d", res.Status)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path, Token: ownerTok}); res.Status != 204 {
			t.Errorf("owner delete = %d %s", res.Status, res.Body)
		}
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: path, Token: super}); res.Status != 404 {
			t.Errorf("get deleted = %d", res.Status)
		}
	})
}

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	tok := env.TokenFor(storage.RoleInfluenceAdmin)
	do := func(method, path string, body any) *testenv.Response {
		return testenv.Do(t, env.Main, testenv.Request{Method: method, Path: path, Body: body, Token: tok})
	}

	res := do("POST", "/api/campaigns", map[string]any{"title": "Étude: Clean Water!", "targetGovernmentLevels": []string{"FEDERAL", "PROVINCIAL", "FEDERAL"}})
	var created campaignBody
	res.JSON(t, &created)
	c := created.Campaign
	if res.Status != 201 || c.Slug != "etude-clean-water" || c.Status != "DRAFT" ||
		strings.Join(c.TargetGovernmentLevels, ",") != "FEDERAL,PROVINCIAL" {
		t.Fatalf("create = %d %s", res.Status, res.Body)
	}

	t.Run("slugs from the same title do not collide", func(t *testing.T) {
		res := do("POST", "/api/campaigns", map[string]any{"title": "Etude clean water"})
		var b campaignBody
		res.JSON(t, &b)
		if res.Status != 201 || b.Campaign.Slug != "etude-clean-water-2" {
			t.Errorf("second create = %d slug %q", res.Status, b.Campaign.Slug)
		}
	})
	t.Run("an explicit slug that is taken is a 409", func(t *testing.T) {
		res := do("POST", "/api/campaigns", map[string]any{"title": "x", "slug": "etude-clean-water"})
		if res.Status != 409 {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
	})
	path := fmt.Sprintf("/api/campaigns/%d", c.ID)
	t.Run("activation needs a subject and a body", func(t *testing.T) {
		res := do("PATCH", path, map[string]any{"status": "ACTIVE"})
		if res.Status != 400 {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
	})
	t.Run("DRAFT to ACTIVE to PAUSED to ACTIVE to ARCHIVED, and no way back", func(t *testing.T) {
		res := do("PATCH", path, map[string]any{"status": "ACTIVE", "emailSubject": "Act now", "emailBody": "Please."})
		if res.Status != 200 {
			t.Fatalf("activate = %d %s", res.Status, res.Body)
		}
		for _, s := range []string{"PAUSED", "ACTIVE", "ARCHIVED"} {
			if res := do("PATCH", path, map[string]any{"status": s}); res.Status != 200 {
				t.Fatalf("-> %s = %d %s", s, res.Status, res.Body)
			}
		}
		for _, s := range []string{"ACTIVE", "DRAFT", "PAUSED"} {
			if res := do("PATCH", path, map[string]any{"status": s}); res.Status != 409 {
				t.Errorf("ARCHIVED -> %s = %d, want 409", s, res.Status)
			}
		}
	})
	t.Run("bad input is a 400", func(t *testing.T) {
		for name, body := range map[string]any{
			"missing title":        map[string]any{"description": "x"},
			"blank title":          map[string]any{"title": "  "},
			"bad status":           map[string]any{"title": "x", "status": "LIVE"},
			"new ARCHIVED":         map[string]any{"title": "x", "status": "ARCHIVED"},
			"bad level":            map[string]any{"title": "x", "targetGovernmentLevels": []string{"GALACTIC"}},
			"bad slug":             map[string]any{"title": "x", "slug": "No Spaces"},
			"subject with newline": map[string]any{"title": "x", "emailSubject": "Hi\r\nBcc: all@example.com"},
			"oversize body":        map[string]any{"title": "x", "emailBody": strings.Repeat("a", 10_001)},
			"wrong type":           map[string]any{"title": 5},
		} {
			if res := do("POST", "/api/campaigns", body); res.Status != 400 {
				t.Errorf("%s: = %d %s, want 400", name, res.Status, res.Body)
			}
		}
		if res := do("GET", "/api/campaigns/abc", nil); res.Status != 400 {
			t.Errorf("non-numeric id = %d", res.Status)
		}
		if res := do("GET", "/api/campaigns/999999", nil); res.Status != 404 {
			t.Errorf("unknown id = %d", res.Status)
		}
		if res := do("GET", "/api/campaigns?status=NOPE", nil); res.Status != 400 {
			t.Errorf("bad status filter = %d", res.Status)
		}
	})
	t.Run("list filters by status and search", func(t *testing.T) {
		res := do("GET", "/api/campaigns?status=ARCHIVED&search=etude", nil)
		var list struct {
			Data       []storage.Campaign
			Pagination struct{ Total int }
		}
		res.JSON(t, &list)
		if res.Status != 200 || list.Pagination.Total != 1 || list.Data[0].ID != c.ID {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
	})
	t.Run("custom recipients", func(t *testing.T) {
		rp := path + "/recipients"
		res := do("POST", rp, map[string]any{"name": "City Clerk", "title": "Clerk", "email": "clerk@city.example"})
		if res.Status != 201 {
			t.Fatalf("add = %d %s", res.Status, res.Body)
		}
		var added struct{ Recipient storage.Recipient }
		res.JSON(t, &added)
		if res := do("POST", rp, map[string]any{"name": "Again", "email": "CLERK@city.example"}); res.Status != 409 {
			t.Errorf("duplicate = %d", res.Status)
		}
		if res := do("POST", rp, map[string]any{"name": "Bad", "email": "not-an-email"}); res.Status != 400 {
			t.Errorf("bad email = %d", res.Status)
		}
		if res := do("POST", rp, map[string]any{"name": "Evil\r\nBcc: x@y.z", "email": "a@b.example"}); res.Status != 400 {
			t.Errorf("header injection in name = %d", res.Status)
		}
		if res := do("DELETE", fmt.Sprintf("%s/%d", rp, added.Recipient.ID), nil); res.Status != 204 {
			t.Errorf("delete = %d", res.Status)
		}
		if res := do("DELETE", fmt.Sprintf("%s/%d", rp, added.Recipient.ID), nil); res.Status != 404 {
			t.Errorf("delete again = %d", res.Status)
		}
	})
}
