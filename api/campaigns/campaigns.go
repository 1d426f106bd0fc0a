// Package campaigns serves influence campaigns: admin management with custom
// recipients and the email log, the public campaign pages, the two ways a
// constituent writes to their representatives (send-email through the email
// fleet, or a recorded mailto link), and the count of calls they report.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/storage/cachenotify"
)

// What a client reads when a campaign is missing, or its slug taken.
const (
	noSuchCampaign = "no such campaign"
	slugTaken      = "a campaign with this slug already exists"
)

// Handler serves /api/campaigns and /api/public/campaigns.
type Handler struct {
	Options
	pages *pageCache // public pages; nil when Config.PageCacheTTL is 0
	// sending holds the campaigns the public send routes read by slug,
	// dropped by notification on any change (nil when
	// Config.CampaignCacheTTL is 0); stop ends its listener.
	sending *cachenotify.Table[string, storage.Campaign]
	// reps holds the representatives of the postal codes the send routes
	// resolve recipients for, dropped by notification when a postal code's
	// representatives change (migration 0019); nil with sending.
	reps *cachenotify.Table[string, []storage.Representative]
	stop func()
	// inserts writes the send route's rows, requests arriving together in
	// one statement; nil writes each request on its own.
	inserts *storage.EmailBatcher
}

// Options are what the campaigns module needs.
type Options struct {
	Store     *storage.Store
	Auth      *httpx.Auth
	Limiter   *httpx.RateLimiter
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	Config    config.InfluenceConfig
	Registry  prometheus.Registerer // nil: the module's metrics are not exported
	Log       *slog.Logger
}

// New builds the module and its caches. With Config.CampaignCacheTTL, it
// starts listening for changes of the campaigns (one connection of the
// Store's pool, until Close).
func New(o Options) (*Handler, error) {
	h := &Handler{Options: o, pages: newPageCache(o.Config.PageCacheTTL, maxCachedPages), stop: func() {}}
	if o.Config.SendInsertSlots > 0 && o.Store != nil {
		batches := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cm_send_insert_batch_requests",
			Help:    "Requests whose email rows the send route wrote with one INSERT (SEND_INSERT_SLOTS).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		})
		if o.Registry != nil {
			if err := o.Registry.Register(batches); err != nil {
				return nil, err
			}
		}
		h.inserts = storage.NewEmailBatcher(o.Store, storage.EmailBatcherOptions{Slots: o.Config.SendInsertSlots,
			MaxRows: maxBatchRows, Timeout: insertTimeout,
			Written: func(requests, _ int) { batches.Observe(float64(requests)) }})
	}
	if o.Config.CampaignCacheTTL > 0 && o.Store != nil {
		l := cachenotify.NewListener()
		h.sending = cachenotify.NewTable(l, o.Config.CampaignCacheTTL, maxCachedPages,
			func(c cachenotify.Change, _ string, camp storage.Campaign) bool { return c.Campaign == camp.ID })
		h.reps = cachenotify.NewTable(l, o.Config.CampaignCacheTTL, maxCachedReps,
			func(c cachenotify.Change, postal string, _ []storage.Representative) bool { return c.Postal == postal })
		log := o.Log
		if log == nil {
			log = slog.Default()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.Listen(ctx, o.Store.Pool, log, "campaigns")
		}()
		h.stop = func() { cancel(); <-done }
	}
	return h, nil
}

// Close stops listening for changes of the campaigns.
func (h *Handler) Close() error {
	h.stop()
	return nil
}

// A batch of the send route's rows holds at most maxBatchRows rows (a
// request naming more recipients is a batch of its own) and is given
// insertTimeout.
const (
	maxBatchRows  = 200
	insertTimeout = 10 * time.Second
)

// maxCachedPages bounds the public page cache: a scan of random slugs finds
// nothing to cache (only pages that exist are kept), and real campaigns are
// far fewer.
const maxCachedPages = 1000

