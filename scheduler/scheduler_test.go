package scheduler_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/asynqconn"
	"changemaker/internal/testenv"
	"changemaker/scheduler"
)

func TestEntriesAreValid(t *testing.T) {
	t.Parallel()
	ropt := testenv.Redis(t)
	s := asynq.NewScheduler(asynqconn.FromRedis(ropt), nil)
	entries := scheduler.Entries()
	if len(entries) == 0 {
		t.Fatal("no periodic tasks")
	}
	for _, e := range entries {
		task, err := e.Task()
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if _, err := s.Register(e.Spec, task); err != nil {
			t.Errorf("%s: spec %q: %v", e.Name, e.Spec, err)
		}
	}
}

// TestOnlyOneSchedulerLeads: a second scheduler waits on standby and takes
// over when the leader stops.
func TestOnlyOneSchedulerLeads(t *testing.T) {
	t.Parallel()
	rdb, ropt := testenv.RedisClient(t)
	var logs [2]lockedBuffer
	var leading [2]atomic.Int32
	ctxs := [2]context.Context{}
	cancels := [2]context.CancelFunc{}
	done := [2]chan error{make(chan error, 1), make(chan error, 1)}
	for i := range 2 {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		go func() {
			log := slog.New(slog.NewTextHandler(&logs[i], nil))
			done[i] <- scheduler.Run(ctxs[i], scheduler.Options{Redis: asynqconn.FromRedis(ropt), RedisCli: rdb, Log: log,
				LeaseTTL: 600 * time.Millisecond, OnLeading: func() { leading[i].Add(1) }})
		}()
	}
	defer func() {
		for i := range 2 {
			cancels[i]()
		}
	}()
	testenv.Eventually(t, 10*time.Second, "a leader", func() bool { return leading[0].Load()+leading[1].Load() >= 1 })
	// Several lease periods later there is still exactly one leader.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if n := leading[0].Load() + leading[1].Load(); n != 1 {
			t.Fatalf("%d leaderships while both run, want 1", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	leader := 0
	if leading[1].Load() == 1 {
		leader = 1
	}
	cancels[leader]()
	if err := <-done[leader]; err != nil {
		t.Fatal(err)
	}
	other := 1 - leader
	testenv.Eventually(t, 10*time.Second, "the standby to take over", func() bool { return leading[other].Load() == 1 })
	// An operator reading the standby's log sees that it waits, once, and
	// when it takes over.
	got := logs[other].String()
	if strings.Count(got, "scheduler on standby") != 1 || !strings.Contains(got, "scheduler taking over") {
		t.Errorf("the standby's log says neither once that it stands by nor that it took over:\n%s", got)
	}
	if strings.Contains(logs[leader].String(), "standby") {
		t.Errorf("the leader logged a standby:\n%s", logs[leader].String())
	}
}

// lockedBuffer is a log destination safe for the scheduler's goroutine and
// the test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
