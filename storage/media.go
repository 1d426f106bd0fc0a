package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
)

// Video statuses: processing until the media fleet has probed it and cut its
// thumbnail, then ready; invalid when ffprobe cannot read it.
const (
	VideoProcessing = "processing"
	VideoReady      = "ready"
	VideoInvalid    = "invalid"
)

// VideoStatuses lists every status.
var VideoStatuses = []string{VideoProcessing, VideoReady, VideoInvalid}

// Orientations of a probed video.
var Orientations = []string{"landscape", "portrait", "square"}

// ReactionTypes are the six reactions a viewer may leave, in display order.
var ReactionTypes = []string{"like", "love", "laugh", "wow", "sad", "angry"}

// ErrVideoNotReady is returned when publishing a video that is not ready.
var ErrVideoNotReady = errors.New("video is not ready")

// Video is a stored video and what the media fleet learnt about it.
type Video struct {
	ID              int64
	Title           string
	OriginalName    string
	Path            string
	SHA256          string
	SizeBytes       int64
	Container       string
	Source          string
	Status          string
	InvalidReason   *string
	DurationSeconds *float64
	Width           *int
	Height          *int
	Orientation     *string
	HasAudio        *bool
	VideoCodec      *string
	AudioCodec      *string
	ThumbnailPath   *string
	HasThumbnail    bool
	Producer        string
	Creator         string
	Tags            []string
	ViewCount       int64
	UploadedBy      *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Category        *string    // gallery category when published
	PublishedAt     *time.Time // when published
}

// videoFromDB makes a Video of a row and its gallery entry (category and
// publishedAt are nil when it has none).
func videoFromDB(v db.MediaVideo, category *string, publishedAt *time.Time) Video {
	tags := v.Tags
	if tags == nil {
		tags = []string{}
	}
	return Video{ID: v.ID, Title: v.Title, OriginalName: v.OriginalName, Path: v.Path, SHA256: v.Sha256,
		SizeBytes: v.SizeBytes, Container: v.Container, Source: v.Source, Status: v.Status,
		InvalidReason: v.InvalidReason, DurationSeconds: v.DurationSeconds, Width: intPtr(v.Width),
		Height: intPtr(v.Height), Orientation: v.Orientation, HasAudio: v.HasAudio, VideoCodec: v.VideoCodec,
		AudioCodec: v.AudioCodec, ThumbnailPath: v.ThumbnailPath, HasThumbnail: v.ThumbnailPath != nil,
		Producer: v.Producer, Creator: v.Creator, Tags: tags, ViewCount: v.ViewCount, UploadedBy: v.UploadedBy,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Category: category, PublishedAt: publishedAt}
}

// sharedVideo is the shape of every query that reads a video with its
// gallery entry; each query has its own generated row type of this shape.
type sharedVideo struct {
	MediaVideo  db.MediaVideo
	Category    *string
	PublishedAt *time.Time
}

func (r sharedVideo) video() Video { return videoFromDB(r.MediaVideo, r.Category, r.PublishedAt) }

func intPtr(n *int32) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// NewVideo is what CreateVideo needs.
type NewVideo struct {
	Title        string
	OriginalName string
	Path         string
	SHA256       string
	SizeBytes    int64
	Container    string
	Source       string // upload or scan
	UploadedBy   *int64
	Producer     string
	Creator      string
	Tags         []string // nil: none
}

