package grafana_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"changemaker/internal/testenv"
)

// exempt lists the panels whose series only appear after work this test
// does not do, with the reason. Every other panel's every query must return
// series; an exempt panel that is no longer in the dashboard fails the test,
// so the list cannot outlive its panels.
var exempt = map[string]string{
	"Uploads per second, by container type":                   "cm_media_uploads_total{type} has a series only after a video upload",
	"Media disk free (node_exporter)":                         "node_exporter's metric; the test runs no node_exporter",
	"Import rows per second, by kind and result":              "cm_map_import_rows_total has series only after an import (worker/imports' tests make them)",
	"Imports finished per second, by kind and status":         "cm_map_import_duration_seconds has series only after an import ends",
	"Import time, upload to end (p50, p95), by kind":          "cm_map_import_duration_seconds has series only after an import ends",
	"Import time per file (p50, p95), by kind":                "cm_map_import_file_seconds has series only after an import task loads a file",
	"Geocoding cache hits and misses per second, by provider": "only network providers are cached; the test runs the local nar provider alone, to call no server",
}

type dashboardJSON struct {
	Panels []panelJSON `json:"panels"`
}

type panelJSON struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panelJSON `json:"panels"` // a collapsed row's panels
}

func loadDashboard(t *testing.T) []panelJSON {
	t.Helper()
	b, err := os.ReadFile("dashboards/changemaker.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboards/changemaker.json: %v", err)
	}
	var out []panelJSON
	var walk func([]panelJSON)
	walk = func(ps []panelJSON) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	return out
}

// TestDashboardJSONIsGenerated keeps the committed JSON and the generator
// together: edit generator/, then run `go generate ./deploy/grafana`.
func TestDashboardJSONIsGenerated(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = "generator"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./generator: %v\n%s", err, stderr.String())
	}
	want, err := os.ReadFile("dashboards/changemaker.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("dashboards/changemaker.json is not what the generator writes: run `go generate ./deploy/grafana` and commit the result")
	}
}

func TestProvisioningLoadsTheDashboard(t *testing.T) {
	t.Parallel()
	compose, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, mount := range []string{
		"./grafana/dashboards:/var/lib/grafana/dashboards",
		"./grafana/provisioning:/etc/grafana/provisioning",
		"./prometheus/prometheus.compose.yml:/etc/prometheus/prometheus.yml",
		"./prometheus/alerts.yml:/etc/prometheus/alerts.yml",
	} {
		if !bytes.Contains(compose, []byte(mount)) {
			t.Errorf("compose.yaml does not mount %s", mount)
		}
	}
	prov, err := os.ReadFile("provisioning/dashboards/changemaker.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(prov, []byte("path: /var/lib/grafana/dashboards")) {
		t.Error("the dashboard provider does not read /var/lib/grafana/dashboards")
	}
}

// TestEveryPanelQueryReturnsSeries runs `changemaker all` (built from this
// checkout) on a test database, has a real Prometheus scrape it every
// second with the jobs of deploy/prometheus/prometheus.yml, makes a little
// traffic, and then asks Prometheus every panel's query: none may come back
// empty, or the panel would be silently blank in Grafana.
func TestEveryPanelQueryReturnsSeries(t *testing.T) {
	t.Parallel()
	panels := loadDashboard(t)
	titles := map[string]bool{}
	for _, p := range panels {
		titles[p.Title] = true
	}
	for title := range exempt {
		if !titles[title] {
			t.Errorf("exempt panel %q is not in the dashboard: remove it from the list", title)
		}
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed (Debian/Ubuntu: apt-get install prometheus; scripts/install-deps.sh --test does it)")
	}

	p := startPlatform(t)
	prom := startPrometheus(t, promBin, p)
	p.traffic(t)

	type pending struct{ title, ref, expr string }
	var left []pending
	for _, panel := range panels {
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no query", panel.Title)
		}
		if _, ok := exempt[panel.Title]; ok {
			continue
		}
		for _, tg := range panel.Targets {
			left = append(left, pending{panel.Title, tg.RefID, tg.Expr})
		}
	}
	// Rates need two scrapes of a series; the Represent task needs the
	// worker. A minute is plenty even on a loaded machine.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var still []pending
		for _, q := range left {
			n, err := prom.count(q.expr)
			if err != nil {
				t.Fatalf("panel %q query %s: %v\n%s", q.title, q.ref, err, q.expr)
			}
			if n == 0 {
				still = append(still, q)
			}
		}
		left = still
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		// Poll at the scrape interval: new samples arrive no faster.
		time.Sleep(time.Second)
	}
	for _, q := range left {
		t.Errorf("panel %q query %s returns no series:\n    %s", q.title, q.ref, q.expr)
	}
}

