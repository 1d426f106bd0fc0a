package storage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
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

func emailFromDB(r db.CampaignEmail) CampaignEmail {
	return CampaignEmail{ID: r.ID, CampaignID: r.CampaignID, Method: r.Method, Status: r.Status,
		SenderName: r.SenderName, SenderEmail: r.SenderEmail, PostalCode: r.PostalCode,
		RecipientKind: r.RecipientKind, RecipientName: r.RecipientName, RecipientTitle: r.RecipientTitle,
		RecipientDistrict: r.RecipientDistrict, RecipientLevel: r.RecipientLevel, RecipientEmail: r.RecipientEmail,
		Subject: r.Subject, Body: r.Body, Attempts: int(r.Attempts), LastError: r.LastError, MessageID: r.MessageID,
		SentAt: r.SentAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// InsertEmails stores rows with one INSERT and returns them with IDs, in
// the order given. MAILTO rows count towards the campaign's email count at
// once (in the same transaction); SMTP rows when they are sent, so a batch
// of SMTP rows is one statement and no transaction around it.
func (s *Store) InsertEmails(ctx context.Context, rows []CampaignEmail) ([]CampaignEmail, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var p db.InsertEmailRowsParams
	clicked := int32(0)
	for _, e := range rows {
		p.CampaignIds = append(p.CampaignIds, e.CampaignID)
		p.Methods = append(p.Methods, e.Method)
		p.Statuses = append(p.Statuses, e.Status)
		p.SenderNames = append(p.SenderNames, e.SenderName)
		p.SenderEmails = append(p.SenderEmails, e.SenderEmail)
		p.PostalCodes = append(p.PostalCodes, e.PostalCode)
		p.RecipientKinds = append(p.RecipientKinds, e.RecipientKind)
		p.RecipientNames = append(p.RecipientNames, e.RecipientName)
		p.RecipientTitles = append(p.RecipientTitles, e.RecipientTitle)
		p.RecipientDistricts = append(p.RecipientDistricts, e.RecipientDistrict)
		p.RecipientLevels = append(p.RecipientLevels, e.RecipientLevel)
		p.RecipientEmails = append(p.RecipientEmails, e.RecipientEmail)
		p.Subjects = append(p.Subjects, e.Subject)
		p.Bodies = append(p.Bodies, e.Body)
		if e.Method == MethodMailto {
			clicked++
		}
	}
	insert := func(q *db.Queries) ([]CampaignEmail, error) {
		got, err := q.InsertEmailRows(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("insert campaign emails: %w", err)
		}
		out := make([]CampaignEmail, len(got))
		for i, r := range got {
			out[i] = emailFromDB(r)
		}
		// RETURNING follows the insertion, and the IDs with it; sorting by
		// ID makes the order the caller's whatever the plan.
		slices.SortFunc(out, func(a, b CampaignEmail) int { return cmp.Compare(a.ID, b.ID) })
		return out, nil
	}
	if clicked == 0 {
		return insert(s.q())
	}
	var out []CampaignEmail
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		q := queries(tx)
		if out, err = insert(q); err != nil {
			return err
		}
		if err := q.AddEmailCount(ctx, db.AddEmailCountParams{ID: rows[0].CampaignID, N: clicked}); err != nil {
			return fmt.Errorf("count campaign emails: %w", err)
		}
		return nil
	})
	return out, err
}

// EmailByID finds a campaign email.
func (s *Store) EmailByID(ctx context.Context, id int64) (CampaignEmail, error) {
	r, err := s.q().EmailByID(ctx, id)
	return emailFromDB(r), notFound(err)
}

// MarkEmailSent records a delivered email: the SMTP server accepted it at
// sentAt. It writes the one row and takes no other lock: the campaign's count
// follows in ApplyEmailCounts, so concurrent sends of a campaign never queue
// on its row between the server's 250 and this commit (the window in which a
// killed worker sends a message twice). It reports false when the row was
// not QUEUED (already sent, or gone).
func (s *Store) MarkEmailSent(ctx context.Context, id int64, messageID string, sentAt time.Time) (bool, error) {
	n, err := s.q().MarkEmailSent(ctx, db.MarkEmailSentParams{ID: id, MessageID: messageID, SentAt: &sentAt})
	if err != nil {
		return false, fmt.Errorf("mark email %d sent: %w", id, err)
	}
	return n == 1, nil
}

// ApplyEmailCounts folds SENT emails not yet counted into their campaigns'
// email_count, up to limit rows, and returns how many it counted. Each row is
// counted once (its flag clears in the same transaction as the bump); runs
// side by side skip each other's rows.
func (s *Store) ApplyEmailCounts(ctx context.Context, limit int) (int, error) {
	n, err := s.q().ApplyEmailCounts(ctx, int64(limit))
	if err != nil {
		return 0, fmt.Errorf("apply campaign email counts: %w", err)
	}
	return int(n), nil
}

// RecordEmailAttempt notes a failed attempt; final marks the row FAILED.
func (s *Store) RecordEmailAttempt(ctx context.Context, id int64, errText string, final bool) error {
	status := EmailQueued
	if final {
		status = EmailFailed
	}
	err := s.q().RecordEmailAttempt(ctx, db.RecordEmailAttemptParams{ID: id, LastError: clipText(errText, 1000),
		Status: status})
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
	n, err := s.q().FailStuckEmail(ctx, db.FailStuckEmailParams{ID: id, LastError: clipText(errText, 1000),
		UpdatedAt: updatedAt})
	if err != nil {
		return false, fmt.Errorf("fail stuck email %d: %w", id, err)
	}
	return n == 1, nil
}

// RequeueFailedEmail puts a FAILED SMTP row back to QUEUED. It is
// ErrNotFound when the row is not a FAILED email of campaignID.
func (s *Store) RequeueFailedEmail(ctx context.Context, campaignID, id int64) (CampaignEmail, error) {
	r, err := s.q().RequeueFailedEmail(ctx, db.RequeueFailedEmailParams{ID: id, CampaignID: campaignID})
	return emailFromDB(r), notFound(err)
}

// QueuedEmailIDs lists up to limit QUEUED SMTP rows last touched before
// cutoff, oldest first: candidates for the sweeper.
func (s *Store) QueuedEmailIDs(ctx context.Context, cutoff time.Time, limit int) ([]int64, error) {
	ids, err := s.q().QueuedEmailIDs(ctx, db.QueuedEmailIDsParams{Cutoff: cutoff, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list queued emails: %w", err)
	}
	return ids, nil
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
	status := optText(f.Status)
	return page(ctx, s, "emails",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountEmails(ctx, db.CountEmailsParams{CampaignID: f.CampaignID, Status: status})
		},
		func(ctx context.Context, q *db.Queries) ([]db.CampaignEmail, error) {
			return q.ListEmails(ctx, db.ListEmailsParams{CampaignID: f.CampaignID, Status: status,
				PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		emailFromDB)
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
	rows, err := s.q().EmailStats(ctx, campaignID)
	if err != nil {
		return st, fmt.Errorf("email stats: %w", err)
	}
	for _, r := range rows {
		n := int(r.Emails)
		st.ByStatus[r.Status] += n
		st.ByMethod[r.Method] += n
		st.Total += n
	}
	return st, nil
}

// clipText makes an error message storable: at most n bytes, valid UTF-8
// (a cut may split a character), no NUL (which Postgres text refuses).
func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}
