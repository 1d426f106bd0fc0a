package campaigns_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode"

	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// awkwardNames are names people really have or type, and the characters that
// break hand-made mail headers. Each one is either refused by the API (400,
// naming the field) or delivered with the name intact; none may be accepted
// and then fail in the worker.
var awkwardNames = []string{
	`Eve"`, `"Eve"`, `Eve "The Voter" Smith`, `Back\slash`, `Trailing\`, `Smith, Jane`, `Jane; Smith`,
	`Jane (home)`, `Jane <jane@evil.test>`, `jane@evil.test`, `O'Brien-Émile Côté`, `Zoë 🌲 Green`,
	`عبد الله`, `שרה לוי`, `Mixed עברית and English`, `=?utf-8?q?not_encoded?=`,
	strings.Repeat("é", 100), strings.Repeat("a", 100), strings.Repeat("ab, ", 25)[:99] + "x",
	strings.Repeat("🌲", 100), strings.Repeat("\"", 100),
	"Eve\x01", "Eve\x07", "Eve\x08", "Eve\x1b[31m", "Eve\x7f", "Eve\u009b", "Eve\tTab",
	"Eve\u0085Smith", "Eve\rSmith", "Eve\nBcc: x@evil.test",
	// Surrounding white space is trimmed, NEL (U+0085) included.
	"Eve\u0085", " Eve ",
	strings.Repeat("a", 101),
}

// refused reports whether the API must refuse name, and with which message.
func refused(name string) bool {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > 100 {
		return true
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

func requireFieldError(t *testing.T, res *testenv.Response, field string) {
	t.Helper()
	var b struct {
		Error struct {
			Code    string                   `json:"code"`
			Details []struct{ Field string } `json:"details"`
		} `json:"error"`
	}
	res.JSON(t, &b)
	if res.Status != 400 || b.Error.Code != "validation_failed" || len(b.Error.Details) == 0 || b.Error.Details[0].Field != field {
		t.Fatalf("want 400 validation_failed naming %s, got %d %s", field, res.Status, res.Body)
	}
}

func TestAwkwardNamesAreRefusedOrDelivered(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	admin := env.CreateUser(storage.RoleSuperAdmin, "")
	subject := "From {{senderName}} to {{representativeName}}"
	camp := env.CreateCampaign(t, admin.ID, func(f *storage.CampaignFields) { f.EmailSubject = &subject })
	env.Lookup(t, "T5K 2J1")

	for i, name := range awkwardNames {
		t.Run(fmt.Sprintf("send-email %d %q", i, name), func(t *testing.T) {
			sender := fmt.Sprintf("sender%d@awkward.test", i)
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/send-email",
				Header: map[string]string{"X-Real-Ip": fmt.Sprintf("10.9.%d.1", i)},
				Body: map[string]any{"senderName": name, "senderEmail": sender, "postalCode": "T5K 2J1",
					"recipients": []map[string]any{{"email": testenv.RepMLA.Email}}}})
			if refused(name) {
				requireFieldError(t, res, "senderName")
				return
			}
			name := strings.TrimSpace(name)
			var accepted acceptedBody
			res.JSON(t, &accepted)
			if res.Status != 202 || len(accepted.Emails) != 1 {
				t.Fatalf("send = %d %s, want 202", res.Status, res.Body)
			}
			id := accepted.Emails[0].ID
			testenv.Eventually(t, 15*time.Second, "the email is settled", func() bool {
				e, err := env.Store.EmailByID(context.Background(), id)
				return err == nil && e.Status != storage.EmailQueued
			})
			e, _ := env.Store.EmailByID(context.Background(), id)
			if e.Status != storage.EmailSent {
				t.Fatalf("accepted, then %s: %s", e.Status, e.LastError)
			}
			var got *testenv.SMTPMessage
			for _, m := range env.SMTP.Messages() {
				if m.Header.Get("Message-Id") == e.MessageID {
					got = &m
				}
			}
			if got == nil {
				t.Fatalf("SENT, but no message %s reached the SMTP server", e.MessageID)
			}
			replyTo, err := mail.ParseAddress(got.Header.Get("Reply-To"))
			if err != nil || replyTo.Address != sender || replyTo.Name != name {
				t.Errorf("Reply-To %q decodes to %+v (%v), want name %q", got.Header.Get("Reply-To"), replyTo, err, name)
			}
			to, err := mail.ParseAddress(got.Header.Get("To"))
			if err != nil || to.Address != testenv.RepMLA.Email || to.Name != testenv.RepMLA.Name {
				t.Errorf("To %q decodes to %+v (%v)", got.Header.Get("To"), to, err)
			}
			if want := "From " + name + " to " + testenv.RepMLA.Name; got.Subject() != want {
				t.Errorf("Subject %q decodes to %q, want %q", got.Header.Get("Subject"), got.Subject(), want)
			}
		})
	}

	for i, name := range awkwardNames {
		t.Run(fmt.Sprintf("response wall %d %q", i, name), func(t *testing.T) {
			submitter := fmt.Sprintf("submitter%d@awkward.test", i)
			body := map[string]any{"representativeName": name, "representativeTitle": "MP", "representativeLevel": "FEDERAL",
				"responseType": "EMAIL", "responseText": "We will see.", "submitterName": name, "submitterEmail": submitter}
			res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/responses",
				Header: map[string]string{"X-Real-Ip": fmt.Sprintf("10.8.%d.1", i)}, Body: body})
			if refused(name) {
				// representativeName may be 200 characters long: only control
				// characters make it fail too.
				if res.Status != 400 || !strings.Contains(string(res.Body), `"submitterName"`) ||
					(len([]rune(strings.TrimSpace(name))) <= 100 && !strings.Contains(string(res.Body), `"representativeName"`)) {
					t.Fatalf("want 400 naming representativeName and submitterName, got %d %s", res.Status, res.Body)
				}
				return
			}
			var b struct {
				Response          struct{ ID int64 } `json:"response"`
				VerificationEmail bool               `json:"verificationEmail"`
			}
			res.JSON(t, &b)
			if res.Status != 201 || !b.VerificationEmail {
				t.Fatalf("submit = %d %s, want 201 with a verification email", res.Status, res.Body)
			}
			testenv.Eventually(t, 15*time.Second, "the verification is settled", func() bool {
				r, err := env.Store.ResponseByID(context.Background(), b.Response.ID)
				return err == nil && (r.VerificationSentAt != nil || r.VerificationFailedAt != nil)
			})
			r, _ := env.Store.ResponseByID(context.Background(), b.Response.ID)
			if r.VerificationSentAt == nil {
				t.Fatalf("accepted, then the verification failed: %s", r.VerificationError)
			}
			var got *testenv.SMTPMessage
			for _, m := range env.SMTP.Messages() {
				if len(m.To) == 1 && m.To[0] == submitter {
					got = &m
				}
			}
			if got == nil {
				t.Fatalf("verification recorded as sent, but nothing reached %s", submitter)
			}
			to, err := mail.ParseAddress(got.Header.Get("To"))
			if err != nil || to.Address != submitter || to.Name != "" {
				t.Errorf("To %q decodes to %+v (%v), want the bare address", got.Header.Get("To"), to, err)
			}
			// Only our words and the campaign's title: the names the
			// submitter typed are not in the message at all.
			if hasLetters(name) && (strings.Contains(got.Text(), name) || strings.Contains(got.Subject(), name)) {
				t.Errorf("the verification email carries submitter text %q:\n%s\n%s", name, got.Subject(), got.Text())
			}
			if !strings.Contains(got.Subject(), camp.Title) || !strings.Contains(got.Text(), "/api/public/responses/verify/") {
				t.Errorf("the verification email lacks the title or the link:\n%s\n%s", got.Subject(), got.Text())
			}
		})
	}
}

