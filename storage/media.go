package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

const videoColumns = `v.id, v.title, v.original_name, v.path, v.sha256, v.size_bytes, v.container, v.source,
	v.status, v.invalid_reason, v.duration_seconds, v.width, v.height, v.orientation, v.has_audio,
	v.video_codec, v.audio_codec, v.thumbnail_path, v.producer, v.creator, v.tags, v.view_count,
	v.uploaded_by, v.created_at, v.updated_at, s.category, s.published_at`

const videoFrom = ` FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id `

func videoScanTargets(v *Video) []any {
	return []any{&v.ID, &v.Title, &v.OriginalName, &v.Path, &v.SHA256, &v.SizeBytes, &v.Container, &v.Source,
		&v.Status, &v.InvalidReason, &v.DurationSeconds, &v.Width, &v.Height, &v.Orientation, &v.HasAudio,
		&v.VideoCodec, &v.AudioCodec, &v.ThumbnailPath, &v.Producer, &v.Creator, &v.Tags, &v.ViewCount,
		&v.UploadedBy, &v.CreatedAt, &v.UpdatedAt, &v.Category, &v.PublishedAt}
}

func finishVideo(v *Video) {
	v.HasThumbnail = v.ThumbnailPath != nil
	if v.Tags == nil {
		v.Tags = []string{}
	}
}

func scanVideo(row pgx.Row) (Video, error) {
	var v Video
	if err := row.Scan(videoScanTargets(&v)...); err != nil {
		return Video{}, err
	}
	finishVideo(&v)
	return v, nil
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
		if place != nil {
			if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&xid); err != nil {
				return fmt.Errorf("insert video: %w", err)
			}
		}
		var err error
		v, err = scanVideo(tx.QueryRow(ctx, `
			WITH v AS (
				INSERT INTO media_videos (title, original_name, path, sha256, size_bytes, container, source, uploaded_by,
					producer, creator, tags)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				RETURNING *
			)
			SELECT `+videoColumns+` FROM v LEFT JOIN media_shared s ON false`,
			n.Title, n.OriginalName, n.Path, n.SHA256, n.SizeBytes, n.Container, n.Source, n.UploadedBy,
			n.Producer, n.Creator, n.Tags))
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("insert video: %w", err)
		}
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
	v, err := scanVideo(s.Pool.QueryRow(ctx, `SELECT `+videoColumns+videoFrom+
		`WHERE v.id = $1 AND v.deleted_at IS NULL`, id))
	return v, notFound(err)
}

