package campaigns

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
		camp  storage.Campaign
		email storage.CampaignEmail
		stats storage.EmailStats
		rec   storage.Recipient
		calls storage.CallCount
	)
	for _, p := range []any{&camp, &email, &stats, &rec, &calls} {
		shapetest.Fill(p)
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"campaign", toCampaignView(camp),
			`{"id":184,"slug":"Slug","title":"Title","description":"Description","emailSubject":"EmailSubject","emailBody":"EmailBody","callToAction":"CallToAction","coverPhoto":"CoverPhoto","status":"Status","targetGovernmentLevels":["TargetGovernmentLevels"],"allowSmtpEmail":true,"allowMailtoLink":true,"collectUserInfo":true,"showEmailCount":true,"showCallCount":true,"allowEmailEditing":true,"allowCustomRecipients":true,"showResponseWall":true,"highlightCampaign":true,"emailCount":22,"callCount":752,"createdBy":494,"createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z"}`},
		{"empty campaign", toCampaignView(storage.Campaign{}),
			`{"id":0,"slug":"","title":"","description":"","emailSubject":"","emailBody":"","callToAction":"","coverPhoto":"","status":"","targetGovernmentLevels":null,"allowSmtpEmail":false,"allowMailtoLink":false,"collectUserInfo":false,"showEmailCount":false,"showCallCount":false,"allowEmailEditing":false,"allowCustomRecipients":false,"showResponseWall":false,"highlightCampaign":false,"emailCount":0,"callCount":0,"createdBy":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z"}`},
		{"email", toEmailView(email),
			`{"id":184,"campaignId":670,"method":"Method","status":"Status","senderName":"SenderName","senderEmail":"SenderEmail","postalCode":"PostalCode","recipientKind":"RecipientKind","recipientName":"RecipientName","recipientTitle":"RecipientTitle","recipientDistrict":"RecipientDistrict","recipientLevel":"RecipientLevel","recipientEmail":"RecipientEmail","subject":"Subject","body":"Body","attempts":23,"lastError":"LastError","messageId":"MessageID","sentAt":"2024-02-08T13:04:05Z","createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z"}`},
		{"empty email", toEmailView(storage.CampaignEmail{}),
			`{"id":0,"campaignId":0,"method":"","status":"","senderName":"","senderEmail":"","postalCode":"","recipientKind":"","recipientName":"","recipientTitle":"","recipientDistrict":"","recipientLevel":"","recipientEmail":"","subject":"","body":"","attempts":0,"lastError":"","messageId":"","sentAt":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z"}`},
		{"email stats", toEmailStatsView(stats),
			`{"total":645,"byStatus":{"ByStatusKey":134},"byMethod":{"ByMethodKey":237}}`},
		{"empty email stats", toEmailStatsView(storage.EmailStats{}),
			`{"total":0,"byStatus":null,"byMethod":null}`},
		{"recipient", toRecipientView(rec),
			`{"id":184,"campaignId":670,"name":"Name","title":"Title","email":"Email","createdAt":"2024-01-18T17:04:05Z"}`},
		{"empty recipient", toRecipientView(storage.Recipient{}),
			`{"id":0,"campaignId":0,"name":"","title":"","email":"","createdAt":"0001-01-01T00:00:00Z"}`},
		{"call count", toCallCountView(calls),
			`{"recipientKind":"RecipientKind","recipientName":"RecipientName","recipientTitle":"RecipientTitle","recipientLevel":"RecipientLevel","calls":534}`},
		{"empty call count", toCallCountView(storage.CallCount{}),
			`{"recipientKind":"","recipientName":"","recipientTitle":"","recipientLevel":"","calls":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
