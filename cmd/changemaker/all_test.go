package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"changemaker/internal/testenv"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestAllRunsEveryPartAndStopsCleanly starts `changemaker all` against a
// fresh database, waits for each HTTP part to answer, then stops it.
func TestAllRunsEveryPartAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dbURL := testenv.DatabaseURLFor(t)
	ropt := testenv.Redis(t)
	ports := map[string]int{"API_PORT": freePort(t), "MEDIA_API_PORT": freePort(t), "QUEUES_PORT": freePort(t), "WORKER_METRICS_PORT": freePort(t)}
	vars := map[string]string{
		"DATABASE_URL": dbURL,
		"REDIS_URL":    fmt.Sprintf("redis://%s/%d", ropt.Addr, ropt.DB),
		"ACCESS_LOG":   "off",
		"LOG_LEVEL":    "error",
		// Everything on loopback only, as behind nginx on one host.
		"API_HOST": "127.0.0.1", "MEDIA_API_HOST": "127.0.0.1", "QUEUES_HOST": "127.0.0.1", "WORKER_METRICS_HOST": "127.0.0.1",
	}
	for k, v := range ports {
		vars[k] = strconv.Itoa(v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"all"}, envFrom(vars), &bytes.Buffer{}) }()

	for _, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/api/health", ports["API_PORT"]),
		fmt.Sprintf("http://127.0.0.1:%d/api/media/health", ports["MEDIA_API_PORT"]),
		fmt.Sprintf("http://127.0.0.1:%d/api/health", ports["QUEUES_PORT"]),
		fmt.Sprintf("http://127.0.0.1:%d/metrics", ports["WORKER_METRICS_PORT"]),
	} {
		// Generous: under -race on a loaded machine, startup (the production
		// bcrypt cost of the login dummy hash, migrations) takes tens of seconds.
		testenv.Eventually(t, 2*time.Minute, url, func() bool {
			select {
			case err := <-done:
				t.Fatalf("all exited early: %v", err)
			default:
			}
			res, err := http.Get(url)
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == 200
		})
	}
	// Bound to 127.0.0.1 itself, not every interface: another loopback
	// address (Linux routes all of 127/8 to lo) finds nothing listening,
	// as an address on the network would not.
	for name, port := range ports {
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.2:%d", port), 2*time.Second); err == nil {
			conn.Close()
			t.Errorf("%s=%d answers on 127.0.0.2 with its host set to 127.0.0.1: it listens on every interface", name, port)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("all stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("all did not stop within 60s of the signal")
	}
}
