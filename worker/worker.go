// Package worker holds the task handlers of every fleet, the ServeMux that
// routes them, its middleware, and the asynq server that runs them.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/config"
	"changemaker/storage"
	"changemaker/tasks"
)

// Deps are what the handlers need.
type Deps struct {
	Config config.Config
	Store  *storage.Store
	Redis  redis.UniversalClient
	Queue  *asynq.Client // for handlers that enqueue follow-up tasks
	Log    *slog.Logger
}

// NewMux routes every task type to its handler, wrapped in the logging and
// metrics middleware.
func NewMux(d Deps, m *Metrics) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(observe(d.Log, m))
	maint := &Maintenance{Store: d.Store, Log: d.Log}
	mux.HandleFunc(tasks.TypePurgeRefreshTokens, maint.PurgeRefreshTokens)
	registerInfluence(mux, d, m)
	registerMedia(mux, d, m)
	return mux
}

// ParseQueues turns "email,represent" into asynq's queue-weight map. An empty
// list means every queue at its default weight.
func ParseQueues(list string) (map[string]int, error) {
	all := tasks.QueueWeights()
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return all, nil
	}
	out := map[string]int{}
	for _, q := range strings.Split(list, ",") {
		q = strings.TrimSpace(q)
		w, ok := all[q]
		if !ok {
			names := make([]string, 0, len(all))
			for n := range all {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("unknown queue %q (queues: %s)", q, strings.Join(names, ", "))
		}
		out[q] = w
	}
	return out, nil
}

// ServerOptions configure the asynq server of one worker process.
type ServerOptions struct {
	Queues          map[string]int
	Concurrency     int
	ShutdownTimeout time.Duration
	Log             *slog.Logger
}

// NewServer returns an asynq server. On Shutdown it stops fetching, waits up
// to ShutdownTimeout for in-flight tasks, then cancels them and hands them
// back to their queues so another worker picks them up.
func NewServer(redis asynq.RedisConnOpt, o ServerOptions) *asynq.Server {
	return asynq.NewServer(redis, asynq.Config{
		Concurrency:     o.Concurrency,
		Queues:          o.Queues,
		ShutdownTimeout: o.ShutdownTimeout,
		Logger:          NewAsynqLogger(o.Log),
		LogLevel:        asynq.InfoLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			o.Log.Warn("task failed", "type", t.Type(), "task_id", id, "retry", retried, "max_retry", maxRetry, "err", err)
		}),
	})
}

// QueueNames lists the queues of a weight map, sorted, for logs.
func QueueNames(q map[string]int) []string {
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Metrics are the worker's task metrics.
type Metrics struct {
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	influence *InfluenceMetrics
	media     *MediaMetrics
}

// NewMetrics registers the task metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_tasks_processed_total",
			Help: "Tasks handled by this worker, by type and result (ok, error, skip).",
		}, []string{"type", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cm_task_duration_seconds",
			Help:    "Task handling time by type.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
		}, []string{"type"}),
	}
	reg.MustRegister(m.processed, m.duration)
	m.influence = NewInfluenceMetrics(reg)
	m.media = NewMediaMetrics(reg)
	return m
}

// Processed returns the counter for one task type and result.
func (m *Metrics) Processed(taskType, result string) prometheus.Counter {
	return m.processed.WithLabelValues(taskType, result)
}
