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
	return asynq.NewTask(typ, b, opts...), nil
}

// Decode unmarshals a task payload. A malformed payload can never succeed, so
// the error wraps asynq.SkipRetry.
func Decode(t *asynq.Task, dst any) error {
	if err := json.Unmarshal(t.Payload(), dst); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}
