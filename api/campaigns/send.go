package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/storage"
	"changemaker/storage/ratelimit"
	"changemaker/tasks"
)

// recipientRef names one recipient of a constituent's email: a representative
// of their postal code by ID, a custom recipient by ID, or either by address.
type recipientRef struct {
	RepresentativeID  int64  `json:"representativeId"`
	CustomRecipientID int64  `json:"customRecipientId"`
	Email             string `json:"email"`
}

type sendRequest struct {
	SenderName  string         `json:"senderName"`
	SenderEmail string         `json:"senderEmail"`
	PostalCode  string         `json:"postalCode"`
	Recipients  []recipientRef `json:"recipients"`
	Subject     *string        `json:"subject"`
	Body        *string        `json:"body"`
}

const maxSenderName = 100

// validateSender checks the constituent's name, address and postal code.
// CR or LF in the name would let it inject mail headers: a 400.
func validateSender(v *httpx.Validator, name, email, postal *string, postalRequired bool) {
	*name, *email = strings.TrimSpace(*name), strings.TrimSpace(*email)
	if v.Required("senderName", *name) {
		v.MaxLen("senderName", *name, maxSenderName)
		v.SingleLine("senderName", *name)
	}
	if v.Required("senderEmail", *email) {
		v.Email("senderEmail", *email)
	}
	if *postal == "" && !postalRequired {
		return
	}
	if v.Required("postalCode", *postal) {
		code, ok := storage.NormalizePostalCode(*postal)
		v.Check(ok, "postalCode", "must be a Canadian postal code like T5K 2J1")
		*postal = code
	}
}

// resolved is an allowed recipient with what the email row records of them.
type resolved struct {
	kind, name, title, district, level, email string
}

// resolveRecipients maps refs to allowed recipients: representatives of the
// postal code (as cached) at the campaign's levels — only those with an
// address when requireEmail — and the campaign's custom recipients when it
// allows them. Anything else is a 400 naming the entry; an arbitrary address
// is never accepted.
func (h *Handler) resolveRecipients(ctx context.Context, camp storage.Campaign, postal string, refs []recipientRef,
	requireEmail bool) ([]resolved, error) {
	var reps []storage.Representative
	needReps := false
	for _, r := range refs {
		needReps = needReps || r.RepresentativeID != 0 || r.Email != ""
	}
	if needReps && postal != "" {
		all, err := h.representativesFor(ctx, postal)
		if err != nil {
			return nil, err
		}
		// Representatives are stored only with a FOUND postal code (saved,
		// and deleted, with it in one transaction): the code itself is read
		// only when there are none, to tell why.
		if len(all) == 0 {
			pc, err := h.Store.PostalCodeByCode(ctx, postal)
			if errors.Is(err, storage.ErrNotFound) {
				return nil, httpx.Conflict("look up the representatives of this postal code first")
			}
			if err != nil {
				return nil, fmt.Errorf("postal code %s: %w", postal, err)
			}
			if pc.Status != storage.PostalFound {
				return nil, httpx.Invalid(httpx.Detail{Field: "postalCode", Message: "is not a known postal code"})
			}
		}
		for _, r := range all {
			if (r.Email != "" || !requireEmail) && camp.Targets(r.GovernmentLevel) {
				reps = append(reps, r)
			}
		}
	}
	var custom []storage.Recipient
	if camp.AllowCustomRecipients {
		var err error
		if custom, err = h.Store.Recipients(ctx, camp.ID); err != nil {
			return nil, err
		}
	}
	fromRep := func(r storage.Representative) resolved {
		return resolved{storage.RecipientRepresentative, r.Name, r.ElectedOffice, r.DistrictName, r.GovernmentLevel, r.Email}
	}
	fromCustom := func(r storage.Recipient) resolved {
		return resolved{storage.RecipientCustom, r.Name, r.Title, "", "", r.Email}
	}
	var out []resolved
	seen := map[string]bool{}
	var v httpx.Validator
	for i, ref := range refs {
		field := fmt.Sprintf("recipients[%d]", i)
		var got *resolved
		switch {
		case ref.RepresentativeID != 0:
			for _, r := range reps {
				if r.ID == ref.RepresentativeID {
					x := fromRep(r)
					got = &x
				}
			}
		case ref.CustomRecipientID != 0:
			for _, r := range custom {
				if r.ID == ref.CustomRecipientID {
					x := fromCustom(r)
					got = &x
				}
			}
		case ref.Email != "":
			addr := strings.TrimSpace(ref.Email)
			for _, r := range reps {
				if strings.EqualFold(r.Email, addr) {
					x := fromRep(r)
					got = &x
					break
				}
			}
			for _, r := range custom {
				if got == nil && strings.EqualFold(r.Email, addr) {
					x := fromCustom(r)
					got = &x
				}
			}
		default:
			v.Add(field, "must name a representativeId, customRecipientId or email")
			continue
		}
		if got == nil {
			v.Add(field, "is not a recipient of this campaign for this postal code")
			continue
		}
		if key := strings.ToLower(got.email); !seen[key] {
			seen[key] = true
			out = append(out, *got)
		}
	}
	return out, v.Err()
}

