package tasks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Influence task types.
const (
	TypeRepresentLookup     = "represent:lookup"
	TypeRepresentRefresh    = "represent:refresh-cache"
	TypeSendEmail           = "email:send"
	TypeSweepEmails         = "email:sweep"
	TypeVerifyResponse      = "email:response-verification"
	SendEmailMaxRetry       = 8
	RepresentLookupMaxRetry = 8
	representLookupTimeout  = 2 * time.Minute
)

// RepresentLookup fetches one postal code's representatives from Represent
// and stores them in the cache.
type RepresentLookup struct {
	PostalCode string `json:"postalCode"` // normalized: six characters, upper case
}

// RepresentLookupTaskID is the lookup task's ID: one task per postal code, so
// a thousand simultaneous misses for a code make one upstream call.
func RepresentLookupTaskID(code string) string { return "represent:lookup:" + code }

// NewRepresentLookup builds the lookup task. Its timeout leaves room to wait
// for the fleet-wide upstream rate limit.
func NewRepresentLookup(p RepresentLookup) (*asynq.Task, error) {
	return newTask(TypeRepresentLookup, p,
		asynq.Queue(QueueRepresent),
		asynq.TaskID(RepresentLookupTaskID(p.PostalCode)),
		asynq.MaxRetry(RepresentLookupMaxRetry),
		asynq.Timeout(representLookupTimeout),
	)
}

// RecentlyArchivedError is EnqueueRepresentLookup's answer when the code's
// previous lookup was archived less than the cooldown ago: Represent has just
// failed for it, and asking again at once would only spend the quota.
type RecentlyArchivedError struct {
	PostalCode string
	RetryAfter time.Duration // until the cooldown is over
	LastErr    string        // the archived task's last error
}

func (e *RecentlyArchivedError) Error() string {
	return fmt.Sprintf("the last lookup of %s was given up just now (%s); the next may run in %s", e.PostalCode,
		e.LastErr, e.RetryAfter.Round(time.Second))
}

// EnqueueRepresentLookup enqueues the lookup of code, one task per code. A
// live task for the code (pending, scheduled, waiting to retry or running)
// means the lookup is already on its way: nil. An archived one means asynq
// gave up on it (its retries ran out, or Represent answered a status that
// retrying cannot fix); asynq keeps it, and with it the task ID, for up to 90
// days, so without a repair no lookup of the code would ever run again. It is
// deleted and the lookup enqueued anew — unless it was archived less than
// cooldown ago (0: no cooldown), which is a *RecentlyArchivedError.
//
// inspector may be nil: a conflict is then taken as a lookup on its way.
func EnqueueRepresentLookup(ctx context.Context, q *asynq.Client, inspector *asynq.Inspector, code string,
	cooldown time.Duration, now time.Time) error {
	task, err := NewRepresentLookup(RepresentLookup{PostalCode: code})
	if err != nil {
		return err
	}
	_, err = EnqueueUnique(ctx, q, inspector, task, QueueRepresent, RepresentLookupTaskID(code), Policy{
		Replace:  []asynq.TaskState{asynq.TaskStateArchived, asynq.TaskStateCompleted},
		Cooldown: cooldown, Now: now,
	})
	var held *HeldError
	var cooling *CoolingDownError
	switch {
	case errors.As(err, &held):
		return nil // on its way
	case errors.As(err, &cooling):
		return &RecentlyArchivedError{PostalCode: code, RetryAfter: cooling.RetryAfter, LastErr: cooling.LastErr}
	case err != nil:
		return fmt.Errorf("enqueue the lookup of %s: %w", code, err)
	}
	return nil
}

// RepresentRefresh refreshes (or drops) cache entries older than the cache TTL.
type RepresentRefresh struct {
	// Limit bounds the lookups one run enqueues, to spare the upstream quota.
	Limit int `json:"limit"`
}

// NewRepresentRefresh builds the periodic cache refresh.
func NewRepresentRefresh(p RepresentRefresh) (*asynq.Task, error) {
	return newTask(TypeRepresentRefresh, p,
		asynq.Queue(QueueRepresent),
		asynq.MaxRetry(2),
		asynq.Timeout(2*time.Minute),
		asynq.Unique(50*time.Minute),
	)
}

// SendEmail sends one campaign_emails row over SMTP.
type SendEmail struct {
	EmailID int64 `json:"emailId"`
}

// SendEmailTaskID is the send task's ID, derived from the row ID: enqueueing a
// row that already has a live task is asynq.ErrTaskIDConflict, which is what
// makes the sweeper's re-enqueue safe.
func SendEmailTaskID(emailID int64) string { return "email:send:" + strconv.FormatInt(emailID, 10) }

// NewSendEmail builds the send task.
func NewSendEmail(p SendEmail) (*asynq.Task, error) {
	return newTask(TypeSendEmail, p,
		asynq.Queue(QueueEmail),
		asynq.TaskID(SendEmailTaskID(p.EmailID)),
		asynq.MaxRetry(SendEmailMaxRetry),
		asynq.Timeout(2*time.Minute),
	)
}

// SweepEmails enqueues QUEUED rows that have no live task: rows accepted
// while Redis was down, or whose task was lost.
type SweepEmails struct {
	OlderThanSeconds int `json:"olderThanSeconds"`
	Limit            int `json:"limit"`
}

// NewSweepEmails builds the periodic sweep.
func NewSweepEmails(p SweepEmails) (*asynq.Task, error) {
	return newTask(TypeSweepEmails, p,
		asynq.Queue(QueueEmail),
		asynq.MaxRetry(1),
		asynq.Timeout(time.Minute),
		asynq.Unique(50*time.Second),
	)
}

// VerifyResponse emails a response-wall submitter their verification link.
type VerifyResponse struct {
	ResponseID int64 `json:"responseId"`
}

// VerifyResponseTaskID is one verification email per response.
func VerifyResponseTaskID(id int64) string {
	return "email:verify-response:" + strconv.FormatInt(id, 10)
}

// NewVerifyResponse builds the verification email task.
func NewVerifyResponse(p VerifyResponse) (*asynq.Task, error) {
	return newTask(TypeVerifyResponse, p,
		asynq.Queue(QueueEmail),
		asynq.TaskID(VerifyResponseTaskID(p.ResponseID)),
		asynq.MaxRetry(SendEmailMaxRetry),
		asynq.Timeout(2*time.Minute),
	)
}