// Admin roles. SUPER_ADMIN passes every role check; an INFLUENCE_ADMIN
// manages the campaigns they created.
var adminRoles = []string{storage.RoleInfluenceAdmin}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	g := r.Group("/campaigns", h.Auth.Require(adminRoles...))
	g.Get("/", h.list)
	g.Post("/", h.create)
	g.Get("/:id", h.get)
	g.Patch("/:id", h.update)
	g.Delete("/:id", h.delete)
	g.Get("/:id/recipients", h.listRecipients)
	g.Post("/:id/recipients", h.addRecipient)
	g.Delete("/:id/recipients/:recipientId", h.deleteRecipient)
	g.Get("/:id/emails", h.listEmails)
	g.Get("/:id/emails/stats", h.emailStats)
	g.Post("/:id/emails/:emailId/retry", h.retryEmail)
	g.Get("/:id/calls/stats", h.callStats)

	p := r.Group("/public/campaigns")
	p.Get("/", h.publicList)
	p.Get("/:slug", h.publicGet)
	p.Post("/:slug/send-email", h.sendEmail)
	p.Post("/:slug/mailto", h.mailto)
	p.Post("/:slug/call", h.recordCall)
}

// owned loads campaign :id and checks that the current user may manage it.
func (h *Handler) owned(c *fiber.Ctx) (storage.Campaign, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.Campaign{}, err
	}
	camp, err := h.Store.CampaignByID(c.UserContext(), id)
	if err != nil {
		return storage.Campaign{}, httpx.NotFoundf(fmt.Errorf("campaign %d: %w", id, err), noSuchCampaign)
	}
	if !mayManage(httpx.CurrentUser(c), camp) {
		return storage.Campaign{}, httpx.Forbidden("you may manage only the campaigns you created")
	}
	return camp, nil
}

func mayManage(u *storage.User, camp storage.Campaign) bool {
	if u == nil {
		return false
	}
	if u.Role == storage.RoleSuperAdmin {
		return true
	}
	return camp.CreatedBy != nil && *camp.CreatedBy == u.ID
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.CampaignFilter{Search: strings.TrimSpace(c.Query("search")), Status: c.Query("status"),
		Limit: page.Limit, Offset: page.Offset()}
	var v httpx.Validator
	if f.Status != "" {
		v.OneOf("status", f.Status, storage.CampaignStatuses)
	}
	v.MaxLen("search", f.Search, 200)
	if err := v.Err(); err != nil {
		return err
	}
	if u := httpx.CurrentUser(c); u.Role != storage.RoleSuperAdmin {
		f.CreatedBy = u.ID
	}
	list, total, err := h.Store.ListCampaigns(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toCampaignView), page, total))
}

// campaignRequest is the body of create and update; absent fields stay as they are.
type campaignRequest struct {
	Slug                   *string   `json:"slug"`
	Title                  *string   `json:"title"`
	Description            *string   `json:"description"`
	EmailSubject           *string   `json:"emailSubject"`
	EmailBody              *string   `json:"emailBody"`
	CallToAction           *string   `json:"callToAction"`
	CoverPhoto             *string   `json:"coverPhoto"`
	Status                 *string   `json:"status"`
	TargetGovernmentLevels *[]string `json:"targetGovernmentLevels"`
	AllowSMTPEmail         *bool     `json:"allowSmtpEmail"`
	AllowMailtoLink        *bool     `json:"allowMailtoLink"`
	CollectUserInfo        *bool     `json:"collectUserInfo"`
	ShowEmailCount         *bool     `json:"showEmailCount"`
	ShowCallCount          *bool     `json:"showCallCount"`
	AllowEmailEditing      *bool     `json:"allowEmailEditing"`
	AllowCustomRecipients  *bool     `json:"allowCustomRecipients"`
	ShowResponseWall       *bool     `json:"showResponseWall"`
	HighlightCampaign      *bool     `json:"highlightCampaign"`
}

