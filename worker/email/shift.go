package email

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/storage"
	"changemaker/tasks"
)

// ShiftMessageID is the Message-ID of shift email id, without brackets.
func ShiftMessageID(id int64, domain string) string {
	return fmt.Sprintf("map-shift-email-%d@%s", id, domain)
}

// ShiftEmail handles email:map-shift: it sends one row of the shift email
// outbox. A row that is not QUEUED (sent, failed, gone) is a no-op, so
// running the task twice sends once; a crash between the server's 250 and
// the UPDATE sends a second copy with the same Message-ID, as campaign
// emails do.
func (e *Handler) ShiftEmail(ctx context.Context, t *asynq.Task) error {
	var p tasks.MapShiftEmail
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	row, err := e.Store.ShiftEmailByID(ctx, p.EmailID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("shift email %d: row is gone: %w", p.EmailID, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("shift email %d: %w", p.EmailID, err)
	}
	if row.Status != "QUEUED" {
		return nil
	}
	m, err := e.mailer(ctx)
	if err != nil {
		return fmt.Errorf("shift email %d: %w", p.EmailID, err)
	}
	msgID := ShiftMessageID(row.ID, m.domain())
	to, err := address(row.ToName, row.ToEmail)
	if err != nil {
		e.shiftEmailFailed(ctx, row.ID, err.Error(), true)
		return fmt.Errorf("shift email %d: recipient: %v: %w", p.EmailID, err, asynq.SkipRetry)
	}
	msg, err := newMessage(m, to, row.Subject, msgID, "X-Changemaker-Shift-Email", row.Kind, row.Body)
	if err != nil {
		return fmt.Errorf("shift email %d: %v: %w", p.EmailID, err, asynq.SkipRetry)
	}
	start := time.Now()
	_, quit, err := e.send(ctx, m, msg)
	defer quit() // after the row is marked: see send
	e.Metrics.observeSend(time.Since(start), err)
	if err != nil {
		retry, _ := asynq.GetRetryCount(ctx)
		maxRetry, ok := asynq.GetMaxRetry(ctx)
		perm := permanent(err)
		e.shiftEmailFailed(ctx, row.ID, err.Error(), perm || (ok && retry >= maxRetry))
		if perm {
			return fmt.Errorf("shift email %d: %v: %w", p.EmailID, err, asynq.SkipRetry)
		}
		return fmt.Errorf("shift email %d: %w", p.EmailID, err)
	}
	if _, err := e.Store.MarkShiftEmailSent(context.WithoutCancel(ctx), row.ID); err != nil {
		// The message is out; a retry would send it again.
		e.Log.Error("shift email sent but not marked SENT", "email_id", row.ID, "err", err)
		return fmt.Errorf("shift email %d: %s: marking it SENT failed: %v: %w", p.EmailID, acceptedNote(msgID), err,
			asynq.SkipRetry)
	}
	return nil
}

func (e *Handler) shiftEmailFailed(ctx context.Context, id int64, msg string, final bool) {
	if err := e.Store.RecordShiftEmailAttempt(context.WithoutCancel(ctx), id, msg, final); err != nil {
		e.Log.Warn("record shift email attempt", "email_id", id, "err", err)
	}
}

// ShiftEmailSweep handles email:map-shift-sweep: it enqueues QUEUED shift
// emails untouched for OlderThanSeconds (written while Redis was away, or
// whose task was lost). A row with a live task conflicts and is left alone.
func (e *Handler) ShiftEmailSweep(ctx context.Context, t *asynq.Task) error {
	var p tasks.MapShiftEmailSweep
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.Limit <= 0 {
		p.Limit = 500
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	ids, err := e.Store.QueuedShiftEmailIDs(ctx, now().Add(-time.Duration(p.OlderThanSeconds)*time.Second), p.Limit)
	if err != nil {
		return fmt.Errorf("sweep shift emails: %w", err)
	}
	return tasks.EnqueueMapShiftEmails(ctx, e.Queue, ids)
}
