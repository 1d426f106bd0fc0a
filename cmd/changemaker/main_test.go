package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"changemaker/internal/testenv"
)

func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envFrom(nil), &out); err != nil || !strings.HasPrefix(out.String(), "changemaker ") {
		t.Fatalf("version = %q, %v", out.String(), err)
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"migrate"}, {"migrate", "sideways"}, {"migrate", "force", "latest"}, {"admin"}, {"admin", "create-user"}} {
		err := run(context.Background(), args, envFrom(map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none"}), &out)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("run %v = %v, want a usage error", args, err)
		}
	}
}

func TestProductionRefusesToStartWithoutSecrets(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"api"}, envFrom(map[string]string{"APP_ENV": "production"}), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "JWT_ACCESS_SECRET") {
		t.Fatalf("production without secrets = %v, want an error naming JWT_ACCESS_SECRET", err)
	}
}

func TestMigrateAndCreateAdmin(t *testing.T) {
	t.Parallel()
	env := envFrom(map[string]string{"DATABASE_URL": testenv.DatabaseURLFor(t), "LOG_LEVEL": "error"})
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "up"}, env, &out); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate up on a migrated database = %q, %v; want up to date", out.String(), err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "status"}, env, &out); err != nil || !strings.Contains(out.String(), "0001_foundation") {
		t.Fatalf("migrate status = %q, %v", out.String(), err)
	}

	out.Reset()
	err := run(ctx, []string{"admin", "create-user", "--email", "boss@example.test", "--role", "SUPER_ADMIN"}, env, &out)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil || len(m[1]) < 20 {
		t.Fatalf("create-user printed no strong password: %q", out.String())
	}
	out.Reset()
	err = run(ctx, []string{"admin", "create-user", "--email", "boss@example.test", "--role", "SUPER_ADMIN"}, env, &out)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second create-user = %v, want already exists", err)
	}
	err = run(ctx, []string{"admin", "create-user", "--email", "x@example.test", "--role", "KING"}, env, &out)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("bad role = %v, want usage error", err)
	}
	err = run(ctx, []string{"admin", "create-user", "--email", "y@example.test", "--role", "USER", "--password", "short"}, env, &out)
	if !errors.As(err, &ue) {
		t.Fatalf("short password = %v, want usage error", err)
	}
	// The same address rule as the API: "<not an email>" is refused,
	// admin@localhost (what dev.sh creates) is an address.
	err = run(ctx, []string{"admin", "create-user", "--email", "<not an email>", "--role", "USER"}, env, &out)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not an email address") {
		t.Fatalf("create-user with <not an email> = %v, want a usage error", err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "create-user", "--email", "admin@localhost", "--role", "SUPER_ADMIN"}, env, &out); err != nil {
		t.Fatalf("create-user admin@localhost = %v", err)
	}
}