// Field limits.
const (
	maxTitle       = 200
	maxSubject     = 200
	maxBody        = 10_000
	maxDescription = 10_000
	maxShort       = 500
	maxURL         = 2000
)

func (req *campaignRequest) validate(v *httpx.Validator, creating bool) storage.CampaignFields {
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		s := strings.TrimSpace(*p)
		return &s
	}
	req.Slug, req.Title, req.EmailSubject, req.CoverPhoto = trim(req.Slug), trim(req.Title), trim(req.EmailSubject), trim(req.CoverPhoto)
	if creating && req.Title == nil {
		v.Add("title", "is required")
	}
	if req.Title != nil && v.Required("title", *req.Title) {
		v.MaxLen("title", *req.Title, maxTitle)
		v.SingleLine("title", *req.Title)
	}
	if req.Slug != nil {
		*req.Slug = strings.ToLower(*req.Slug)
		v.Check(storage.ValidSlug(*req.Slug), "slug", "must be lower-case letters and digits joined by single hyphens, at most 100 characters")
	}
	if req.EmailSubject != nil {
		v.MaxLen("emailSubject", *req.EmailSubject, maxSubject)
		v.SingleLine("emailSubject", *req.EmailSubject)
	}
	if req.EmailBody != nil {
		v.MaxLen("emailBody", *req.EmailBody, maxBody)
		v.MultiLine("emailBody", *req.EmailBody)
	}
	if req.Description != nil {
		v.MaxLen("description", *req.Description, maxDescription)
		v.MultiLine("description", *req.Description)
	}
	if req.CallToAction != nil {
		v.MaxLen("callToAction", *req.CallToAction, maxShort)
		v.SingleLine("callToAction", *req.CallToAction)
	}
	if req.CoverPhoto != nil {
		v.MaxLen("coverPhoto", *req.CoverPhoto, maxURL)
		v.SingleLine("coverPhoto", *req.CoverPhoto)
		v.Check(*req.CoverPhoto == "" || imageURL(*req.CoverPhoto), "coverPhoto",
			"must be an http(s) URL or a path starting with /")
	}
	if req.Status != nil {
		v.OneOf("status", *req.Status, storage.CampaignStatuses)
	}
	if req.TargetGovernmentLevels != nil {
		levels := []string{}
		for _, l := range *req.TargetGovernmentLevels {
			if !slices.Contains(storage.GovernmentLevels, l) {
				v.Add("targetGovernmentLevels", "each must be one of "+strings.Join(storage.GovernmentLevels, ", "))
				break
			}
			if !slices.Contains(levels, l) {
				levels = append(levels, l)
			}
		}
		req.TargetGovernmentLevels = &levels
	}
	return storage.CampaignFields{
		Slug: req.Slug, Title: req.Title, Description: req.Description, EmailSubject: req.EmailSubject,
		EmailBody: req.EmailBody, CallToAction: req.CallToAction, CoverPhoto: req.CoverPhoto, Status: req.Status,
		TargetGovernmentLevels: req.TargetGovernmentLevels, AllowSMTPEmail: req.AllowSMTPEmail,
		AllowMailtoLink: req.AllowMailtoLink, CollectUserInfo: req.CollectUserInfo, ShowEmailCount: req.ShowEmailCount,
		ShowCallCount: req.ShowCallCount, AllowEmailEditing: req.AllowEmailEditing,
		AllowCustomRecipients: req.AllowCustomRecipients, ShowResponseWall: req.ShowResponseWall,
		HighlightCampaign: req.HighlightCampaign,
	}
}

