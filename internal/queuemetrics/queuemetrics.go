// Package queuemetrics exports the state of every asynq queue to Prometheus:
// tasks per state, size, latency, memory, processed and failed totals, and
// whether a queue is paused.
//
// It replaces asynq's own collector (github.com/hibiken/asynq/x/metrics),
// whose gauges asynq_tasks_enqueued_total and asynq_queue_paused_total end
// in _total without being counters (promtool check metrics refuses them),
// and which logs through the standard logger. The queue state lives in
// Redis, so one process per deployment exports it (the `queues` process, or
// `all`): every API replica exporting it would count each queue N times.
package queuemetrics

import (
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector over an asynq Inspector.
type Collector struct {
	inspector *asynq.Inspector
	log       *slog.Logger
	tasks     *prometheus.Desc
	size      *prometheus.Desc
	latency   *prometheus.Desc
	memory    *prometheus.Desc
	processed *prometheus.Desc
	failed    *prometheus.Desc
	paused    *prometheus.Desc
	up        *prometheus.Desc
}

// New returns a collector reading the queues through inspector. log may be nil.
func New(inspector *asynq.Inspector, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := []string{"queue"}
	return &Collector{
		inspector: inspector,
		log:       log,
		tasks:     prometheus.NewDesc("asynq_queue_tasks", "Tasks in a queue by state (pending, active, scheduled, retry, archived, completed).", []string{"queue", "state"}, nil),
		size:      prometheus.NewDesc("asynq_queue_size", "Tasks in a queue, every state but completed.", q, nil),
		latency:   prometheus.NewDesc("asynq_queue_latency_seconds", "How long the oldest pending task of a queue has waited.", q, nil),
		memory:    prometheus.NewDesc("asynq_queue_memory_usage_approx_bytes", "Redis memory used by a queue (approximate, sampled).", q, nil),
		processed: prometheus.NewDesc("asynq_tasks_processed_total", "Tasks processed (succeeded or failed) per queue, as counted by asynq (today and the days it keeps).", q, nil),
		failed:    prometheus.NewDesc("asynq_tasks_failed_total", "Tasks failed per queue, as counted by asynq.", q, nil),
		paused:    prometheus.NewDesc("asynq_queue_paused", "1 while a queue is paused, else 0.", q, nil),
		up:        prometheus.NewDesc("asynq_queue_metrics_up", "1 when the last read of the queues from Redis succeeded, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.size, c.latency, c.memory, c.processed, c.failed, c.paused, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A Redis failure exports
// asynq_queue_metrics_up 0 and no queue series, rather than stale numbers.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	infos, err := c.read()
	if err != nil {
		c.log.Warn("queue metrics: cannot read the queues", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, q := range infos {
		for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled,
			"retry": q.Retry, "archived": q.Archived, "completed": q.Completed} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q.Queue, state)
		}
		paused := 0.0
		if q.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(q.Size), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, q.Latency.Seconds(), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.memory, prometheus.GaugeValue, float64(q.MemoryUsage), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(q.ProcessedTotal), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(q.FailedTotal), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused, q.Queue)
	}
}

func (c *Collector) read() ([]*asynq.QueueInfo, error) {
	names, err := c.inspector.Queues()
	if err != nil {
		return nil, err
	}
	out := make([]*asynq.QueueInfo, 0, len(names))
	for _, name := range names {
		info, err := c.inspector.GetQueueInfo(name)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}
