package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/tasks"
)

// newWaitHistogram is cm_task_wait_seconds{queue,type}: how long each task
// waited between its enqueue and the start of its first attempt, observed by
// the worker that starts it. Its p95 per queue is what an autoscaler scales a
// fleet on (deploy/keda). Its buckets go from 5 ms (an idle fleet picks a
// task up at once) to an hour (a fleet that is down).
func newWaitHistogram() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cm_task_wait_seconds",
		Help:    "Time from a task's enqueue to the start of its first attempt, by queue and type.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"queue", "type"})
}

// observeWait records how long t waited before this, its first attempt,
// started at start. Retries are left out (their wait includes the backoff
// asynq chose), and so are tasks without an enqueue time (built by hand, or
// by an older build). A clock behind the enqueuer's counts as no wait.
func (m *Metrics) observeWait(ctx context.Context, t *asynq.Task, start time.Time) {
	if m == nil || m.wait == nil {
		return
	}
	if retried, _ := asynq.GetRetryCount(ctx); retried > 0 {
		return
	}
	queue, ok := asynq.GetQueueName(ctx)
	if !ok {
		return // not run by an asynq server (a direct call)
	}
	at, ok := tasks.EnqueuedAt(t)
	if !ok {
		return
	}
	m.wait.WithLabelValues(queue, t.Type()).Observe(max(0, start.Sub(at).Seconds()))
}
