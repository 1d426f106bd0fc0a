package api_test

import (
	"fmt"
	"strings"
	"testing"

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

	for _, c := range []struct {
		name, path string
		want       []string
	}{
		{"main", "/api/metrics", []string{
			`http_request_total{method="GET",route="/api/users/:id",status="200"} 1`,
			`http_request_total{method="GET",route="/api/users/:id",status="404"} 1`,
			`http_request_total{method="GET",route="unmatched",status="404"} 1`,
			`http_request_duration_seconds_bucket{method="GET",route="/api/users/:id",le=`,
			`go_goroutines `,
			`asynq_tasks_enqueued_total{queue="default",state="pending"} 1`, `asynq_queue_size{queue="default"} 1`,
			`asynq_tasks_processed_total{queue="default"}`,
			`asynq_tasks_failed_total{queue="default"}`,
			`asynq_queue_latency_seconds{queue="default"}`,
		}},
		{"media", "/metrics", []string{`go_goroutines `, `asynq_tasks_enqueued_total{queue="default",state="pending"} 1`, `asynq_queue_size{queue="default"} 1`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := env.Main
			if c.name == "media" {
				app = env.Media
			}
			res := testenv.Do(t, app, testenv.Request{Method: "GET", Path: c.path})
			body := string(res.Body)
			if res.Status != 200 {
				t.Fatalf("GET %s = %d", c.path, res.Status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("metrics lack %s", w)
				}
			}
			if strings.Contains(body, "/api/users/999999") || strings.Contains(body, "/api/does/not") {
				t.Error("metrics label a raw path instead of the route pattern")
			}
		})
	}
}
