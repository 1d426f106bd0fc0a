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

const campaignColumns = `id, slug, title, description, email_subject, email_body, call_to_action, cover_photo,
	status, target_government_levels, allow_smtp_email, allow_mailto_link, collect_user_info, show_email_count,
	show_call_count, allow_email_editing, allow_custom_recipients, show_response_wall, highlight_campaign,
	email_count, call_count, created_by, created_at, updated_at`

func (c *Campaign) scanTargets() []any {
	return []any{&c.ID, &c.Slug, &c.Title, &c.Description, &c.EmailSubject, &c.EmailBody, &c.CallToAction,
		&c.CoverPhoto, &c.Status, &c.TargetGovernmentLevels, &c.AllowSMTPEmail, &c.AllowMailtoLink,
		&c.CollectUserInfo, &c.ShowEmailCount, &c.ShowCallCount, &c.AllowEmailEditing, &c.AllowCustomRecipients,
		&c.ShowResponseWall, &c.HighlightCampaign, &c.EmailCount, &c.CallCount, &c.CreatedBy, &c.CreatedAt,
		&c.UpdatedAt}
}

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	err := row.Scan(c.scanTargets()...)
	if c.TargetGovernmentLevels == nil {
		c.TargetGovernmentLevels = []string{}
	}
	return c, err
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
	if f.TargetGovernmentLevels != nil {
		levels = *f.TargetGovernmentLevels
	}
	// "petition", "petition-2" … "petition-5", then random suffixes: a
	// popular title never runs out of slugs, and no loop scans them all.
	for attempt := 1; attempt <= 20; attempt++ {
		slug := base
		switch {
		case attempt > 5:
			slug = base + "-" + randomSlugSuffix()
		case attempt > 1:
			slug = base + "-" + strconv.Itoa(attempt)
		}
		c, err := scanCampaign(s.Pool.QueryRow(ctx, `
			INSERT INTO campaigns (slug, title, description, email_subject, email_body, call_to_action, cover_photo,
				status, target_government_levels, allow_smtp_email, allow_mailto_link, collect_user_info,
				show_email_count, show_call_count, allow_email_editing, allow_custom_recipients, show_response_wall,
				highlight_campaign, created_by)
			VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), COALESCE($5, ''), COALESCE($6, ''), COALESCE($7, ''),
				COALESCE($8, 'DRAFT'), $9, COALESCE($10, true), COALESCE($11, false), COALESCE($12, true),
				COALESCE($13, true), COALESCE($14, false), COALESCE($15, false), COALESCE($16, false),
				COALESCE($17, false), COALESCE($18, false), $19)
			RETURNING `+campaignColumns,
			slug, f.Title, f.Description, f.EmailSubject, f.EmailBody, f.CallToAction, f.CoverPhoto, f.Status, levels,
			f.AllowSMTPEmail, f.AllowMailtoLink, f.CollectUserInfo, f.ShowEmailCount, f.ShowCallCount,
			f.AllowEmailEditing, f.AllowCustomRecipients, f.ShowResponseWall, f.HighlightCampaign, createdBy))
		if isUniqueViolation(err) {
			if explicit {
				return Campaign{}, ErrConflict
			}
			continue
		}
		if err != nil {
			return Campaign{}, fmt.Errorf("insert campaign: %w", err)
		}
		return c, nil
	}
	return Campaign{}, ErrConflict
}

