package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestRoutesRoles is the role matrix of the module's routes: anonymous
// callers get 401, roles without access 403, allowed roles 200.
func TestRoutesRoles(t *testing.T) {
	t.Parallel()
	smtp := testenv.NewSMTPServer(t)
	env := testenv.NewAPI(t, smtp.Configure, func(c *config.Config) { c.Influence.SMTPTimeout = 10 * time.Second })
	const anon = "anonymous"
	callers := []string{anon, storage.RoleTemp, storage.RoleUser, storage.RoleMapAdmin, storage.RoleInfluenceAdmin, storage.RoleSuperAdmin}
	routes := []struct {
		method, path string
		body         any
		allowed      []string
	}{
		{"GET", "/api/admin/summary", nil, []string{storage.RoleInfluenceAdmin, storage.RoleSuperAdmin}},
		{"POST", "/api/settings/email/test", map[string]string{"to": "someone@example.test"}, []string{storage.RoleSuperAdmin}},
	}
	for _, r := range routes {
		for _, caller := range callers {
			t.Run(fmt.Sprintf("%s %s as %s", r.method, strings.ReplaceAll(r.path, "/", "_"), caller), func(t *testing.T) {
				req := testenv.Request{Method: r.method, Path: r.path, Body: r.body}
				if caller != anon {
					req.Token = env.TokenFor(caller)
				}
				res := testenv.Do(t, env.Main, req)
				want := 200
				switch {
				case caller == anon:
					want = 401
				case !contains(r.allowed, caller):
					want = 403
				}
				if res.Status != want {
					t.Fatalf("%s %s as %s = %d %s, want %d", r.method, r.path, caller, res.Status, res.Body, want)
				}
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type summary struct {
	Role      string `json:"role"`
	Influence struct {
		Campaigns        map[string]int `json:"campaigns"`
		Emails           map[string]int `json:"emails"`
		ResponsesPending int            `json:"responsesPending"`
	} `json:"influence"`
	Media struct {
		Videos        int  `json:"videos"`
		JobsAvailable bool `json:"jobsAvailable"`
	} `json:"media"`
	Queues *struct {
		Available bool `json:"available"`
		Queues    []struct {
			Name    string `json:"name"`
			Pending int    `json:"pending"`
		} `json:"queues"`
	} `json:"queues"`
}

// TestSummaryCounts checks the dashboard's numbers, and that an
// INFLUENCE_ADMIN counts only the campaigns they created.
func TestSummaryCounts(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	ctx := context.Background()
	mine := env.CreateUser(storage.RoleInfluenceAdmin, "")
	other := env.CreateUser(storage.RoleInfluenceAdmin, "")
	super := env.CreateUser(storage.RoleSuperAdmin, "")

	campaign := func(by storage.User, title, status string) storage.Campaign {
		t.Helper()
		c, err := env.Store.CreateCampaign(ctx, storage.CampaignFields{Title: &title, Status: &status}, by.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := campaign(mine, "Mine active", storage.CampaignActive)
	campaign(mine, "Mine draft", storage.CampaignDraft)
	b := campaign(other, "Theirs", storage.CampaignPaused)

	email := func(c storage.Campaign) storage.CampaignEmail {
		rows, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: c.ID, Method: storage.MethodSMTP,
			Status: storage.EmailQueued, RecipientKind: "CUSTOM", RecipientEmail: "mp@example.test", Subject: "s", Body: "b"}})
		if err != nil {
			t.Fatal(err)
		}
		return rows[0]
	}
	email(a) // stays queued
	sent := email(a)
	if _, err := env.Store.MarkEmailSent(ctx, sent.ID, "<x@y>", time.Now()); err != nil {
		t.Fatal(err)
	}
	failed := email(a)
	if err := env.Store.RecordEmailAttempt(ctx, failed.ID, "550 no", true); err != nil {
		t.Fatal(err)
	}
	email(b)
	for _, c := range []storage.Campaign{a, b} {
		if _, err := env.Store.CreateResponse(ctx, storage.Response{CampaignID: c.ID, RepresentativeName: "Rep",
			ResponseType: "EMAIL", ResponseText: "reply", SubmitterName: "S", SubmitterEmail: "s@example.test",
			Status: storage.ResponsePending}); err != nil {
			t.Fatal(err)
		}
	}

	get := func(u storage.User, query string) summary {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/admin/summary" + query, Token: env.Token(u)})
		if res.Status != 200 {
			t.Fatalf("summary = %d %s", res.Status, res.Body)
		}
		var s summary
		res.JSON(t, &s)
		return s
	}

	s := get(mine, "")
	if s.Influence.Campaigns["ACTIVE"] != 1 || s.Influence.Campaigns["DRAFT"] != 1 || s.Influence.Campaigns["PAUSED"] != 0 {
		t.Errorf("my campaigns = %v, want 1 active, 1 draft and not the other admin's paused one", s.Influence.Campaigns)
	}
	if e := s.Influence.Emails; e["queued"] != 1 || e["sent"] != 1 || e["failed"] != 1 {
		t.Errorf("my emails = %v, want 1 queued, 1 sent, 1 failed", e)
	}
	if s.Influence.ResponsesPending != 1 {
		t.Errorf("my pending responses = %d, want 1", s.Influence.ResponsesPending)
	}
	if s.Queues != nil {
		t.Errorf("an INFLUENCE_ADMIN sees the queues: %+v", s.Queues)
	}

	s = get(super, "")
	if s.Influence.Campaigns["PAUSED"] != 1 || s.Influence.Emails["queued"] != 2 || s.Influence.ResponsesPending != 2 {
		t.Errorf("SUPER_ADMIN's counts = %+v, want every campaign's", s.Influence)
	}
	if s.Queues == nil || !s.Queues.Available {
		t.Fatalf("SUPER_ADMIN's queues = %+v, want available", s.Queues)
	}

	// Sent and failed count from ?since=: tomorrow's morning has none yet.
	tomorrow := time.Now().Add(20 * time.Hour).UTC().Format(time.RFC3339)
	s = get(super, "?since="+tomorrow)
	if e := s.Influence.Emails; e["queued"] != 2 || e["sent"] != 0 || e["failed"] != 0 {
		t.Errorf("emails since %s = %v, want 2 queued and nothing sent or failed", tomorrow, e)
	}

	for _, bad := range []string{"yesterday", "2001-01-01T00:00:00Z", "2999-01-01T00:00:00Z"} {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/admin/summary?since=" + bad, Token: env.Token(super)})
		if res.Status != 400 || res.ErrorCode() != "validation_failed" {
			t.Errorf("since=%s: %d %s, want 400 validation_failed", bad, res.Status, res.Body)
		}
	}
}
