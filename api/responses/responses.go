// Package responses serves the response wall: constituents post the replies
// their representatives sent, verify them by email, and upvote them; admins
// moderate.
package responses

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/tasks"
)

// noSuchResponse is what a client reads when a response is missing.
const noSuchResponse = "no such response"

// Handler serves the response wall routes.
type Handler struct {
	Options
}

// Options are what the responses module needs.
type Options struct {
	Store   *storage.Store
	Auth    *httpx.Auth
	Limiter *httpx.RateLimiter
	Queue   *asynq.Client
	Config  config.InfluenceConfig
	// TokenKey signs verification links; VoterSalt hashes anonymous voters' IPs.
	TokenKey  []byte
	VoterSalt []byte
	Log       *slog.Logger
}

// New builds the module.
func New(o Options) (*Handler, error) {
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	r.Post("/public/campaigns/:slug/responses", h.submit)
	r.Get("/public/campaigns/:slug/responses", h.wall)
	r.Get("/public/responses/verify/:token", h.verify)
	r.Post("/public/responses/:id/upvote", h.Auth.Optional(), h.upvote)
	g := r.Group("/responses", h.Auth.Require(storage.RoleInfluenceAdmin))
	g.Get("/", h.list)
	g.Patch("/:id", h.moderate)
	g.Delete("/:id", h.delete)
}

// wallCampaign loads campaign :slug when its response wall is public.
func (h *Handler) wallCampaign(c *fiber.Ctx) (storage.Campaign, error) {
	slug := c.Params("slug")
	if !storage.ValidSlug(slug) {
		return storage.Campaign{}, httpx.NotFound("no such campaign")
	}
	const noWall = "no such campaign or it has no response wall"
	camp, err := h.Store.CampaignBySlug(c.UserContext(), slug)
	if err != nil {
		return storage.Campaign{}, httpx.NotFoundf(fmt.Errorf("campaign %q: %w", slug, err), noWall)
	}
	if !camp.ShowResponseWall || (camp.Status != storage.CampaignActive && camp.Status != storage.CampaignPaused) {
		return storage.Campaign{}, httpx.NotFound(noWall)
	}
	return camp, nil
}

type submitRequest struct {
	RepresentativeName  string `json:"representativeName"`
	RepresentativeTitle string `json:"representativeTitle"`
	RepresentativeLevel string `json:"representativeLevel"`
	RepresentativeEmail string `json:"representativeEmail"`
	ResponseType        string `json:"responseType"`
	ResponseText        string `json:"responseText"`
	Comment             string `json:"comment"`
	SubmitterName       string `json:"submitterName"`
	SubmitterEmail      string `json:"submitterEmail"`
	IsAnonymous         bool   `json:"isAnonymous"`
}

func (h *Handler) submit(c *fiber.Ctx) error {
	camp, err := h.wallCampaign(c)
	if err != nil {
		return err
	}
	var req submitRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	for _, p := range []*string{&req.RepresentativeName, &req.RepresentativeTitle, &req.RepresentativeEmail,
		&req.SubmitterName, &req.SubmitterEmail} {
		*p = strings.TrimSpace(*p)
	}
	var v httpx.Validator
	if v.Required("representativeName", req.RepresentativeName) {
		v.MaxLen("representativeName", req.RepresentativeName, 200)
		v.SingleLine("representativeName", req.RepresentativeName)
	}
	v.MaxLen("representativeTitle", req.RepresentativeTitle, 200)
	v.SingleLine("representativeTitle", req.RepresentativeTitle)
	if req.RepresentativeLevel != "" {
		v.OneOf("representativeLevel", req.RepresentativeLevel, storage.GovernmentLevels)
	}
	if req.RepresentativeEmail != "" {
		v.Email("representativeEmail", req.RepresentativeEmail)
	}
	v.OneOf("responseType", req.ResponseType, storage.ResponseTypes)
	if v.Required("responseText", req.ResponseText) {
		v.MaxLen("responseText", req.ResponseText, 10_000)
		v.MultiLine("responseText", req.ResponseText)
	}
	v.MaxLen("comment", req.Comment, 2000)
	v.MultiLine("comment", req.Comment)
	v.MaxLen("submitterName", req.SubmitterName, 100)
	v.SingleLine("submitterName", req.SubmitterName)
	if req.SubmitterEmail != "" {
		v.Email("submitterEmail", req.SubmitterEmail)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.Limiter.Check(c, httpx.Limit{Name: "response-submit", Max: h.Config.ResponseRateLimit,
		Window: h.Config.ResponseRateWindow}, httpx.ClientKey(c)); err != nil {
		return err
	}
	resp, err := h.Store.CreateResponse(c.UserContext(), storage.Response{CampaignID: camp.ID,
		RepresentativeName: req.RepresentativeName, RepresentativeTitle: req.RepresentativeTitle,
		RepresentativeLevel: req.RepresentativeLevel, RepresentativeEmail: req.RepresentativeEmail,
		ResponseType: req.ResponseType, ResponseText: req.ResponseText, Comment: req.Comment,
		SubmitterName: req.SubmitterName, SubmitterEmail: req.SubmitterEmail, IsAnonymous: req.IsAnonymous})
	if err != nil {
		return err
	}
	verification := resp.SubmitterEmail != "" && h.claimVerification(c.UserContext(), resp)
	if verification {
		h.enqueueVerification(c.UserContext(), resp.ID)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"response": fiber.Map{"id": resp.ID, "status": resp.Status},
		"verificationEmail": verification})
}

