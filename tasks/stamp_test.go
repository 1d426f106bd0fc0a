package tasks_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

// TestEveryTaskCarriesItsEnqueueTime: each constructor stamps the task with
// the time it was built (the start of cm_task_wait_seconds), Restamp moves
// it (the scheduler's tasks are built once and enqueued at every tick), and
// a task built by hand carries none.
func TestEveryTaskCarriesItsEnqueueTime(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		before := time.Now()
		task, err := c.build()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		after := time.Now()
		at, ok := tasks.EnqueuedAt(task)
		if !ok || at.Before(before.Truncate(time.Nanosecond)) || at.After(after) {
			t.Errorf("%s: enqueue time %v (%v), want between %v and %v", c.name, at, ok, before, after)
		}
	}
	task, err := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	tasks.Restamp(task, later)
	if at, ok := tasks.EnqueuedAt(task); !ok || !at.Equal(time.Unix(0, later.UnixNano())) {
		t.Errorf("after Restamp the enqueue time is %v (%v), want %v", at, ok, later)
	}
	plain := asynq.NewTask("test:plain", nil)
	tasks.Restamp(plain, later) // no headers to stamp: nothing happens
	if at, ok := tasks.EnqueuedAt(plain); ok {
		t.Errorf("a task built by hand has enqueue time %v", at)
	}
	bad := asynq.NewTaskWithHeaders("test:bad", nil, map[string]string{tasks.HeaderEnqueuedAt: "yesterday"})
	if _, ok := tasks.EnqueuedAt(bad); ok {
		t.Error("an unreadable enqueue time was read")
	}
}
