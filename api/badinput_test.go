package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"changemaker/api"
	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestBadInputSweep sends hostile input to every route of the main API under
// /api — malformed path IDs and slugs, out-of-range and malformed query
// parameters, malformed JSON bodies of every shape, wrong content types and
// bad credentials — as each relevant role and anonymously. Every answer must
// be below 500; every 4xx must be the JSON error with a code; no answer may
// carry a secret or a password hash, and no answer to an anonymous caller
// may carry the address of a seeded user, custom recipient or submitter.
func TestBadInputSweep(t *testing.T) {
	t.Parallel()
	// No worker runs: tasks the sweep enqueues stay queued, and a lookup of
	// a code not in the cache answers 202 after a short wait.
	env := testenv.NewAPI(t, func(c *config.Config) {
		c.Influence.LookupWait = 50 * time.Millisecond
		// In-process requests come from 0.0.0.0: trusted as the proxy, each
		// request names its own client in X-Real-Ip, so per-client rate
		// limits do not hide what lies behind them.
		c.TrustedProxies = []string{"0.0.0.0"}
	})
	env.AllowRegistration() // so register's bad input reaches its checks
	ctx := context.Background()

	// People.
	super := env.CreateUser(storage.RoleSuperAdmin, "")
	owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
	other := env.CreateUser(storage.RoleInfluenceAdmin, "")
	plain := env.CreateUser(storage.RoleUser, "")
	target := env.CreateUser(storage.RoleUser, "") // what hostile PATCHes land on
	suspended := env.CreateUser(storage.RoleSuperAdmin, storage.StatusSuspended)
	deleted := env.CreateUser(storage.RoleSuperAdmin, "")
	deletedToken := env.Token(deleted)
	if err := env.Store.SoftDeleteUser(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}

	// The cache: the representatives of one postal code, and one code
	// Represent does not know.
	err := env.Store.SavePostalCode(ctx, storage.PostalCode{Code: "T5K2J1", Status: storage.PostalFound, City: "Edmonton",
		Province: "AB"}, []storage.Representative{
		{Key: "mp", Name: "Jane Federal", ElectedOffice: "MP", Email: "jane.federal@parl.example", GovernmentLevel: storage.LevelFederal},
		{Key: "councillor", Name: "Carl NoEmail", ElectedOffice: "Councillor", GovernmentLevel: storage.LevelMunicipal},
	})
	if err == nil {
		err = env.Store.SavePostalCode(ctx, storage.PostalCode{Code: "X0X0X0", Status: storage.PostalUnknown}, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	reps, err := env.Store.RepresentativesFor(ctx, "T5K2J1")
	if err != nil || len(reps) != 2 {
		t.Fatalf("cached representatives: %v %v", reps, err)
	}
	repID := reps[0].ID

	// Campaign A: SMTP only, a custom recipient whose address must stay
	// private (no mailto links), a queued email to them, and a response wall
	// with an approved response whose submitter left an address.
	no, yes := false, true
	campaign := func(f storage.CampaignFields) storage.Campaign {
		t.Helper()
		title, subject, body, active := fmt.Sprintf("Campaign %d", time.Now().UnixNano()), "Please act", "Dear representative",
			storage.CampaignActive
		f.Title, f.EmailSubject, f.EmailBody, f.AllowSMTPEmail, f.ShowResponseWall = &title, &subject, &body, &yes, &yes
		if f.Status == nil {
			f.Status = &active
		}
		camp, err := env.Store.CreateCampaign(ctx, f, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		return camp
	}
	campA := campaign(storage.CampaignFields{AllowMailtoLink: &no, AllowCustomRecipients: &yes})
	const recipientEmail = "secret-recipient@private.example"
	rec, err := env.Store.AddRecipient(ctx, campA.ID, "Secret Recipient", "Clerk", recipientEmail)
	if err != nil {
		t.Fatal(err)
	}
	const submitterEmail = "secret-submitter@private.example"
	resp, err := env.Store.CreateResponse(ctx, storage.Response{CampaignID: campA.ID, RepresentativeName: "Jane Federal",
		ResponseType: "EMAIL", ResponseText: "We hear you.", SubmitterName: "Sam", SubmitterEmail: submitterEmail})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.ModerateResponse(ctx, resp.ID, storage.ResponseApproved, "ok", super.ID); err != nil {
		t.Fatal(err)
	}
	queued, err := env.Store.InsertEmails(ctx, []storage.CampaignEmail{{CampaignID: campA.ID, Method: storage.MethodSMTP,
		Status: storage.EmailQueued, SenderName: "Sam", SenderEmail: submitterEmail, PostalCode: "T5K2J1",
		RecipientKind: storage.RecipientCustom, RecipientName: rec.Name, RecipientEmail: recipientEmail,
		Subject: "s", Body: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	emailID := queued[0].ID
	// Campaign B offers mailto links to representatives (whose addresses
	// are public anyway) and has no custom recipients.
	campB := campaign(storage.CampaignFields{AllowMailtoLink: &yes})
	// Campaign C is what hostile PATCHes and recipient additions land on.
	campC := campaign(storage.CampaignFields{AllowMailtoLink: &no})
	// Campaign D is a draft: invisible to the public.
	draft := storage.CampaignDraft
	campD := campaign(storage.CampaignFields{Status: &draft})

	// What must never reach an anonymous caller, and what must reach nobody.
	private := []string{recipientEmail, submitterEmail}
	for _, u := range []storage.User{super, owner, other, plain, target, suspended, deleted} {
		private = append(private, u.Email)
	}
	const smtpSecret = "sweep-smtp-password-value" // set through PUT /api/settings, never shown
	secrets := []string{env.Config.JWTAccessSecret, env.Config.JWTRefreshSecret, env.Config.EncryptionKey, smtpSecret,
		"$2a$", "$2b$", "passwordHash", "password_hash"}

	anon := sweepCaller{name: "anonymous"}
	asUser := sweepCaller{name: "USER", token: env.Token(plain)}
	asOther := sweepCaller{name: "INFLUENCE_ADMIN-not-owner", token: env.Token(other)}
	asOwner := sweepCaller{name: "INFLUENCE_ADMIN-owner", token: env.Token(owner)}
	asSuper := sweepCaller{name: "SUPER_ADMIN", token: env.Token(super)}
	// Who may do a module's work gets every request; who is refused (or
	// passes the same checks as someone already sweeping) gets a sample of
	// each route.
	superOnly := []sweepRun{{anon, sample}, {asUser, sample}, {asOwner, sample}, {asSuper, everything}}
	influence := []sweepRun{{anon, sample}, {asUser, sample}, {asOther, sample}, {asOwner, everything}, {asSuper, sample}}
	public := []sweepRun{{anon, everything}, {asSuper, sample}}

	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	tokenKey := storage.ResponseTokenKey(env.Config.EncryptionKey)
	a, b, c, r := id(campA.ID), id(campB.ID), id(campC.ID), id(resp.ID)
	slugA, slugB, slugD := campA.Slug, campB.Slug, campD.Slug

	groups := []sweepGroup{
		{"auth", []sweepRun{{anon, everything}}, concat(
			bodyCases("POST /api/auth/register", "/api/auth/register"),
			fieldCases("POST /api/auth/register", "/api/auth/register", map[string]string{
				"email": `"new-user-{n}@example.test"`, "password": `"a-long-password-123"`, "name": `"New"`}, nil),
			bodyCases("POST /api/auth/login", "/api/auth/login"),
			fieldCases("POST /api/auth/login", "/api/auth/login", map[string]string{
				"email": `"nobody@example.test"`, "password": `"wrong-password-123"`}, nil),
			bodyCases("POST /api/auth/refresh", "/api/auth/refresh"),
			fieldCases("POST /api/auth/refresh", "/api/auth/refresh", map[string]string{"refreshToken": `"not-a-token"`}, nil),
			bodyCases("POST /api/auth/logout", "/api/auth/logout"),
			fieldCases("POST /api/auth/logout", "/api/auth/logout", map[string]string{"refreshToken": `"not-a-token"`}, nil),
			queryCases("GET /api/auth/me", "/api/auth/me", []string{"x"}, sweepSearch),
		)},
		{"credentials", []sweepRun{{anon, everything}}, credentialCases(
			[]string{"GET /api/auth/me", "GET /api/campaigns", "GET /api/users", "POST /api/public/responses/" + r + "/upvote"},
			map[string]string{
				"suspended user":  "Bearer " + env.Token(suspended),
				"deleted user":    "Bearer " + deletedToken,
				"foreign secret":  "Bearer " + foreignToken(t, super),
				"alg none":        "Bearer " + algNoneToken(super.ID),
				"cookie not auth": "cm_access=" + env.Token(super), // JSON routes ignore the dashboard's cookie
			})},
		{"users", superOnly, concat(
			queryCases("GET /api/users", "/api/users", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/users", "/api/users", []string{"role", "status"}, sweepEnums),
			queryCases("GET /api/users", "/api/users", []string{"search", "unknown"}, sweepSearch),
			bodyCases("POST /api/users", "/api/users"),
			fieldCases("POST /api/users", "/api/users", map[string]string{"email": `"created-{n}@example.test"`, "role": `"USER"`},
				withFields(map[string][]sweepValue{"expiresAt": sweepDates, "email": sweepEmails}, "name", "password", "status")),
			pathCases("GET /api/users/:id", "/api/users/{}", sweepIDs, nil),
			pathCases("PATCH /api/users/:id", "/api/users/{}", sweepIDs, []byte(`{"name":"x"}`)),
			pathCases("DELETE /api/users/:id", "/api/users/{}", sweepIDs, nil),
			bodyCases("PATCH /api/users/:id(target)", "/api/users/"+id(target.ID)),
			fieldCases("PATCH /api/users/:id(target)", "/api/users/"+id(target.ID), nil,
				withFields(map[string][]sweepValue{"expiresAt": sweepDates, "email": sweepEmails}, "name", "password", "role", "status")),
			otherCases(
				sweepReq{route: "GET /api/users", label: "after the sweep", method: "GET", uri: "/api/users?limit=100"},
				sweepReq{route: "PATCH /api/users/:id(self)", label: "own role", method: "PATCH", uri: "/api/users/" + id(super.ID), body: []byte(`{"role":"USER"}`)},
				sweepReq{route: "PATCH /api/users/:id(self)", label: "own status", method: "PATCH", uri: "/api/users/" + id(super.ID), body: []byte(`{"status":"SUSPENDED"}`)},
				sweepReq{route: "DELETE /api/users/:id(self)", label: "own account", method: "DELETE", uri: "/api/users/" + id(super.ID)},
				sweepReq{route: "PATCH /api/users/:id(deleted)", label: "deleted user", method: "PATCH", uri: "/api/users/" + id(deleted.ID), body: []byte(`{"name":"x"}`)},
				sweepReq{route: "PATCH /api/users/:id(target)", label: "taken email", method: "PATCH", uri: "/api/users/" + id(target.ID), body: []byte(`{"email":"` + strings.ToUpper(plain.Email) + `"}`)},
				sweepReq{route: "PUT /api/users", label: "wrong method", method: "PUT", uri: "/api/users"},
			),
		)},
		{"settings", superOnly, concat(
			queryCases("GET /api/settings", "/api/settings", []string{"x"}, sweepSearch),
			bodyCases("PUT /api/settings", "/api/settings"),
			fieldCases("PUT /api/settings", "/api/settings", nil, withFields(map[string][]sweepValue{
				"smtpPort":     {{"zero", "0"}, {"too big", "65536"}, {"string", `"587"`}, {"overflowing integer", "9999999999999999999999"}},
				"smtpTls":      {{"ssl", `"ssl"`}, {"upper case", `"TLS"`}},
				"smtpPassword": {{"a secret", `"` + smtpSecret + `"`}},
			}, "organizationName", "emailFromName", "emailFromAddress", "smtpHost", "smtpUsername", "smtpPassword",
				"allowRegistration", "enableInfluence", "enableMap", "enableMedia")),
			queryCases("GET /api/public/settings", "/api/public/settings", []string{"x"}, sweepSearch),
			otherCases(
				sweepReq{route: "POST /api/settings", label: "wrong method", method: "POST", uri: "/api/settings", body: []byte(`{}`)},
				sweepReq{route: "GET /api/settings", label: "after the sweep", method: "GET", uri: "/api/settings"},
			),
		)},
		{"campaigns", influence, concat(
			queryCases("GET /api/campaigns", "/api/campaigns", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/campaigns", "/api/campaigns", []string{"status"}, sweepEnums),
			queryCases("GET /api/campaigns", "/api/campaigns", []string{"search", "sort"}, sweepSearch),
			bodyCases("POST /api/campaigns", "/api/campaigns"),
			fieldCases("POST /api/campaigns", "/api/campaigns", map[string]string{"title": `"Fuzz campaign {n}"`}, campaignFields()),
			pathCases("GET /api/campaigns/:id", "/api/campaigns/{}", sweepIDs, nil),
			pathCases("PATCH /api/campaigns/:id", "/api/campaigns/{}", sweepIDs, []byte(`{"title":"x"}`)),
			pathCases("DELETE /api/campaigns/:id", "/api/campaigns/{}", sweepIDs, nil),
			bodyCases("PATCH /api/campaigns/:id(C)", "/api/campaigns/"+c),
			fieldCases("PATCH /api/campaigns/:id(C)", "/api/campaigns/"+c, nil, campaignFields()),
			pathCases("GET /api/campaigns/:id/recipients", "/api/campaigns/{}/recipients", sweepIDs, nil),
			pathCases("POST /api/campaigns/:id/recipients", "/api/campaigns/{}/recipients", sweepIDs, []byte(`{"name":"R","email":"r@example.test"}`)),
			bodyCases("POST /api/campaigns/:id(C)/recipients", "/api/campaigns/"+c+"/recipients"),
			fieldCases("POST /api/campaigns/:id(C)/recipients", "/api/campaigns/"+c+"/recipients",
				map[string]string{"name": `"R"`, "email": `"r-{n}@example.test"`},
				withFields(map[string][]sweepValue{"email": sweepEmails}, "title")),
			pathCases("DELETE /api/campaigns/:id/recipients/1", "/api/campaigns/{}/recipients/1", sweepIDs, nil),
			pathCases("DELETE /api/campaigns/:id(C)/recipients/:recipientId", "/api/campaigns/"+c+"/recipients/{}", sweepIDs, nil),
			pathCases("GET /api/campaigns/:id/emails", "/api/campaigns/{}/emails", sweepIDs, nil),
			queryCases("GET /api/campaigns/:id(A)/emails", "/api/campaigns/"+a+"/emails", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/campaigns/:id(A)/emails", "/api/campaigns/"+a+"/emails", []string{"status"}, sweepEnums),
			pathCases("GET /api/campaigns/:id/emails/stats", "/api/campaigns/{}/emails/stats", sweepIDs, nil),
			pathCases("POST /api/campaigns/:id/emails/1/retry", "/api/campaigns/{}/emails/1/retry", sweepIDs, nil),
			pathCases("POST /api/campaigns/:id(A)/emails/:emailId/retry", "/api/campaigns/"+a+"/emails/{}/retry", sweepIDs, nil),
			pathCases("GET /api/campaigns/:id/calls/stats", "/api/campaigns/{}/calls/stats", sweepIDs, nil),
			otherCases(
				sweepReq{route: "POST /api/campaigns/:id(B)/emails/:emailId(A)/retry", label: "another campaign's email", method: "POST", uri: "/api/campaigns/" + b + "/emails/" + id(emailID) + "/retry"},
				sweepReq{route: "POST /api/campaigns/:id(A)/emails/:emailId/retry", label: "a QUEUED email", method: "POST", uri: "/api/campaigns/" + a + "/emails/" + id(emailID) + "/retry"},
				sweepReq{route: "PATCH /api/campaigns/:id(C)", label: "status backwards", method: "PATCH", uri: "/api/campaigns/" + c, body: []byte(`{"status":"DRAFT"}`)},
				sweepReq{route: "PATCH /api/campaigns/:id(C)", label: "slug taken", method: "PATCH", uri: "/api/campaigns/" + c, body: []byte(`{"slug":"` + slugA + `"}`)},
				sweepReq{route: "PATCH /api/campaigns/:id(C)", label: "ACTIVE without subject", method: "PATCH", uri: "/api/campaigns/" + c, body: []byte(`{"emailSubject":"  "}`)},
				sweepReq{route: "POST /api/campaigns", label: "slug taken", method: "POST", uri: "/api/campaigns", body: []byte(`{"title":"T","slug":"` + slugA + `"}`)},
				sweepReq{route: "POST /api/campaigns", label: "ACTIVE without email", method: "POST", uri: "/api/campaigns", body: []byte(`{"title":"T","status":"ACTIVE"}`)},
				sweepReq{route: "POST /api/campaigns", label: "ARCHIVED", method: "POST", uri: "/api/campaigns", body: []byte(`{"title":"T","status":"ARCHIVED"}`)},
				sweepReq{route: "POST /api/campaigns/:id(A)/recipients", label: "duplicate address", method: "POST", uri: "/api/campaigns/" + a + "/recipients",
					body: []byte(`{"name":"Dup","email":"` + strings.ToUpper(recipientEmail) + `"}`)},
				sweepReq{route: "PUT /api/campaigns/:id(A)", label: "wrong method", method: "PUT", uri: "/api/campaigns/" + a, body: []byte(`{}`)},
				sweepReq{route: "GET /api/campaigns/:id(A)/nope", label: "unknown sub-route", method: "GET", uri: "/api/campaigns/" + a + "/nope"},
			),
		)},
		{"public campaigns", public, concat(
			otherCases(
				sweepReq{route: "GET /api/public/campaigns", label: "plain", method: "GET", uri: "/api/public/campaigns"},
				sweepReq{route: "GET /api/public/campaigns/:slug(A)", label: "plain", method: "GET", uri: "/api/public/campaigns/" + slugA},
				sweepReq{route: "GET /api/public/campaigns/:slug(B)", label: "plain", method: "GET", uri: "/api/public/campaigns/" + slugB},
				sweepReq{route: "GET /api/public/campaigns/:slug(D)", label: "draft", method: "GET", uri: "/api/public/campaigns/" + slugD},
				sweepReq{route: "POST /api/public/campaigns/:slug(D)/send-email", label: "draft", method: "POST", uri: "/api/public/campaigns/" + slugD + "/send-email", body: []byte(`{}`)},
				sweepReq{route: "POST /api/public/campaigns/:slug(A)/mailto", label: "SMTP-only campaign", method: "POST", uri: "/api/public/campaigns/" + slugA + "/mailto", body: []byte(`{}`)},
				sweepReq{route: "POST /api/public/campaigns/:slug(A)/send-email", label: "custom recipient by address", method: "POST", uri: "/api/public/campaigns/" + slugA + "/send-email",
					body: []byte(`{"senderName":"Sam","senderEmail":"sam@example.test","postalCode":"T5K 2J1","recipients":[{"email":"` + strings.ToUpper(recipientEmail) + `"}]}`)},
				sweepReq{route: "POST /api/public/campaigns/:slug(A)/call", label: "custom recipient", method: "POST", uri: "/api/public/campaigns/" + slugA + "/call",
					body: []byte(`{"recipient":{"customRecipientId":` + id(rec.ID) + `}}`)},
			),
			queryCases("GET /api/public/campaigns", "/api/public/campaigns", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/public/campaigns", "/api/public/campaigns", []string{"status", "search"}, sweepSearch),
			pathCases("GET /api/public/campaigns/:slug", "/api/public/campaigns/{}", sweepSlugs, nil),
			pathCases("POST /api/public/campaigns/:slug/send-email", "/api/public/campaigns/{}/send-email", sweepSlugs, []byte(`{}`)),
			pathCases("POST /api/public/campaigns/:slug/mailto", "/api/public/campaigns/{}/mailto", sweepSlugs, []byte(`{}`)),
			pathCases("POST /api/public/campaigns/:slug/call", "/api/public/campaigns/{}/call", sweepSlugs, []byte(`{}`)),
			bodyCases("POST /api/public/campaigns/:slug(A)/send-email", "/api/public/campaigns/"+slugA+"/send-email"),
			fieldCases("POST /api/public/campaigns/:slug(A)/send-email", "/api/public/campaigns/"+slugA+"/send-email", map[string]string{
				"senderName": `"Sam"`, "senderEmail": `"sam@example.test"`, "postalCode": `"T5K 2J1"`,
				"recipients": `[{"customRecipientId":` + id(rec.ID) + `}]`,
			}, withFields(map[string][]sweepValue{"postalCode": sweepPostalCodes, "senderEmail": sweepEmails,
				"recipients": sweepRecipientLists(repID)}, "subject", "body")),
			bodyCases("POST /api/public/campaigns/:slug(B)/mailto", "/api/public/campaigns/"+slugB+"/mailto"),
			fieldCases("POST /api/public/campaigns/:slug(B)/mailto", "/api/public/campaigns/"+slugB+"/mailto", map[string]string{
				"senderName": `"Sam"`, "postalCode": `"T5K 2J1"`, "recipient": `{"representativeId":` + id(repID) + `}`,
			}, map[string][]sweepValue{"postalCode": sweepPostalCodes, "senderEmail": sweepEmails,
				"recipient": sweepRecipientRefs(repID)}),
			bodyCases("POST /api/public/campaigns/:slug(A)/call", "/api/public/campaigns/"+slugA+"/call"),
			fieldCases("POST /api/public/campaigns/:slug(A)/call", "/api/public/campaigns/"+slugA+"/call", map[string]string{
				"recipient": `{"customRecipientId":` + id(rec.ID) + `}`,
			}, withFields(map[string][]sweepValue{"postalCode": sweepPostalCodes, "recipient": sweepRecipientRefs(repID)},
				"idempotencyKey")),
			idempotencyKeyCases("POST /api/public/campaigns/:slug(A)/call", "/api/public/campaigns/"+slugA+"/call",
				`{"recipient":{"customRecipientId":`+id(rec.ID)+`}}`),
		)},
		{"representatives", []sweepRun{{anon, sample}, {asUser, sample}, {asOwner, everything}, {asSuper, sample}}, concat(
			queryCases("GET /api/representatives", "/api/representatives", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/representatives", "/api/representatives", []string{"postalCode", "x"}, sweepSearch),
			queryCases("GET /api/representatives/stats", "/api/representatives/stats", []string{"x"}, sweepSearch),
			// Never an empty or a valid postalCode: those clear the cache
			// the send-email cases rely on.
			queryCases("DELETE /api/representatives/cache", "/api/representatives/cache", []string{"postalCode"}, notPostalCodes(sweepSearch)),
		)},
		{"lookup", public, concat(
			bodyCases("POST /api/public/representatives/lookup", "/api/public/representatives/lookup"),
			fieldCases("POST /api/public/representatives/lookup", "/api/public/representatives/lookup",
				map[string]string{"postalCode": `"T5K 2J1"`},
				map[string][]sweepValue{"postalCode": sweepPostalCodes, "campaign": {{"uppercase slug", `"ABC"`},
					{"draft slug", `"` + slugD + `"`}, {"long slug", `"` + strings.Repeat("a", 5000) + `"`}}}),
		)},
		{"response wall", public, concat(
			otherCases(
				sweepReq{route: "GET /api/public/campaigns/:slug(A)/responses", label: "plain", method: "GET", uri: "/api/public/campaigns/" + slugA + "/responses"},
				sweepReq{route: "GET /api/public/campaigns/:slug(A)/responses", label: "by upvotes", method: "GET", uri: "/api/public/campaigns/" + slugA + "/responses?sort=upvotes"},
				sweepReq{route: "POST /api/public/responses/:id/upvote", label: "the seeded response", method: "POST", uri: "/api/public/responses/" + r + "/upvote"},
			),
			queryCases("GET /api/public/campaigns/:slug(A)/responses", "/api/public/campaigns/"+slugA+"/responses", []string{"page", "limit"}, sweepPaging),
			queryCases("GET /api/public/campaigns/:slug(A)/responses", "/api/public/campaigns/"+slugA+"/responses", []string{"sort"}, sweepEnums),
			pathCases("GET /api/public/campaigns/:slug/responses", "/api/public/campaigns/{}/responses", sweepSlugs, nil),
			pathCases("POST /api/public/campaigns/:slug/responses", "/api/public/campaigns/{}/responses", sweepSlugs, []byte(`{}`)),
			bodyCases("POST /api/public/campaigns/:slug(A)/responses", "/api/public/campaigns/"+slugA+"/responses"),
			fieldCases("POST /api/public/campaigns/:slug(A)/responses", "/api/public/campaigns/"+slugA+"/responses", map[string]string{
				"representativeName": `"Jane"`, "responseType": `"EMAIL"`, "responseText": `"Thanks"`,
			}, withFields(map[string][]sweepValue{"representativeEmail": sweepEmails, "submitterEmail": sweepEmails,
				"representativeLevel": {{"lower case", `"federal"`}}}, "representativeTitle", "comment", "submitterName", "isAnonymous")),
			pathCases("GET /api/public/responses/verify/:token", "/api/public/responses/verify/{}", slices.Concat(sweepTokens, []sweepValue{
				{"signed for no response", storage.SignResponseToken(tokenKey, 999999, time.Now().Add(time.Hour))},
				{"signed and expired", storage.SignResponseToken(tokenKey, resp.ID, time.Now().Add(-time.Hour))},
				{"signed for ID zero", storage.SignResponseToken(tokenKey, 0, time.Now().Add(time.Hour))},
				{"signed for a negative ID", storage.SignResponseToken(tokenKey, -1, time.Now().Add(time.Hour))},
			}), nil),
			pathCases("POST /api/public/responses/:id/upvote", "/api/public/responses/{}/upvote", sweepIDs, nil),
		)},
		{"responses", influence, concat(
			queryCases("GET /api/responses", "/api/responses", []string{"page", "limit", "campaignId"}, sweepPaging),
			queryCases("GET /api/responses", "/api/responses", []string{"status"}, sweepEnums),
			pathCases("PATCH /api/responses/:id", "/api/responses/{}", sweepIDs, []byte(`{"status":"APPROVED"}`)),
			pathCases("DELETE /api/responses/:id", "/api/responses/{}", sweepIDs, nil),
			bodyCases("PATCH /api/responses/:id(seeded)", "/api/responses/"+r),
			fieldCases("PATCH /api/responses/:id(seeded)", "/api/responses/"+r, map[string]string{"status": `"APPROVED"`},
				withFields(map[string][]sweepValue{}, "note")),
		)},
		{"routing", []sweepRun{{anon, everything}, {asSuper, everything}}, concat(wireCases(), otherCases(
			sweepReq{route: "GET /api/nope", label: "unknown route", method: "GET", uri: "/api/nope"},
			sweepReq{route: "GET /api/public/nope", label: "unknown public route", method: "GET", uri: "/api/public/nope"},
			sweepReq{route: "GET /api/…", label: "long path", method: "GET", uri: "/api/" + strings.Repeat("a", 3000)},
			sweepReq{route: "GET /api/…", label: "NUL in path", method: "GET", uri: "/api/%00"},
			sweepReq{route: "GET /api/…", label: "invalid UTF-8 in path", method: "GET", uri: "/api/%C3%28"},
			sweepReq{route: "GET /api/…", label: "dot segments", method: "GET", uri: "/api/public/campaigns/%2e%2e/%2e%2e/settings"},
			sweepReq{route: "GET /api/…", label: "double slashes", method: "GET", uri: "//api//campaigns"},
			sweepReq{route: "GET /api/public/campaigns", label: "NUL query key", method: "GET", uri: "/api/public/campaigns?%00=1"},
			sweepReq{route: "GET /api/public/campaigns", label: "bare percent in query", method: "GET", uri: "/api/public/campaigns?page=%"},
			sweepReq{route: "POST /api/public/responses/:id/upvote", label: "X-Real-Ip not an address", method: "POST",
				uri: "/api/public/responses/" + r + "/upvote", header: map[string]string{"X-Real-Ip": "not-an-ip"}},
			sweepReq{route: "POST /api/public/responses/:id/upvote", label: "X-Real-Ip list", method: "POST",
				uri: "/api/public/responses/" + r + "/upvote", header: map[string]string{"X-Real-Ip": "1.2.3.4, 5.6.7.8"}},
			sweepReq{route: "POST /api/public/responses/:id/upvote", label: "X-Real-Ip IPv6 with zone", method: "POST",
				uri: "/api/public/responses/" + r + "/upvote", header: map[string]string{"X-Real-Ip": "fe80::1%eth0"}},
			sweepReq{route: "POST /api/public/responses/:id/upvote", label: "X-Real-Ip mapped IPv4", method: "POST",
				uri: "/api/public/responses/" + r + "/upvote", header: map[string]string{"X-Real-Ip": "::ffff:10.0.0.1"}},
			sweepReq{route: "HEAD /api/public/campaigns/:slug(A)", label: "HEAD", method: "HEAD", uri: "/api/public/campaigns/" + slugA},
			sweepReq{route: "OPTIONS /api/campaigns", label: "no origin", method: "OPTIONS", uri: "/api/campaigns"},
		))},
	}

	base := testenv.Serve(t, env.Main) // for what fasthttp refuses before the app sees it
	// The groups run side by side (their fixtures do not overlap; none
	// switches a feature off or deletes what another reads); each group's
	// requests go one after the other. Every request comes from a client of
	// its own, so per-client rate limits do not hide what lies behind them.
	var clients atomic.Int32
	t.Run("sweep", func(t *testing.T) {
		for _, g := range groups {
			t.Run(g.name, func(t *testing.T) {
				t.Parallel()
				for _, run := range g.runs {
					for _, req := range run.mode.pick(g.reqs) {
						t.Run(run.caller.name+"/"+req.route+" "+req.label, func(t *testing.T) {
							n := clients.Add(1)
							ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
							var res *testenv.Response
							if req.wire {
								res = sweepWire(t, base, req, run.caller.token, ip)
							} else {
								res = sweepDo(t, env.Main, req, run.caller.token, ip)
							}
							checkSweepResponse(t, req, run.caller, res, secrets, private)
						})
					}
				}
			})
		}
	})

	// The fixtures the sweep relies on survived it: the hostile requests
	// reached the handlers they meant to, not a 404.
	for p, want := range map[string]string{
		"/api/public/campaigns/" + slugA:                "Secret Recipient",
		"/api/public/campaigns/" + slugA + "/responses": "We hear you.",
	} {
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: p}); res.Status != 200 ||
			!strings.Contains(string(res.Body), want) {
			t.Errorf("after the sweep GET %s = %d %.300s, want 200 with %q", p, res.Status, res.Body, want)
		}
	}
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/auth/me", Token: asSuper.token}); res.Status != 200 {
		t.Errorf("after the sweep the SUPER_ADMIN's token = %d %s", res.Status, res.Body)
	}
}

// sweepCaller is who sends a request: a bearer token, or none.
type sweepCaller struct {
	name  string
	token string
}

// sweepMode says which of a group's requests a caller sends.
type sweepMode int

const (
	everything sweepMode = iota
	sample               // the first two requests of each route
)

func (m sweepMode) pick(reqs []sweepReq) []sweepReq {
	if m == everything {
		return reqs
	}
	seen := map[string]int{}
	return slices.DeleteFunc(slices.Clone(reqs), func(r sweepReq) bool { seen[r.route]++; return seen[r.route] > 2 })
}

// sweepRun is a caller and what they send.
type sweepRun struct {
	caller sweepCaller
	mode   sweepMode
}

// sweepGroup is one module's requests and who sends them.
type sweepGroup struct {
	name string
	runs []sweepRun
	reqs []sweepReq
}

// sweepReq is one hostile request.
type sweepReq struct {
	route  string // readable route, e.g. "PATCH /api/campaigns/:id(C)"
	label  string // what is hostile about it
	method string
	uri    string // request target byte for byte: it may hold escapes net/url refuses
	body   []byte // nil: none
	ctype  string // Content-Type of a body; "" is application/json
	header map[string]string
	// wire requests go over a real connection (fasthttp refuses them before
	// the app, which app.Test reports as an error); declare is the
	// Content-Length they announce without sending the body.
	wire    bool
	declare int
}

// sweepValue is one hostile value: a label and its raw form (as it goes in
// a path or a query, or as a JSON literal).
type sweepValue struct{ label, raw string }

var (
	sweepIDs = []sweepValue{
		{"zero", "0"}, {"negative", "-1"}, {"letters", "abc"}, {"overflow", "9999999999999999999999"},
		{"int64 max", "9223372036854775807"}, {"decimal", "1.5"}, {"plus sign", "%2B1"}, {"NUL", "%00"},
		{"invalid UTF-8", "%C3%28"}, {"bad escape", "%zz"}, {"encoded slash", "1%2F2"},
		{"long", strings.Repeat("9", 3000)}, {"SQL", "1%27%20OR%201%3D1--"},
	}
	sweepSlugs = []sweepValue{
		{"upper case", "ABC"}, {"leading hyphen", "-abc"}, {"double hyphen", "a--b"}, {"NUL", "%00"},
		{"invalid UTF-8", "%C3%28"}, {"overlong UTF-8", "%C0%AF"}, {"bad escape", "%zz"}, {"space", "a%20b"},
		{"encoded dot dot", "%2e%2e"}, {"too long", strings.Repeat("a", 101)}, {"very long", strings.Repeat("a", 3000)},
		{"RTL override", "%E2%80%AE"}, {"unknown", "no-such-campaign"}, {"SQL", "x%27%20OR%201%3D1--"},
	}
	sweepPaging = []sweepValue{
		{"zero", "0"}, {"negative", "-1"}, {"letters", "abc"}, {"overflow", "9999999999999999999999"},
		{"decimal", "1.5"}, {"empty", ""}, {"NUL", "%00"}, {"invalid UTF-8", "%C3%28"}, {"leading space", "%201"},
		{"above limit", "101"}, {"above page bound", "1000001"}, {"last page", "1000000"},
		{"long", strings.Repeat("9", 3000)}, {"repeated", "1&page=2&limit=3&campaignId=4"},
	}
	sweepEnums = []sweepValue{
		{"unknown", "bogus"}, {"lower case", "active"}, {"NUL", "%00"}, {"invalid UTF-8", "%C3%28"},
		{"trailing NUL", "ACTIVE%00"}, {"SQL", "%27%20OR%201%3D1--"}, {"long", strings.Repeat("A", 3000)},
	}
	sweepSearch = []sweepValue{
		{"percent", "%25"}, {"trailing backslash", "abc%5C"}, {"underscore", "_"}, {"NUL", "%00"},
		{"invalid UTF-8", "%C3%28"}, {"byte FF", "%FF"}, {"empty", ""}, {"too long", strings.Repeat("s", 201)},
		{"very long", strings.Repeat("s", 3000)}, {"SQL", "%27%20OR%201%3D1--"}, {"CRLF", "a%0D%0Ab"},
		{"postal code", "T5K%202J1"}, {"too long for a postal code", "ABCDEFG"},
	}
	// sweepJSON are JSON literals that go in any field.
	sweepJSON = []sweepValue{
		{"number", "123"}, {"bool", "true"}, {"null", "null"}, {"array", "[]"},
		{"object", "{}"}, {"empty string", `""`}, {"blank", `"   "`}, {"CRLF", `"a\r\nBcc: evil@example.test"`},
		{"NUL", `"a\u0000b"`}, {"lone surrogate", `"\ud800"`}, {"control character", `"a\u0007b"`},
		{"long string", `"` + strings.Repeat("x", 20000) + `"`}, {"unknown enum", `"BOGUS"`},
	}
	// sweepBools go in boolean fields.
	sweepBools = []sweepValue{{"string", `"true"`}, {"number", "1"}, {"null", "null"}, {"array", "[true]"}}
	boolFields = map[string]bool{"allowSmtpEmail": true, "allowMailtoLink": true, "collectUserInfo": true,
		"showEmailCount": true, "showCallCount": true, "allowEmailEditing": true, "allowCustomRecipients": true,
		"showResponseWall": true, "highlightCampaign": true, "isAnonymous": true, "allowRegistration": true,
		"enableInfluence": true, "enableMap": true, "enableMedia": true}
	sweepEmails = []sweepValue{
		{"no dot in domain", `"a@b"`}, {"two addresses", `"a@b.example,c@d.example"`}, {"no at", `"ab.example"`},
		{"too long", `"` + strings.Repeat("a", 250) + `@example.test"`}, {"named address", `"Evil <evil@example.test>"`},
		{"trailing LF", `"a@b.example\n"`},
	}
	sweepDates = []sweepValue{
		{"year zero", `"0000-01-01T00:00:00Z"`}, {"year 9999", `"9999-12-31T23:59:59Z"`}, {"month 13", `"2024-13-45T00:00:00Z"`},
		{"date only", `"2030-01-01"`}, {"word", `"tomorrow"`}, {"unix seconds", "1700000000"},
		{"year 10000 in UTC", `"9999-12-31T23:59:59-23:59"`}, {"year -1 in UTC", `"0000-01-01T00:00:00+23:59"`},
	}
	sweepPostalCodes = []sweepValue{
		{"US ZIP", `"12345"`}, {"too short", `"T5K 2J"`}, {"too long", `"T5K 2J1 X"`}, {"forbidden letter", `"D5K 2J1"`},
		{"NUL inside", `"T5K\u00002J1"`}, {"CRLF inside", `"T5K\r\n2J1"`}, {"full width", `"Ｔ５Ｋ２Ｊ１"`},
		{"known to be unknown", `"X0X 0X0"`}, {"valid, not cached", `"K1A 0B1"`}, {"lower case with hyphen", `"t5k-2j1"`}, {"wildcard", `"T5K%"`},
	}
	sweepTokens = []sweepValue{
		{"letters", "abc"}, {"NUL", "%00"}, {"invalid UTF-8", "%C3%28"}, {"bad escape", "%zz"},
		{"long", strings.Repeat("A", 3000)}, {"zero bytes", strings.Repeat("A", 64)}, {"padding", "===="},
		{"dot dot", "..%2F..%2Fsettings"}, {"standard base64", strings.Repeat("+/", 32)},
	}
)

// campaignFields are the fields of a campaign body, with values of their own.
func campaignFields() map[string][]sweepValue {
	return withFields(map[string][]sweepValue{
		"slug": {{"hyphen only", `"-"`}, {"double hyphen", `"a--b"`}, {"too long", `"` + strings.Repeat("a", 101) + `"`},
			{"accented", `"café"`}},
		"targetGovernmentLevels": {{"unknown level", `["GALACTIC"]`}, {"number in list", `[1]`}, {"null in list", `[null]`},
			{"string not list", `"FEDERAL"`}, {"lower case level", `["federal"]`}},
	}, "title", "description", "emailSubject", "emailBody", "callToAction", "coverPhoto", "status", "allowSmtpEmail",
		"allowMailtoLink", "collectUserInfo", "showEmailCount", "showCallCount", "allowEmailEditing",
		"allowCustomRecipients", "showResponseWall", "highlightCampaign")
}

// sweepRecipientLists are hostile values of send-email's recipients.
func sweepRecipientLists(repID int64) []sweepValue {
	many := strings.TrimSuffix(strings.Repeat(`{"representativeId":1},`, 21), ",")
	return []sweepValue{
		{"empty object", `[{}]`}, {"negative representative", `[{"representativeId":-1}]`},
		{"overflowing representative", `[{"representativeId":9999999999999999999999}]`},
		{"string ID", `[{"customRecipientId":"1"}]`}, {"unknown address", `[{"email":"nobody@example.test"}]`},
		{"every kind at once", fmt.Sprintf(`[{"representativeId":%d,"customRecipientId":1,"email":"x"}]`, repID)},
		{"too many", "[" + many + "]"}, {"nested lists", `[[[]]]`},
	}
}

// sweepRecipientRefs are hostile values of mailto's and call's recipient.
func sweepRecipientRefs(repID int64) []sweepValue {
	return []sweepValue{
		{"negative representative", `{"representativeId":-1}`}, {"unknown custom recipient", `{"customRecipientId":999999}`},
		{"string ID", `{"representativeId":"1"}`}, {"float ID", `{"representativeId":1.5}`},
		{"unknown address", `{"email":"nobody@example.test"}`},
		{"every kind at once", fmt.Sprintf(`{"representativeId":%d,"customRecipientId":1,"email":"x"}`, repID)},
	}
}

// withFields adds fields without values of their own to extra, so that
// fieldCases sweeps them too.
func withFields(extra map[string][]sweepValue, fields ...string) map[string][]sweepValue {
	for _, f := range fields {
		if _, ok := extra[f]; !ok {
			extra[f] = nil
		}
	}
	return extra
}

// notPostalCodes leaves out the values that name a postal code, or none.
func notPostalCodes(vals []sweepValue) []sweepValue {
	return slices.DeleteFunc(slices.Clone(vals), func(v sweepValue) bool {
		_, ok := storage.NormalizePostalCode(strings.ReplaceAll(v.raw, "%20", " "))
		return v.raw == "" || ok
	})
}

func concat(lists ...[]sweepReq) []sweepReq { return slices.Concat(lists...) }

func otherCases(reqs ...sweepReq) []sweepReq { return reqs }

// pathCases puts each value in the {} of pattern.
func pathCases(route, pattern string, vals []sweepValue, body []byte) []sweepReq {
	method, _, _ := strings.Cut(route, " ")
	var out []sweepReq
	for _, v := range vals {
		out = append(out, sweepReq{route: route, label: "path " + v.label, method: method,
			uri: strings.Replace(pattern, "{}", v.raw, 1), body: body})
	}
	return out
}

// queryCases sends each value as each parameter.
func queryCases(route, path string, params []string, vals []sweepValue) []sweepReq {
	method, _, _ := strings.Cut(route, " ")
	var out []sweepReq
	for _, p := range params {
		for _, v := range vals {
			out = append(out, sweepReq{route: route, label: "?" + p + "=" + v.label, method: method,
				uri: path + "?" + p + "=" + v.raw})
		}
	}
	return out
}

// bodyCases sends bodies that are not a JSON object, or not JSON at all, or
// big, or under the wrong content type.
func bodyCases(route, uri string) []sweepReq {
	method, _, _ := strings.Cut(route, " ")
	bodies := []struct{ label, body, ctype string }{
		{"empty body", "", ""}, {"not JSON", "hello", ""}, {"truncated JSON", `{"a":`, ""}, {"JSON null", "null", ""},
		{"JSON array", "[]", ""}, {"JSON string", `"x"`, ""}, {"two objects", `{} {}`, ""},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), ""},
		{"NUL escape in an unknown field", `{"x":"\u0000"}`, ""}, {"raw NUL byte", "{\"x\":\"a\x00b\"}", ""},
		{"invalid UTF-8", "{\"x\":\"\xff\xfe\"}", ""}, {"huge unknown field", `{"x":"` + strings.Repeat("x", 900_000) + `"}`, ""},
		{"form content type", "a=b&c=d", "application/x-www-form-urlencoded"}, {"JSON as text/plain", "{}", "text/plain"},
		{"multipart", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n", "multipart/form-data; boundary=x"},
		{"garbage content type", "{}", ";;;=\x01"},
	}
	out := make([]sweepReq, len(bodies))
	for i, b := range bodies {
		out[i] = sweepReq{route: route, label: b.label, method: method, uri: uri, body: []byte(b.body), ctype: b.ctype}
	}
	return out
}

// fieldCases takes a plausible body and replaces one field at a time with
// each hostile JSON value, and with the field's own values in extra. A {n}
// in the base becomes a number of its own in each body, for values that must
// be unique.
func fieldCases(route, uri string, base map[string]string, extra map[string][]sweepValue) []sweepReq {
	method, _, _ := strings.Cut(route, " ")
	fields := map[string]bool{}
	for f := range base {
		fields[f] = true
	}
	for f := range extra {
		fields[f] = true
	}
	var out []sweepReq
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		vals := slices.Concat(sweepJSON, extra[f])
		if boolFields[f] {
			vals = sweepBools
		}
		for _, v := range vals {
			body := strings.ReplaceAll(string(objectWith(base, f, v.raw)), "{n}", strconv.Itoa(len(out)))
			out = append(out, sweepReq{route: route, label: f + "=" + v.label, method: method,
				uri: uri, body: []byte(body)})
		}
	}
	return out
}

// objectWith renders base as a JSON object with field set to the literal lit.
func objectWith(base map[string]string, field, lit string) []byte {
	m := map[string]string{field: lit}
	for k, v := range base {
		if k != field {
			m[k] = v
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", k, m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// wireCases are requests fasthttp refuses before the app: a body over the
// limit, a request line or header over the read buffer.
func wireCases() []sweepReq {
	return []sweepReq{
		{route: "POST /api/auth/login", label: "body over the limit", method: "POST", uri: "/api/auth/login", wire: true, declare: 2 << 20},
		{route: "POST /api/campaigns", label: "body over the limit", method: "POST", uri: "/api/campaigns", wire: true, declare: 2 << 20},
		{route: "GET /api/…", label: "path over the read buffer", method: "GET", uri: "/api/" + strings.Repeat("a", 10000), wire: true},
		{route: "GET /api/public/campaigns", label: "header over the read buffer", method: "GET", uri: "/api/public/campaigns",
			header: map[string]string{"X-Junk": strings.Repeat("j", 10000)}, wire: true},
	}
}

// credentialCases sends broken or refused credentials to routes.
func credentialCases(routes []string, named map[string]string) []sweepReq {
	headers := map[string]string{
		"bearer without token": "Bearer",
		"bearer blank":         "Bearer    ",
		"basic scheme":         "Basic dXNlcjpwYXNz",
		"garbage JWT":          "Bearer a.b.c",
		"long token":           "Bearer " + strings.Repeat("x", 3000),
		"invalid UTF-8 token":  "Bearer \xff\xfe",
		"two tokens":           "Bearer x, Bearer y",
	}
	maps.Copy(headers, named)
	var out []sweepReq
	for _, route := range routes {
		method, uri, _ := strings.Cut(route, " ")
		for _, label := range slices.Sorted(maps.Keys(headers)) {
			h := map[string]string{"Authorization": headers[label]}
			if strings.HasPrefix(label, "cookie") {
				h = map[string]string{"Cookie": headers[label]}
			}
			out = append(out, sweepReq{route: route, label: label, method: method, uri: uri, header: h})
		}
	}
	return out
}

// idempotencyKeyCases sends hostile Idempotency-Key headers with a valid call.
func idempotencyKeyCases(route, uri, body string) []sweepReq {
	keys := []sweepValue{{"long", strings.Repeat("k", 300)}, {"DEL character", "a\x7fb"}, {"invalid UTF-8", "\xff\xfe"},
		{"percent NUL", "%00"}, {"RTL override", "\u202e"}, {"tab", "a\tb"}, {"four-byte runes", strings.Repeat("😀", 200)}}
	out := make([]sweepReq, len(keys))
	for i, k := range keys {
		out[i] = sweepReq{route: route, label: "Idempotency-Key " + k.label, method: "POST", uri: uri, body: []byte(body),
			header: map[string]string{"Idempotency-Key": k.raw}}
	}
	return out
}

// foreignToken is a well-formed access token for u signed with another secret.
func foreignToken(t *testing.T, u storage.User) string {
	tok, _, err := testenv.NewTokensWithSecret("not-the-real-secret-0123456789abcdef0123").Issue(u)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// algNoneToken is an unsigned token naming user id as a SUPER_ADMIN.
func algNoneToken(id int64) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(map[string]any{
		"sub": strconv.FormatInt(id, 10), "iss": "changemaker", "aud": "changemaker-api",
		"exp": time.Now().Add(time.Hour).Unix(), "role": storage.RoleSuperAdmin}) + "."
}

// sweepDo sends r in-process, byte for byte, from client address ip.
func sweepDo(t *testing.T, app *api.App, r sweepReq, token, ip string) *testenv.Response {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, "/", body)
	req.RequestURI = r.uri // what app.Test writes on the request line
	for k, v := range sweepHeaders(r, token, ip) {
		req.Header[k] = []string{v}
	}
	return testenv.Send(t, app, req)
}

// sweepWire sends r over a connection to base. A declared body is announced
// and not sent: the server must answer from the headers.
func sweepWire(t *testing.T, base string, r sweepReq, token, ip string) *testenv.Response {
	t.Helper()
	h := sweepHeaders(r, token, ip)
	if r.declare > 0 {
		h["Content-Type"] = "application/json"
		h["Content-Length"] = strconv.Itoa(r.declare)
	}
	return testenv.SendRaw(t, base, r.method, r.uri, h, nil)
}

// sweepHeaders are the headers r goes with.
func sweepHeaders(r sweepReq, token, ip string) map[string]string {
	h := map[string]string{"X-Real-Ip": ip}
	if r.body != nil {
		h["Content-Type"] = "application/json"
		if r.ctype != "" {
			h["Content-Type"] = r.ctype
		}
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	maps.Copy(h, r.header)
	return h
}

// checkSweepResponse applies the house rules to one answer.
func checkSweepResponse(t *testing.T, r sweepReq, caller sweepCaller, res *testenv.Response, secrets, private []string) {
	t.Helper()
	what := fmt.Sprintf("%s %.120s as %s", r.method, r.uri, caller.name)
	if problem := testenv.HouseRules(r.method, res.Status, res.Header, res.Body); problem != "" {
		t.Errorf("%s %s", what, problem)
	}
	body := strings.ToLower(string(res.Body))
	for _, s := range secrets {
		if strings.Contains(body, strings.ToLower(s)) {
			t.Errorf("%s = %d: the body holds the secret %.6q…", what, res.Status, s)
		}
	}
	if caller.token == "" {
		for _, s := range private {
			if strings.Contains(body, strings.ToLower(s)) {
				t.Errorf("%s = %d: the anonymous answer holds %q: %.300s", what, res.Status, s, res.Body)
			}
		}
	}
}