// checkActivation refuses an ACTIVE campaign that could not send a sensible email.
func checkActivation(v *httpx.Validator, status, subject, body string) {
	if status != storage.CampaignActive {
		return
	}
	v.Check(strings.TrimSpace(subject) != "", "emailSubject", "is required before the campaign can be ACTIVE")
	v.Check(strings.TrimSpace(body) != "", "emailBody", "is required before the campaign can be ACTIVE")
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req campaignRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	f := req.validate(&v, true)
	if f.Status != nil && *f.Status != storage.CampaignDraft && *f.Status != storage.CampaignActive {
		v.Add("status", "a new campaign must be DRAFT or ACTIVE")
	}
	checkActivation(&v, deref(f.Status, storage.CampaignDraft), deref(f.EmailSubject, ""), deref(f.EmailBody, ""))
	if err := v.Err(); err != nil {
		return err
	}
	camp, err := h.Store.CreateCampaign(c.UserContext(), f, httpx.CurrentUser(c).ID)
	if err != nil {
		return httpx.Conflictf(fmt.Errorf("create campaign: %w", err), slugTaken)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"campaign": toCampaignView(camp)})
}

func (h *Handler) get(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"campaign": toCampaignView(camp)})
}

func (h *Handler) update(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	var req campaignRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	f := req.validate(&v, false)
	if err := v.Err(); err != nil {
		return err
	}
	if f.Status != nil && !storage.CampaignTransitionAllowed(camp.Status, *f.Status) {
		return httpx.Conflict("a " + camp.Status + " campaign cannot become " + *f.Status)
	}
	checkActivation(&v, deref(f.Status, camp.Status), deref(f.EmailSubject, camp.EmailSubject),
		deref(f.EmailBody, camp.EmailBody))
	if err := v.Err(); err != nil {
		return err
	}
	oldSlug := camp.Slug
	id := camp.ID
	camp, err = h.Store.UpdateCampaign(c.UserContext(), id, f)
	h.pages.drop(oldSlug, camp.Slug)
	if err != nil {
		return httpx.Conflictf(httpx.NotFoundf(fmt.Errorf("update campaign %d: %w", id, err), noSuchCampaign), slugTaken)
	}
	return c.JSON(fiber.Map{"campaign": toCampaignView(camp)})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteCampaign(c.UserContext(), camp.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	h.pages.drop(camp.Slug)
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) listRecipients(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	list, err := h.Store.Recipients(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": httpx.MapSlice(list, toRecipientView)})
}

type recipientRequest struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Email string `json:"email"`
}

func (h *Handler) addRecipient(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	var req recipientRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Name, req.Title, req.Email = strings.TrimSpace(req.Name), strings.TrimSpace(req.Title), strings.TrimSpace(req.Email)
	var v httpx.Validator
	if v.Required("name", req.Name) {
		v.MaxLen("name", req.Name, maxTitle)
		v.SingleLine("name", req.Name)
	}
	v.MaxLen("title", req.Title, maxTitle)
	v.SingleLine("title", req.Title)
	if v.Required("email", req.Email) {
		v.Email("email", req.Email)
	}
	if err := v.Err(); err != nil {
		return err
	}
	rec, err := h.Store.AddRecipient(c.UserContext(), camp.ID, req.Name, req.Title, req.Email)
	h.pages.drop(camp.Slug)
	if err != nil {
		return httpx.Conflictf(fmt.Errorf("add recipient to campaign %d: %w", camp.ID, err),
			"this campaign already has a recipient with this email")
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"recipient": toRecipientView(rec)})
}

func (h *Handler) deleteRecipient(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	id, err := httpx.ParamID(c, "recipientId")
	if err != nil {
		return err
	}
	err = h.Store.DeleteRecipient(c.UserContext(), camp.ID, id)
	h.pages.drop(camp.Slug)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("delete recipient %d of campaign %d: %w", id, camp.ID, err), "no such recipient")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// imageURL reports whether s may go into a page as an image's address: an
// absolute http(s) URL or a path on this site. Not javascript:, data: or
// anything else a browser would run or a visitor would not expect.
func imageURL(s string) bool {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
