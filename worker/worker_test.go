package worker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"changemaker/internal/asynqconn"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker"
)

// TestGracefulShutdownHandsLongTaskBack: a worker asked to stop while a task
// outlives the shutdown timeout puts the task back on its queue, where the
// next worker finishes it.
func TestGracefulShutdownHandsLongTaskBack(t *testing.T) {
	t.Parallel()
	ropt := testenv.Redis(t)
	conn := asynqconn.FromRedis(ropt)
	client := asynq.NewClient(conn)
	defer client.Close()
	inspector := asynq.NewInspector(conn)
	defer inspector.Close()

	started := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	slow := asynq.NewServeMux()
	slow.HandleFunc("test:long", func(ctx context.Context, t *asynq.Task) error {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return errors.New("interrupted")
	})
	log := testenv.Logger(t)
	first := worker.NewServer(conn, worker.ServerOptions{Queues: map[string]int{"default": 1}, Concurrency: 1,
		ShutdownTimeout: 300 * time.Millisecond, Log: log})
	if err := first.Start(slow); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(asynq.NewTask("test:long", nil), asynq.TaskID("long-1"), asynq.MaxRetry(3)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the long task never started")
	}
	first.Shutdown()

	info, err := inspector.GetTaskInfo("default", "long-1")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStatePending || info.Retried != 0 {
		t.Fatalf("after shutdown the task is %v with %d retries, want pending with 0 (handed back, not failed)", info.State, info.Retried)
	}

	done := make(chan struct{})
	fast := asynq.NewServeMux()
	fast.HandleFunc("test:long", func(context.Context, *asynq.Task) error { close(done); return nil })
	second := worker.NewServer(conn, worker.ServerOptions{Queues: map[string]int{"default": 1}, Concurrency: 1,
		ShutdownTimeout: time.Second, Log: log})
	if err := second.Start(fast); err != nil {
		t.Fatal(err)
	}
	defer second.Shutdown()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the handed-back task was not picked up by the next worker")
	}
}

func TestParseQueues(t *testing.T) {
	t.Parallel()
	all, err := worker.ParseQueues("")
	if err != nil || len(all) != 6 {
		t.Fatalf("no list = %v, %v; want all six queues", all, err)
	}
	two, err := worker.ParseQueues("geocode, import")
	if err != nil || len(two) != 2 || two["geocode"] == 0 || two["import"] == 0 {
		t.Fatalf("geocode,import = %v, %v", two, err)
	}
	if _, err := worker.ParseQueues("email,nope"); err == nil {
		t.Fatal("unknown queue accepted")
	}
}

// TestMuxMiddleware: the mux counts results, turns panics into errors and
// keeps malformed payloads from being retried.
func TestMuxMiddleware(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	mux := worker.NewMux(worker.Deps{Store: testenv.DB(t), Log: testenv.Logger(t)}, m)

	bad := asynq.NewTask(tasks.TypePurgeRefreshTokens, []byte("{"))
	if err := mux.ProcessTask(context.Background(), bad); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("malformed payload err = %v, want SkipRetry", err)
	}
	good, _ := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
	for i := 0; i < 2; i++ { // idempotent: twice is fine
		if err := mux.ProcessTask(context.Background(), good); err != nil {
			t.Fatalf("purge run %d: %v", i+1, err)
		}
	}
	unknown := asynq.NewTask("nobody:handles-this", nil)
	if err := mux.ProcessTask(context.Background(), unknown); err == nil {
		t.Fatal("unknown task type succeeded")
	}
	if got := testutil.ToFloat64(m.Processed(tasks.TypePurgeRefreshTokens, "ok")); got != 2 {
		t.Errorf("ok count = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.Processed(tasks.TypePurgeRefreshTokens, "skip")); got != 1 {
		t.Errorf("skip count = %v, want 1", got)
	}
}

func TestPurgeRefreshTokensDeletesOnlyLongExpired(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	ctx := context.Background()
	u, err := store.CreateUser(ctx, storage.NewUser{Email: "p@example.test", PasswordHash: "x", Role: storage.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	for i, exp := range []time.Duration{-48 * time.Hour, -time.Hour, time.Hour} {
		if err := store.CreateRefreshToken(ctx, u.ID, []byte{byte(i)}, time.Now().Add(exp)); err != nil {
			t.Fatal(err)
		}
	}
	mux := worker.NewMux(worker.Deps{Store: store, Log: testenv.Logger(t)}, nil)
	task, _ := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
	if err := mux.ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := store.Pool.QueryRow(ctx, "SELECT count(*) FROM refresh_tokens").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 2 {
		t.Fatalf("%d tokens left, want 2 (only the one expired 48h ago purged)", left)
	}
}

// TestWorkerMetricsSayWhichQueuesAndPassPromtool: a worker's endpoint says
// which queues the process serves (scrape configs cannot tell a Procfile
// worker from the one of `all` by its port), and passes promtool's lint.
func TestWorkerMetricsSayWhichQueuesAndPassPromtool(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	m.Processed(tasks.TypePurgeRefreshTokens, "ok").Inc()
	queues, err := worker.ParseQueues("represent,email")
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(worker.InfoGauge(queues))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `cm_worker_info{queues="email,represent"} 1`) {
		t.Errorf("worker metrics lack cm_worker_info for email,represent:\n%s", body)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed (scripts/install-deps.sh --test installs Debian's prometheus)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
