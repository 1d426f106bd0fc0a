package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// publicSummary is a campaign in the public list: only what a visitor may
// see, counts only when the campaign shows them, and nothing about its creator.
type publicSummary struct {
	Slug                   string    `json:"slug"`
	Title                  string    `json:"title"`
	Description            string    `json:"description"`
	CallToAction           string    `json:"callToAction"`
	CoverPhoto             string    `json:"coverPhoto"`
	Status                 string    `json:"status"`
	TargetGovernmentLevels []string  `json:"targetGovernmentLevels"`
	HighlightCampaign      bool      `json:"highlightCampaign"`
	EmailCount             *int      `json:"emailCount,omitempty"`
	CallCount              *int      `json:"callCount,omitempty"`
	CreatedAt              time.Time `json:"createdAt"`
}

// publicCampaign is one campaign's public page.
type publicCampaign struct {
	publicSummary
	EmailSubject          string            `json:"emailSubject"`
	EmailBody             string            `json:"emailBody"`
	AllowSMTPEmail        bool              `json:"allowSmtpEmail"`
	AllowMailtoLink       bool              `json:"allowMailtoLink"`
	CollectUserInfo       bool              `json:"collectUserInfo"`
	AllowEmailEditing     bool              `json:"allowEmailEditing"`
	AllowCustomRecipients bool              `json:"allowCustomRecipients"`
	ShowResponseWall      bool              `json:"showResponseWall"`
	CustomRecipients      []publicRecipient `json:"customRecipients"`
}

// publicRecipient is a custom recipient as visitors see them. Their address
// is shown only when the campaign offers mailto links, which need it; with
// SMTP sending only, visitors pick them by ID and never learn the address.
type publicRecipient struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Title  string `json:"title"`
	Email  string `json:"email,omitempty"`
	Mailto string `json:"mailto,omitempty"`
}

func summarize(c storage.Campaign) publicSummary {
	s := publicSummary{Slug: c.Slug, Title: c.Title, Description: c.Description, CallToAction: c.CallToAction,
		CoverPhoto: c.CoverPhoto, Status: c.Status, TargetGovernmentLevels: c.TargetGovernmentLevels,
		HighlightCampaign: c.HighlightCampaign, CreatedAt: c.CreatedAt}
	if c.ShowEmailCount {
		n := c.EmailCount
		s.EmailCount = &n
	}
	if c.ShowCallCount {
		n := c.CallCount
		s.CallCount = &n
	}
	return s
}

// MailtoLink builds a mailto: URL with subject and body, percent-encoded
// (mail programs do not read "+" as a space).
func MailtoLink(to, subject, body string) string {
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return "mailto:" + enc(to) + "?subject=" + enc(subject) + "&body=" + enc(body)
}

func (h *Handler) publicList(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListCampaigns(c.UserContext(), storage.CampaignFilter{Public: true,
		Limit: page.Limit, Offset: page.Offset()})
	if err != nil {
		return err
	}
	out := make([]publicSummary, len(list))
	for i, camp := range list {
		out[i] = summarize(camp)
	}
	return c.JSON(httpx.Paged(out, page, total))
}

// visibleSlug loads campaign slug as visitors may see it: ACTIVE or PAUSED.
func (h *Handler) visibleSlug(ctx context.Context, slug string) (storage.Campaign, error) {
	return h.visibleFrom(ctx, slug, h.Store.CampaignBySlug)
}

// visibleFrom is visibleSlug reading the campaign with bySlug.
func (h *Handler) visibleFrom(ctx context.Context, slug string,
	bySlug func(context.Context, string) (storage.Campaign, error)) (storage.Campaign, error) {
	if !storage.ValidSlug(slug) {
		return storage.Campaign{}, httpx.NotFound(noSuchCampaign)
	}
	camp, err := bySlug(ctx, slug)
	if err != nil {
		return storage.Campaign{}, httpx.NotFoundf(fmt.Errorf("campaign %q: %w", slug, err), noSuchCampaign)
	}
	if camp.Status != storage.CampaignActive && camp.Status != storage.CampaignPaused {
		return storage.Campaign{}, httpx.NotFound(noSuchCampaign)
	}
	return camp, nil
}

// publicPage is the body of GET /api/public/campaigns/:slug.
type publicPage struct {
	Campaign publicCampaign `json:"campaign"`
}

func (h *Handler) publicGet(c *fiber.Ctx) error {
	body, err := h.PublicPage(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// PublicPage is the body of GET /api/public/campaigns/:slug, from the page
// cache when it is fresh. A campaign visitors may not see is an error that
// IsNotFound recognizes. The web pages read it too (their meta tags), so a
// shared link and the API always agree. The body must not be modified.
func (h *Handler) PublicPage(ctx context.Context, slug string) ([]byte, error) {
	now := time.Now()
	if body, ok := h.pages.get(slug, now); ok {
		return body, nil
	}
	camp, err := h.visibleSlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	out := publicCampaign{publicSummary: summarize(camp), EmailSubject: camp.EmailSubject, EmailBody: camp.EmailBody,
		AllowSMTPEmail: camp.AllowSMTPEmail, AllowMailtoLink: camp.AllowMailtoLink,
		CollectUserInfo: camp.CollectUserInfo, AllowEmailEditing: camp.AllowEmailEditing,
		AllowCustomRecipients: camp.AllowCustomRecipients, ShowResponseWall: camp.ShowResponseWall,
		CustomRecipients: []publicRecipient{}}
	if camp.AllowCustomRecipients {
		recs, err := h.Store.Recipients(ctx, camp.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			pr := publicRecipient{ID: r.ID, Name: r.Name, Title: r.Title}
			if camp.AllowMailtoLink {
				pr.Email = r.Email
				pr.Mailto = MailtoLink(r.Email, camp.EmailSubject, camp.EmailBody)
			}
			out.CustomRecipients = append(out.CustomRecipients, pr)
		}
	}
	body, err := json.Marshal(publicPage{Campaign: out})
	if err != nil {
		return nil, err
	}
	// camp.Slug, not the parameter: fasthttp reuses the request's memory.
	h.pages.put(camp.Slug, body, now)
	return body, nil
}

// IsNotFound reports whether err (from PublicPage) means the campaign does
// not exist for visitors.
func IsNotFound(err error) bool {
	var e *httpx.Error
	return errors.Is(err, storage.ErrNotFound) || (errors.As(err, &e) && e.Status == fiber.StatusNotFound)
}
