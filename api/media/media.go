// Package media is the media API: streaming uploads, the video library, the
// public gallery with views and reactions, and the media queue's jobs.
package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/storage/blob"
)

// Who may do what. Uploads, scans, deletes and job control are for
// SUPER_ADMIN; content admins curate the library and the gallery; the
// gallery and reactions are public.
var (
	managerRoles = []string{storage.RoleSuperAdmin, storage.RoleInfluenceAdmin}
	ownerRoles   = []string{storage.RoleSuperAdmin}
)

// Options are what the media API needs.
type Options struct {
	Config    config.MediaConfig
	BodyLimit int // bytes a JSON request may carry
	RateLimit httpx.Limit
	// ViewerSecret keys the hash that stands for an anonymous viewer.
	ViewerSecret string
	Store        *storage.Store
	Redis        redis.UniversalClient
	Queue        *asynq.Client
	Inspector    *asynq.Inspector
	Auth         *httpx.Auth
	Limiter      *httpx.RateLimiter
	Registry     prometheus.Registerer
	Log          *slog.Logger
}

// What a client reads when a video is missing.
const (
	noSuchVideo  = "no such video"
	notInGallery = "no such video in the gallery"
)

// Handler serves the media API's routes.
type Handler struct {
	Options
	root      *blob.Root
	viewerKey []byte
	uploads   *prometheus.CounterVec
	bytes     prometheus.Counter
	// streamLimit counts stream and thumbnail requests, apart from RateLimit.
	streamLimit httpx.Limit
	gallery     *httpx.FeatureSwitch // the settings' enableMedia
}

// New opens the media root and registers the media metrics.
func New(o Options) (*Handler, error) {
	root, err := blob.Open(o.Config.Root)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte("changemaker media viewer\x00" + o.ViewerSecret))
	h := &Handler{Options: o, root: root, viewerKey: key[:],
		streamLimit: httpx.Limit{Name: "media-stream", Max: o.Config.StreamRateLimit, Window: o.RateLimit.Window},
		gallery: &httpx.FeatureSwitch{Settings: o.Store, Feature: "the media gallery", TTL: o.Config.SettingsTTL,
			Log: o.Log, On: func(st storage.Settings) bool { return st.EnableMedia }},
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_media_uploads_total",
			Help: "Videos uploaded, by container type.",
		}, []string{"type"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_media_upload_bytes_total",
			Help: "Bytes of video stored by uploads.",
		}),
	}
	if o.Registry != nil {
		if err := o.Registry.Register(h.uploads); err != nil {
			return nil, fmt.Errorf("register media metrics: %w", err)
		}
		if err := o.Registry.Register(h.bytes); err != nil {
			return nil, fmt.Errorf("register media metrics: %w", err)
		}
	}
	return h, nil
}

// Close releases the media root.
func (h *Handler) Close() error { return h.root.Close() }

// Routes mounts the media API on r (the /api/media group).
func (h *Handler) Routes(r fiber.Router) {
	auth := h.Auth
	r.Use(h.guard)

	r.Post("/videos", httpx.DrainUnread(drainLimit, drainWait), auth.Optional(), h.uploadGate, auth.Require(ownerRoles...), h.upload)
	r.Post("/videos/scan", auth.Require(ownerRoles...), h.scan)
	r.Get("/videos", auth.Require(managerRoles...), h.listVideos)
	r.Get("/videos/:id", auth.Require(managerRoles...), h.getVideo)
	r.Patch("/videos/:id", auth.Require(managerRoles...), h.patchVideo)
	r.Delete("/videos/:id", auth.Require(ownerRoles...), h.deleteVideo)
	r.Get("/videos/:id/stream", auth.Require(managerRoles...), h.streamVideo)
	r.Get("/videos/:id/thumbnail", auth.Require(managerRoles...), h.videoThumbnail)

	r.Get("/shared", auth.Require(managerRoles...), h.listShared)
	r.Post("/shared/:videoId", auth.Require(managerRoles...), h.publish)
	r.Delete("/shared/:videoId", auth.Require(managerRoles...), h.unpublish)

	r.Get("/public", h.galleryOn, h.listPublic)
	r.Get("/public/:id", h.galleryOn, auth.Optional(), h.getPublic)
	r.Post("/public/:id/view", h.galleryOn, auth.Optional(), h.view)
	r.Get("/public/:id/stream", h.galleryOn, h.streamPublic)
	r.Get("/public/:id/thumbnail", h.galleryOn, h.thumbnailPublic)
	r.Post("/reactions", h.galleryOn, auth.Optional(), h.react)

	r.Get("/jobs", auth.Require(managerRoles...), h.listJobs)
	r.Get("/jobs/:id", auth.Require(managerRoles...), h.getJob)
	r.Post("/jobs/:id/retry", auth.Require(ownerRoles...), h.retryJob)
	r.Post("/jobs/:id/cancel", auth.Require(ownerRoles...), h.cancelJob)
}

func isUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && (c.Path() == "/api/media/videos" || c.Path() == "/api/media/videos/")
}

// isFileRequest reports whether c fetches a video or a thumbnail:
// GET or HEAD /api/media/{videos,public}/:id/{stream,thumbnail}, matched as
// loosely as the router matches it (any case, a trailing slash).
func isFileRequest(c *fiber.Ctx) bool {
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return false
	}
	p := strings.Split(strings.TrimSuffix(strings.TrimPrefix(c.Path(), "/"), "/"), "/")
	return len(p) == 5 && strings.EqualFold(p[0], "api") && strings.EqualFold(p[1], "media") &&
		(strings.EqualFold(p[2], "videos") || strings.EqualFold(p[2], "public")) &&
		(strings.EqualFold(p[4], "stream") || strings.EqualFold(p[4], "thumbnail"))
}

// guard runs before every media route. The media app streams request bodies
// (so uploads never sit in memory), which also means the app's body limit no
// longer rejects anything: here every request but an upload has its body
// read, bounded by BodyLimit (413 past it), and is rate limited per client.
// A video player fetches one video in many range requests, so stream and
// thumbnail requests count against a separate, much higher limit and never
// use up the one that protects the rest of the API. Uploads are limited in
// uploadGate, where the caller is known.
func (h *Handler) guard(c *fiber.Ctx) error {
	if isUpload(c) {
		return c.Next()
	}
	if err := h.readBody(c); err != nil {
		return err
	}
	limit := h.RateLimit
	if isFileRequest(c) {
		limit = h.streamLimit
	}
	if err := h.Limiter.Check(c, limit, httpx.ClientKey(c)); err != nil {
		return err
	}
	return c.Next()
}

func (h *Handler) readBody(c *fiber.Ctx) error {
	req := c.Request()
	if !req.IsBodyStream() {
		return nil
	}
	limit := h.BodyLimit
	if limit <= 0 {
		limit = 1 << 20
	}
	n := req.Header.ContentLength()
	if n > limit {
		return tooLarge(c, "request body too large")
	}
	if n == 0 {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
	if err != nil {
		c.Response().Header.SetConnectionClose()
		return httpx.BadRequest("could not read the request body")
	}
	if len(b) > limit {
		return tooLarge(c, "request body too large")
	}
	req.SetBodyRaw(b) // also drops the consumed stream
	return nil
}

// tooLarge is a 413 that closes the connection: the rest of the body is
// never read, so the connection cannot carry another request.
func tooLarge(c *fiber.Ctx, msg string) error {
	c.Response().Header.SetConnectionClose()
	return httpx.NewError(fiber.StatusRequestEntityTooLarge, httpx.CodeTooLarge, msg)
}

// galleryOn lets a public gallery request through only while the enableMedia
// setting is on; otherwise it answers 404 feature_disabled, the code the main
// API answers for its own switched-off features, so a front end needs one
// rule for both. The admin routes stay open so the library can be curated
// before it goes live.
func (h *Handler) galleryOn(c *fiber.Ctx) error {
	if !h.gallery.Enabled(c.UserContext()) {
		return httpx.NewError(fiber.StatusNotFound, httpx.CodeFeatureDisabled, "the media gallery is turned off on this site")
	}
	return c.Next()
}

// viewer names who is reacting or viewing: the user when signed in, else a
// keyed hash of the client's key (httpx.ClientKey: the IPv4 address or the
// IPv6 /64; no address is stored). Nothing the client chooses, such as its
// User-Agent, goes into it: rotating one would make a new viewer each time,
// with a new reaction and a new view.
func (h *Handler) viewer(c *fiber.Ctx) string {
	if u := httpx.CurrentUser(c); u != nil {
		return "u:" + strconv.FormatInt(u.ID, 10)
	}
	m := hmac.New(sha256.New, h.viewerKey)
	io.WriteString(m, httpx.ClientKey(c))
	return "a:" + hex.EncodeToString(m.Sum(nil)[:16])
}
