package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Campaign email methods and statuses. An SMTP row is QUEUED until the email
// worker marks it SENT or, after its retries, FAILED. A MAILTO row records
// that a constituent opened the mailto link (CLICKED); we never see the send.
const (
	MethodSMTP   = "SMTP"
	MethodMailto = "MAILTO"

	EmailQueued  = "QUEUED"
	EmailSent    = "SENT"
	EmailFailed  = "FAILED"
	EmailClicked = "CLICKED"

	RecipientRepresentative = "REPRESENTATIVE"
	RecipientCustom         = "CUSTOM"
)

// EmailStatuses lists every campaign email status.
var EmailStatuses = []string{EmailQueued, EmailSent, EmailFailed, EmailClicked}

// CampaignEmail is one message from a constituent to one recipient.
type CampaignEmail struct {
	ID                int64
	CampaignID        int64
	Method            string
	Status            string
	SenderName        string
	SenderEmail       string
	PostalCode        string
	RecipientKind     string
	RecipientName     string
	RecipientTitle    string
	RecipientDistrict string
	RecipientLevel    string
	RecipientEmail    string
	Subject           string
	Body              string
	Attempts          int
	LastError         string
	MessageID         string
	SentAt            *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const emailColumns = `id, campaign_id, method, status, sender_name, sender_email, postal_code, recipient_kind,
	recipient_name, recipient_title, recipient_district, recipient_level, recipient_email, subject, body,
	attempts, last_error, message_id, sent_at, created_at, updated_at`

func scanEmail(row pgx.Row) (CampaignEmail, error) {
	var e CampaignEmail
	err := row.Scan(&e.ID, &e.CampaignID, &e.Method, &e.Status, &e.SenderName, &e.SenderEmail, &e.PostalCode,
		&e.RecipientKind, &e.RecipientName, &e.RecipientTitle, &e.RecipientDistrict, &e.RecipientLevel,
		&e.RecipientEmail, &e.Subject, &e.Body, &e.Attempts, &e.LastError, &e.MessageID, &e.SentAt,
		&e.CreatedAt, &e.UpdatedAt)
	return e, err
}

// InsertEmails stores rows in one transaction and returns them with IDs.
// MAILTO rows count towards the campaign's email count at once; SMTP rows
// when they are sent.
func (s *Store) InsertEmails(ctx context.Context, rows []CampaignEmail) ([]CampaignEmail, error) {
	out := make([]CampaignEmail, 0, len(rows))
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		clicked := 0
		for _, e := range rows {
			got, err := scanEmail(tx.QueryRow(ctx, `
				INSERT INTO campaign_emails (campaign_id, method, status, sender_name, sender_email, postal_code,
					recipient_kind, recipient_name, recipient_title, recipient_district, recipient_level,
					recipient_email, subject, body)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				RETURNING `+emailColumns,
				e.CampaignID, e.Method, e.Status, e.SenderName, e.SenderEmail, e.PostalCode, e.RecipientKind,
				e.RecipientName, e.RecipientTitle, e.RecipientDistrict, e.RecipientLevel, e.RecipientEmail,
				e.Subject, e.Body))
			if err != nil {
				return fmt.Errorf("insert campaign email: %w", err)
			}
			if got.Method == MethodMailto {
				clicked++
			}
			out = append(out, got)
		}
		if clicked > 0 {
			_, err := tx.Exec(ctx, `UPDATE campaigns SET email_count = email_count + $2 WHERE id = $1`,
				rows[0].CampaignID, clicked)
			return err
		}
		return nil
	})
	return out, err
}

// EmailByID finds a campaign email.
func (s *Store) EmailByID(ctx context.Context, id int64) (CampaignEmail, error) {
	e, err := scanEmail(s.Pool.QueryRow(ctx, `SELECT `+emailColumns+` FROM campaign_emails WHERE id = $1`, id))
	return e, notFound(err)
}

// MarkEmailSent records a delivered email and counts it on its campaign. It
// reports false when the row was not QUEUED (already sent, or gone).
func (s *Store) MarkEmailSent(ctx context.Context, id int64, messageID string) (bool, error) {
	var done bool
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var campaignID int64
		err := tx.QueryRow(ctx, `
			UPDATE campaign_emails SET status = 'SENT', message_id = $2, sent_at = now(), attempts = attempts + 1,
				last_error = '', updated_at = now()
			WHERE id = $1 AND status = 'QUEUED'
			RETURNING campaign_id`, id, messageID).Scan(&campaignID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mark email %d sent: %w", id, err)
		}
		done = true
		_, err = tx.Exec(ctx, `UPDATE campaigns SET email_count = email_count + 1 WHERE id = $1`, campaignID)
		return err
	})
	return done, err
}

