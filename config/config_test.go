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
