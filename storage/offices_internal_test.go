package storage

import (
	"reflect"
	"testing"
)

// The offices column keeps the format rows were written in before Office
// lost its JSON tags: lower-case keys, empty ones left out, [] for none.
func TestOfficesJSON(t *testing.T) {
	t.Parallel()
	offices := []Office{{Type: "constituency", Postal: "1 Main St", Tel: "1 780 555 0100", Fax: "1 780 555 0101"},
		{}, {Tel: "555"}}
	const stored = `[{"type":"constituency","postal":"1 Main St","tel":"1 780 555 0100","fax":"1 780 555 0101"},{},{"tel":"555"}]`

	t.Run("encoded as before", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			in   []Office
			want string
		}{{offices, stored}, {nil, `[]`}, {[]Office{}, `[]`}} {
			b, err := encodeOffices(tc.in)
			if err != nil || string(b) != tc.want {
				t.Errorf("encodeOffices(%+v) = %s, %v; want %s", tc.in, b, err, tc.want)
			}
		}
	})
	t.Run("existing rows read", func(t *testing.T) {
		t.Parallel()
		got, err := decodeOffices([]byte(stored))
		if err != nil || !reflect.DeepEqual(got, offices) {
			t.Errorf("decodeOffices = %+v, %v; want %+v", got, err, offices)
		}
		got, err = decodeOffices([]byte(`[]`))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("decodeOffices([]) = %#v, %v; want an empty slice", got, err)
		}
		if _, err := decodeOffices([]byte(`{"type":1}`)); err == nil {
			t.Error("decodeOffices accepted an object")
		}
	})
}
