package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/testenv"
	"changemaker/tasks"
	"changemaker/worker"
)

// TestQueuesProcessListsTheQueuesAgainAfterAWipe: the `queues` process puts
// every queue of the platform into asynq's set, and again after Redis is
// wiped, so the Inspector (and the dashboard and metrics built on it) finds
// them without a restart. The period is shortened on the process's env.
func TestQueuesProcessListsTheQueuesAgainAfterAWipe(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config()
	cfg.DatabaseURL = testenv.DatabaseURLFor(t)
	ropt := testenv.Redis(t)
	cfg.RedisURL = fmt.Sprintf("redis://%s/%d", ropt.Addr, ropt.DB)
	cfg.QueuesHost, cfg.QueuesPort = "127.0.0.1", freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	e, err := openEnv(ctx, cfg, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	e.queueRegisterPeriod = 100 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- serveQueues(ctx, e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("queues stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("queues did not stop within 30s")
		}
	})
	testenv.Eventually(t, time.Minute, "the queues process to answer", func() bool {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/health", cfg.QueuesPort))
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	want := worker.QueueNames(tasks.QueueWeights())
	listed := func() bool {
		qs, err := e.inspector.Queues()
		if err != nil {
			return false
		}
		slices.Sort(qs)
		return slices.Equal(qs, want)
	}
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("the Inspector to list %v", want), listed)
	// A long-running client enqueues before and after the wipe: having
	// listed the queue once, asynq does not list it again by itself.
	enqueue := func() {
		t.Helper()
		if _, err := e.queue.Enqueue(asynq.NewTask("test:noop", nil), asynq.Queue(tasks.QueueEmail)); err != nil {
			t.Fatal(err)
		}
	}
	enqueue()
	if err := e.redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	enqueue()
	testenv.Eventually(t, 10*time.Second, "the queues listed again after the wipe", listed)
	info, err := e.inspector.GetQueueInfo(tasks.QueueEmail)
	if err != nil || info.Pending != 1 {
		t.Fatalf("email queue after the wipe: %+v, %v; want the task enqueued after it", info, err)
	}
}
