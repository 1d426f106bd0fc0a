package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"changemaker/internal/asynqconn"
	"changemaker/internal/asynqlog"
	"changemaker/internal/testenv"
	"changemaker/tasks"
	"changemaker/worker"
)

// waitHistogram returns cm_task_wait_seconds{queue,type} as gathered from
// reg (nil when it has no such series).
func waitHistogram(t *testing.T, reg *prometheus.Registry, queue, typ string) *dto.Histogram {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "cm_task_wait_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["queue"] == queue && labels["type"] == typ {
				return m.GetHistogram()
			}
		}
	}
	return nil
}

// TestTaskWaitIsMeasuredFromEnqueueToFirstStart: a task that sat in its
// queue while no worker served it reports that wait in
// cm_task_wait_seconds{queue,type} once, when its first attempt starts; a
// retry adds nothing, and a task that carries no enqueue time is left out.
func TestTaskWaitIsMeasuredFromEnqueueToFirstStart(t *testing.T) {
	t.Parallel()
	ropt := testenv.Redis(t)
	conn := asynqconn.FromRedis(ropt)
	client := asynq.NewClient(conn)
	defer client.Close()

	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	mux := worker.NewMux(worker.Deps{Store: testenv.DB(t), Log: testenv.Logger(t)}, m)
	var flakyRuns, plainRuns atomic.Int32
	mux.HandleFunc("test:flaky", func(context.Context, *asynq.Task) error {
		if flakyRuns.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	})
	mux.HandleFunc("test:plain", func(context.Context, *asynq.Task) error { plainRuns.Add(1); return nil })

	// The purge task as the scheduler would have enqueued it 90 s ago,
	// while the default fleet was down.
	purge, err := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	enqueued := time.Now().Add(-90 * time.Second)
	tasks.Restamp(purge, enqueued)
	if _, err := client.Enqueue(purge); err != nil {
		t.Fatal(err)
	}
	flaky := asynq.NewTaskWithHeaders("test:flaky", nil, map[string]string{tasks.HeaderEnqueuedAt: "1"})
	tasks.Restamp(flaky, time.Now())
	if _, err := client.Enqueue(flaky, asynq.Queue(tasks.QueueEmail), asynq.MaxRetry(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(asynq.NewTask("test:plain", nil), asynq.Queue(tasks.QueueEmail)); err != nil {
		t.Fatal(err)
	}

	srv := asynq.NewServer(conn, asynq.Config{
		Concurrency:              2,
		Queues:                   map[string]int{tasks.QueueDefault: 1, tasks.QueueEmail: 1},
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		TaskCheckInterval:        20 * time.Millisecond,
		Logger:                   asynqlog.New(testenv.Logger(t)),
		LogLevel:                 asynq.ErrorLevel,
		ShutdownTimeout:          3 * time.Second,
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	testenv.Eventually(t, time.Minute, "the three tasks to run, the flaky one twice", func() bool {
		return flakyRuns.Load() == 2 && plainRuns.Load() == 1 && testutilCount(t, reg, tasks.QueueDefault, tasks.TypePurgeRefreshTokens) == 1
	})
	observedBy := time.Now()

	h := waitHistogram(t, reg, tasks.QueueDefault, tasks.TypePurgeRefreshTokens)
	if h.GetSampleCount() != 1 {
		t.Fatalf("purge waits observed: %d, want 1", h.GetSampleCount())
	}
	if got, most := h.GetSampleSum(), observedBy.Sub(enqueued).Seconds(); got < 90 || got > most {
		t.Errorf("purge waited %.3f s by the metric, want between 90 and %.3f", got, most)
	}
	if f := waitHistogram(t, reg, tasks.QueueEmail, "test:flaky"); f.GetSampleCount() != 1 {
		t.Errorf("flaky waits observed: %d, want 1 (its retry is not a wait)", f.GetSampleCount())
	}
	if p := waitHistogram(t, reg, tasks.QueueEmail, "test:plain"); p != nil {
		t.Errorf("a task without an enqueue time was observed: %v", p)
	}
}

// testutilCount is the number of waits observed for queue and type (0 when none).
func testutilCount(t *testing.T, reg *prometheus.Registry, queue, typ string) uint64 {
	return waitHistogram(t, reg, queue, typ).GetSampleCount()
}
