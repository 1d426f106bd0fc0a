// Package tasks is the contract between the APIs (which enqueue) and the
// workers (which handle): queue names, task type names, payloads and the
// constructors that attach queue, retry, timeout and identity options.
//
// Payloads carry IDs, never data that Postgres already holds. Their JSON is
// pinned by golden files (testdata/*.golden.json) so an API and a worker of
// different builds keep understanding each other: add fields, never rename.
package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Queue names. Each worker fleet serves a subset of them.
const (
	QueueEmail     = "email"
	QueueRepresent = "represent"
	QueueGeocode   = "geocode"
	QueueImport    = "import"
	QueueMedia     = "media"
	QueueDefault   = "default"
)

// QueueWeights returns every queue with its default priority weight, used when
// a worker serves all queues.
func QueueWeights() map[string]int {
	return map[string]int{
		QueueEmail:     6,
		QueueRepresent: 4,
		QueueGeocode:   2,
		QueueImport:    1,
		QueueMedia:     2,
		QueueDefault:   1,
	}
}

// Task type names, "domain:verb".
const (
	TypePurgeRefreshTokens = "maintenance:purge-refresh-tokens"
)

// PurgeRefreshTokens deletes refresh tokens that expired more than GraceHours ago.
type PurgeRefreshTokens struct {
	GraceHours int `json:"graceHours"`
}

// NewPurgeRefreshTokens builds the periodic purge task. Unique keeps a second
// scheduler (or a restart inside the hour) from piling up copies.
func NewPurgeRefreshTokens(p PurgeRefreshTokens) (*asynq.Task, error) {
	return newTask(TypePurgeRefreshTokens, p,
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(3),
		asynq.Timeout(2*time.Minute),
		asynq.Unique(50*time.Minute),
	)
}

func newTask(typ string, payload any, opts ...asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return asynq.NewTaskWithHeaders(typ, b, map[string]string{HeaderEnqueuedAt: stamp(time.Now())}, opts...), nil
}

// HeaderEnqueuedAt is the task header holding when the task was built to be
// enqueued (Unix nanoseconds, decimal): the worker's middleware measures the
// enqueue-to-start wait from it (cm_task_wait_seconds). Every constructor
// here sets it; a task enqueued again and again from one value (the
// scheduler's) is stamped anew with Restamp before each enqueue.
const HeaderEnqueuedAt = "cm-enqueued-at"

func stamp(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// Restamp sets the enqueue time of a task built earlier to now. It changes
// the task in place: call it right before that task's enqueue, from the one
// goroutine that enqueues it.
func Restamp(t *asynq.Task, now time.Time) {
	if h := t.Headers(); h != nil {
		h[HeaderEnqueuedAt] = stamp(now)
	}
}

// EnqueuedAt is the enqueue time a task carries, if it carries one.
func EnqueuedAt(t *asynq.Task) (time.Time, bool) {
	v, ok := t.Headers()[HeaderEnqueuedAt]
	if !ok {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ns <= 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// Decode unmarshals a task payload. A malformed payload can never succeed, so
// the error wraps asynq.SkipRetry.
func Decode(t *asynq.Task, dst any) error {
	if err := json.Unmarshal(t.Payload(), dst); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}
