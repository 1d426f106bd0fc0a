package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Media task types.
const (
	TypeMediaProbe     = "media:probe"
	TypeMediaThumbnail = "media:thumbnail"
	TypeMediaScan      = "media:scan"
	TypeMediaSweep     = "media:sweep"
)

// MediaProbe asks a media worker to run ffprobe on a stored video.
type MediaProbe struct {
	VideoID int64 `json:"videoId"`
}

// MediaThumbnail asks a media worker to cut a video's thumbnail.
type MediaThumbnail struct {
	VideoID int64 `json:"videoId"`
}

// MediaScan asks a media worker to register the videos found in Dir, a
// directory relative to MEDIA_ROOT ("" is the root itself).
type MediaScan struct {
	Dir         string `json:"dir"`
	RequestedBy int64  `json:"requestedBy"`
}

// MediaProbeMaxRetry bounds probe attempts; the worker marks a video invalid
// instead of leaving it processing once the last attempt fails.
const MediaProbeMaxRetry = 4

// NewMediaProbe builds a probe task. The task ID is derived from the video, so
// a second enqueue while one is pending or running is refused by asynq.
func NewMediaProbe(p MediaProbe) (*asynq.Task, error) {
	return newTask(TypeMediaProbe, p,
		asynq.Queue(QueueMedia),
		asynq.MaxRetry(MediaProbeMaxRetry),
		asynq.Timeout(5*time.Minute),
		asynq.TaskID(MediaProbeTaskID(p.VideoID)),
	)
}

// MediaProbeTaskID is the task ID of a video's probe.
func MediaProbeTaskID(videoID int64) string { return "media:probe:" + strconv.FormatInt(videoID, 10) }

// NewMediaThumbnail builds a thumbnail task, one per video at a time.
func NewMediaThumbnail(p MediaThumbnail) (*asynq.Task, error) {
	return newTask(TypeMediaThumbnail, p,
		asynq.Queue(QueueMedia),
		asynq.MaxRetry(3),
		asynq.Timeout(5*time.Minute),
		asynq.TaskID(MediaThumbnailTaskID(p.VideoID)),
	)
}

// MediaThumbnailTaskID is the task ID of a video's thumbnail.
func MediaThumbnailTaskID(videoID int64) string {
	return "media:thumbnail:" + strconv.FormatInt(videoID, 10)
}

// MediaScanRetention is how long a finished scan stays in the media queue,
// with its counts as the task's result, for the jobs page to show.
const MediaScanRetention = 24 * time.Hour

// NewMediaScan builds a scan task, one per directory at a time.
func NewMediaScan(p MediaScan) (*asynq.Task, error) {
	return newTask(TypeMediaScan, p,
		asynq.Queue(QueueMedia),
		asynq.MaxRetry(2),
		asynq.Timeout(6*time.Hour), // hashing a large library takes a while
		asynq.TaskID(MediaScanTaskID(p.Dir)),
		asynq.Retention(MediaScanRetention),
	)
}

// MediaScanTaskID is the task ID of a scan of dir. While a task holds it
// (waiting, running, or kept as a record: archived, or completed within its
// retention) asynq refuses another scan of dir with ErrTaskIDConflict.
func MediaScanTaskID(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "media:scan:" + hex.EncodeToString(sum[:8])
}

// MediaSweep finds videos left processing for longer than OlderThanSeconds
// with no live probe or thumbnail task (an upload accepted while Redis was
// down, a task lost or given up on) and sets them moving again.
type MediaSweep struct {
	OlderThanSeconds int `json:"olderThanSeconds"`
	Limit            int `json:"limit"`
}

// NewMediaSweep builds the periodic sweep. Unique keeps a slow run and the
// next tick from overlapping.
func NewMediaSweep(p MediaSweep) (*asynq.Task, error) {
	return newTask(TypeMediaSweep, p,
		asynq.Queue(QueueMedia),
		asynq.MaxRetry(1),
		asynq.Timeout(time.Minute),
		asynq.Unique(50*time.Second),
	)
}