// RecordEmailAttempt notes a failed attempt; final marks the row FAILED.
func (s *Store) RecordEmailAttempt(ctx context.Context, id int64, errText string, final bool) error {
	status := EmailQueued
	if final {
		status = EmailFailed
	}
	errText = clipText(errText, 1000)
	_, err := s.Pool.Exec(ctx, `UPDATE campaign_emails SET attempts = attempts + 1, last_error = $2, status = $3,
		updated_at = now() WHERE id = $1 AND status = 'QUEUED'`, id, errText, status)
	if err != nil {
		return fmt.Errorf("record attempt of email %d: %w", id, err)
	}
	return nil
}

// FailStuckEmail marks a QUEUED SMTP row FAILED with errText when its send
// task gave up without doing so (a worker that died between its last failed
// attempt and the UPDATE). updatedAt is the row's updated_at as the caller
// read it: a row touched since then is left alone. It reports whether the
// row changed.
func (s *Store) FailStuckEmail(ctx context.Context, id int64, errText string, updatedAt time.Time) (bool, error) {
	errText = clipText(errText, 1000)
	tag, err := s.Pool.Exec(ctx, `UPDATE campaign_emails SET status = 'FAILED', last_error = $2, updated_at = now()
		WHERE id = $1 AND status = 'QUEUED' AND method = 'SMTP' AND updated_at = $3`, id, errText, updatedAt)
	if err != nil {
		return false, fmt.Errorf("fail stuck email %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RequeueFailedEmail puts a FAILED SMTP row back to QUEUED. It is
// ErrNotFound when the row is not a FAILED email of campaignID.
func (s *Store) RequeueFailedEmail(ctx context.Context, campaignID, id int64) (CampaignEmail, error) {
	e, err := scanEmail(s.Pool.QueryRow(ctx, `
		UPDATE campaign_emails SET status = 'QUEUED', last_error = '', updated_at = now()
		WHERE id = $1 AND campaign_id = $2 AND status = 'FAILED' AND method = 'SMTP'
		RETURNING `+emailColumns, id, campaignID))
	return e, notFound(err)
}

// QueuedEmailIDs lists up to limit QUEUED SMTP rows last touched before
// cutoff, oldest first: candidates for the sweeper.
func (s *Store) QueuedEmailIDs(ctx context.Context, cutoff time.Time, limit int) ([]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id FROM campaign_emails
		WHERE status = 'QUEUED' AND method = 'SMTP' AND updated_at < $1 ORDER BY created_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("list queued emails: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// EmailFilter narrows ListEmails.
type EmailFilter struct {
	CampaignID int64
	Status     string
	Limit      int
	Offset     int
}

// ListEmails returns one page of a campaign's emails, newest first, and the total.
func (s *Store) ListEmails(ctx context.Context, f EmailFilter) ([]CampaignEmail, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_emails WHERE campaign_id = $1
		AND ($2 = '' OR status = $2)`, f.CampaignID, f.Status).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count emails: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+emailColumns+` FROM campaign_emails WHERE campaign_id = $1
		AND ($2 = '' OR status = $2) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
		f.CampaignID, f.Status, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list emails: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CampaignEmail, error) { return scanEmail(row) })
	if err != nil {
		return nil, 0, fmt.Errorf("list emails: %w", err)
	}
	return list, total, nil
}

// EmailStats are a campaign's email counts.
type EmailStats struct {
	Total    int
	ByStatus map[string]int
	ByMethod map[string]int
}

// CampaignEmailStats counts a campaign's emails by status and by method.
func (s *Store) CampaignEmailStats(ctx context.Context, campaignID int64) (EmailStats, error) {
	st := EmailStats{ByStatus: map[string]int{}, ByMethod: map[string]int{MethodSMTP: 0, MethodMailto: 0}}
	for _, s := range EmailStatuses {
		st.ByStatus[s] = 0
	}
	rows, err := s.Pool.Query(ctx, `SELECT method, status, count(*) FROM campaign_emails WHERE campaign_id = $1
		GROUP BY method, status`, campaignID)
	if err != nil {
		return st, fmt.Errorf("email stats: %w", err)
	}
	var method, status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&method, &status, &n}, func() error {
		st.ByStatus[status] += n
		st.ByMethod[method] += n
		st.Total += n
		return nil
	})
	return st, err
}

// clipText makes an error message storable: at most n bytes, valid UTF-8
// (a cut may split a character), no NUL (which Postgres text refuses).
func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}