// open checks that campaign :slug is ACTIVE; inactive campaigns accept
// nothing. what names what is refused ("emails", "calls"). The campaign
// comes from the send routes' cache while it holds it (its counts may be
// stale there; nothing here reads them).
func (h *Handler) open(c *fiber.Ctx, what string) (storage.Campaign, error) {
	camp, err := h.visibleFrom(c.UserContext(), c.Params("slug"), h.campaignBySlug)
	if err != nil {
		return camp, err
	}
	if camp.Status != storage.CampaignActive {
		return camp, httpx.Conflict("this campaign is not accepting " + what + " right now")
	}
	return camp, nil
}

// campaignBySlug reads campaign slug through the send routes' cache. The
// slug is copied first: fasthttp reuses the request's memory, and the
// cache keeps its keys.
func (h *Handler) campaignBySlug(ctx context.Context, slug string) (storage.Campaign, error) {
	if h.sending == nil {
		return h.Store.CampaignBySlug(ctx, slug)
	}
	slug = strings.Clone(slug)
	return h.sending.Get(ctx, slug, func(ctx context.Context) (storage.Campaign, error) {
		return h.Store.CampaignBySlug(ctx, slug)
	})
}

// maxCachedReps bounds the postal codes whose representatives the send
// routes keep.
const maxCachedReps = 10000

// representativesFor reads postal code's representatives through the send
// routes' cache. A code without any is not kept: it is about to be looked
// up, and the send is refused meanwhile.
func (h *Handler) representativesFor(ctx context.Context, postal string) ([]storage.Representative, error) {
	if h.reps == nil {
		return h.Store.RepresentativesFor(ctx, postal)
	}
	postal = strings.Clone(postal)
	reps, err := h.reps.Get(ctx, postal, func(ctx context.Context) ([]storage.Representative, error) {
		reps, err := h.Store.RepresentativesFor(ctx, postal)
		if err == nil && len(reps) == 0 {
			return nil, errNoRepresentatives // not kept: errors never are
		}
		return reps, err
	})
	if errors.Is(err, errNoRepresentatives) {
		return nil, nil
	}
	return reps, err
}

var errNoRepresentatives = errors.New("no representatives stored")

// limitSender applies the send limit per client (IPv4 address or IPv6 /64)
// and per sender address: both counted in one round trip to Redis, the
// client's first (a client over its limit does not use up the sender's).
func (h *Handler) limitSender(c *fiber.Ctx, name, senderEmail string) error {
	l := httpx.Limit{Name: name, Max: h.Config.SendRateLimit, Window: h.Config.SendRateWindow}
	hits := []ratelimit.Hit{{Limit: httpx.Limit{Name: l.Name + "-ip", Max: l.Max, Window: l.Window},
		Key: httpx.ClientKey(c)}}
	if senderEmail != "" {
		hits = append(hits, ratelimit.Hit{Limit: httpx.Limit{Name: l.Name + "-sender", Max: l.Max, Window: l.Window},
			Key: strings.ToLower(senderEmail)})
	}
	return h.Limiter.CheckAll(c, hits...)
}

type acceptedEmail struct {
	ID             int64  `json:"id"`
	RecipientName  string `json:"recipientName"`
	RecipientTitle string `json:"recipientTitle"`
	Status         string `json:"status"`
}

