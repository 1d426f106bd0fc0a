package storage_test

import (
	"context"
	"strings"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestCampaignSlugsNeverRunOut: many campaigns with one title all get a slug
// of their own, readable first, random after a few.
func TestCampaignSlugsNeverRunOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	admin, err := store.CreateUser(ctx, storage.NewUser{Email: "a@x.test", PasswordHash: "x", Role: storage.RoleSuperAdmin})
	if err != nil {
		t.Fatal(err)
	}
	title := "Save the Petition!"
	seen := map[string]bool{}
	for i := 0; i < 30; i++ {
		c, err := store.CreateCampaign(ctx, storage.CampaignFields{Title: &title}, admin.ID)
		if err != nil {
			t.Fatalf("campaign %d: %v", i+1, err)
		}
		if seen[c.Slug] || !storage.ValidSlug(c.Slug) || !strings.HasPrefix(c.Slug, "save-the-petition") {
			t.Fatalf("campaign %d got slug %q (duplicate or malformed)", i+1, c.Slug)
		}
		seen[c.Slug] = true
	}
	for _, want := range []string{"save-the-petition", "save-the-petition-2", "save-the-petition-5"} {
		if !seen[want] {
			t.Errorf("slug %q not used", want)
		}
	}
}