// claimVerification reports whether resp may send its verification email:
// an address gets at most one an hour. A response that may not is recorded
// as such, so the sweeper leaves it. When Postgres cannot tell, it answers
// true and leaves the decision to the worker, which claims again.
func (h *Handler) claimVerification(ctx context.Context, resp storage.Response) bool {
	ok, err := h.Store.ClaimVerificationEmail(ctx, resp.SubmitterEmail, resp.ID)
	if err != nil {
		h.Log.Warn("claim verification email; the worker will decide", "response_id", resp.ID, "err", err)
		return true
	}
	if !ok {
		if _, err := h.Store.MarkVerificationFailed(ctx, resp.ID, storage.VerificationThrottled); err != nil {
			h.Log.Warn("record throttled verification; the worker will", "response_id", resp.ID, "err", err)
		}
	}
	return ok
}

// enqueueVerification asks the email fleet for the verification email. A
// failure is logged: the sweeper enqueues verifications that never went out.
func (h *Handler) enqueueVerification(ctx context.Context, id int64) {
	task, err := tasks.NewVerifyResponse(tasks.VerifyResponse{ResponseID: id})
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = h.Queue.EnqueueContext(ctx, task)
		cancel()
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		h.Log.Warn("enqueue response verification failed; the sweeper will retry", "response_id", id, "err", err)
	}
}

// publicResponse is a response as the wall shows it: never the submitter's
// email, and no name at all for anonymous submissions.
type publicResponse struct {
	ID                  int64     `json:"id"`
	RepresentativeName  string    `json:"representativeName"`
	RepresentativeTitle string    `json:"representativeTitle"`
	RepresentativeLevel string    `json:"representativeLevel"`
	ResponseType        string    `json:"responseType"`
	ResponseText        string    `json:"responseText"`
	Comment             string    `json:"comment"`
	SubmitterName       *string   `json:"submitterName"`
	IsAnonymous         bool      `json:"isAnonymous"`
	IsVerified          bool      `json:"isVerified"`
	UpvoteCount         int       `json:"upvoteCount"`
	CreatedAt           time.Time `json:"createdAt"`
}

func toPublic(r storage.Response) publicResponse {
	p := publicResponse{ID: r.ID, RepresentativeName: r.RepresentativeName, RepresentativeTitle: r.RepresentativeTitle,
		RepresentativeLevel: r.RepresentativeLevel, ResponseType: r.ResponseType, ResponseText: r.ResponseText,
		Comment: r.Comment, IsAnonymous: r.IsAnonymous, IsVerified: r.VerifiedAt != nil, UpvoteCount: r.UpvoteCount,
		CreatedAt: r.CreatedAt}
	if !r.IsAnonymous && r.SubmitterName != "" {
		name := r.SubmitterName
		p.SubmitterName = &name
	}
	return p
}