// CreateVideo inserts a video in status processing. When place is not nil it
// runs inside the transaction after the insert (to move the file into place)
// and its error rolls the insert back, so a row never exists without its file.
// Every field goes in with the one insert: once the file is in place nothing
// else is written that could fail and leave a half-recorded upload behind.
// A live video with the same content or path is ErrConflict.
//
// Once place has succeeded only the COMMIT can fail, and a COMMIT that
// fails on the way (the connection broke) may still have happened.
// CreateVideo then asks Postgres (txid_status) and returns the video when
// it committed; ErrOutcomeUnknown, wrapped, when even that cannot be
// learned: the caller must then keep what place did.
func (s *Store) CreateVideo(ctx context.Context, n NewVideo, place func(Video) error) (Video, error) {
	if n.Source == "" {
		n.Source = "upload"
	}
	if n.Tags == nil {
		n.Tags = []string{}
	}
	var v Video
	var xid int64
	placed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if place != nil {
			var err error
			if xid, err = q.CurrentTxID(ctx); err != nil {
				return fmt.Errorf("insert video: %w", err)
			}
		}
		r, err := q.InsertVideo(ctx, db.InsertVideoParams{Title: n.Title, OriginalName: n.OriginalName,
			Path: n.Path, Sha256: n.SHA256, SizeBytes: n.SizeBytes, Container: n.Container, Source: n.Source,
			UploadedBy: n.UploadedBy, Producer: n.Producer, Creator: n.Creator, Tags: n.Tags})
		if errors.Is(err, ErrConflict) {
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("insert video: %w", err)
		}
		v = videoFromDB(r, nil, nil) // a new video is in no gallery
		if place != nil {
			if err := place(v); err != nil {
				return err
			}
			placed = true
		}
		return nil
	})
	if err != nil && placed {
		committed, oerr := s.txOutcome(ctx, xid)
		switch {
		case oerr != nil:
			return Video{}, fmt.Errorf("%w: %w (commit: %w)", ErrOutcomeUnknown, oerr, err)
		case committed:
			return v, nil
		}
	}
	if err != nil {
		return Video{}, err
	}
	return v, nil
}

// VideoByID finds a live (not deleted) video.
func (s *Store) VideoByID(ctx context.Context, id int64) (Video, error) {
	r, err := s.q().VideoByID(ctx, id)
	return sharedVideo(r).video(), notFound(err)
}

// VideoBySHA256 finds the live video with this content hash.
func (s *Store) VideoBySHA256(ctx context.Context, sum string) (Video, error) {
	r, err := s.q().VideoBySHA256(ctx, sum)
	return sharedVideo(r).video(), notFound(err)
}

// VideoFilter narrows ListVideos. Empty fields do not filter.
type VideoFilter struct {
	Orientation string
	Producer    string
	Creator     string
	Tag         string
	Status      string
	Search      string // in title, original name, producer and creator
	// Published limits the list to gallery videos (ready ones only);
	// Category then narrows it to one category.
	Published bool
	Category  string
	Limit     int
	Offset    int
}

