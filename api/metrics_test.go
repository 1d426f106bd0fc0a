package api_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"changemaker/api"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	u := env.CreateUser(storage.RoleUser, "")
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/users/%d", u.ID), Token: admin})
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/users/999999", Token: admin})
	testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/does/not/exist/42"})
	task, err := tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Deps.Queue.Enqueue(task); err != nil {
		t.Fatal(err)
	}

	queuesApp, err := api.NewQueues(env.Deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { queuesApp.Close() })
	queueSeries := []string{`asynq_queue_tasks{queue="default",state="pending"} 1`, `asynq_queue_size{queue="default"} 1`,
		`asynq_tasks_processed_total{queue="default"}`, `asynq_tasks_failed_total{queue="default"}`,
		`asynq_queue_latency_seconds{queue="default"}`, `asynq_queue_paused{queue="default"} 0`, `asynq_queue_metrics_up 1`}
	for _, c := range []struct {
		name, path string
		app        *api.App
		want       []string
		wantNot    []string
	}{
		{"main", "/api/metrics", env.Main, []string{
			`http_request_total{method="GET",route="/api/users/:id",status="200"} 1`,
			`http_request_total{method="GET",route="/api/users/:id",status="404"} 1`,
			`http_request_total{method="GET",route="unmatched",status="404"} 1`,
			`http_request_duration_seconds_bucket{method="GET",route="/api/users/:id",le=`,
			`go_goroutines `,
		}, []string{"asynq_"}},
		{"media", "/metrics", env.Media, []string{`go_goroutines `}, []string{"asynq_"}},
		// The queues are exported once per deployment: by the queues process.
		{"queues", "/api/metrics", queuesApp, append([]string{`go_goroutines `}, queueSeries...), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := testenv.Do(t, c.app, testenv.Request{Method: "GET", Path: c.path})
			body := string(res.Body)
			if res.Status != 200 {
				t.Fatalf("GET %s = %d", c.path, res.Status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("metrics lack %s", w)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("metrics hold %s, which one process per deployment exports (queues)", w)
				}
			}
			if strings.Contains(body, "/api/users/999999") || strings.Contains(body, "/api/does/not") {
				t.Error("metrics label a raw path instead of the route pattern")
			}
			// Every endpoint passes Prometheus's own lint.
			promtool, err := exec.LookPath("promtool")
			if err != nil {
				t.Fatal("promtool is not installed (scripts/install-deps.sh --test installs Debian's prometheus)")
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics on %s: %v\n%s", c.path, err, out)
			}
		})
	}
}
