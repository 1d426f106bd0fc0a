package media

import (
	"testing"

	"changemaker/internal/shapetest"
	"changemaker/storage"
)

// The answers clients have been getting, byte for byte: every field filled,
// and every field empty (null, [] and omitted keys).
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	var v storage.Video
	shapetest.Fill(&v)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"video", toVideoView(v),
			`{"id":184,"title":"Title","originalName":"OriginalName","sha256":"SHA256","sizeBytes":135,"container":"Container","source":"Source","status":"Status","invalidReason":"InvalidReason","durationSeconds":282.5,"width":399,"height":522,"orientation":"Orientation","hasAudio":true,"videoCodec":"VideoCodec","audioCodec":"AudioCodec","hasThumbnail":true,"producer":"Producer","creator":"Creator","tags":["Tags"],"viewCount":391,"uploadedBy":692,"createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z","category":"Category","publishedAt":"2024-02-07T15:04:05Z"}`},
		{"empty video", toVideoView(storage.Video{}),
			`{"id":0,"title":"","originalName":"","sha256":"","sizeBytes":0,"container":"","source":"","status":"","invalidReason":null,"durationSeconds":null,"width":null,"height":null,"orientation":null,"hasAudio":null,"videoCodec":null,"audioCodec":null,"hasThumbnail":false,"producer":"","creator":"","tags":null,"viewCount":0,"uploadedBy":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z","category":null,"publishedAt":null}`},
		{"video detail", videoDetail{toVideoView(v), map[string]int{"like": 2}},
			`{"id":184,"title":"Title","originalName":"OriginalName","sha256":"SHA256","sizeBytes":135,"container":"Container","source":"Source","status":"Status","invalidReason":"InvalidReason","durationSeconds":282.5,"width":399,"height":522,"orientation":"Orientation","hasAudio":true,"videoCodec":"VideoCodec","audioCodec":"AudioCodec","hasThumbnail":true,"producer":"Producer","creator":"Creator","tags":["Tags"],"viewCount":391,"uploadedBy":692,"createdAt":"2024-01-18T17:04:05Z","updatedAt":"2024-01-26T16:04:05Z","category":"Category","publishedAt":"2024-02-07T15:04:05Z","reactions":{"like":2}}`},
		{"empty video detail", videoDetail{},
			`{"id":0,"title":"","originalName":"","sha256":"","sizeBytes":0,"container":"","source":"","status":"","invalidReason":null,"durationSeconds":null,"width":null,"height":null,"orientation":null,"hasAudio":null,"videoCodec":null,"audioCodec":null,"hasThumbnail":false,"producer":"","creator":"","tags":null,"viewCount":0,"uploadedBy":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z","category":null,"publishedAt":null,"reactions":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shapetest.Check(t, tc.v, tc.want)
		})
	}
}
