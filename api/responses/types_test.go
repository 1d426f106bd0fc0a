package responses

import (
	"testing"

	"changemaker/internal/shapetest"
	"changemaker/storage"
)

// The answers clients have been getting, byte for byte: every field filled,
// and every field empty (null, [] and omitted keys).
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	var r storage.Response
	shapetest.Fill(&r)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"response", toResponseView(r),
			`{"id":184,"campaignId":670,"representativeName":"RepresentativeName","representativeTitle":"RepresentativeTitle","representativeLevel":"RepresentativeLevel","representativeEmail":"RepresentativeEmail","responseType":"ResponseType","responseText":"ResponseText","comment":"Comment","submitterName":"SubmitterName","submitterEmail":"SubmitterEmail","isAnonymous":true,"status":"Status","moderationNote":"ModerationNote","moderatedBy":33,"verifiedAt":"2024-01-06T11:04:05Z","verificationSentAt":"2024-01-29T20:04:05Z","verificationFailedAt":"2024-02-09T21:04:05Z","verificationError":"VerificationError","upvoteCount":987,"createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z"}`},
		{"empty response", toResponseView(storage.Response{}),
			`{"id":0,"campaignId":0,"representativeName":"","representativeTitle":"","representativeLevel":"","representativeEmail":"","responseType":"","responseText":"","comment":"","submitterName":"","submitterEmail":"","isAnonymous":false,"status":"","moderationNote":"","moderatedBy":null,"verifiedAt":null,"verificationSentAt":null,"verificationFailedAt":null,"verificationError":"","upvoteCount":0,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
