package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
)

// Policy says what EnqueueUnique may do with a task that already holds the
// new task's ID.
type Policy struct {
	// Replace lists the states in which a task holding the ID is deleted to
	// make way for the new one. asynq keeps archived tasks (for up to 90
	// days) and completed ones (for their retention) as records, and with
	// them their IDs; a task in any other state is on its way. Empty: none.
	Replace []asynq.TaskState
	// Cooldown keeps an archived task whose last attempt failed less than
	// Cooldown ago, even when Replace lists archived tasks: what has just
	// failed would most likely fail again. 0: no cooldown.
	Cooldown time.Duration
	// Now is the cooldown's clock; zero is time.Now().
	Now time.Time
	// Rounds bounds the enqueue attempts; 0 is 3. Between an attempt and the
	// next, the holder may finish and go, or another process may replace it.
	Rounds int
}

// HeldError is EnqueueUnique's answer when the ID is held by a task the
// policy keeps. Info is that task as last inspected, nil when there was no
// inspector or the task went before it could be looked at. It matches
// asynq.ErrTaskIDConflict.
type HeldError struct {
	Queue, ID string
	Info      *asynq.TaskInfo
}

func (e *HeldError) Error() string {
	if e.Info == nil {
		return fmt.Sprintf("task %s in queue %s already exists", e.ID, e.Queue)
	}
	return fmt.Sprintf("task %s in queue %s already exists (%s)", e.ID, e.Queue, e.Info.State)
}

func (e *HeldError) Unwrap() error { return asynq.ErrTaskIDConflict }

// CoolingDownError is EnqueueUnique's answer when the ID is held by an
// archived task that failed less than the policy's cooldown ago.
type CoolingDownError struct {
	Queue, ID  string
	RetryAfter time.Duration // until the cooldown is over
	LastErr    string        // the archived task's last error
}

func (e *CoolingDownError) Error() string {
	return fmt.Sprintf("task %s in queue %s was given up just now (%s); the next may run in %s", e.ID, e.Queue,
		e.LastErr, e.RetryAfter.Round(time.Second))
}

// ReplaceError is EnqueueUnique's answer when it could not delete the task
// it meant to replace (Redis failed, or the task changed state under it).
type ReplaceError struct {
	Queue, ID string
	Err       error
}

func (e *ReplaceError) Error() string {
	return fmt.Sprintf("delete task %s in queue %s to replace it: %v", e.ID, e.Queue, e.Err)
}

func (e *ReplaceError) Unwrap() error { return e.Err }

// EnqueueUnique enqueues task under id in queue, even when an earlier
// task with that ID is kept as a record the policy lets it replace. It
// returns the new task's info, or a *HeldError (a task on its way, or a
// record the policy keeps), a *CoolingDownError, a *ReplaceError, or the
// enqueue's or the inspection's error. inspector may be nil: every conflict
// is then a *HeldError without Info.
func EnqueueUnique(ctx context.Context, q *asynq.Client, inspector *asynq.Inspector, task *asynq.Task,
	queue, id string, p Policy) (*asynq.TaskInfo, error) {
	rounds := p.Rounds
	if rounds <= 0 {
		rounds = 3
	}
	held := &HeldError{Queue: queue, ID: id}
	var lastErr error
	for range rounds {
		// The ID and queue given win over the task's own options, so that
		// what is enqueued is what is inspected and deleted.
		info, err := q.EnqueueContext(ctx, task, asynq.Queue(queue), asynq.TaskID(id))
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil, fmt.Errorf("enqueue %s: %w", id, err)
		}
		if inspector == nil {
			return nil, held
		}
		old, err := inspector.GetTaskInfo(queue, id)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
			held.Info = nil
			continue // it finished and went since the enqueue: enqueue again
		case err != nil:
			return nil, fmt.Errorf("inspect task %s: %w", id, err)
		}
		held.Info = old
		if !slices.Contains(p.Replace, old.State) {
			return nil, held
		}
		if old.State == asynq.TaskStateArchived && p.Cooldown > 0 && !old.LastFailedAt.IsZero() {
			now := p.Now
			if now.IsZero() {
				now = time.Now()
			}
			if wait := old.LastFailedAt.Add(p.Cooldown).Sub(now); wait > 0 {
				return nil, &CoolingDownError{Queue: queue, ID: id, RetryAfter: wait, LastErr: old.LastErr}
			}
		}
		lastErr = nil
		if err := inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			// Most likely another process replaced it and a worker took the
			// new task: the next round sees it live.
			lastErr = &ReplaceError{Queue: queue, ID: id, Err: err}
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, held
}
