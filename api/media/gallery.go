package media

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// DefaultCategory is where a video is published when no category is named.
const DefaultCategory = "videos"

var categoryShape = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// Redis keys of the public gallery cache. Pages are cached under the current
// version; publishing or unpublishing bumps the version, so every cached page
// is bypassed at once and the old ones simply expire.
const (
	publicVersionKey = "cm:media:public:version"
	publicPagePrefix = "cm:media:public:page:"
	viewKeyPrefix    = "cm:media:view:"
)

// publicVideo is what the gallery shows of a video: nothing about where it is
// stored, who uploaded it or how it was checked.
type publicVideo struct {
	ID              int64          `json:"id"`
	Title           string         `json:"title"`
	Producer        string         `json:"producer"`
	Creator         string         `json:"creator"`
	Tags            []string       `json:"tags"`
	Category        string         `json:"category"`
	PublishedAt     time.Time      `json:"publishedAt"`
	DurationSeconds float64        `json:"durationSeconds"`
	Width           int            `json:"width"`
	Height          int            `json:"height"`
	Orientation     string         `json:"orientation"`
	HasAudio        bool           `json:"hasAudio"`
	ViewCount       int64          `json:"viewCount"`
	Reactions       map[string]int `json:"reactions"`
	StreamURL       string         `json:"streamUrl"`
	ThumbnailURL    *string        `json:"thumbnailUrl"`
	MyReaction      *string        `json:"myReaction,omitempty"`
}

func toPublic(v storage.Video, counts map[string]int) publicVideo {
	base := "/api/media/public/" + strconv.FormatInt(v.ID, 10)
	p := publicVideo{ID: v.ID, Title: v.Title, Producer: v.Producer, Creator: v.Creator, Tags: v.Tags,
		ViewCount: v.ViewCount, Reactions: counts, StreamURL: base + "/stream"}
	if v.Category != nil {
		p.Category = *v.Category
	}
	if v.PublishedAt != nil {
		p.PublishedAt = *v.PublishedAt
	}
	if v.DurationSeconds != nil {
		p.DurationSeconds = *v.DurationSeconds
	}
	if v.Width != nil && v.Height != nil {
		p.Width, p.Height = *v.Width, *v.Height
	}
	if v.Orientation != nil {
		p.Orientation = *v.Orientation
	}
	if v.HasAudio != nil {
		p.HasAudio = *v.HasAudio
	}
	if v.HasThumbnail {
		t := base + "/thumbnail"
		p.ThumbnailURL = &t
	}
	return p
}

type publishRequest struct {
	Category string `json:"category"`
}

func (h *Handler) publish(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "videoId")
	if err != nil {
		return err
	}
	var req publishRequest
	if len(c.Body()) > 0 {
		if err := httpx.BindJSON(c, &req); err != nil {
			return err
		}
	}
	if req.Category == "" {
		req.Category = DefaultCategory
	}
	if !categoryShape.MatchString(req.Category) {
		return httpx.Invalid(httpx.Detail{Field: "category",
			Message: "must be lower-case letters, digits and dashes, like curated or highlights"})
	}
	v, err := h.Store.PublishVideo(c.UserContext(), id, req.Category, httpx.CurrentUser(c).ID)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("publish video %d: %w", id, err), noSuchVideo)
	}
	h.invalidatePublic(c)
	return c.JSON(toVideoView(v))
}

func (h *Handler) unpublish(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "videoId")
	if err != nil {
		return err
	}
	if err := h.Store.UnpublishVideo(c.UserContext(), id); err != nil {
		return httpx.NotFoundf(fmt.Errorf("unpublish video %d: %w", id, err), "this video is not published")
	}
	h.invalidatePublic(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) categoryQuery(c *fiber.Ctx) (string, error) {
	cat := c.Query("category")
	if cat != "" && !categoryShape.MatchString(cat) {
		return "", httpx.Invalid(httpx.Detail{Field: "category", Message: "is not a valid category"})
	}
	return cat, nil
}

// listShared is the admin view of the gallery: full video records.
func (h *Handler) listShared(c *fiber.Ctx) error {
	p, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	cat, err := h.categoryQuery(c)
	if err != nil {
		return err
	}
	videos, total, err := h.Store.ListVideos(c.UserContext(), storage.VideoFilter{
		Published: true, Category: cat, Limit: p.Limit, Offset: p.Offset()})
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(videos, toVideoView), p, total))
}