func (h *Handler) sendEmail(c *fiber.Ctx) error {
	camp, err := h.open(c, "emails")
	if err != nil {
		return err
	}
	if !camp.AllowSMTPEmail {
		return httpx.Conflict("this campaign does not send emails; use the mailto link")
	}
	var req sendRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	validateSender(&v, &req.SenderName, &req.SenderEmail, &req.PostalCode, true)
	v.Check(len(req.Recipients) > 0, "recipients", "must name at least one recipient")
	v.Check(len(req.Recipients) <= h.Config.MaxRecipients, "recipients",
		fmt.Sprintf("must name at most %d recipients", h.Config.MaxRecipients))
	subject, body := camp.EmailSubject, camp.EmailBody
	if req.Subject != nil {
		s := strings.TrimSpace(*req.Subject)
		v.MaxLen("subject", s, maxSubject)
		v.SingleLine("subject", s)
		if camp.AllowEmailEditing && s != "" {
			subject = s
		}
	}
	if req.Body != nil {
		v.MaxLen("body", *req.Body, maxBody)
		v.MultiLine("body", *req.Body)
		if camp.AllowEmailEditing && strings.TrimSpace(*req.Body) != "" {
			body = *req.Body
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.limitSender(c, "send-email", req.SenderEmail); err != nil {
		return err
	}
	recipients, err := h.resolveRecipients(c.UserContext(), camp, req.PostalCode, req.Recipients, true)
	if err != nil {
		return err
	}
	rows := make([]storage.CampaignEmail, len(recipients))
	for i, r := range recipients {
		rows[i] = storage.CampaignEmail{CampaignID: camp.ID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
			SenderName: req.SenderName, SenderEmail: req.SenderEmail, PostalCode: req.PostalCode,
			RecipientKind: r.kind, RecipientName: r.name, RecipientTitle: r.title, RecipientDistrict: r.district,
			RecipientLevel: r.level, RecipientEmail: r.email, Subject: subject, Body: body}
	}
	// Postgres first: once the rows are stored the emails will go out, even
	// if the enqueue below fails (the sweeper re-enqueues QUEUED rows).
	stored, err := h.insertEmails(c.UserContext(), rows)
	if err != nil {
		return err
	}
	out := make([]acceptedEmail, len(stored))
	ids := make([]int64, len(stored))
	for i, e := range stored {
		ids[i] = e.ID
		out[i] = acceptedEmail{ID: e.ID, RecipientName: e.RecipientName, RecipientTitle: e.RecipientTitle, Status: e.Status}
	}
	h.enqueueEmails(c.UserContext(), ids)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"emails": out})
}

// insertEmails stores the send route's SMTP rows, through the batcher when
// there is one.
func (h *Handler) insertEmails(ctx context.Context, rows []storage.CampaignEmail) ([]storage.CampaignEmail, error) {
	if h.inserts == nil {
		return h.Store.InsertEmails(ctx, rows)
	}
	return h.inserts.Insert(ctx, rows)
}

// enqueueEmails enqueues the send tasks of rows ids side by side: one
// round trip to Redis of waiting, not one per recipient.
func (h *Handler) enqueueEmails(ctx context.Context, ids []int64) {
	if len(ids) == 1 {
		h.enqueueEmail(ctx, ids[0])
		return
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.enqueueEmail(ctx, id)
		}()
	}
	wg.Wait()
}

// enqueueEmail enqueues the send task of row id. A failure is logged, not
// returned: the row is stored and the sweeper will enqueue it later.
func (h *Handler) enqueueEmail(ctx context.Context, id int64) {
	task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: id})
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = h.Queue.EnqueueContext(ctx, task)
		cancel()
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		h.Log.Warn("enqueue email failed; the sweeper will retry", "email_id", id, "err", err)
	}
}

type mailtoRequest struct {
	SenderName  string       `json:"senderName"`
	SenderEmail string       `json:"senderEmail"`
	PostalCode  string       `json:"postalCode"`
	Recipient   recipientRef `json:"recipient"`
}

// mailto records that a constituent wrote through their own mail program and
// returns the link to open.
func (h *Handler) mailto(c *fiber.Ctx) error {
	camp, err := h.open(c, "emails")
	if err != nil {
		return err
	}
	if !camp.AllowMailtoLink {
		return httpx.Conflict("this campaign does not offer mailto links")
	}
	var req mailtoRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	req.SenderName, req.SenderEmail = strings.TrimSpace(req.SenderName), strings.TrimSpace(req.SenderEmail)
	v.MaxLen("senderName", req.SenderName, maxSenderName)
	v.SingleLine("senderName", req.SenderName)
	if req.SenderEmail != "" {
		v.Email("senderEmail", req.SenderEmail)
	}
	isRep := req.Recipient.RepresentativeID != 0 || req.Recipient.Email != ""
	if req.PostalCode != "" || isRep {
		if v.Required("postalCode", req.PostalCode) {
			code, ok := storage.NormalizePostalCode(req.PostalCode)
			v.Check(ok, "postalCode", "must be a Canadian postal code like T5K 2J1")
			req.PostalCode = code
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.limitSender(c, "mailto", req.SenderEmail); err != nil {
		return err
	}
	recipients, err := h.resolveRecipients(c.UserContext(), camp, req.PostalCode, []recipientRef{req.Recipient}, true)
	if err != nil {
		return err
	}
	r := recipients[0]
	stored, err := h.Store.InsertEmails(c.UserContext(), []storage.CampaignEmail{{CampaignID: camp.ID,
		Method: storage.MethodMailto, Status: storage.EmailClicked, SenderName: req.SenderName,
		SenderEmail: req.SenderEmail, PostalCode: req.PostalCode, RecipientKind: r.kind, RecipientName: r.name,
		RecipientTitle: r.title, RecipientDistrict: r.district, RecipientLevel: r.level, RecipientEmail: r.email,
		Subject: camp.EmailSubject, Body: camp.EmailBody}})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": stored[0].ID,
		"mailto": MailtoLink(r.email, camp.EmailSubject, camp.EmailBody)})
}