type platform struct {
	bin                            string
	env                            []string
	api, media, queues, workerPort int
	apiURL                         string
	adminEmail, adminPassword      string
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPlatform builds bin/changemaker into a temp directory and runs
// `changemaker all` on a fresh database and Redis database, with Represent
// and SMTP served by local stand-ins. It is stopped with SIGTERM when the
// test ends.
func startPlatform(t *testing.T) *platform {
	t.Helper()
	dir := t.TempDir()
	p := &platform{bin: filepath.Join(dir, "changemaker")}
	build := exec.Command("go", "build", "-o", p.bin, "changemaker/cmd/changemaker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build changemaker: %v\n%s", err, out)
	}
	redisOpt := testenv.Redis(t)
	represent := testenv.NewRepresentServer(t)
	smtp := testenv.NewSMTPServer(t)
	p.api, p.media, p.queues, p.workerPort = freePort(t), freePort(t), freePort(t), freePort(t)
	p.apiURL = fmt.Sprintf("http://127.0.0.1:%d", p.api)
	p.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"APP_ENV=development",
		"DATABASE_URL=" + testenv.DatabaseURLFor(t),
		fmt.Sprintf("REDIS_URL=redis://%s/%d", redisOpt.Addr, redisOpt.DB),
		"JWT_ACCESS_SECRET=dashboard-test-access-secret-0123456789abcdef",
		"JWT_REFRESH_SECRET=dashboard-test-refresh-secret-0123456789abcdef",
		"ENCRYPTION_KEY=dashboard-test-encryption-key-0123456789abcdef",
		fmt.Sprintf("API_PORT=%d", p.api),
		fmt.Sprintf("MEDIA_API_PORT=%d", p.media),
		fmt.Sprintf("QUEUES_PORT=%d", p.queues),
		fmt.Sprintf("WORKER_METRICS_PORT=%d", p.workerPort),
		"MEDIA_ROOT=" + filepath.Join(dir, "media"),
		"REPRESENT_BASE_URL=" + represent.URL,
		"SMTP_HOST=" + smtp.Host,
		fmt.Sprintf("SMTP_PORT=%d", smtp.Port),
		"SMTP_TLS=none",
		"ACCESS_LOG=off",
		"LOG_LEVEL=warn",
		// The local provider only: the reverse look-up of traffic calls no server.
		"GEOCODE_PROVIDERS=nar",
	}
	if v := os.Getenv("PGPASSFILE"); v != "" {
		p.env = append(p.env, "PGPASSFILE="+v)
	}

	p.adminEmail, p.adminPassword = "ops@example.org", "dashboard-test-password-1"
	// create-user migrates nothing: `all` does, so run it once first.
	if out, err := p.command("migrate", "up").CombinedOutput(); err != nil {
		t.Fatalf("changemaker migrate up: %v\n%s", err, out)
	}
	if out, err := p.command("admin", "create-user", "--email", p.adminEmail, "--role", "SUPER_ADMIN",
		"--password", p.adminPassword).CombinedOutput(); err != nil {
		t.Fatalf("changemaker admin create-user: %v\n%s", err, out)
	}

	cmd := p.command("all")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(45 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("changemaker all did not stop within 45s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("changemaker all output:\n%s", logs.String())
		}
	})
	testenv.Eventually(t, 60*time.Second, "changemaker all to answer /api/health", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("changemaker all exited: %v\n%s", err, logs.String())
		default:
		}
		res, err := http.Get(p.apiURL + "/api/health")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return p
}

func (p *platform) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env
	return cmd
}

