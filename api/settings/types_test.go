package settings

import (
	"testing"

	"changemaker/internal/shapetest"
	"changemaker/storage"
)

// The answers clients have been getting, byte for byte: every field filled,
// and every field empty (null, [] and omitted keys).
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	var st storage.Settings
	shapetest.Fill(&st)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"settings", toAdminView(st),
			`{"organizationName":"OrganizationName","emailFromName":"EmailFromName","emailFromAddress":"EmailFromAddress","smtpHost":"SMTPHost","smtpPort":114,"smtpUsername":"SMTPUsername","smtpTls":"SMTPTLS","allowRegistration":true,"enableInfluence":true,"enableMap":true,"enableMedia":true,"updatedAt":"2024-01-26T16:04:05Z","smtpPasswordSet":true}`},
		{"empty settings", toAdminView(storage.Settings{}),
			`{"organizationName":"","emailFromName":"","emailFromAddress":"","smtpHost":"","smtpPort":0,"smtpUsername":"","smtpTls":"","allowRegistration":false,"enableInfluence":false,"enableMap":false,"enableMedia":false,"updatedAt":"0001-01-01T00:00:00Z","smtpPasswordSet":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
