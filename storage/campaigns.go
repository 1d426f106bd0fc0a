package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"changemaker/storage/internal/db"
)

// Campaign statuses. A campaign moves DRAFT → ACTIVE ⇄ PAUSED → ARCHIVED.
const (
	CampaignDraft    = "DRAFT"
	CampaignActive   = "ACTIVE"
	CampaignPaused   = "PAUSED"
	CampaignArchived = "ARCHIVED"
)

// CampaignStatuses lists every campaign status.
var CampaignStatuses = []string{CampaignDraft, CampaignActive, CampaignPaused, CampaignArchived}

// CampaignTransitionAllowed reports whether a campaign may go from one status to another.
func CampaignTransitionAllowed(from, to string) bool {
	if from == to {
		return true
	}
	switch from {
	case CampaignDraft:
		return to == CampaignActive || to == CampaignArchived
	case CampaignActive:
		return to == CampaignPaused || to == CampaignArchived
	case CampaignPaused:
		return to == CampaignActive || to == CampaignArchived
	}
	return false
}

// Government levels a campaign can target. OTHER is a representative that
// maps to none of them; no campaign targets it explicitly.
const (
	LevelFederal     = "FEDERAL"
	LevelProvincial  = "PROVINCIAL"
	LevelMunicipal   = "MUNICIPAL"
	LevelSchoolBoard = "SCHOOL_BOARD"
	LevelOther       = "OTHER"
)

// GovernmentLevels lists the levels a campaign may target.
var GovernmentLevels = []string{LevelFederal, LevelProvincial, LevelMunicipal, LevelSchoolBoard}

