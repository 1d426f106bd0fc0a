package representatives

import (
	"testing"

	"changemaker/internal/shapetest"
	"changemaker/storage"
)

// The answers clients have been getting, byte for byte: every field filled,
// and every field empty (null, [] and omitted keys).
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	var (
		pc     storage.PostalCode
		cached storage.CachedPostalCode
		rep    storage.Representative
	)
	for _, p := range []any{&pc, &cached, &rep} {
		shapetest.Fill(p)
	}
	rep.Offices = append(rep.Offices, storage.Office{}, storage.Office{Tel: "555"})
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"postal code", toPostalCodeView(pc),
			`{"code":"Code","status":"Status","city":"City","province":"Province","latitude":821.5,"longitude":486.5,"fetchedAt":"2024-02-02T10:04:05Z"}`},
		{"empty postal code", toPostalCodeView(storage.PostalCode{}),
			`{"code":"","status":"","city":"","province":"","latitude":null,"longitude":null,"fetchedAt":"0001-01-01T00:00:00Z"}`},
		{"cached postal code", toCachedPostalCodeView(cached),
			`{"code":"Code","status":"Status","city":"City","province":"Province","latitude":821.5,"longitude":486.5,"fetchedAt":"2024-02-02T10:04:05Z","representatives":405}`},
		{"empty cached postal code", toCachedPostalCodeView(storage.CachedPostalCode{}),
			`{"code":"","status":"","city":"","province":"","latitude":null,"longitude":null,"fetchedAt":"0001-01-01T00:00:00Z","representatives":0}`},
		{"representative", toRepresentativeView(rep),
			`{"id":184,"postalCode":"PostalCode","name":"Name","firstName":"FirstName","lastName":"LastName","electedOffice":"ElectedOffice","districtName":"DistrictName","partyName":"PartyName","email":"Email","url":"URL","photoUrl":"PhotoURL","representativeSetName":"RepresentativeSetName","governmentLevel":"GovernmentLevel","offices":[{"type":"Type","postal":"Postal","tel":"Tel","fax":"Fax"},{},{"tel":"555"}]}`},
		{"empty representative", toRepresentativeView(storage.Representative{}),
			`{"id":0,"postalCode":"","name":"","firstName":"","lastName":"","electedOffice":"","districtName":"","partyName":"","email":"","url":"","photoUrl":"","representativeSetName":"","governmentLevel":"","offices":null}`},
		{"representative without offices", toRepresentativeView(storage.Representative{Offices: []storage.Office{}}),
			`{"id":0,"postalCode":"","name":"","firstName":"","lastName":"","electedOffice":"","districtName":"","partyName":"","email":"","url":"","photoUrl":"","representativeSetName":"","governmentLevel":"","offices":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
