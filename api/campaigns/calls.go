package campaigns

import (
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// callRequest reports that a visitor phoned one recipient of a campaign. The
// postal code is needed only to check that a representative is theirs; it
// is not stored, nor is anything else about the caller.
type callRequest struct {
	PostalCode string       `json:"postalCode"`
	Recipient  recipientRef `json:"recipient"`
	// IdempotencyKey is the Idempotency-Key header for clients that cannot
	// send it (a cross-origin browser page, as CORS allows only a few headers).
	IdempotencyKey string `json:"idempotencyKey"`
}

// publicCall is a recorded call as the caller sees it.
type publicCall struct {
	ID             int64     `json:"id"`
	RecipientName  string    `json:"recipientName"`
	RecipientTitle string    `json:"recipientTitle"`
	CreatedAt      time.Time `json:"createdAt"`
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// recordCall handles POST /api/public/campaigns/:slug/call: an ACTIVE
// campaign counts a call to one of its recipients (a representative of the
// caller's postal code at the campaign's levels, with or without an email
// address, or a custom recipient). Rate limited per IP. With an
// Idempotency-Key header (or idempotencyKey in the body), repeating the request returns the first call (200)
// and counts nothing; without one, each request is a new call (201).
func (h *Handler) recordCall(c *fiber.Ctx) error {
	camp, err := h.open(c, "calls")
	if err != nil {
		return err
	}
	var req callRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	key := strings.TrimSpace(c.Get("Idempotency-Key"))
	if key == "" {
		key = strings.TrimSpace(req.IdempotencyKey)
	}
	var v httpx.Validator
	v.MaxLen("Idempotency-Key", key, maxIdempotencyKey)
	v.Check(strings.IndexFunc(key, unicode.IsControl) < 0, "Idempotency-Key", "must not contain control characters")
	ref := req.Recipient
	switch {
	case ref.RepresentativeID == 0 && ref.CustomRecipientID == 0 && ref.Email == "":
		v.Add("recipient", "must name a representativeId, customRecipientId or email")
	case ref.RepresentativeID != 0 || ref.Email != "":
		if v.Required("postalCode", req.PostalCode) {
			code, ok := storage.NormalizePostalCode(req.PostalCode)
			v.Check(ok, "postalCode", "must be a Canadian postal code like T5K 2J1")
			req.PostalCode = code
		}
	default: // a custom recipient needs no postal code
		req.PostalCode = ""
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.Limiter.Check(c, httpx.Limit{Name: "call-ip", Max: h.Config.CallRateLimit,
		Window: h.Config.CallRateWindow}, httpx.ClientKey(c)); err != nil {
		return err
	}
	recipients, err := h.resolveRecipients(c.UserContext(), camp, req.PostalCode, []recipientRef{ref}, false)
	if err != nil {
		return err
	}
	r := recipients[0]
	call, created, count, err := h.Store.RecordCall(c.UserContext(), storage.CampaignCall{CampaignID: camp.ID,
		RecipientKind: r.kind, RecipientName: r.name, RecipientTitle: r.title, RecipientLevel: r.level}, key)
	if err != nil {
		return err
	}
	out := fiber.Map{"call": publicCall{ID: call.ID, RecipientName: call.RecipientName,
		RecipientTitle: call.RecipientTitle, CreatedAt: call.CreatedAt}}
	if camp.ShowCallCount {
		out["callCount"] = count
	}
	status := fiber.StatusCreated
	if !created {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(out)
}

// callStats handles GET /api/campaigns/:id/calls/stats: the campaign's calls
// by recipient.
func (h *Handler) callStats(c *fiber.Ctx) error {
	camp, err := h.owned(c)
	if err != nil {
		return err
	}
	total, by, err := h.Store.CampaignCallStats(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	if by == nil {
		by = []storage.CallCount{}
	}
	return c.JSON(fiber.Map{"stats": fiber.Map{"total": total, "byRecipient": httpx.MapSlice(by, toCallCountView)}})
}
