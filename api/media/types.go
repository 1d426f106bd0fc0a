package media

import (
	"time"

	"changemaker/storage"
)

// videoView is a video as the library's managers see it. Where its file and
// thumbnail lie on disk stays inside; the gallery shows publicVideo.
type videoView struct {
	ID              int64      `json:"id"`
	Title           string     `json:"title"`
	OriginalName    string     `json:"originalName"`
	SHA256          string     `json:"sha256"`
	SizeBytes       int64      `json:"sizeBytes"`
	Container       string     `json:"container"`
	Source          string     `json:"source"`
	Status          string     `json:"status"`
	InvalidReason   *string    `json:"invalidReason"`
	DurationSeconds *float64   `json:"durationSeconds"`
	Width           *int       `json:"width"`
	Height          *int       `json:"height"`
	Orientation     *string    `json:"orientation"`
	HasAudio        *bool      `json:"hasAudio"`
	VideoCodec      *string    `json:"videoCodec"`
	AudioCodec      *string    `json:"audioCodec"`
	HasThumbnail    bool       `json:"hasThumbnail"`
	Producer        string     `json:"producer"`
	Creator         string     `json:"creator"`
	Tags            []string   `json:"tags"`
	ViewCount       int64      `json:"viewCount"`
	UploadedBy      *int64     `json:"uploadedBy"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	Category        *string    `json:"category"`
	PublishedAt     *time.Time `json:"publishedAt"`
}

func toVideoView(v storage.Video) videoView {
	return videoView{ID: v.ID, Title: v.Title, OriginalName: v.OriginalName, SHA256: v.SHA256,
		SizeBytes: v.SizeBytes, Container: v.Container, Source: v.Source, Status: v.Status,
		InvalidReason: v.InvalidReason, DurationSeconds: v.DurationSeconds, Width: v.Width, Height: v.Height,
		Orientation: v.Orientation, HasAudio: v.HasAudio, VideoCodec: v.VideoCodec, AudioCodec: v.AudioCodec,
		HasThumbnail: v.HasThumbnail, Producer: v.Producer, Creator: v.Creator, Tags: v.Tags,
		ViewCount: v.ViewCount, UploadedBy: v.UploadedBy, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Category: v.Category, PublishedAt: v.PublishedAt}
}

// videoDetail is a video with its reaction counts.
type videoDetail struct {
	videoView
	Reactions map[string]int `json:"reactions"`
}
