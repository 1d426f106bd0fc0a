package config_test

import (
	"strings"
	"testing"

	"changemaker/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestProductionRefusesMissingOrShortSecrets(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 32)
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"missing access secret", map[string]string{"JWT_REFRESH_SECRET": long + "r", "ENCRYPTION_KEY": long}, "JWT_ACCESS_SECRET"},
		{"short refresh secret", map[string]string{"JWT_ACCESS_SECRET": long, "JWT_REFRESH_SECRET": "short", "ENCRYPTION_KEY": long}, "JWT_REFRESH_SECRET"},
		{"missing encryption key", map[string]string{"JWT_ACCESS_SECRET": long, "JWT_REFRESH_SECRET": long + "r"}, "ENCRYPTION_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["APP_ENV"] = "production"
			_, err := config.Load(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.wantVar) {
				t.Fatalf("err = %v, want one naming %s", err, tc.wantVar)
			}
		})
	}
}

func TestDevelopmentGeneratesSecrets(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Generated) != 3 {
		t.Fatalf("Generated = %v, want all three secrets", c.Generated)
	}
	if len(c.JWTAccessSecret) < config.MinSecretLen || c.JWTAccessSecret == c.JWTRefreshSecret {
		t.Fatalf("generated secrets too short or equal")
	}
}

func TestBadNumbersAreNamed(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{"API_PORT": "eighty"}))
	if err == nil || !strings.Contains(err.Error(), "API_PORT") {
		t.Fatalf("err = %v, want one naming API_PORT", err)
	}
}

func TestListenHosts(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{"API_HOST": "127.0.0.1", "MEDIA_API_HOST": "[::1]", "QUEUES_HOST": "localhost"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIHost != "127.0.0.1" || c.MediaAPIHost != "::1" || c.QueuesHost != "localhost" || c.WorkerMetricsHost != "" {
		t.Errorf("hosts = %q %q %q %q", c.APIHost, c.MediaAPIHost, c.QueuesHost, c.WorkerMetricsHost)
	}
	for _, bad := range []string{"127.0.0.1:4000", "http://127.0.0.1", "example.com", "0.0.0.0 1"} {
		if _, err := config.Load(env(map[string]string{"WORKER_METRICS_HOST": bad})); err == nil || !strings.Contains(err.Error(), "WORKER_METRICS_HOST") {
			t.Errorf("WORKER_METRICS_HOST=%q: err = %v, want one naming the variable", bad, err)
		}
	}
}