// VideoBySHA256 finds the live video with this content hash.
func (s *Store) VideoBySHA256(ctx context.Context, sum string) (Video, error) {
	v, err := scanVideo(s.Pool.QueryRow(ctx, `SELECT `+videoColumns+videoFrom+
		`WHERE v.sha256 = $1 AND v.deleted_at IS NULL`, sum))
	return v, notFound(err)
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
	where := `
		WHERE v.deleted_at IS NULL
		  AND ($1 = '' OR v.orientation = $1)
		  AND ($2 = '' OR v.producer ILIKE $2)
		  AND ($3 = '' OR v.creator ILIKE $3)
		  AND ($4 = '' OR v.tags @> ARRAY[$4])
		  AND ($5 = '' OR v.status = $5)
		  AND ($6 = '' OR v.title ILIKE '%' || $6 || '%' OR v.original_name ILIKE '%' || $6 || '%'
		       OR v.producer ILIKE '%' || $6 || '%' OR v.creator ILIKE '%' || $6 || '%')
		  AND (NOT $7 OR (s.video_id IS NOT NULL AND v.status = 'ready'))
		  AND ($8 = '' OR s.category = $8)`
	order := ` ORDER BY v.created_at DESC, v.id DESC`
	if f.Published {
		order = ` ORDER BY s.published_at DESC, v.id DESC`
	}
	args := []any{f.Orientation, escapeLike(f.Producer), escapeLike(f.Creator), f.Tag, f.Status,
		escapeLike(f.Search), f.Published, f.Category}
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*)`+videoFrom+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count videos: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+videoColumns+videoFrom+where+order+` LIMIT $9 OFFSET $10`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list videos: %w", err)
	}
	videos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Video, error) { return scanVideo(row) })
	if err != nil {
		return nil, 0, fmt.Errorf("list videos: %w", err)
	}
	return videos, total, nil
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
	}
	v, err := scanVideo(s.Pool.QueryRow(ctx, `
		WITH v AS (
			UPDATE media_videos SET
				title = COALESCE($2, title),
				producer = COALESCE($3, producer),
				creator = COALESCE($4, creator),
				tags = CASE WHEN $5 THEN $6::text[] ELSE tags END,
				updated_at = now()
			WHERE id = $1 AND deleted_at IS NULL
			RETURNING *
		)
		SELECT `+videoColumns+` FROM v LEFT JOIN media_shared s ON s.video_id = v.id`,
		id, p.Title, p.Producer, p.Creator, p.Tags != nil, tags))
	return v, notFound(err)
}

// DeleteVideo soft-deletes a live video and takes it out of the gallery. It
// reports whether the video was published.
func (s *Store) DeleteVideo(ctx context.Context, id int64) (wasPublished bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE media_videos SET deleted_at = now(), updated_at = now()
			WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete video %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		tag, err = tx.Exec(ctx, `DELETE FROM media_shared WHERE video_id = $1`, id)
		if err != nil {
			return fmt.Errorf("unpublish video %d: %w", id, err)
		}
		wasPublished = tag.RowsAffected() > 0
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
	var audio *string
	if p.AudioCodec != "" {
		audio = &p.AudioCodec
	}
	tag, err := s.Pool.Exec(ctx, `
		UPDATE media_videos SET duration_seconds = $2, width = $3, height = $4, orientation = $5,
			has_audio = $6, video_codec = $7, audio_codec = $8,
			size_bytes = CASE WHEN $9 > 0 THEN $9 ELSE size_bytes END, updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL AND status <> 'invalid'`,
		id, p.DurationSeconds, p.Width, p.Height, p.Orientation, p.HasAudio, p.VideoCodec, audio, p.SizeBytes)
	if err != nil {
		return false, fmt.Errorf("record probe of video %d: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}

// MarkVideoInvalid moves a processing video to invalid with a reason.
func (s *Store) MarkVideoInvalid(ctx context.Context, id int64, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_, err := s.Pool.Exec(ctx, `UPDATE media_videos SET status = 'invalid', invalid_reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'processing'`, id, strings.ToValidUTF8(reason, "?"))
	if err != nil {
		return fmt.Errorf("mark video %d invalid: %w", id, err)
	}
	return nil
}

// MarkVideoReady records the thumbnail (nil when none could be cut) and moves
// a processing video to ready. A video already ready keeps its status and
// gets the new thumbnail; an invalid one is left alone.
func (s *Store) MarkVideoReady(ctx context.Context, id int64, thumbnail *string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE media_videos SET status = 'ready', updated_at = now(),
			thumbnail_path = COALESCE($2, thumbnail_path)
		WHERE id = $1 AND status IN ('processing', 'ready') AND duration_seconds IS NOT NULL`, id, thumbnail)
	if err != nil {
		return fmt.Errorf("mark video %d ready: %w", id, err)
	}
	return nil
}

// PublishVideo puts a live, ready video in the gallery under category (or
// moves it to category when it is already there).
func (s *Store) PublishVideo(ctx context.Context, id int64, category string, by int64) (Video, error) {
	var v Video
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM media_videos WHERE id = $1 AND deleted_at IS NULL FOR SHARE`, id).Scan(&status)
		if err != nil {
			return notFound(err)
		}
		if status != VideoReady {
			return ErrVideoNotReady
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO media_shared (video_id, category, published_by) VALUES ($1, $2, $3)
			ON CONFLICT (video_id) DO UPDATE SET category = EXCLUDED.category`, id, category, by); err != nil {
			return fmt.Errorf("publish video %d: %w", id, err)
		}
		v, err = scanVideo(tx.QueryRow(ctx, `SELECT `+videoColumns+videoFrom+`WHERE v.id = $1`, id))
		return err
	})
	return v, err
}

