package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Response statuses and types.
const (
	ResponsePending  = "PENDING"
	ResponseApproved = "APPROVED"
	ResponseRejected = "REJECTED"
)

// ResponseStatuses lists every response status.
var ResponseStatuses = []string{ResponsePending, ResponseApproved, ResponseRejected}

// ResponseTypes lists how a representative may have answered.
var ResponseTypes = []string{"EMAIL", "LETTER", "PHONE_CALL", "MEETING", "SOCIAL_MEDIA", "OTHER"}

// Response is a reply a constituent got from a representative, posted to a
// campaign's response wall.
type Response struct {
	ID                  int64
	CampaignID          int64
	RepresentativeName  string
	RepresentativeTitle string
	RepresentativeLevel string
	RepresentativeEmail string
	ResponseType        string
	ResponseText        string
	Comment             string
	SubmitterName       string
	SubmitterEmail      string
	IsAnonymous         bool
	Status              string
	ModerationNote      string
	ModeratedBy         *int64
	VerifiedAt          *time.Time
	VerificationSentAt  *time.Time
	// VerificationFailedAt is when the email fleet gave up on the
	// verification email, with VerificationError saying why.
	VerificationFailedAt *time.Time
	VerificationError    string
	UpvoteCount          int
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

const responseColumns = `id, campaign_id, representative_name, representative_title, representative_level,
	representative_email, response_type, response_text, comment, submitter_name, submitter_email, is_anonymous,
	status, moderation_note, moderated_by, verified_at, verification_sent_at, verification_failed_at,
	verification_error, upvote_count, created_at, updated_at`

func scanResponse(row pgx.Row) (Response, error) {
	var r Response
	err := row.Scan(&r.ID, &r.CampaignID, &r.RepresentativeName, &r.RepresentativeTitle, &r.RepresentativeLevel,
		&r.RepresentativeEmail, &r.ResponseType, &r.ResponseText, &r.Comment, &r.SubmitterName, &r.SubmitterEmail,
		&r.IsAnonymous, &r.Status, &r.ModerationNote, &r.ModeratedBy, &r.VerifiedAt, &r.VerificationSentAt,
		&r.VerificationFailedAt, &r.VerificationError, &r.UpvoteCount, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

func collectResponses(rows pgx.Rows) ([]Response, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Response, error) { return scanResponse(row) })
}

// CreateResponse stores a new PENDING response.
func (s *Store) CreateResponse(ctx context.Context, r Response) (Response, error) {
	out, err := scanResponse(s.Pool.QueryRow(ctx, `
		INSERT INTO campaign_responses (campaign_id, representative_name, representative_title, representative_level,
			representative_email, response_type, response_text, comment, submitter_name, submitter_email, is_anonymous)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		RETURNING `+responseColumns,
		r.CampaignID, r.RepresentativeName, r.RepresentativeTitle, r.RepresentativeLevel, r.RepresentativeEmail,
		r.ResponseType, r.ResponseText, r.Comment, r.SubmitterName, r.SubmitterEmail, r.IsAnonymous))
	if err != nil {
		return Response{}, fmt.Errorf("insert response: %w", err)
	}
	return out, nil
}

// ResponseByID finds a response.
func (s *Store) ResponseByID(ctx context.Context, id int64) (Response, error) {
	r, err := scanResponse(s.Pool.QueryRow(ctx, `SELECT `+responseColumns+` FROM campaign_responses WHERE id = $1`, id))
	return r, notFound(err)
}

// Response wall orders.
const (
	SortRecent   = "recent"
	SortUpvotes  = "upvotes"
	SortVerified = "verified"
)

// ResponseFilter narrows ListResponses. Zero fields do not filter.
type ResponseFilter struct {
	CampaignID int64
	Status     string
	// CreatedBy keeps responses to campaigns this user created.
	CreatedBy int64
	Sort      string
	Limit     int
	Offset    int
}

// ListResponses returns one page of responses and the total.
func (s *Store) ListResponses(ctx context.Context, f ResponseFilter) ([]Response, int, error) {
	order := `r.created_at DESC, r.id DESC`
	switch f.Sort {
	case SortUpvotes:
		order = `r.upvote_count DESC, r.created_at DESC, r.id DESC`
	case SortVerified:
		order = `(r.verified_at IS NOT NULL) DESC, r.created_at DESC, r.id DESC`
	}
	where := `($1 = 0 OR r.campaign_id = $1) AND ($2 = '' OR r.status = $2)
		AND ($3 = 0 OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id AND c.created_by = $3))`
	args := []any{f.CampaignID, f.Status, f.CreatedBy}
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_responses r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count responses: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+prefixed("r.", responseColumns)+` FROM campaign_responses r WHERE `+
		where+` ORDER BY `+order+` LIMIT $4 OFFSET $5`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list responses: %w", err)
	}
	list, err := collectResponses(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("list responses: %w", err)
	}
	return list, total, nil
}

// ModerateResponse sets a response's status and moderation note.
func (s *Store) ModerateResponse(ctx context.Context, id int64, status, note string, by int64) (Response, error) {
	r, err := scanResponse(s.Pool.QueryRow(ctx, `
		UPDATE campaign_responses SET status = $2, moderation_note = $3, moderated_by = $4, updated_at = now()
		WHERE id = $1 RETURNING `+responseColumns, id, status, note, by))
	return r, notFound(err)
}

