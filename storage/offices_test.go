package storage_test

import (
	"context"
	"reflect"
	"testing"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// The offices column holds Represent's lower-case keys with empty ones left
// out, whatever the Go types look like: rows written before must still read,
// and rows written now must look like them.
func TestOfficesColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := testenv.DB(t)
	offices := []storage.Office{{Type: "constituency", Postal: "1 Main St", Tel: "1 780 555 0100", Fax: "1 780 555 0101"},
		{}, {Tel: "555"}}
	const stored = `[{"type":"constituency","postal":"1 Main St","tel":"1 780 555 0100","fax":"1 780 555 0101"},{},{"tel":"555"}]`
	err := store.SavePostalCode(ctx, storage.PostalCode{Code: "T5K2J1", Status: storage.PostalFound},
		[]storage.Representative{{Key: "with", Name: "With Offices", GovernmentLevel: storage.LevelFederal, Offices: offices},
			{Key: "without", Name: "Without", GovernmentLevel: storage.LevelFederal}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("written in the stored format", func(t *testing.T) {
		for key, want := range map[string]string{"with": stored, "without": `[]`} {
			var same bool
			var got string
			err := store.Pool.QueryRow(ctx, `SELECT offices = $2::jsonb, offices::text FROM representatives
				WHERE postal_code = 'T5K2J1' AND rep_key = $1`, key, want).Scan(&same, &got)
			if err != nil || !same {
				t.Errorf("offices of %q = %s, %v; want %s", key, got, err, want)
			}
		}
	})
	t.Run("rows in the stored format read", func(t *testing.T) {
		if _, err := store.Pool.Exec(ctx, `UPDATE representatives SET offices = $1::jsonb
			WHERE postal_code = 'T5K2J1' AND rep_key = 'without'`, stored); err != nil {
			t.Fatal(err)
		}
		reps, err := store.RepresentativesFor(ctx, "T5K2J1")
		if err != nil || len(reps) != 2 {
			t.Fatalf("RepresentativesFor = %+v, %v", reps, err)
		}
		for _, r := range reps {
			if !reflect.DeepEqual(r.Offices, offices) {
				t.Errorf("offices of %q = %+v, want %+v", r.Key, r.Offices, offices)
			}
		}
	})
}
