package api_test

import (
	"testing"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestSettingsSMTPHost: smtpHost used to accept anything ("http://evil.test/",
// spaces). It is a bare host name or IP; private addresses depend on
// SMTP_ALLOW_PRIVATE.
func TestSettingsSMTPHost(t *testing.T) {
	t.Parallel()
	put := func(env *testenv.API, host string) *testenv.Response {
		admin := env.CreateUser(storage.RoleSuperAdmin, "")
		return testenv.Do(t, env.Main, testenv.Request{Method: "PUT", Path: "/api/settings", Token: env.Token(admin),
			Body: map[string]any{"smtpHost": host}})
	}
	open := testenv.NewAPI(t)
	strict := testenv.NewAPI(t, func(c *config.Config) { c.SMTPAllowPrivate = false })
	for _, host := range []string{"http://evil.test/", "smtp.example.test/x", "smtp example.test", "smtp.example.test:25",
		"-bad.example.test", "a..b"} {
		if res := put(open, host); res.Status != 400 {
			t.Errorf("smtpHost %q = %d %s, want 400", host, res.Status, res.Body)
		}
	}
	for _, host := range []string{"smtp.example.test", "mail", "203.0.113.9", "2001:db8::1", "127.0.0.1", "10.0.0.5"} {
		if res := put(open, host); res.Status != 200 {
			t.Errorf("smtpHost %q with SMTP_ALLOW_PRIVATE on = %d %s, want 200", host, res.Status, res.Body)
		}
	}
	for _, host := range []string{"127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "0.0.0.0", "::ffff:127.0.0.1"} {
		if res := put(strict, host); res.Status != 400 {
			t.Errorf("smtpHost %q with SMTP_ALLOW_PRIVATE off = %d %s, want 400", host, res.Status, res.Body)
		}
	}
	if res := put(strict, "smtp.example.test"); res.Status != 200 {
		t.Errorf("public host name with SMTP_ALLOW_PRIVATE off = %d %s, want 200", res.Status, res.Body)
	}
}