// DeleteResponse deletes a response and its upvotes.
func (s *Store) DeleteResponse(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM campaign_responses WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete response %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// VerifyResponse marks a response verified; verifying twice keeps the first time.
func (s *Store) VerifyResponse(ctx context.Context, id int64) (Response, error) {
	r, err := scanResponse(s.Pool.QueryRow(ctx, `
		UPDATE campaign_responses SET verified_at = COALESCE(verified_at, now()), updated_at = now()
		WHERE id = $1 RETURNING `+responseColumns, id))
	return r, notFound(err)
}

// MarkVerificationSent records that the verification email went out. It
// reports false when it had already been recorded.
func (s *Store) MarkVerificationSent(ctx context.Context, id int64) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE campaign_responses SET verification_sent_at = now()
		WHERE id = $1 AND verification_sent_at IS NULL`, id)
	if err != nil {
		return false, fmt.Errorf("mark verification of response %d sent: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkVerificationFailed records that the email fleet gave up on the
// verification email of response id, and why. It reports false when the
// email had already gone out or failed.
func (s *Store) MarkVerificationFailed(ctx context.Context, id int64, errText string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE campaign_responses SET verification_failed_at = now(), verification_error = $2
		WHERE id = $1 AND verification_sent_at IS NULL AND verification_failed_at IS NULL`, id, clipText(errText, 1000))
	if err != nil {
		return false, fmt.Errorf("mark verification of response %d failed: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// UnsentVerificationIDs lists responses created between after and before
// whose verification email has neither gone out nor failed for good.
func (s *Store) UnsentVerificationIDs(ctx context.Context, after, before time.Time, limit int) ([]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id FROM campaign_responses WHERE verification_sent_at IS NULL
		AND verification_failed_at IS NULL AND verified_at IS NULL AND submitter_email <> ''
		AND created_at > $1 AND created_at < $2
		ORDER BY created_at LIMIT $3`, after, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list unsent verifications: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Upvote records voterKey's upvote of an APPROVED response. A second upvote
// by the same voter changes nothing: added is false. ErrNotFound when the
// response does not exist or is not approved.
func (s *Store) Upvote(ctx context.Context, responseID int64, voterKey string) (count int, added bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		// Lock the response row so the count and the votes move together.
		if err := tx.QueryRow(ctx, `SELECT upvote_count FROM campaign_responses WHERE id = $1 AND status = 'APPROVED'
			FOR UPDATE`, responseID).Scan(&count); err != nil {
			return notFound(err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO response_upvotes (response_id, voter_key) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, responseID, voterKey)
		if err != nil {
			return fmt.Errorf("insert upvote: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		added = true
		return tx.QueryRow(ctx, `UPDATE campaign_responses SET upvote_count = upvote_count + 1 WHERE id = $1
			RETURNING upvote_count`, responseID).Scan(&count)
	})
	return count, added, err
}

func prefixed(prefix, columns string) string {
	out := []byte{}
	start := true
	for i := 0; i < len(columns); i++ {
		ch := columns[i]
		if start && ch != ' ' && ch != '\t' && ch != '\n' {
			out = append(out, prefix...)
			start = false
		}
		if ch == ',' {
			start = true
		}
		out = append(out, ch)
	}
	return string(out)
}

// ErrTokenBad is a verification token that is malformed, forged or expired.
var ErrTokenBad = errors.New("verification token invalid or expired")

// ResponseTokenTTL is how long a response verification link works.
const ResponseTokenTTL = 30 * 24 * time.Hour

// SignResponseToken makes the token of a verification link: the response ID
// and expiry, HMAC-SHA256-signed with key, base64url.
func SignResponseToken(key []byte, id int64, expires time.Time) string {
	msg := make([]byte, 16)
	binary.BigEndian.PutUint64(msg[:8], uint64(id))
	binary.BigEndian.PutUint64(msg[8:], uint64(expires.Unix()))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("response-verify\x00"))
	mac.Write(msg)
	return base64.RawURLEncoding.EncodeToString(append(msg, mac.Sum(nil)...))
}

// OpenResponseToken checks a token from SignResponseToken and returns its response ID.
func OpenResponseToken(key []byte, token string, now time.Time) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 16+sha256.Size {
		return 0, ErrTokenBad
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("response-verify\x00"))
	mac.Write(raw[:16])
	if !hmac.Equal(mac.Sum(nil), raw[16:]) {
		return 0, ErrTokenBad
	}
	id := int64(binary.BigEndian.Uint64(raw[:8]))
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[8:16])), 0)
	if id <= 0 || !now.Before(exp) {
		return 0, ErrTokenBad
	}
	return id, nil
}

// DeriveKey derives a purpose-specific key from a process secret, so one
// secret (ENCRYPTION_KEY) never signs two kinds of thing with the same key.
func DeriveKey(secret, purpose string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// ResponseTokenKey is the key verification links are signed with, derived
// from ENCRYPTION_KEY so the API (which checks) and the worker (which signs)
// agree without another secret.
func ResponseTokenKey(encryptionKey string) []byte {
	return DeriveKey(encryptionKey, "changemaker response verification")
}

// UpvoteSalt is the salt anonymous upvoters' IPs are hashed with.
func UpvoteSalt(encryptionKey string) []byte {
	return DeriveKey(encryptionKey, "changemaker upvote ip")
}
