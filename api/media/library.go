package media

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
)

func (h *Handler) listVideos(c *fiber.Ctx) error {
	p, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.VideoFilter{
		Orientation: c.Query("orientation"), Status: c.Query("status"),
		Producer: strings.TrimSpace(c.Query("producer")), Creator: strings.TrimSpace(c.Query("creator")),
		Tag: strings.ToLower(strings.TrimSpace(c.Query("tag"))), Search: strings.TrimSpace(c.Query("q")),
		Limit: p.Limit, Offset: p.Offset(),
	}
	var v httpx.Validator
	if f.Orientation != "" {
		v.OneOf("orientation", f.Orientation, storage.Orientations)
	}
	if f.Status != "" {
		v.OneOf("status", f.Status, storage.VideoStatuses)
	}
	for field, s := range map[string]string{"producer": f.Producer, "creator": f.Creator, "tag": f.Tag, "q": f.Search} {
		v.MaxLen(field, s, 200)
	}
	if err := v.Err(); err != nil {
		return err
	}
	videos, total, err := h.Store.ListVideos(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(videos, toVideoView), p, total))
}

func (h *Handler) liveVideo(c *fiber.Ctx, param string) (storage.Video, error) {
	id, err := httpx.ParamID(c, param)
	if err != nil {
		return storage.Video{}, err
	}
	v, err := h.Store.VideoByID(c.UserContext(), id)
	if err != nil {
		return storage.Video{}, httpx.NotFoundf(fmt.Errorf("video %d: %w", id, err), noSuchVideo)
	}
	return v, nil
}

func (h *Handler) getVideo(c *fiber.Ctx) error {
	v, err := h.liveVideo(c, "id")
	if err != nil {
		return err
	}
	counts, err := h.Store.ReactionCounts(c.UserContext(), []int64{v.ID})
	if err != nil {
		return err
	}
	return c.JSON(videoDetail{videoView: toVideoView(v), Reactions: counts[v.ID]})
}

type patchRequest struct {
	Title    *string   `json:"title"`
	Producer *string   `json:"producer"`
	Creator  *string   `json:"creator"`
	Tags     *[]string `json:"tags"`
}

func (h *Handler) patchVideo(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var req patchRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	if req.Title == nil && req.Producer == nil && req.Creator == nil && req.Tags == nil {
		return httpx.BadRequest("nothing to change: send title, producer, creator or tags")
	}
	for field, s := range map[string]*string{"title": req.Title, "producer": req.Producer, "creator": req.Creator} {
		if s != nil {
			*s = strings.TrimSpace(*s)
			v.MaxLen(field, *s, 200)
			v.SingleLine(field, *s)
		}
	}
	if req.Title != nil {
		v.Required("title", *req.Title)
	}
	if req.Tags != nil {
		tags := normalizeTags(*req.Tags)
		checkTags(&v, tags)
		req.Tags = &tags
	}
	if err := v.Err(); err != nil {
		return err
	}
	video, err := h.Store.UpdateVideo(c.UserContext(), id, storage.VideoPatch{
		Title: req.Title, Producer: req.Producer, Creator: req.Creator, Tags: req.Tags})
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("update video %d: %w", id, err), noSuchVideo)
	}
	if video.Category != nil {
		h.invalidatePublic(c)
	}
	return c.JSON(toVideoView(video))
}

func (h *Handler) deleteVideo(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	wasPublished, err := h.Store.DeleteVideo(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("delete video %d: %w", id, err), noSuchVideo)
	}
	if wasPublished {
		h.invalidatePublic(c)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) streamVideo(c *fiber.Ctx) error {
	v, err := h.liveVideo(c, "id")
	if err != nil {
		return err
	}
	return h.serveVideo(c, v)
}

func (h *Handler) videoThumbnail(c *fiber.Ctx) error {
	v, err := h.liveVideo(c, "id")
	if err != nil {
		return err
	}
	return h.serveThumbnail(c, v)
}

type scanRequest struct {
	Dir string `json:"dir"`
}

// scan queues a scan of a folder under MEDIA_ROOT ("" for all of it).
func (h *Handler) scan(c *fiber.Ctx) error {
	var req scanRequest
	if len(c.Body()) > 0 {
		if err := httpx.BindJSON(c, &req); err != nil {
			return err
		}
	}
	dir := strings.Trim(strings.TrimSpace(req.Dir), "/")
	if dir == "." { // the whole root, like "": one scan, one task ID
		dir = ""
	}
	if dir != "" {
		if blob.CheckName(dir) != nil || strings.HasPrefix(dir, blob.TmpDir) {
			return httpx.Invalid(httpx.Detail{Field: "dir", Message: "must be a folder inside the media root, like imports/2024"})
		}
		st, err := h.root.Lstat(dir)
		if err != nil || !st.IsDir() {
			return httpx.NotFound("no such folder in the media root")
		}
	}
	task, err := tasks.NewMediaScan(tasks.MediaScan{Dir: dir, RequestedBy: httpx.CurrentUser(c).ID})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), enqueueTimeout)
	defer cancel()
	info, err := h.enqueueScan(ctx, task, tasks.MediaScanTaskID(dir))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"jobId": info.ID, "dir": dir})
}

func errScanQueued() error {
	return httpx.Conflict("a scan of this folder is already queued or running")
}

// enqueueScan enqueues a scan of one folder. Its task ID is the folder's, so
// asynq refuses it while another task holds that ID: a scan waiting or
// running is a 409, but one asynq only keeps as a record (archived after its
// last retry or cancelled by an admin, or completed within its retention)
// is deleted to make way for the new one.
func (h *Handler) enqueueScan(ctx context.Context, task *asynq.Task, id string) (*asynq.TaskInfo, error) {
	// Two rounds: a second conflict is another admin's scan, taken in between.
	info, err := tasks.EnqueueUnique(ctx, h.Queue, h.Inspector, task, tasks.QueueMedia, id, tasks.Policy{
		Replace: []asynq.TaskState{asynq.TaskStateArchived, asynq.TaskStateCompleted}, Rounds: 2})
	var held *tasks.HeldError
	var replace *tasks.ReplaceError
	switch {
	case err == nil:
		return info, nil
	case errors.As(err, &held):
		return nil, errScanQueued()
	case errors.As(err, &replace):
		return nil, h.refused(err, errScanQueued()) // an admin ran it again in between
	default:
		return nil, h.queueUnavailable(err)
	}
}

// Tags are lower case, trimmed, unique, at most 20 of at most 50 characters.
func splitTags(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	return normalizeTags(strings.Split(s, ","))
}

func normalizeTags(in []string) []string {
	out := []string{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func checkTags(v *httpx.Validator, tags []string) {
	v.Check(len(tags) <= 20, "tags", "at most 20 tags")
	for _, t := range tags {
		if len([]rune(t)) > 50 || strings.ContainsAny(t, "\r\n") {
			v.Add("tags", "each tag must be one line of at most 50 characters")
			return
		}
	}
}
