package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
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

func responseFromDB(r db.CampaignResponse) Response {
	return Response{ID: r.ID, CampaignID: r.CampaignID, RepresentativeName: r.RepresentativeName,
		RepresentativeTitle: r.RepresentativeTitle, RepresentativeLevel: r.RepresentativeLevel,
		RepresentativeEmail: r.RepresentativeEmail, ResponseType: r.ResponseType, ResponseText: r.ResponseText,
		Comment: r.Comment, SubmitterName: r.SubmitterName, SubmitterEmail: r.SubmitterEmail,
		IsAnonymous: r.IsAnonymous, Status: r.Status, ModerationNote: r.ModerationNote, ModeratedBy: r.ModeratedBy,
		VerifiedAt: r.VerifiedAt, VerificationSentAt: r.VerificationSentAt,
		VerificationFailedAt: r.VerificationFailedAt, VerificationError: r.VerificationError,
		UpvoteCount: int(r.UpvoteCount), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateResponse stores a new PENDING response.
func (s *Store) CreateResponse(ctx context.Context, r Response) (Response, error) {
	out, err := s.q().CreateResponse(ctx, db.CreateResponseParams{CampaignID: r.CampaignID,
		RepresentativeName: r.RepresentativeName, RepresentativeTitle: r.RepresentativeTitle,
		RepresentativeLevel: r.RepresentativeLevel, RepresentativeEmail: r.RepresentativeEmail,
		ResponseType: r.ResponseType, ResponseText: r.ResponseText, Comment: r.Comment,
		SubmitterName: r.SubmitterName, SubmitterEmail: r.SubmitterEmail, IsAnonymous: r.IsAnonymous})
	if err != nil {
		return Response{}, fmt.Errorf("insert response: %w", err)
	}
	return responseFromDB(out), nil
}

// ResponseByID finds a response.
func (s *Store) ResponseByID(ctx context.Context, id int64) (Response, error) {
	r, err := s.q().ResponseByID(ctx, id)
	return responseFromDB(r), notFound(err)
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
	campaignID, status, createdBy := optID(f.CampaignID), optText(f.Status), optID(f.CreatedBy)
	return page(ctx, s, "responses",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountResponses(ctx, db.CountResponsesParams{CampaignID: campaignID, Status: status,
				CreatedBy: createdBy})
		},
		func(ctx context.Context, q *db.Queries) ([]db.CampaignResponse, error) {
			return q.ListResponses(ctx, db.ListResponsesParams{CampaignID: campaignID, Status: status,
				CreatedBy: createdBy, Sort: f.Sort, PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		responseFromDB)
}

// ModerateResponse sets a response's status and moderation note.
func (s *Store) ModerateResponse(ctx context.Context, id int64, status, note string, by int64) (Response, error) {
	r, err := s.q().ModerateResponse(ctx, db.ModerateResponseParams{ID: id, Status: status, ModerationNote: note,
		ModeratedBy: &by})
	return responseFromDB(r), notFound(err)
}

// DeleteResponse deletes a response and its upvotes.
func (s *Store) DeleteResponse(ctx context.Context, id int64) error {
	n, err := s.q().DeleteResponse(ctx, id)
	if err != nil {
		return fmt.Errorf("delete response %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// VerifyResponse marks a response verified; verifying twice keeps the first time.
func (s *Store) VerifyResponse(ctx context.Context, id int64) (Response, error) {
	r, err := s.q().VerifyResponse(ctx, id)
	return responseFromDB(r), notFound(err)
}

// MarkVerificationSent records that the verification email went out. It
// reports false when it had already been recorded.
func (s *Store) MarkVerificationSent(ctx context.Context, id int64) (bool, error) {
	n, err := s.q().MarkVerificationSent(ctx, id)
	if err != nil {
		return false, fmt.Errorf("mark verification of response %d sent: %w", id, err)
	}
	return n == 1, nil
}

// MarkVerificationFailed records that the email fleet gave up on the
// verification email of response id, and why. It reports false when the
// email had already gone out or failed.
func (s *Store) MarkVerificationFailed(ctx context.Context, id int64, errText string) (bool, error) {
	n, err := s.q().MarkVerificationFailed(ctx, db.MarkVerificationFailedParams{ID: id,
		VerificationError: clipText(errText, 1000)})
	if err != nil {
		return false, fmt.Errorf("mark verification of response %d failed: %w", id, err)
	}
	return n == 1, nil
}

// VerificationEmailInterval is how long an address that was sent a
// response-wall verification email waits before the next one.
const VerificationEmailInterval = time.Hour

// VerificationThrottled is the verification error of a response whose email
// was not sent because its address had one less than an hour before.
const VerificationThrottled = "not sent: this address was sent a verification email less than an hour before"

// ClaimVerificationEmail lets response id send the verification email to
// addr, unless another response did so less than VerificationEmailInterval
// ago. Addresses are compared lower-cased. It reports whether the claim is
// the response's; claiming again what it already holds succeeds.
func (s *Store) ClaimVerificationEmail(ctx context.Context, addr string, id int64) (bool, error) {
	got, err := s.q().ClaimVerificationEmail(ctx, db.ClaimVerificationEmailParams{
		Address: strings.ToLower(strings.TrimSpace(addr)), ResponseID: id,
		IntervalSeconds: VerificationEmailInterval.Seconds()})
	if err != nil {
		return false, fmt.Errorf("claim the verification email of response %d: %w", id, err)
	}
	return len(got) == 1 && got[0] == id, nil
}

// UnsentVerificationIDs lists responses created between after and before
// whose verification email has neither gone out nor failed for good.
func (s *Store) UnsentVerificationIDs(ctx context.Context, after, before time.Time, limit int) ([]int64, error) {
	ids, err := s.q().UnsentVerificationIDs(ctx, db.UnsentVerificationIDsParams{After: after, Before: before,
		MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list unsent verifications: %w", err)
	}
	return ids, nil
}

// Upvote records voterKey's upvote of an APPROVED response. A second upvote
// by the same voter changes nothing: added is false. ErrNotFound when the
// response does not exist or is not approved.
func (s *Store) Upvote(ctx context.Context, responseID int64, voterKey string) (count int, added bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		n, err := q.LockApprovedResponse(ctx, responseID)
		if err != nil {
			return notFound(err)
		}
		count = int(n)
		inserted, err := q.InsertUpvote(ctx, db.InsertUpvoteParams{ResponseID: responseID, VoterKey: voterKey})
		if err != nil {
			return fmt.Errorf("insert upvote: %w", err)
		}
		if inserted == 0 {
			return nil
		}
		added = true
		if n, err = q.CountUpvote(ctx, responseID); err != nil {
			return fmt.Errorf("count upvote: %w", err)
		}
		count = int(n)
		return nil
	})
	return count, added, err
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