func hasLetters(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n >= 3
}

// TestVerificationEmailOncePerAddressAnHour: the response wall mails the
// address a submitter gives, so an address gets one verification email an
// hour however often it is given (in any letter case).
func TestVerificationEmailOncePerAddressAnHour(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	admin := env.CreateUser(storage.RoleSuperAdmin, "")
	camp := env.CreateCampaign(t, admin.ID)
	submit := func(i int, addr string) (int64, bool) {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/campaigns/" + camp.Slug + "/responses",
			Header: map[string]string{"X-Real-Ip": fmt.Sprintf("10.7.%d.1", i)},
			Body: map[string]any{"representativeName": "Buy cheap pills at spam.test", "responseType": "EMAIL",
				"responseText": "spam", "submitterName": "Visit spam.test", "submitterEmail": addr}})
		var b struct {
			Response          struct{ ID int64 } `json:"response"`
			VerificationEmail bool               `json:"verificationEmail"`
		}
		res.JSON(t, &b)
		if res.Status != 201 {
			t.Fatalf("submit = %d %s, want 201", res.Status, res.Body)
		}
		return b.Response.ID, b.VerificationEmail
	}
	first, sent := submit(1, "victim@stranger.test")
	if !sent {
		t.Fatalf("the first submission says no verification email")
	}
	env.SMTP.WaitFor(t, 1, 15*time.Second)
	second, sent := submit(2, "Victim@Stranger.test")
	if sent {
		t.Errorf("a second submission within the hour says a verification email goes out")
	}
	r, err := env.Store.ResponseByID(context.Background(), second)
	if err != nil || r.VerificationFailedAt == nil || r.VerificationError != storage.VerificationThrottled {
		t.Errorf("the second response is not recorded as throttled (so the sweeper would send it): %+v %v", r, err)
	}
	// The worker refuses too, when a task for the second response reaches it
	// (as the sweeper's would).
	if ok, err := env.Store.ClaimVerificationEmail(context.Background(), "VICTIM@stranger.test", second); ok || err != nil {
		t.Errorf("claim for the second response = %v, %v", ok, err)
	}
	if ok, err := env.Store.ClaimVerificationEmail(context.Background(), "victim@stranger.test", first); !ok || err != nil {
		t.Errorf("the first response's claim again = %v, %v", ok, err)
	}
	for _, m := range env.SMTP.Messages() {
		if strings.Contains(m.Text(), "spam.test") || strings.Contains(m.Subject(), "spam.test") {
			t.Errorf("the verification email carries the submitter's text:\n%s\n%s", m.Subject(), m.Text())
		}
	}
	if n := len(env.SMTP.Messages()); n != 1 {
		t.Errorf("%d messages reached the SMTP server, want 1", n)
	}
}