// traffic is what a first visitor does: health checks, a page that does not
// exist, a wrong and a right login, a representative lookup (which the
// represent worker answers from the stand-in); then what a map admin does: a
// public shift, a signup to it from the public form, a reverse geocode.
func (p *platform) traffic(t *testing.T) {
	t.Helper()
	media := fmt.Sprintf("http://127.0.0.1:%d", p.media)
	token := ""
	send := func(method, u, body string, want ...int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !slices.Contains(want, res.StatusCode) {
			t.Fatalf("%s %s = %d %s, want %v", method, u, res.StatusCode, b, want)
		}
		return b
	}
	send("GET", p.apiURL+"/api/health", "", 200)
	send("GET", media+"/api/media/health", "", 200)
	send("GET", p.apiURL+"/api/no-such-route", "", 404)
	send("GET", media+"/api/media/no-such-route", "", 404)
	send("POST", p.apiURL+"/api/auth/login", fmt.Sprintf(`{"email":%q,"password":"wrong-password-123"}`, p.adminEmail), 401)
	login := send("POST", p.apiURL+"/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, p.adminEmail, p.adminPassword), 200)
	// 200 when the worker answered within the lookup wait, 202 when not yet:
	// either way the task ran or runs, which is what the queue panels need.
	req, _ := http.NewRequest("POST", p.apiURL+"/api/public/representatives/lookup", strings.NewReader(`{"postalCode":"T5K 2J1"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 && res.StatusCode != 202 {
		t.Fatalf("representative lookup = %d %s, want 200 or 202", res.StatusCode, b)
	}

	var session struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(login, &session); err != nil || session.AccessToken == "" {
		t.Fatalf("login answer without an access token: %v %s", err, login)
	}
	token = session.AccessToken
	var created struct {
		Shifts []struct {
			ID int64 `json:"id"`
		} `json:"shifts"`
	}
	b = send("POST", p.apiURL+"/api/map/shifts", `{"title":"Dashboard test","date":"2030-01-07","startTime":"10:00",`+
		`"endTime":"12:00","capacity":5,"isPublic":true}`, 201)
	if err := json.Unmarshal(b, &created); err != nil || len(created.Shifts) != 1 {
		t.Fatalf("create shift: %v %s", err, b)
	}
	// No register rows: nar finds nothing nearby, which is a request too.
	send("GET", p.apiURL+"/api/map/geocode/reverse?lat=53.5461&lng=-113.4938", "", 200, 404)
	token = ""
	send("POST", fmt.Sprintf("%s/api/public/map/shifts/%d/signup", p.apiURL, created.Shifts[0].ID),
		`{"name":"Dana Dashboard","email":"dana@example.org"}`, 201)
}

type prometheusServer struct{ base string }

// startPrometheus runs the real Prometheus on a free loopback port with the
// jobs and metrics paths of deploy/prometheus's configurations pointed at p,
// scraping every second.
func startPrometheus(t *testing.T, bin string, p *platform) *prometheusServer {
	t.Helper()
	var committed [][]byte
	for _, name := range []string{"prometheus.yml", "prometheus.compose.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "prometheus", name))
		if err != nil {
			t.Fatal(err)
		}
		committed = append(committed, b)
	}
	jobs := []struct{ name, path, target string }{
		{"changemaker-api", "/api/metrics", fmt.Sprintf("127.0.0.1:%d", p.api)},
		{"changemaker-media", "/metrics", fmt.Sprintf("127.0.0.1:%d", p.media)},
		{"changemaker-queues", "/api/metrics", fmt.Sprintf("127.0.0.1:%d", p.queues)},
		{"changemaker-worker", "/metrics", fmt.Sprintf("127.0.0.1:%d", p.workerPort)},
	}
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
	for _, j := range jobs {
		// The dashboard groups and filters by these job names: they must be
		// the ones operators get from the committed files.
		re := regexp.MustCompile(`(?m)job_name: ` + regexp.QuoteMeta(j.name) + `\n\s+metrics_path: ` + regexp.QuoteMeta(j.path) + `\n`)
		for _, c := range committed {
			if !re.Match(c) {
				t.Fatalf("a configuration in deploy/prometheus has no job %s with metrics_path %s; update this test with it", j.name, j.path)
			}
		}
		fmt.Fprintf(&cfg, "  - job_name: %s\n    metrics_path: %s\n    static_configs:\n      - targets: [%q]\n", j.name, j.path, j.target)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	s := &prometheusServer{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	testenv.Eventually(t, 30*time.Second, "prometheus to be ready", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		res, err := http.Get(s.base + "/-/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	// Every target answers before the queries start counting.
	testenv.Eventually(t, 30*time.Second, "prometheus to scrape every target", func() bool {
		n, err := s.count(`up == 1`)
		return err == nil && n == len(jobs)
	})
	return s
}

// count runs expr as an instant query, with Grafana's $__rate_interval
// replaced by a window that holds several one-second scrapes, and returns
// how many series came back.
func (s *prometheusServer) count(expr string) (int, error) {
	expr = strings.ReplaceAll(expr, "$__rate_interval", "30s")
	res, err := http.Get(s.base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("decode the answer (%d): %w", res.StatusCode, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query failed: %s", body.Error)
	}
	return len(body.Data.Result), nil
}

// syncBuffer collects a process's output, written from exec's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