// listPublic is the public gallery, served from Redis when it can be.
func (h *Handler) listPublic(c *fiber.Ctx) error {
	p, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	cat, err := h.categoryQuery(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	version, verr := h.Redis.Get(ctx, publicVersionKey).Int64()
	if verr != nil && !errors.Is(verr, redis.Nil) {
		h.Log.Warn("public gallery cache unavailable", "err", verr)
	}
	key := publicPagePrefix + strconv.FormatInt(version, 10) + ":" + cat + ":" + strconv.Itoa(p.Page) + ":" + strconv.Itoa(p.Limit)
	if verr == nil || errors.Is(verr, redis.Nil) {
		if b, err := h.Redis.Get(ctx, key).Bytes(); err == nil {
			c.Set("X-Cache", "HIT")
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Send(b)
		}
	}
	videos, total, err := h.Store.ListVideos(ctx, storage.VideoFilter{
		Published: true, Category: cat, Limit: p.Limit, Offset: p.Offset()})
	if err != nil {
		return err
	}
	ids := make([]int64, len(videos))
	for i, v := range videos {
		ids[i] = v.ID
	}
	counts, err := h.Store.ReactionCounts(ctx, ids)
	if err != nil {
		return err
	}
	out := make([]publicVideo, len(videos))
	for i, v := range videos {
		out[i] = toPublic(v, counts[v.ID])
	}
	b, err := c.App().Config().JSONEncoder(httpx.Paged(out, p, total))
	if err != nil {
		return err
	}
	if verr == nil || errors.Is(verr, redis.Nil) {
		if err := h.Redis.Set(ctx, key, b, h.Config.PublicCacheTTL).Err(); err != nil {
			h.Log.Warn("cache public gallery page", "err", err)
		}
	}
	c.Set("X-Cache", "MISS")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

// invalidatePublic makes the next gallery request read Postgres again.
func (h *Handler) invalidatePublic(c *fiber.Ctx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), 2*time.Second)
	defer cancel()
	if err := h.Redis.Incr(ctx, publicVersionKey).Err(); err != nil {
		// Pages cached before this change may show for up to PublicCacheTTL.
		h.Log.Error("invalidate public gallery cache", "err", err)
	}
}

func (h *Handler) publishedVideo(c *fiber.Ctx) (storage.Video, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.Video{}, err
	}
	v, err := h.Store.PublishedVideo(c.UserContext(), id)
	if err != nil {
		return storage.Video{}, httpx.NotFoundf(fmt.Errorf("published video %d: %w", id, err), notInGallery)
	}
	return v, nil
}

func (h *Handler) getPublic(c *fiber.Ctx) error {
	v, err := h.publishedVideo(c)
	if err != nil {
		return err
	}
	counts, err := h.Store.ReactionCounts(c.UserContext(), []int64{v.ID})
	if err != nil {
		return err
	}
	out := toPublic(v, counts[v.ID])
	if out.MyReaction, err = h.Store.ViewerReaction(c.UserContext(), v.ID, h.viewer(c)); err != nil {
		return err
	}
	return c.JSON(out)
}

// view counts a view, at most once per viewer per ViewWindow.
func (h *Handler) view(c *fiber.Ctx) error {
	v, err := h.publishedVideo(c)
	if err != nil {
		return err
	}
	window := h.Config.ViewWindow
	if window <= 0 {
		window = time.Hour
	}
	key := viewKeyPrefix + strconv.FormatInt(v.ID, 10) + ":" + h.viewer(c)
	first, err := h.Redis.SetNX(c.UserContext(), key, 1, window).Result()
	if err != nil {
		// Without Redis a view cannot be told from a repeat: do not count it.
		h.Log.Warn("view dedup unavailable", "err", err)
		return c.JSON(fiber.Map{"counted": false, "viewCount": v.ViewCount})
	}
	count := v.ViewCount
	if first {
		if count, err = h.Store.CountView(c.UserContext(), v.ID); err != nil {
			return err
		}
	}
	return c.JSON(fiber.Map{"counted": first, "viewCount": count})
}

func (h *Handler) streamPublic(c *fiber.Ctx) error {
	v, err := h.publishedVideo(c)
	if err != nil {
		return err
	}
	return h.serveVideo(c, v)
}

func (h *Handler) thumbnailPublic(c *fiber.Ctx) error {
	v, err := h.publishedVideo(c)
	if err != nil {
		return err
	}
	return h.serveThumbnail(c, v)
}

type reactRequest struct {
	MediaID int64  `json:"mediaId"`
	Type    string `json:"type"`
}

// react toggles the viewer's reaction to a published video.
func (h *Handler) react(c *fiber.Ctx) error {
	var req reactRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	v.Check(req.MediaID > 0, "mediaId", "must be a positive integer")
	v.OneOf("type", req.Type, storage.ReactionTypes)
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := h.Store.PublishedVideo(ctx, req.MediaID); err != nil {
		return httpx.NotFoundf(fmt.Errorf("published video %d: %w", req.MediaID, err), notInGallery)
	}
	current, err := h.Store.React(ctx, req.MediaID, h.viewer(c), req.Type)
	if err != nil {
		return err
	}
	counts, err := h.Store.ReactionCounts(ctx, []int64{req.MediaID})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"mediaId": req.MediaID, "reaction": current, "reactions": counts[req.MediaID]})
}