// ListVideos returns one page of live videos and the total. The library is
// newest first; the gallery is most recently published first.
func (s *Store) ListVideos(ctx context.Context, f VideoFilter) ([]Video, int, error) {
	count := db.CountVideosParams{Orientation: optText(f.Orientation), Producer: optText(escapeLike(f.Producer)),
		Creator: optText(escapeLike(f.Creator)), Tag: optText(f.Tag), Status: optText(f.Status),
		Search: optText(escapeLike(f.Search)), Published: f.Published, Category: optText(f.Category)}
	return page(ctx, s, "videos",
		func(ctx context.Context, q *db.Queries) (int64, error) { return q.CountVideos(ctx, count) },
		func(ctx context.Context, q *db.Queries) ([]db.ListVideosRow, error) {
			return q.ListVideos(ctx, db.ListVideosParams{Orientation: count.Orientation, Producer: count.Producer,
				Creator: count.Creator, Tag: count.Tag, Status: count.Status, Search: count.Search,
				Published: count.Published, Category: count.Category,
				PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		func(r db.ListVideosRow) Video { return sharedVideo(r).video() })
}

// VideoPatch holds the fields UpdateVideo changes; nil fields stay.
type VideoPatch struct {
	Title    *string
	Producer *string
	Creator  *string
	Tags     *[]string
}

// UpdateVideo applies p to a live video.
func (s *Store) UpdateVideo(ctx context.Context, id int64, p VideoPatch) (Video, error) {
	var tags []string
	if p.Tags != nil {
		tags = *p.Tags
		if tags == nil {
			tags = []string{}
		}
	}
	var v Video
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		_, err := q.UpdateVideo(ctx, db.UpdateVideoParams{ID: id, Title: p.Title, Producer: p.Producer,
			Creator: p.Creator, SetTags: p.Tags != nil, Tags: tags})
		if err != nil {
			return notFound(err)
		}
		r, err := q.VideoByIDAnyState(ctx, id)
		if err != nil {
			return fmt.Errorf("read updated video %d: %w", id, err)
		}
		v = sharedVideo(r).video()
		return nil
	})
	if err != nil {
		return Video{}, err
	}
	return v, nil
}

// DeleteVideo soft-deletes a live video and takes it out of the gallery. It
// reports whether the video was published.
func (s *Store) DeleteVideo(ctx context.Context, id int64) (wasPublished bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		n, err := q.SoftDeleteVideo(ctx, id)
		if err != nil {
			return fmt.Errorf("delete video %d: %w", id, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		n, err = q.UnpublishVideo(ctx, id)
		if err != nil {
			return fmt.Errorf("unpublish video %d: %w", id, err)
		}
		wasPublished = n > 0
		return nil
	})
	return wasPublished, err
}

// ProbeResult is what ffprobe learnt about a video.
type ProbeResult struct {
	DurationSeconds float64
	Width, Height   int
	Orientation     string
	HasAudio        bool
	VideoCodec      string
	AudioCodec      string // "" without audio
	SizeBytes       int64
}

// SetVideoProbe records probe results on a live video that is not invalid.
// It reports whether a row was updated.
func (s *Store) SetVideoProbe(ctx context.Context, id int64, p ProbeResult) (bool, error) {
	width, height := int32(p.Width), int32(p.Height)
	n, err := s.q().SetVideoProbe(ctx, db.SetVideoProbeParams{ID: id, DurationSeconds: &p.DurationSeconds,
		Width: &width, Height: &height, Orientation: &p.Orientation, HasAudio: &p.HasAudio,
		VideoCodec: &p.VideoCodec, AudioCodec: optText(p.AudioCodec), SizeBytes: p.SizeBytes})
	if err != nil {
		return false, fmt.Errorf("record probe of video %d: %w", id, err)
	}
	return n > 0, nil
}

// MarkVideoInvalid moves a processing video to invalid with a reason.
func (s *Store) MarkVideoInvalid(ctx context.Context, id int64, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	reason = strings.ToValidUTF8(reason, "?")
	if err := s.q().MarkVideoInvalid(ctx, db.MarkVideoInvalidParams{ID: id, InvalidReason: &reason}); err != nil {
		return fmt.Errorf("mark video %d invalid: %w", id, err)
	}
	return nil
}

// MarkVideoReady records the thumbnail (nil when none could be cut) and moves
// a processing video to ready. A video already ready keeps its status and
// gets the new thumbnail; an invalid one is left alone.
func (s *Store) MarkVideoReady(ctx context.Context, id int64, thumbnail *string) error {
	if err := s.q().MarkVideoReady(ctx, db.MarkVideoReadyParams{ID: id, ThumbnailPath: thumbnail}); err != nil {
		return fmt.Errorf("mark video %d ready: %w", id, err)
	}
	return nil
}

// PublishVideo puts a live, ready video in the gallery under category (or
// moves it to category when it is already there).
func (s *Store) PublishVideo(ctx context.Context, id int64, category string, by int64) (Video, error) {
	var v Video
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		status, err := q.LiveVideoStatusForShare(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if status != VideoReady {
			return ErrVideoNotReady
		}
		err = q.UpsertShared(ctx, db.UpsertSharedParams{VideoID: id, Category: category, PublishedBy: &by})
		if err != nil {
			return fmt.Errorf("publish video %d: %w", id, err)
		}
		r, err := q.VideoByIDAnyState(ctx, id)
		if err != nil {
			return fmt.Errorf("read published video %d: %w", id, err)
		}
		v = sharedVideo(r).video()
		return nil
	})
	return v, err
}

