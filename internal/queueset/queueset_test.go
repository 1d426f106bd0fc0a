package queueset_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/asynqconn"
	"changemaker/internal/queueset"
	"changemaker/internal/testenv"
)

// TestQueuesComeBackAfterAWipe is the operator's story: Redis is wiped while
// a long-running client keeps enqueueing. asynq's client does not put the
// queue back in its set (it remembers having done so), so the Inspector says
// "queue not found"; with Keep running, the queue shows up again, with the
// task enqueued after the wipe.
func TestQueuesComeBackAfterAWipe(t *testing.T) {
	t.Parallel()
	rdb, opt := testenv.RedisClient(t)
	aopt := asynqconn.FromRedis(opt)
	client := asynq.NewClient(aopt)
	t.Cleanup(func() { client.Close() })
	inspector := asynq.NewInspector(aopt)
	t.Cleanup(func() { inspector.Close() })
	ctx := context.Background()

	pending := func(q string) (int, error) {
		info, err := inspector.GetQueueInfo(q)
		if err != nil {
			return 0, err
		}
		return info.Pending, nil
	}
	enqueue := func() {
		t.Helper()
		if _, err := client.Enqueue(asynq.NewTask("test:noop", nil), asynq.Queue("email")); err != nil {
			t.Fatal(err)
		}
	}

	// Without Keep: the bug this package is for.
	enqueue()
	if n, err := pending("email"); err != nil || n != 1 {
		t.Fatalf("before the wipe: pending %d, %v; want 1", n, err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	enqueue()
	if _, err := pending("email"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("after the wipe, without Keep: err %v, want the queue not found (has asynq changed?)", err)
	}

	// With Keep: the queue is back, with the task enqueued after the wipe,
	// and so are the queues nothing has enqueued to.
	kctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		queueset.Keep(kctx, rdb, []string{"email", "import"}, 100*time.Millisecond, testenv.Logger(t))
	}()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 10*time.Second, "the email queue back in the Inspector", func() bool {
		n, err := pending("email")
		return err == nil && n == 1
	})
	if _, err := pending("import"); err != nil {
		t.Fatalf("import queue: %v", err)
	}

	// A second wipe, long after the first registration: Keep is periodic,
	// not once at start.
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	enqueue()
	testenv.Eventually(t, 10*time.Second, "the email queue back after a second wipe", func() bool {
		n, err := pending("email")
		return err == nil && n == 1
	})
	qs, err := inspector.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 {
		t.Fatalf("queues %v, want email and import", qs)
	}
}

// TestKeepStopsWithItsContext: the queues process shuts down cleanly.
func TestKeepStopsWithItsContext(t *testing.T) {
	t.Parallel()
	rdb, _ := testenv.RedisClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		queueset.Keep(ctx, rdb, []string{"email"}, time.Hour, nil)
	}()
	testenv.Eventually(t, 10*time.Second, "the first registration", func() bool {
		ok, err := rdb.SIsMember(context.Background(), queueset.Key, "email").Result()
		return err == nil && ok
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Keep did not return within 10s of its context ending")
	}
}
