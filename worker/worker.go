// Package worker is the asynq server, the ServeMux and its middleware. The
// task handlers live in one package per fleet (worker/email,
// worker/represent, worker/media, worker/maintenance, worker/geocode), each registering its
// task types through a Register(mux, fleet.Deps); NewMux calls them. Only
// cmd imports this package.
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

	"changemaker/internal/asynqlog"
	"changemaker/tasks"
	"changemaker/worker/email"
	"changemaker/worker/fleet"
	"changemaker/worker/geocode"
	"changemaker/worker/imports"
	"changemaker/worker/maintenance"
	"changemaker/worker/media"
	"changemaker/worker/represent"
)

// Deps are what the fleets' handlers need.
type Deps = fleet.Deps

// NewMux routes every task type to its fleet's handler, wrapped in the
// logging and metrics middleware. The fleets register their own metrics on
// m's registry, so call it once per Metrics.
func NewMux(d Deps, m *Metrics) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(observe(d.Log, m))
	d.Metrics = nil
	if m != nil {
		d.Metrics = m.reg
	}
	// Every fleet registers, whatever queues this process serves: a task
	// type whose queue it does not serve simply never reaches it.
	for _, register := range []func(*asynq.ServeMux, fleet.Deps){
		maintenance.Register,
		email.Register,
		represent.Register,
		media.Register,
		geocode.Register,
		imports.Register,
	} {
		register(mux, d)
	}
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
	// TaskCheckInterval is how often an idle worker polls its queues
	// (WORKER_TASK_CHECK_INTERVAL); 0 is asynq's default, 1 s.
	TaskCheckInterval time.Duration
}

// NewServer returns an asynq server. On Shutdown it stops fetching, waits up
// to ShutdownTimeout for in-flight tasks, then cancels them and hands them
// back to their queues so another worker picks them up.
func NewServer(redis asynq.RedisConnOpt, o ServerOptions) *asynq.Server {
	return asynq.NewServer(redis, asynq.Config{
		Concurrency:     o.Concurrency,
		Queues:          o.Queues,
		ShutdownTimeout: o.ShutdownTimeout,
		Logger:          asynqlog.New(o.Log),
		LogLevel:        asynq.InfoLevel,

		TaskCheckInterval: o.TaskCheckInterval,
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
	reg       prometheus.Registerer // the fleets register theirs here
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	wait      *prometheus.HistogramVec // cm_task_wait_seconds (wait.go)
}

// NewMetrics registers the task metrics on reg. The fleets' own metrics join
// them on reg when NewMux registers the fleets.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
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
	m.wait = newWaitHistogram()
	reg.MustRegister(m.processed, m.duration, m.wait)
	return m
}

// InfoGauge is cm_worker_info{queues="…"} 1: which queues this worker process
// serves (sorted, comma-separated; every queue under `all`). Scrape
// configurations cannot know it from a port — a Procfile worker and the one
// of `all` use the same WORKER_METRICS_PORT — so the process says it.
func InfoGauge(queues map[string]int) prometheus.Collector {
	names := make([]string, 0, len(queues))
	for q := range queues {
		names = append(names, q)
	}
	sort.Strings(names)
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cm_worker_info",
		Help: "1 for this worker process; queues lists the queues it serves.",
	}, []string{"queues"})
	g.WithLabelValues(strings.Join(names, ",")).Set(1)
	return g
}

// Processed returns the counter for one task type and result.
func (m *Metrics) Processed(taskType, result string) prometheus.Counter {
	return m.processed.WithLabelValues(taskType, result)
}
