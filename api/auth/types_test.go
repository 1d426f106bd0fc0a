package auth

import (
	"testing"

	"changemaker/internal/shapetest"
	"changemaker/storage"
)

// The answers clients have been getting, byte for byte: every field filled,
// and every field empty (null, [] and omitted keys).
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	var u storage.User
	shapetest.Fill(&u)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"user", ToUser(u),
			`{"id":184,"email":"Email","name":"Name","role":"Role","status":"Status","expiresAt":"2024-02-11T17:04:05Z","lastLoginAt":"2024-02-08T14:04:05Z","createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z"}`},
		{"empty user", ToUser(storage.User{}),
			`{"id":0,"email":"","name":"","role":"","status":"","expiresAt":null,"lastLoginAt":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
