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
	"log/slog"

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
