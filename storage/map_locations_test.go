package storage_test

import (
	"context"
	"sync"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// TestMapFindOrCreateLocationAtTheSameInstant: many creates of one building,
// spelled differently and a few metres apart, at the same instant, give one
// location; the rest join it.
func TestMapFindOrCreateLocationAtTheSameInstant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	spellings := []string{"123 Main Street North", "123 main st n", "123 Main St. N.", "Apt 4, 123 Main St N",
		"123 MAIN STREET NORTH", "#7 123 Main St North", "123 Main St N, Ottawa ON", "101-123 Main St N"}
	var wg sync.WaitGroup
	ids := make([]int64, len(spellings))
	joined := make([]bool, len(spellings))
	errs := make([]error, len(spellings))
	for i, s := range spellings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, lng := 45.4215+float64(i)*0.00005, -75.6972
			loc, j, err := store.FindOrCreateLocation(ctx, storage.LocationInput{Address: s, Lat: &lat, Lng: &lng}, 50, 0)
			ids[i], joined[i], errs[i] = loc.ID, j, err
		}()
	}
	wg.Wait()
	created := 0
	for i := range spellings {
		if errs[i] != nil {
			t.Fatalf("%q: %v", spellings[i], errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("%q became location %d, not %d", spellings[i], ids[i], ids[0])
		}
		if !joined[i] {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d creates did not join, want 1", created)
	}
	_, total, err := store.ListLocations(ctx, storage.LocationFilter{Limit: 10})
	if err != nil || total != 1 {
		t.Errorf("%d locations (%v), want 1", total, err)
	}
}

// TestMapAddressKey: the key ignores units and spelling, and is empty for
// what is not a street address (which then never joins).
func TestMapAddressKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b string }{
		{"123 Main Street North", "Unit 5, 123 main st n"},
		{"1000 rue Principale Ouest", "1000 Rue Principale O"},
	} {
		if ka, kb := storage.AddressKey(tc.a), storage.AddressKey(tc.b); ka == "" || ka != kb {
			t.Errorf("AddressKey(%q) = %q, AddressKey(%q) = %q", tc.a, ka, tc.b, kb)
		}
	}
	for _, s := range []string{"", "Main Street", "The old mill"} {
		if k := storage.AddressKey(s); k != "" {
			t.Errorf("AddressKey(%q) = %q, want empty", s, k)
		}
	}
	if storage.AddressKey("12 Main St") == storage.AddressKey("14 Main St") {
		t.Error("two civic numbers share a key")
	}
}