func (h *Handler) wall(c *fiber.Ctx) error {
	camp, err := h.wallCampaign(c)
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	sort := c.Query("sort", storage.SortRecent)
	var v httpx.Validator
	v.OneOf("sort", sort, []string{storage.SortRecent, storage.SortUpvotes, storage.SortVerified})
	if err := v.Err(); err != nil {
		return err
	}
	list, total, err := h.Store.ListResponses(c.UserContext(), storage.ResponseFilter{CampaignID: camp.ID,
		Status: storage.ResponseApproved, Sort: sort, Limit: page.Limit, Offset: page.Offset()})
	if err != nil {
		return err
	}
	out := make([]publicResponse, len(list))
	for i, r := range list {
		out[i] = toPublic(r)
	}
	return c.JSON(httpx.Paged(out, page, total))
}

func (h *Handler) verify(c *fiber.Ctx) error {
	id, err := storage.OpenResponseToken(h.TokenKey, c.Params("token"), time.Now())
	if err != nil {
		return httpx.BadRequest("this verification link is invalid or has expired")
	}
	r, err := h.Store.VerifyResponse(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("verify response %d: %w", id, err), "this response no longer exists")
	}
	return c.JSON(fiber.Map{"verified": true, "response": fiber.Map{"id": r.ID, "status": r.Status}})
}

// voterKey identifies an upvoter: the user when logged in, else a salted
// hash of the client (its IPv4 address or IPv6 /64, which one subscriber
// holds whole; the raw address is never stored).
func (h *Handler) voterKey(c *fiber.Ctx) string {
	if u := httpx.CurrentUser(c); u != nil {
		return "u:" + strconv.FormatInt(u.ID, 10)
	}
	mac := hmac.New(sha256.New, h.VoterSalt)
	mac.Write([]byte(httpx.ClientKey(c)))
	return "ip:" + hex.EncodeToString(mac.Sum(nil)[:16])
}

func (h *Handler) upvote(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	count, added, err := h.Store.Upvote(c.UserContext(), id, h.voterKey(c))
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("upvote response %d: %w", id, err), noSuchResponse)
	}
	return c.JSON(fiber.Map{"upvoteCount": count, "upvoted": true, "alreadyUpvoted": !added})
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.ResponseFilter{Status: c.Query("status"), Limit: page.Limit, Offset: page.Offset()}
	var v httpx.Validator
	if f.Status != "" {
		v.OneOf("status", f.Status, storage.ResponseStatuses)
	}
	if s := c.Query("campaignId"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n > 0, "campaignId", "must be a positive integer")
		f.CampaignID = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	if u := httpx.CurrentUser(c); u.Role != storage.RoleSuperAdmin {
		f.CreatedBy = u.ID
	}
	list, total, err := h.Store.ListResponses(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toResponseView), page, total))
}

// managed loads response :id and checks that the user may moderate it.
func (h *Handler) managed(c *fiber.Ctx) (storage.Response, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.Response{}, err
	}
	r, err := h.Store.ResponseByID(c.UserContext(), id)
	if err != nil {
		return r, httpx.NotFoundf(fmt.Errorf("response %d: %w", id, err), noSuchResponse)
	}
	u := httpx.CurrentUser(c)
	if u.Role == storage.RoleSuperAdmin {
		return r, nil
	}
	camp, err := h.Store.CampaignByID(c.UserContext(), r.CampaignID)
	if err != nil {
		return r, fmt.Errorf("campaign %d of response %d: %w", r.CampaignID, r.ID, err)
	}
	if camp.CreatedBy == nil || *camp.CreatedBy != u.ID {
		return r, httpx.Forbidden("you may moderate only responses to the campaigns you created")
	}
	return r, nil
}

type moderateRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (h *Handler) moderate(c *fiber.Ctx) error {
	r, err := h.managed(c)
	if err != nil {
		return err
	}
	var req moderateRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	v.Check(slices.Contains([]string{storage.ResponseApproved, storage.ResponseRejected}, req.Status), "status",
		"must be APPROVED or REJECTED")
	v.MaxLen("note", req.Note, 2000)
	v.MultiLine("note", req.Note)
	if err := v.Err(); err != nil {
		return err
	}
	r, err = h.Store.ModerateResponse(c.UserContext(), r.ID, req.Status, strings.TrimSpace(req.Note), httpx.CurrentUser(c).ID)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("moderate response: %w", err), noSuchResponse)
	}
	return c.JSON(fiber.Map{"response": toResponseView(r)})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	r, err := h.managed(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteResponse(c.UserContext(), r.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
