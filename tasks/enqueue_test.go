package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/asynqconn"
	"changemaker/internal/asynqlog"
	"changemaker/internal/testenv"
	"changemaker/tasks"
)

// TestEnqueueUnique runs the one unique-enqueue helper against real Redis,
// with the ID held by a task in each state asynq can leave it in.
func TestEnqueueUnique(t *testing.T) {
	t.Parallel()
	conn := asynqconn.FromRedis(testenv.Redis(t))
	client := asynq.NewClient(conn)
	t.Cleanup(func() { client.Close() })
	inspector := asynq.NewInspector(conn)
	t.Cleanup(func() { inspector.Close() })
	ctx := context.Background()
	const queue = "unique"
	task := func(typ string) *asynq.Task {
		return asynq.NewTask(typ, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Retention(time.Hour))
	}
	state := func(t *testing.T, id string) asynq.TaskState {
		info, err := inspector.GetTaskInfo(queue, id)
		if err != nil {
			t.Fatalf("inspect %s: %v", id, err)
		}
		return info.State
	}

	// Holders: a worker completes "test:ok" tasks and archives "test:fail"
	// ones (a failure asynq does not retry, with its LastFailedAt), then
	// stops, so that every later enqueue stays pending.
	srv := asynq.NewServer(conn, asynq.Config{Concurrency: 2, Queues: map[string]int{queue: 1},
		TaskCheckInterval: 20 * time.Millisecond, Logger: asynqlog.New(testenv.Logger(t)), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:ok", func(context.Context, *asynq.Task) error { return nil })
	mux.HandleFunc("test:fail", func(context.Context, *asynq.Task) error {
		return fmt.Errorf("upstream said no: %w", asynq.SkipRetry)
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	ran := map[string]asynq.TaskState{
		"completed": asynq.TaskStateCompleted, "failed": asynq.TaskStateArchived,
		"failed-cooling": asynq.TaskStateArchived, "failed-cooled": asynq.TaskStateArchived,
	}
	for id, want := range ran {
		typ := "test:ok"
		if want == asynq.TaskStateArchived {
			typ = "test:fail"
		}
		if _, err := client.Enqueue(task(typ), asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, "the holder tasks to run", func() bool {
		for id, want := range ran {
			if info, err := inspector.GetTaskInfo(queue, id); err != nil || info.State != want {
				return false
			}
		}
		return true
	})
	srv.Shutdown()
	for _, id := range []string{"pending", "archived-by-hand", "archived-kept", "pending-no-inspector"} {
		if _, err := client.Enqueue(task("test:ok"), asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"archived-by-hand", "archived-kept"} {
		if err := inspector.ArchiveTask(queue, id); err != nil {
			t.Fatal(err)
		}
	}

	records := []asynq.TaskState{asynq.TaskStateArchived, asynq.TaskStateCompleted}
	for _, c := range []struct {
		name, id  string
		policy    tasks.Policy
		noInspect bool
		// want is "enqueued", "held <state>", "held" (no info) or "cooling".
		want string
	}{
		{name: "a free ID is enqueued", id: "free", policy: tasks.Policy{Replace: records}, want: "enqueued"},
		{name: "a pending task is on its way", id: "pending", policy: tasks.Policy{Replace: records},
			want: "held pending"},
		{name: "without an inspector a conflict is held, unseen", id: "pending-no-inspector",
			policy: tasks.Policy{Replace: records}, noInspect: true, want: "held"},
		{name: "an archived task is replaced when the policy says so", id: "archived-by-hand",
			policy: tasks.Policy{Replace: records}, want: "enqueued"},
		{name: "an archived task is kept when the policy does not list it", id: "archived-kept",
			policy: tasks.Policy{Replace: []asynq.TaskState{asynq.TaskStateCompleted}}, want: "held archived"},
		{name: "a completed task is replaced when the policy says so", id: "completed",
			policy: tasks.Policy{Replace: records}, want: "enqueued"},
		{name: "a failure newer than the cooldown is kept", id: "failed-cooling",
			policy: tasks.Policy{Replace: records, Cooldown: time.Hour}, want: "cooling"},
		{name: "a failure older than the cooldown is replaced", id: "failed-cooled",
			policy: tasks.Policy{Replace: records, Cooldown: time.Hour, Now: time.Now().Add(2 * time.Hour)},
			want:   "enqueued"},
		{name: "without a cooldown a failure is replaced at once", id: "failed",
			policy: tasks.Policy{Replace: records}, want: "enqueued"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := inspector
			if c.noInspect {
				in = nil
			}
			before, _ := inspector.GetTaskInfo(queue, c.id)
			info, err := tasks.EnqueueUnique(ctx, client, in, task("test:new"), queue, c.id, c.policy)
			var held *tasks.HeldError
			var cooling *tasks.CoolingDownError
			got := ""
			switch {
			case err == nil:
				got = "enqueued"
				if info == nil || info.ID != c.id || info.Type != "test:new" || state(t, c.id) != asynq.TaskStatePending {
					t.Errorf("enqueued info = %+v, state %v; want the new pending task", info, state(t, c.id))
				}
			case errors.As(err, &held):
				got = "held"
				if held.Info != nil {
					got += " " + held.Info.State.String()
				}
				if !errors.Is(err, asynq.ErrTaskIDConflict) {
					t.Errorf("%v does not match asynq.ErrTaskIDConflict", err)
				}
			case errors.As(err, &cooling):
				got = "cooling"
				if cooling.RetryAfter <= 50*time.Minute || cooling.RetryAfter > time.Hour ||
					cooling.LastErr == "" {
					t.Errorf("cooling = %+v, want about an hour to wait and the last error", cooling)
				}
			default:
				t.Fatalf("EnqueueUnique = %v", err)
			}
			if got != c.want {
				t.Fatalf("EnqueueUnique = %q (%v), want %q", got, err, c.want)
			}
			if got != "enqueued" && before != nil {
				if after, err := inspector.GetTaskInfo(queue, c.id); err != nil || after.Type != before.Type ||
					after.State != before.State {
					t.Errorf("the holder changed: %+v -> %+v (%v)", before, after, err)
				}
			}
		})
	}
}
