package storage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestPostgresErrorsBecomeStorageErrors: callers see storage's sentinels,
// never Postgres codes, whichever query failed.
func TestPostgresErrorsBecomeStorageErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)

	t.Run("a unique violation is ErrConflict", func(t *testing.T) {
		if _, err := store.CreateUser(ctx, storage.NewUser{Email: "dup@x.test", PasswordHash: "x", Role: storage.RoleUser}); err != nil {
			t.Fatal(err)
		}
		_, err := store.CreateUser(ctx, storage.NewUser{Email: "DUP@x.test", PasswordHash: "x", Role: storage.RoleUser})
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second account with the same email: %v, want ErrConflict", err)
		}
	})
	for name, bad := range map[string]string{"a NUL": "a\x00b", "invalid UTF-8": "a\xffb"} {
		t.Run(name+" in text is ErrInvalidText", func(t *testing.T) {
			_, err := store.CreateUser(ctx, storage.NewUser{Email: "t@x.test", Name: bad, PasswordHash: "x", Role: storage.RoleUser})
			if !errors.Is(err, storage.ErrInvalidText) {
				t.Fatalf("create user named %q: %v, want ErrInvalidText", bad, err)
			}
		})
	}
	t.Run("no server is ErrUnavailable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		away, err := storage.Open(ctx, fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable&connect_timeout=5", addr), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer away.Close()
		if _, err := away.UserByID(ctx, 1); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("read: %v, want ErrUnavailable", err)
		}
		if _, _, err := away.ListUsers(ctx, storage.UserFilter{Limit: 10}); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("list: %v, want ErrUnavailable", err)
		}
	})
	t.Run("a connection the server terminated is ErrUnavailable", func(t *testing.T) {
		err := store.InTx(ctx, func(tx pgx.Tx) error {
			var pid int32
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			// As an administrator's pg_terminate_backend or a shutdown
			// would; the timeout waits until the backend is gone.
			var gone bool
			if err := store.Pool.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, pid).Scan(&gone); err != nil || !gone {
				return fmt.Errorf("terminate backend %d: %v, %v", pid, gone, err)
			}
			return nil
		})
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("commit on a terminated connection: %v, want ErrUnavailable", err)
		}
	})
	t.Run("a caller giving up is not ErrUnavailable", func(t *testing.T) {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := store.UserByID(cancelled, 1)
		if err == nil || errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("read with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

// TestListTotals: every list reports the total of the rows it was cut from,
// on a full page, a short one and one past the end.
func TestListTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	admin, err := store.CreateUser(ctx, storage.NewUser{Email: "admin@x.test", PasswordHash: "x", Role: storage.RoleSuperAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		title := fmt.Sprintf("Campaign %d", i)
		if _, err := store.CreateCampaign(ctx, storage.CampaignFields{Title: &title}, admin.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateUser(ctx, storage.NewUser{Email: fmt.Sprintf("u%d@x.test", i), PasswordHash: "x",
			Role: storage.RoleUser}); err != nil {
			t.Fatal(err)
		}
	}
	lists := map[string]func(limit, offset int) (int, int, error){
		"campaigns": func(limit, offset int) (int, int, error) {
			l, n, err := store.ListCampaigns(ctx, storage.CampaignFilter{Search: "campaign", Limit: limit, Offset: offset})
			return len(l), n, err
		},
		"users": func(limit, offset int) (int, int, error) {
			l, n, err := store.ListUsers(ctx, storage.UserFilter{Search: "@x.test", Role: storage.RoleUser,
				Limit: limit, Offset: offset})
			return len(l), n, err
		},
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct{ limit, offset, rows int }{{3, 0, 3}, {3, 3, 1}, {3, 10, 0}} {
				rows, total, err := list(c.limit, c.offset)
				if err != nil || rows != c.rows || total != 4 {
					t.Errorf("limit %d offset %d: %d rows of %d, %v; want %d of 4", c.limit, c.offset, rows, total, err, c.rows)
				}
			}
		})
	}
	t.Run("a search with LIKE wildcards matches them literally", func(t *testing.T) {
		l, n, err := store.ListCampaigns(ctx, storage.CampaignFilter{Search: "%", Limit: 10})
		if err != nil || n != 0 || len(l) != 0 {
			t.Fatalf("search %%: %d of %d, %v; want none", len(l), n, err)
		}
	})
}
