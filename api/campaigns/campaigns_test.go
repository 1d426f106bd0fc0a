package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
		}{{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403}, {"TEMP", temp, 403},
			{"INFLUENCE_ADMIN", ownerTok, 201}, {"SUPER_ADMIN", super, 201}} {
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/campaigns", Token: c.token,
				Body: map[string]any{"title": "Roles " + c.who}})
			if res.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.who, res.Status, res.Body, c.want)
			}
		}
	})
	t.Run("recipient writes and retry", func(t *testing.T) {
		ctx := context.Background()
		recipient := func(email string) int64 {
			r, err := env.Store.AddRecipient(ctx, id, "Clerk", "", email)
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		failedEmail := func() int64 {
			rows, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: id, Method: storage.MethodSMTP,
				Status: storage.EmailFailed, SenderName: "Chris", SenderEmail: "chris@home.example",
				RecipientKind: storage.RecipientCustom, RecipientName: "Clerk", RecipientEmail: "clerk@city.example"}})
			if err != nil {
				t.Fatal(err)
			}
			return rows[0].ID
		}
		for _, r := range []struct {
			method, path string
			next         func() string // a fresh target for each allowed role
			okStatus     int
		}{
			{"POST", fmt.Sprintf("/api/campaigns/%d/recipients", id), func() string { return "" }, 201},
			{"DELETE", fmt.Sprintf("/api/campaigns/%d/recipients/", id), func() string {
				return fmt.Sprint(recipient(fmt.Sprintf("del-%d@city.example", time.Now().UnixNano())))
			}, 204},
			{"POST", fmt.Sprintf("/api/campaigns/%d/emails/", id), func() string {
				return fmt.Sprintf("%d/retry", failedEmail())
			}, 202},
		} {
			for _, c := range []struct {
				who, token string
				want       int
			}{
				{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403}, {"TEMP", temp, 403},
				{"INFLUENCE_ADMIN owner", ownerTok, r.okStatus}, {"SUPER_ADMIN", super, r.okStatus},
			} {
				path := r.path + r.next()
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: path, Token: c.token,
					Body: map[string]any{"name": "n", "email": strings.ToLower(strings.ReplaceAll(c.who, " ", "-")) + "@b.example"}})
				if res.Status != c.want {
					t.Errorf("%s %s by %s = %d %s, want %d", r.method, path, c.who, res.Status, res.Body, c.want)
				}
			}
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
	t.Run("DELETE /api/campaigns/:id", func(t *testing.T) {
		for _, c := range []struct {
			who, token string
			want       int
		}{
			{"anonymous", anon, 401}, {"USER", user, 403}, {"MAP_ADMIN", mapAdmin, 403}, {"TEMP", temp, 403},
			{"another INFLUENCE_ADMIN", otherInfluence, 403},
			{"INFLUENCE_ADMIN owner", ownerTok, 204}, {"SUPER_ADMIN", super, 204},
		} {
			c2 := env.CreateCampaign(t, owner.ID)
			path := fmt.Sprintf("/api/campaigns/%d", c2.ID)
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: path, Token: c.token}); res.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.who, res.Status, res.Body, c.want)
			}
			want := 200
			if c.want == 204 {
				want = 404
			}
			if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: path, Token: super}); res.Status != want {
				t.Errorf("after %s's delete, get = %d, want %d", c.who, res.Status, want)
			}
		}
	})
}

// A cover photo goes into public pages as an image's address: an http(s)
// URL or a path on the site, never a script or a data: blob.
func TestCoverPhotoMustBeAnImageAddress(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	tok := env.TokenFor(storage.RoleInfluenceAdmin)
	for photo, want := range map[string]int{
		"https://cdn.example.org/rally.jpg": 201,
		"http://example.org/a.png":          201,
		"/uploads/rally.jpg":                201,
		"":                                  201,
		"javascript:alert(1)":               400,
		"JavaScript:alert(1)":               400,
		"data:image/png;base64,iVBORw0KGgo": 400,
		"//evil.example/a.jpg":              400,
		"rally.jpg":                         400,
		"https://":                          400,
	} {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/campaigns", Token: tok,
			Body: map[string]any{"title": "Cover " + photo, "coverPhoto": photo}})
		if res.Status != want || (want == 400 && !strings.Contains(string(res.Body), `"field":"coverPhoto"`)) {
			t.Errorf("coverPhoto %q = %d %s, want %d", photo, res.Status, res.Body, want)
		}
	}
}
