package admin_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

type testResult struct {
	Sent   bool   `json:"sent"`
	Server string `json:"server"`
	Source string `json:"source"`
	Error  string `json:"error"`
}

// TestSendTestEmail sends a test email through the environment's server,
// then through the server the settings name, and checks that a refusing
// server is reported, not hidden, and that the password never comes back.
func TestSendTestEmail(t *testing.T) {
	t.Parallel()
	smtp := testenv.NewSMTPServer(t)
	env := testenv.NewAPI(t, smtp.Configure, func(c *config.Config) {
		c.Influence.SMTPTimeout = 10 * time.Second
		c.SMTPAllowPrivate = true
	})
	admin := env.Token(env.CreateUser(storage.RoleSuperAdmin, ""))
	send := func(to string) (*testenv.Response, testResult) {
		t.Helper()
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/settings/email/test", Token: admin,
			Body: map[string]string{"to": to}})
		var out testResult
		if res.Status == 200 {
			res.JSON(t, &out)
		}
		return res, out
	}

	// 1. No server in the settings: SMTP_* from the environment.
	res, out := send("first@example.test")
	if res.Status != 200 || !out.Sent || out.Source != "environment" || out.Server != smtp.Addr() {
		t.Fatalf("test email = %d %s, want sent through %s (environment)", res.Status, res.Body, smtp.Addr())
	}
	msgs := smtp.WaitFor(t, 1, 10*time.Second)
	if got := msgs[0].To; len(got) != 1 || got[0] != "first@example.test" {
		t.Fatalf("message to %v, want first@example.test", got)
	}
	if !strings.Contains(msgs[0].Subject(), "test email") {
		t.Errorf("subject %q does not say it is a test", msgs[0].Subject())
	}

	// 2. The settings name the server (with a password): the test goes
	// there, and neither GET /api/settings nor the test's answer carry
	// the password.
	const secret = "s3cret-smtp-passw0rd"
	put := testenv.Do(t, env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Token: admin, Body: map[string]any{
		"smtpHost": smtp.Host, "smtpPort": smtp.Port, "smtpTls": "none", "smtpPassword": secret,
		"emailFromAddress": "org@example.test"}})
	if put.Status != 200 || strings.Contains(string(put.Body), secret) {
		t.Fatalf("PUT settings = %d %s (the password must not come back)", put.Status, put.Body)
	}
	got := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/settings", Token: admin})
	if got.Status != 200 || strings.Contains(string(got.Body), secret) || !strings.Contains(string(got.Body), `"smtpPasswordSet":true`) {
		t.Fatalf("GET settings = %d %s: want smtpPasswordSet true and no password", got.Status, got.Body)
	}
	res, out = send("second@example.test")
	if res.Status != 200 || !out.Sent || out.Source != "settings" || strings.Contains(string(res.Body), secret) {
		t.Fatalf("test email via the settings = %d %s", res.Status, res.Body)
	}
	msgs = smtp.WaitFor(t, 2, 10*time.Second)
	if msgs[1].From != "org@example.test" {
		t.Errorf("MAIL FROM %q, want the settings' org@example.test", msgs[1].From)
	}

	// 3. A server that refuses: sent=false with the server's answer.
	smtp.FailNext(550, 1)
	res, out = send("third@example.test")
	if res.Status != 200 || out.Sent || !strings.Contains(out.Error, "550") {
		t.Fatalf("refused test email = %d %s, want sent=false with the 550", res.Status, res.Body)
	}

	// 4. Nobody listening: sent=false, quickly (the dial fails at once).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if r := testenv.Do(t, env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Token: admin,
		Body: map[string]any{"smtpPort": port}}); r.Status != 200 {
		t.Fatalf("PUT settings = %d %s", r.Status, r.Body)
	}
	res, out = send("fourth@example.test")
	if res.Status != 200 || out.Sent || out.Error == "" || out.Server != net.JoinHostPort(smtp.Host, strconv.Itoa(port)) {
		t.Fatalf("test email to a closed port = %d %s, want sent=false with an error", res.Status, res.Body)
	}
	if strings.Contains(string(res.Body), secret) {
		t.Fatalf("the answer carries the password: %s", res.Body)
	}
}

// TestSendTestEmailBadInput: a missing or malformed address is a 400.
func TestSendTestEmailBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	for _, body := range []any{map[string]string{}, map[string]string{"to": "not an address"},
		map[string]any{"to": 42}, "{", map[string]string{"to": strings.Repeat("a", 250) + "@example.test"}} {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/settings/email/test", Token: admin, Body: body})
		if res.Status != 400 {
			t.Errorf("body %v: %d %s, want 400", body, res.Status, res.Body)
		}
	}
}
