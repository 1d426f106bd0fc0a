// Package fleet is what every worker fleet is handed when it registers its
// task types: the process's connections, its config and where its metrics
// go. A fleet package (worker/email, worker/represent, worker/media, …)
// exposes
//
//	func Register(mux *asynq.ServeMux, d fleet.Deps)
//
// and package worker calls each one on the process's mux. Adding a fleet is
// a new package with a Register and one line in worker.NewMux.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/config"
	"changemaker/storage"
)

// Deps are what the handlers of every fleet may need.
type Deps struct {
	Config config.Config
	Store  *storage.Store
	Redis  redis.UniversalClient
	Queue  *asynq.Client // for handlers that enqueue follow-up tasks
	Log    *slog.Logger
	// Metrics is where a fleet registers its own metrics; nil records none.
	Metrics prometheus.Registerer
	// Context ends when the process stops: what a fleet runs in the
	// background (the email fleet's cache listener) stops with it. nil
	// starts nothing in the background.
	Context context.Context
}

// Inspector returns an asynq inspector on d.Redis, or nil without Redis. It
// shares the process's client (same server and database as the queues), so
// there is nothing to close: the process closes the client.
func (d Deps) Inspector() *asynq.Inspector {
	if d.Redis == nil {
		return nil
	}
	return asynq.NewInspectorFromRedisClient(d.Redis)
}

// Replan enqueues again the planning task of each stalled job (geocode
// jobs, address imports: work still going whose last change is old, so its
// tasks may have been lost from Redis). task builds job id's planning task,
// whose task ID makes a second copy impossible: a job whose task is still
// queued or running gets nothing new. touch records that the job was looked
// after, so a sweep looks at it again only after its staleness period. It
// returns how many were enqueued.
func Replan(ctx context.Context, q *asynq.Client, ids []int64, task func(id int64) (*asynq.Task, error),
	touch func(ctx context.Context, id int64) error) (int, error) {
	requeued := 0
	for _, id := range ids {
		t, err := task(id)
		if err != nil {
			return requeued, err
		}
		ectx, cancel := context.WithTimeout(ctx, enqueueTimeout)
		_, err = q.EnqueueContext(ectx, t)
		cancel()
		switch {
		case err == nil:
			requeued++
		case !errors.Is(err, asynq.ErrTaskIDConflict):
			return requeued, fmt.Errorf("enqueue %s %d: %w", t.Type(), id, err)
		}
		if err := touch(ctx, id); err != nil {
			return requeued, err
		}
	}
	return requeued, nil
}

// enqueueTimeout bounds each enqueue of Replan.
const enqueueTimeout = 5 * time.Second