// CampaignByID finds a campaign.
func (s *Store) CampaignByID(ctx context.Context, id int64) (Campaign, error) {
	c, err := scanCampaign(s.Pool.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
	return c, notFound(err)
}

// CampaignBySlug finds a campaign by its slug.
func (s *Store) CampaignBySlug(ctx context.Context, slug string) (Campaign, error) {
	c, err := scanCampaign(s.Pool.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE slug = $1`, slug))
	return c, notFound(err)
}

// UpdateCampaign applies f. A slug already taken is ErrConflict.
func (s *Store) UpdateCampaign(ctx context.Context, id int64, f CampaignFields) (Campaign, error) {
	c, err := scanCampaign(s.Pool.QueryRow(ctx, `
		UPDATE campaigns SET
			slug                     = COALESCE($2, slug),
			title                    = COALESCE($3, title),
			description              = COALESCE($4, description),
			email_subject            = COALESCE($5, email_subject),
			email_body               = COALESCE($6, email_body),
			call_to_action           = COALESCE($7, call_to_action),
			cover_photo              = COALESCE($8, cover_photo),
			status                   = COALESCE($9, status),
			target_government_levels = COALESCE($10, target_government_levels),
			allow_smtp_email         = COALESCE($11, allow_smtp_email),
			allow_mailto_link        = COALESCE($12, allow_mailto_link),
			collect_user_info        = COALESCE($13, collect_user_info),
			show_email_count         = COALESCE($14, show_email_count),
			show_call_count          = COALESCE($15, show_call_count),
			allow_email_editing      = COALESCE($16, allow_email_editing),
			allow_custom_recipients  = COALESCE($17, allow_custom_recipients),
			show_response_wall       = COALESCE($18, show_response_wall),
			highlight_campaign       = COALESCE($19, highlight_campaign),
			updated_at               = now()
		WHERE id = $1
		RETURNING `+campaignColumns,
		id, f.Slug, f.Title, f.Description, f.EmailSubject, f.EmailBody, f.CallToAction, f.CoverPhoto, f.Status,
		f.TargetGovernmentLevels, f.AllowSMTPEmail, f.AllowMailtoLink, f.CollectUserInfo, f.ShowEmailCount,
		f.ShowCallCount, f.AllowEmailEditing, f.AllowCustomRecipients, f.ShowResponseWall, f.HighlightCampaign))
	if isUniqueViolation(err) {
		return Campaign{}, ErrConflict
	}
	return c, notFound(err)
}

// DeleteCampaign deletes a campaign with its recipients, emails and responses.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM campaigns WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete campaign %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
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
	order := `created_at DESC, id DESC`
	if f.Public {
		f.Status = CampaignActive
		order = `highlight_campaign DESC, created_at DESC, id DESC`
	}
	where := `($1 = '' OR title ILIKE '%' || $1 || '%' OR slug ILIKE '%' || $1 || '%')
		  AND ($2 = '' OR status = $2)
		  AND ($3 = 0 OR created_by = $3)`
	args := []any{escapeLike(f.Search), f.Status, f.CreatedBy}
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM campaigns WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count campaigns: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE `+where+
		` ORDER BY `+order+` LIMIT $4 OFFSET $5`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list campaigns: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Campaign, error) { return scanCampaign(row) })
	if err != nil {
		return nil, 0, fmt.Errorf("list campaigns: %w", err)
	}
	return list, total, nil
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

const recipientColumns = `id, campaign_id, name, title, email, created_at`

func scanRecipient(row pgx.Row) (Recipient, error) {
	var r Recipient
	err := row.Scan(&r.ID, &r.CampaignID, &r.Name, &r.Title, &r.Email, &r.CreatedAt)
	return r, err
}

// AddRecipient adds a custom recipient; the same email twice is ErrConflict.
func (s *Store) AddRecipient(ctx context.Context, campaignID int64, name, title, email string) (Recipient, error) {
	r, err := scanRecipient(s.Pool.QueryRow(ctx, `
		INSERT INTO campaign_recipients (campaign_id, name, title, email) VALUES ($1, $2, $3, $4)
		RETURNING `+recipientColumns, campaignID, name, title, email))
	if isUniqueViolation(err) {
		return Recipient{}, ErrConflict
	}
	if err != nil {
		return Recipient{}, fmt.Errorf("insert recipient: %w", err)
	}
	return r, nil
}

// Recipients lists a campaign's custom recipients in the order they were added.
func (s *Store) Recipients(ctx context.Context, campaignID int64) ([]Recipient, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+recipientColumns+` FROM campaign_recipients
		WHERE campaign_id = $1 ORDER BY id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("list recipients: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Recipient, error) { return scanRecipient(row) })
	if err != nil {
		return nil, fmt.Errorf("list recipients: %w", err)
	}
	return list, nil
}

// DeleteRecipient removes one custom recipient of a campaign.
func (s *Store) DeleteRecipient(ctx context.Context, campaignID, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM campaign_recipients WHERE id = $1 AND campaign_id = $2`, id, campaignID)
	if err != nil {
		return fmt.Errorf("delete recipient %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
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

const callColumns = `id, campaign_id, recipient_kind, recipient_name, recipient_title, recipient_level, created_at`

func scanCall(row pgx.Row) (CampaignCall, error) {
	var c CampaignCall
	err := row.Scan(&c.ID, &c.CampaignID, &c.RecipientKind, &c.RecipientName, &c.RecipientTitle, &c.RecipientLevel,
		&c.CreatedAt)
	return c, err
}

// RecordCall stores a call and counts it on its campaign, in one
// transaction. With an idempotency key already used for this campaign it
// stores and counts nothing and returns the first call (created is false).
// callCount is the campaign's count afterwards.
func (s *Store) RecordCall(ctx context.Context, call CampaignCall, idempotencyKey string) (out CampaignCall, created bool, callCount int, err error) {
	var key *string
	if idempotencyKey != "" {
		key = &idempotencyKey
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanCall(tx.QueryRow(ctx, `
			INSERT INTO campaign_calls (campaign_id, recipient_kind, recipient_name, recipient_title, recipient_level,
				idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (campaign_id, idempotency_key) DO NOTHING
			RETURNING `+callColumns,
			call.CampaignID, call.RecipientKind, call.RecipientName, call.RecipientTitle, call.RecipientLevel, key))
		created = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			out, err = scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM campaign_calls
				WHERE campaign_id = $1 AND idempotency_key = $2`, call.CampaignID, key))
		}
		if err != nil {
			return fmt.Errorf("record call: %w", err)
		}
		if !created {
			return tx.QueryRow(ctx, `SELECT call_count FROM campaigns WHERE id = $1`, call.CampaignID).Scan(&callCount)
		}
		return tx.QueryRow(ctx, `UPDATE campaigns SET call_count = call_count + 1 WHERE id = $1 RETURNING call_count`,
			call.CampaignID).Scan(&callCount)
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
	rows, err := s.Pool.Query(ctx, `SELECT recipient_kind, recipient_name, recipient_title, recipient_level, count(*)
		FROM campaign_calls WHERE campaign_id = $1
		GROUP BY recipient_kind, recipient_name, recipient_title, recipient_level
		ORDER BY count(*) DESC, recipient_name`, campaignID)
	if err != nil {
		return 0, nil, fmt.Errorf("call stats: %w", err)
	}
	byRecipient, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CallCount, error) {
		var c CallCount
		err := row.Scan(&c.RecipientKind, &c.RecipientName, &c.RecipientTitle, &c.RecipientLevel, &c.Calls)
		return c, err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("call stats: %w", err)
	}
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