// Campaign is an advocacy campaign.
type Campaign struct {
	ID                     int64
	Slug                   string
	Title                  string
	Description            string
	EmailSubject           string
	EmailBody              string
	CallToAction           string
	CoverPhoto             string
	Status                 string
	TargetGovernmentLevels []string
	AllowSMTPEmail         bool
	AllowMailtoLink        bool
	CollectUserInfo        bool
	ShowEmailCount         bool
	ShowCallCount          bool
	AllowEmailEditing      bool
	AllowCustomRecipients  bool
	ShowResponseWall       bool
	HighlightCampaign      bool
	EmailCount             int
	CallCount              int
	CreatedBy              *int64
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Targets reports whether the campaign addresses representatives of level.
// A campaign that names no level targets them all.
func (c Campaign) Targets(level string) bool {
	return len(c.TargetGovernmentLevels) == 0 || slices.Contains(c.TargetGovernmentLevels, level)
}

func campaignFromDB(r db.Campaign) Campaign {
	levels := r.TargetGovernmentLevels
	if levels == nil {
		levels = []string{}
	}
	return Campaign{ID: r.ID, Slug: r.Slug, Title: r.Title, Description: r.Description,
		EmailSubject: r.EmailSubject, EmailBody: r.EmailBody, CallToAction: r.CallToAction,
		CoverPhoto: r.CoverPhoto, Status: r.Status, TargetGovernmentLevels: levels,
		AllowSMTPEmail: r.AllowSmtpEmail, AllowMailtoLink: r.AllowMailtoLink, CollectUserInfo: r.CollectUserInfo,
		ShowEmailCount: r.ShowEmailCount, ShowCallCount: r.ShowCallCount, AllowEmailEditing: r.AllowEmailEditing,
		AllowCustomRecipients: r.AllowCustomRecipients, ShowResponseWall: r.ShowResponseWall,
		HighlightCampaign: r.HighlightCampaign, EmailCount: int(r.EmailCount), CallCount: int(r.CallCount),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CampaignFields are the editable fields of a campaign; nil leaves a field as
// it is (on create: the column default).
type CampaignFields struct {
	Slug                   *string
	Title                  *string
	Description            *string
	EmailSubject           *string
	EmailBody              *string
	CallToAction           *string
	CoverPhoto             *string
	Status                 *string
	TargetGovernmentLevels *[]string
	AllowSMTPEmail         *bool
	AllowMailtoLink        *bool
	CollectUserInfo        *bool
	ShowEmailCount         *bool
	ShowCallCount          *bool
	AllowEmailEditing      *bool
	AllowCustomRecipients  *bool
	ShowResponseWall       *bool
	HighlightCampaign      *bool
}

var slugStrip = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify turns a title into a URL slug: lower case ASCII letters and digits
// joined by single hyphens, accents folded ("Étude" → "etude").
func Slugify(title string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	s := strings.Trim(slugStrip.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > 80 {
		s = strings.TrimRight(s[:80], "-")
	}
	if s == "" {
		s = "campaign"
	}
	return s
}

var slugShape = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidSlug reports whether s can be a campaign slug.
func ValidSlug(s string) bool { return len(s) <= 100 && slugShape.MatchString(s) }

// CreateCampaign inserts a campaign. Without an explicit slug one is made
// from the title, with -2, -3, … appended until it is free; an explicit slug
// that is taken is ErrConflict. Mailto links start off (they publish the
// custom recipients' addresses): an admin turns them on.
func (s *Store) CreateCampaign(ctx context.Context, f CampaignFields, createdBy int64) (Campaign, error) {
	explicit := f.Slug != nil
	base := ""
	if explicit {
		base = *f.Slug
	} else if f.Title != nil {
		base = Slugify(*f.Title)
	}
	levels := []string{}
	if f.TargetGovernmentLevels != nil && *f.TargetGovernmentLevels != nil {
		levels = *f.TargetGovernmentLevels
	}
	arg := db.CreateCampaignParams{Title: f.Title, Description: f.Description, EmailSubject: f.EmailSubject,
		EmailBody: f.EmailBody, CallToAction: f.CallToAction, CoverPhoto: f.CoverPhoto, Status: f.Status,
		TargetGovernmentLevels: levels, AllowSmtpEmail: f.AllowSMTPEmail, AllowMailtoLink: f.AllowMailtoLink,
		CollectUserInfo: f.CollectUserInfo, ShowEmailCount: f.ShowEmailCount, ShowCallCount: f.ShowCallCount,
		AllowEmailEditing: f.AllowEmailEditing, AllowCustomRecipients: f.AllowCustomRecipients,
		ShowResponseWall: f.ShowResponseWall, HighlightCampaign: f.HighlightCampaign, CreatedBy: &createdBy}
	// "petition", "petition-2" … "petition-5", then random suffixes: a
	// popular title never runs out of slugs, and no loop scans them all.
	for attempt := 1; attempt <= 20; attempt++ {
		arg.Slug = base
		switch {
		case attempt > 5:
			arg.Slug = base + "-" + randomSlugSuffix()
		case attempt > 1:
			arg.Slug = base + "-" + strconv.Itoa(attempt)
		}
		r, err := s.q().CreateCampaign(ctx, arg)
		if errors.Is(err, ErrConflict) {
			if explicit {
				return Campaign{}, ErrConflict
			}
			continue
		}
		if err != nil {
			return Campaign{}, fmt.Errorf("insert campaign: %w", err)
		}
		return campaignFromDB(r), nil
	}
	return Campaign{}, ErrConflict
}

// CampaignByID finds a campaign.
func (s *Store) CampaignByID(ctx context.Context, id int64) (Campaign, error) {
	r, err := s.q().CampaignByID(ctx, id)
	return campaignFromDB(r), notFound(err)
}

// CampaignBySlug finds a campaign by its slug.
func (s *Store) CampaignBySlug(ctx context.Context, slug string) (Campaign, error) {
	r, err := s.q().CampaignBySlug(ctx, slug)
	return campaignFromDB(r), notFound(err)
}

// UpdateCampaign applies f. A slug already taken is ErrConflict.
func (s *Store) UpdateCampaign(ctx context.Context, id int64, f CampaignFields) (Campaign, error) {
	// nil leaves the levels as they are; an empty list clears them.
	var levels []string
	if f.TargetGovernmentLevels != nil {
		levels = *f.TargetGovernmentLevels
		if levels == nil {
			levels = []string{}
		}
	}
	r, err := s.q().UpdateCampaign(ctx, db.UpdateCampaignParams{ID: id, Slug: f.Slug, Title: f.Title,
		Description: f.Description, EmailSubject: f.EmailSubject, EmailBody: f.EmailBody,
		CallToAction: f.CallToAction, CoverPhoto: f.CoverPhoto, Status: f.Status, TargetGovernmentLevels: levels,
		AllowSmtpEmail: f.AllowSMTPEmail, AllowMailtoLink: f.AllowMailtoLink, CollectUserInfo: f.CollectUserInfo,
		ShowEmailCount: f.ShowEmailCount, ShowCallCount: f.ShowCallCount, AllowEmailEditing: f.AllowEmailEditing,
		AllowCustomRecipients: f.AllowCustomRecipients, ShowResponseWall: f.ShowResponseWall,
		HighlightCampaign: f.HighlightCampaign})
	if errors.Is(err, ErrConflict) {
		return Campaign{}, ErrConflict
	}
	return campaignFromDB(r), notFound(err)
}

// DeleteCampaign deletes a campaign with its recipients, emails and responses.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	n, err := s.q().DeleteCampaign(ctx, id)
	if err != nil {
		return fmt.Errorf("delete campaign %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CampaignFilter narrows ListCampaigns. Zero fields do not filter.
type CampaignFilter struct {
	Search    string
	Status    string
	CreatedBy int64
	// Public lists ACTIVE campaigns only, highlighted first.
	Public bool
	Limit  int
	Offset int
}

// ListCampaigns returns one page of campaigns and the total.
func (s *Store) ListCampaigns(ctx context.Context, f CampaignFilter) ([]Campaign, int, error) {
	if f.Public {
		f.Status = CampaignActive
	}
	search, status, createdBy := optText(escapeLike(f.Search)), optText(f.Status), optID(f.CreatedBy)
	return page(ctx, s, "campaigns",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountCampaigns(ctx, db.CountCampaignsParams{Search: search, Status: status, CreatedBy: createdBy})
		},
		func(ctx context.Context, q *db.Queries) ([]db.Campaign, error) {
			return q.ListCampaigns(ctx, db.ListCampaignsParams{Search: search, Status: status, CreatedBy: createdBy,
				HighlightedFirst: f.Public, PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		campaignFromDB)
}

// Recipient is a campaign's custom recipient: someone to write to besides
// the representatives Represent knows.
type Recipient struct {
	ID         int64
	CampaignID int64
	Name       string
	Title      string
	Email      string
	CreatedAt  time.Time
}

func recipientFromDB(r db.CampaignRecipient) Recipient {
	return Recipient{ID: r.ID, CampaignID: r.CampaignID, Name: r.Name, Title: r.Title, Email: r.Email,
		CreatedAt: r.CreatedAt}
}

// AddRecipient adds a custom recipient; the same email twice is ErrConflict.
func (s *Store) AddRecipient(ctx context.Context, campaignID int64, name, title, email string) (Recipient, error) {
	r, err := s.q().AddRecipient(ctx, db.AddRecipientParams{CampaignID: campaignID, Name: name, Title: title,
		Email: email})
	if errors.Is(err, ErrConflict) {
		return Recipient{}, ErrConflict
	}
	if err != nil {
		return Recipient{}, fmt.Errorf("insert recipient: %w", err)
	}
	return recipientFromDB(r), nil
}

// Recipients lists a campaign's custom recipients in the order they were added.
func (s *Store) Recipients(ctx context.Context, campaignID int64) ([]Recipient, error) {
	rows, err := s.q().Recipients(ctx, campaignID)
	if err != nil {
		return nil, fmt.Errorf("list recipients: %w", err)
	}
	return convert(rows, recipientFromDB), nil
}

// DeleteRecipient removes one custom recipient of a campaign.
func (s *Store) DeleteRecipient(ctx context.Context, campaignID, id int64) error {
	n, err := s.q().DeleteRecipient(ctx, db.DeleteRecipientParams{ID: id, CampaignID: campaignID})
	if err != nil {
		return fmt.Errorf("delete recipient %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CampaignCall is a phone call a visitor reported making through a campaign.
// It records whom they called, never who called.
type CampaignCall struct {
	ID             int64
	CampaignID     int64
	RecipientKind  string
	RecipientName  string
	RecipientTitle string
	RecipientLevel string
	CreatedAt      time.Time
}

func callFromDB(r db.CampaignCall) CampaignCall {
	return CampaignCall{ID: r.ID, CampaignID: r.CampaignID, RecipientKind: r.RecipientKind,
		RecipientName: r.RecipientName, RecipientTitle: r.RecipientTitle, RecipientLevel: r.RecipientLevel,
		CreatedAt: r.CreatedAt}
}

// RecordCall stores a call and counts it on its campaign, in one
// transaction. With an idempotency key already used for this campaign it
// stores and counts nothing and returns the first call (created is false).
// callCount is the campaign's count afterwards.
func (s *Store) RecordCall(ctx context.Context, call CampaignCall, idempotencyKey string) (out CampaignCall, created bool, callCount int, err error) {
	key := optText(idempotencyKey)
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.InsertCall(ctx, db.InsertCallParams{CampaignID: call.CampaignID, RecipientKind: call.RecipientKind,
			RecipientName: call.RecipientName, RecipientTitle: call.RecipientTitle,
			RecipientLevel: call.RecipientLevel, IdempotencyKey: key})
		created = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			r, err = q.CallByIdempotencyKey(ctx, db.CallByIdempotencyKeyParams{CampaignID: call.CampaignID,
				IdempotencyKey: key})
		}
		if err != nil {
			return fmt.Errorf("record call: %w", err)
		}
		out = callFromDB(r)
		var n int32
		if created {
			n, err = q.CountCall(ctx, call.CampaignID)
		} else {
			n, err = q.CampaignCallCount(ctx, call.CampaignID)
		}
		if err != nil {
			return fmt.Errorf("count call: %w", err)
		}
		callCount = int(n)
		return nil
	})
	return out, created, callCount, err
}

// CallCount is how many calls one recipient of a campaign received.
type CallCount struct {
	RecipientKind  string
	RecipientName  string
	RecipientTitle string
	RecipientLevel string
	Calls          int
}

// CampaignCallStats counts a campaign's calls by recipient, most called first.
func (s *Store) CampaignCallStats(ctx context.Context, campaignID int64) (total int, byRecipient []CallCount, err error) {
	rows, err := s.q().CallStats(ctx, campaignID)
	if err != nil {
		return 0, nil, fmt.Errorf("call stats: %w", err)
	}
	byRecipient = convert(rows, func(r db.CallStatsRow) CallCount {
		return CallCount{RecipientKind: r.RecipientKind, RecipientName: r.RecipientName,
			RecipientTitle: r.RecipientTitle, RecipientLevel: r.RecipientLevel, Calls: int(r.Calls)}
	})
	for _, c := range byRecipient {
		total += c.Calls
	}
	return total, byRecipient, nil
}

// randomSlugSuffix is six lower-case hex digits.
func randomSlugSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