// UnpublishVideo takes a video out of the gallery.
func (s *Store) UnpublishVideo(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM media_shared WHERE video_id = $1`, id)
	if err != nil {
		return fmt.Errorf("unpublish video %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// PublishedVideo finds a video that is in the gallery (live and ready).
func (s *Store) PublishedVideo(ctx context.Context, id int64) (Video, error) {
	v, err := scanVideo(s.Pool.QueryRow(ctx, `SELECT `+videoColumns+videoFrom+
		`WHERE v.id = $1 AND v.deleted_at IS NULL AND v.status = 'ready' AND s.video_id IS NOT NULL`, id))
	return v, notFound(err)
}

// CountView adds one view to a video and returns the new count.
func (s *Store) CountView(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.Pool.QueryRow(ctx, `UPDATE media_videos SET view_count = view_count + 1
		WHERE id = $1 AND deleted_at IS NULL RETURNING view_count`, id).Scan(&n)
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
	rows, err := s.Pool.Query(ctx, `SELECT video_id, type, count(*) FROM media_reactions
		WHERE video_id = ANY($1) GROUP BY video_id, type`, ids)
	if err != nil {
		return nil, fmt.Errorf("count reactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var typ string
		var n int
		if err := rows.Scan(&id, &typ, &n); err != nil {
			return nil, fmt.Errorf("count reactions: %w", err)
		}
		out[id][typ] = n
	}
	return out, rows.Err()
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
		// The row lock (or, for a first reaction, the primary key) serialises
		// two clicks of the same viewer.
		var old string
		err := tx.QueryRow(ctx, `SELECT type FROM media_reactions WHERE video_id = $1 AND viewer = $2 FOR UPDATE`,
			videoID, viewer).Scan(&old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO media_reactions (video_id, viewer, type) VALUES ($1, $2, $3)
				ON CONFLICT (video_id, viewer) DO UPDATE SET type = EXCLUDED.type, created_at = now()`,
				videoID, viewer, typ)
			current = &typ
		case err != nil:
		case old == typ:
			_, err = tx.Exec(ctx, `DELETE FROM media_reactions WHERE video_id = $1 AND viewer = $2`, videoID, viewer)
		default:
			_, err = tx.Exec(ctx, `UPDATE media_reactions SET type = $3, created_at = now()
				WHERE video_id = $1 AND viewer = $2`, videoID, viewer, typ)
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
	var typ string
	err := s.Pool.QueryRow(ctx, `SELECT type FROM media_reactions WHERE video_id = $1 AND viewer = $2`,
		videoID, viewer).Scan(&typ)
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
	v, err := scanVideo(s.Pool.QueryRow(ctx, `SELECT `+videoColumns+videoFrom+
		`WHERE v.path = $1 AND v.deleted_at IS NULL`, path))
	return v, notFound(err)
}

// StalledVideos returns up to limit live videos still processing whose row
// has not changed since before cutoff, oldest first: candidates for the media
// sweep, which checks whether each still has a task on its way.
func (s *Store) StalledVideos(ctx context.Context, cutoff time.Time, limit int) ([]Video, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+videoColumns+videoFrom+`
		WHERE v.status = 'processing' AND v.deleted_at IS NULL AND v.updated_at < $1
		ORDER BY v.updated_at, v.id LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("list stalled videos: %w", err)
	}
	videos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Video, error) { return scanVideo(row) })
	if err != nil {
		return nil, fmt.Errorf("list stalled videos: %w", err)
	}
	return videos, nil
}
