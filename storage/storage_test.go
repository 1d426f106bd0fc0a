package storage_test

import (
	"bytes"
	"context"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t) // already migrated up

	t.Run("up again is a no-op", func(t *testing.T) {
		applied, err := store.MigrateUp(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second up applied %d, err %v; want nothing", len(applied), err)
		}
	})
	t.Run("status lists every migration as applied", func(t *testing.T) {
		all, err := store.MigrationStatus(ctx)
		if err != nil || len(all) == 0 {
			t.Fatalf("status = %v, %v", all, err)
		}
		for _, m := range all {
			if !m.Applied || m.Dirty {
				t.Errorf("%04d_%s not applied", m.Version, m.Name)
			}
		}
	})
	t.Run("down then up round-trips every migration", func(t *testing.T) {
		all, _ := store.MigrationStatus(ctx)
		for range all {
			m, err := store.MigrateDown(ctx)
			if err != nil || m == nil {
				t.Fatalf("down: %v, %v", m, err)
			}
		}
		if m, err := store.MigrateDown(ctx); m != nil || err != nil {
			t.Fatalf("down with nothing applied = %v, %v", m, err)
		}
		var tables int
		// Extensions (PostGIS's spatial_ref_sys and views) stay: they are
		// not ours to drop.
		store.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')
			  AND c.relname <> 'schema_migrations'
			  AND NOT EXISTS (SELECT 1 FROM pg_depend d
			                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`).Scan(&tables)
		if tables != 0 {
			t.Errorf("%d tables left after reverting everything", tables)
		}
		applied, err := store.MigrateUp(ctx)
		if err != nil || len(applied) != len(all) {
			t.Fatalf("up after down applied %d of %d: %v", len(applied), len(all), err)
		}
	})
}

func TestSecretBox(t *testing.T) {
	t.Parallel()
	box, err := storage.NewSecretBox("a passphrase of reasonable length!!")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := box.Seal([]byte("smtp-pass"))
	b, _ := box.Seal([]byte("smtp-pass"))
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("smtp-pass")) {
		t.Fatal("sealing is deterministic or leaks the plaintext")
	}
	got, err := box.Open(a)
	if err != nil || string(got) != "smtp-pass" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := storage.NewSecretBox("a different passphrase entirely!!!")
	if _, err := other.Open(a); err == nil {
		t.Fatal("another key opened the box")
	}
	a[len(a)-1] ^= 1
	if _, err := box.Open(a); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
}

func TestUsersEmailUniqueAmongLiveAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	u, err := store.CreateUser(ctx, storage.NewUser{Email: "Same@Example.test", PasswordHash: "x", Role: storage.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, storage.NewUser{Email: "same@example.TEST", PasswordHash: "x", Role: storage.RoleUser}); err != storage.ErrConflict {
		t.Fatalf("duplicate email (other case) err = %v, want ErrConflict", err)
	}
	if err := store.SoftDeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, storage.NewUser{Email: "same@example.test", PasswordHash: "x", Role: storage.RoleUser}); err != nil {
		t.Fatalf("email of a deleted account not reusable: %v", err)
	}
}

func TestListUsersFiltersAndPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	for i, r := range []string{storage.RoleUser, storage.RoleUser, storage.RoleMapAdmin, storage.RoleUser} {
		if _, err := store.CreateUser(ctx, storage.NewUser{Email: string(rune('a'+i)) + "@x.test", Name: "N_" + r,
			PasswordHash: "x", Role: r}); err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := store.ListUsers(ctx, storage.UserFilter{Role: storage.RoleUser, Limit: 2, Offset: 2})
	if err != nil || total != 3 || len(page) != 1 {
		t.Fatalf("USER page 2 = %d items of %d, %v; want 1 of 3", len(page), total, err)
	}
	empty, total, err := store.ListUsers(ctx, storage.UserFilter{Limit: 2, Offset: 10})
	if err != nil || total != 4 || len(empty) != 0 {
		t.Fatalf("past the end = %d items of %d, %v; want 0 of 4", len(empty), total, err)
	}
	// "_" is literal in search, not a wildcard.
	found, total, _ := store.ListUsers(ctx, storage.UserFilter{Search: "N_MAP", Limit: 10})
	if total != 1 || len(found) != 1 {
		t.Fatalf("search N_MAP = %d, want 1", total)
	}
}