// UnpublishVideo takes a video out of the gallery.
func (s *Store) UnpublishVideo(ctx context.Context, id int64) error {
	n, err := s.q().UnpublishVideo(ctx, id)
	if err != nil {
		return fmt.Errorf("unpublish video %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// PublishedVideo finds a video that is in the gallery (live and ready).
func (s *Store) PublishedVideo(ctx context.Context, id int64) (Video, error) {
	r, err := s.q().PublishedVideo(ctx, id)
	return videoFromDB(r.MediaVideo, &r.Category, &r.PublishedAt), notFound(err)
}

// CountView adds one view to a video and returns the new count.
func (s *Store) CountView(ctx context.Context, id int64) (int64, error) {
	n, err := s.q().CountView(ctx, id)
	return n, notFound(err)
}

// ReactionCounts returns, for each video, the count of each reaction type
// (every type present, zero when nobody chose it).
func (s *Store) ReactionCounts(ctx context.Context, ids []int64) (map[int64]map[string]int, error) {
	out := make(map[int64]map[string]int, len(ids))
	for _, id := range ids {
		out[id] = emptyCounts()
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.q().ReactionCounts(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("count reactions: %w", err)
	}
	for _, r := range rows {
		out[r.VideoID][r.Type] = int(r.Reactions)
	}
	return out, nil
}

func emptyCounts() map[string]int {
	m := make(map[string]int, len(ReactionTypes))
	for _, t := range ReactionTypes {
		m[t] = 0
	}
	return m
}

// React records viewer's reaction typ to a video: a first reaction is added,
// a different type replaces the old one, and the same type again removes it.
// It returns the viewer's reaction afterwards (nil when removed).
func (s *Store) React(ctx context.Context, videoID int64, viewer, typ string) (*string, error) {
	var current *string
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		// The row lock (or, for a first reaction, the primary key) serialises
		// two clicks of the same viewer.
		old, err := q.ViewerReactionForUpdate(ctx, db.ViewerReactionForUpdateParams{VideoID: videoID, Viewer: viewer})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			err = q.InsertReaction(ctx, db.InsertReactionParams{VideoID: videoID, Viewer: viewer, Type: typ})
			current = &typ
		case err != nil:
		case old == typ:
			err = q.DeleteReaction(ctx, db.DeleteReactionParams{VideoID: videoID, Viewer: viewer})
		default:
			err = q.ChangeReaction(ctx, db.ChangeReactionParams{VideoID: videoID, Viewer: viewer, Type: typ})
			current = &typ
		}
		if err != nil {
			return fmt.Errorf("react to video %d: %w", videoID, err)
		}
		return nil
	})
	return current, err
}

// ViewerReaction returns viewer's reaction to a video, or nil.
func (s *Store) ViewerReaction(ctx context.Context, videoID int64, viewer string) (*string, error) {
	typ, err := s.q().ViewerReaction(ctx, db.ViewerReactionParams{VideoID: videoID, Viewer: viewer})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read reaction: %w", err)
	}
	return &typ, nil
}

// VideoByPathLive finds the live video stored at path.
func (s *Store) VideoByPathLive(ctx context.Context, path string) (Video, error) {
	r, err := s.q().VideoByPathLive(ctx, path)
	return sharedVideo(r).video(), notFound(err)
}

// StalledVideos returns up to limit live videos still processing whose row
// has not changed since before cutoff, oldest first: candidates for the media
// sweep, which checks whether each still has a task on its way.
func (s *Store) StalledVideos(ctx context.Context, cutoff time.Time, limit int) ([]Video, error) {
	rows, err := s.q().StalledVideos(ctx, db.StalledVideosParams{Cutoff: cutoff, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list stalled videos: %w", err)
	}
	return convert(rows, func(r db.StalledVideosRow) Video { return sharedVideo(r).video() }), nil
}
