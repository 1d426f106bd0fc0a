package tasks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Shift and canvassing task types.
const (
	TypeMapShiftEmail        = "email:map-shift"
	TypeMapShiftEmailSweep   = "email:map-shift-sweep"
	TypeAbandonCanvassIdle   = "maintenance:map-abandon-idle-sessions"
	MapShiftEmailMaxRetry    = 8
	CanvassSessionIdleHours  = 12
	mapShiftEmailTaskTimeout = 2 * time.Minute
)

// MapShiftEmail sends one map_shift_emails row (a shift confirmation or
// cancellation) over SMTP.
type MapShiftEmail struct {
	EmailID int64 `json:"emailId"`
}

// MapShiftEmailTaskID is the send task's ID, from the row ID: a row has at
// most one live task, so the sweeper's re-enqueue never sends twice.
func MapShiftEmailTaskID(id int64) string { return "email:map-shift:" + strconv.FormatInt(id, 10) }

// NewMapShiftEmail builds the send task.
func NewMapShiftEmail(p MapShiftEmail) (*asynq.Task, error) {
	return newTask(TypeMapShiftEmail, p,
		asynq.Queue(QueueEmail),
		asynq.TaskID(MapShiftEmailTaskID(p.EmailID)),
		asynq.MaxRetry(MapShiftEmailMaxRetry),
		asynq.Timeout(mapShiftEmailTaskTimeout),
	)
}

// EnqueueMapShiftEmails enqueues the send tasks of outbox rows. A row whose
// task exists already is on its way; any other failure is returned after
// trying every row (the sweeper enqueues what is left).
func EnqueueMapShiftEmails(ctx context.Context, q *asynq.Client, ids []int64) error {
	var first error
	for _, id := range ids {
		task, err := NewMapShiftEmail(MapShiftEmail{EmailID: id})
		if err == nil {
			_, err = q.EnqueueContext(ctx, task)
		}
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && first == nil {
			first = fmt.Errorf("enqueue shift email %d: %w", id, err)
		}
	}
	return first
}

// MapShiftEmailSweep enqueues QUEUED shift emails untouched for
// OlderThanSeconds: rows written while Redis was away.
type MapShiftEmailSweep struct {
	OlderThanSeconds int `json:"olderThanSeconds"`
	Limit            int `json:"limit"`
}

// NewMapShiftEmailSweep builds the periodic sweep.
func NewMapShiftEmailSweep(p MapShiftEmailSweep) (*asynq.Task, error) {
	return newTask(TypeMapShiftEmailSweep, p,
		asynq.Queue(QueueEmail),
		asynq.MaxRetry(1),
		asynq.Timeout(time.Minute),
		asynq.Unique(50*time.Second),
	)
}

// AbandonCanvassIdle marks ACTIVE canvass sessions with no visit or track
// point for IdleHours ABANDONED.
type AbandonCanvassIdle struct {
	IdleHours int `json:"idleHours"`
}

// NewAbandonCanvassIdle builds the periodic task.
func NewAbandonCanvassIdle(p AbandonCanvassIdle) (*asynq.Task, error) {
	return newTask(TypeAbandonCanvassIdle, p,
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(3),
		asynq.Timeout(2*time.Minute),
		asynq.Unique(9*time.Minute),
	)
}
