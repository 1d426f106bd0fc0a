// Package deploy_test runs the repository's Procfile for real: a Procfile
// runner (goreman, which scripts/install-deps.sh --test installs with go
// install) starts every process type, the headline flow goes through them
// over HTTP, and SIGTERM to the runner must leave nothing behind.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"changemaker/internal/testenv"
)

// lookGoreman finds goreman on PATH or where go install puts it.
func lookGoreman(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("goreman"); err == nil {
		return p
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, "goreman")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatal("goreman is not installed (scripts/install-deps.sh --test installs it with go install)")
	return ""
}

func goBinDirs() []string {
	var dirs []string
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			continue
		}
		d := strings.TrimSpace(string(out))
		if d == "" {
			continue
		}
		if v == "GOPATH" {
			d = filepath.Join(strings.Split(d, string(os.PathListSeparator))[0], "bin")
		}
		dirs = append(dirs, d)
	}
	return dirs
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

// procTypes lists the process types of a Procfile, in order.
func procTypes(procfile []byte) []string {
	var names []string
	for _, line := range strings.Split(string(procfile), "\n") {
		name, _, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		names = append(names, name)
	}
	return names
}

// syncBuffer is goreman's output, written by its process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is the output so far, without goreman's colours.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ansi.ReplaceAllString(b.buf.String(), "")
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// leftovers lists the processes still running from dir: goreman's shells
// and the changemaker processes all run with dir as their working
// directory, and the binary lives under it.
func leftovers(dir, bin string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if cwd != dir && strings.TrimSuffix(exe, " (deleted)") != bin {
			continue
		}
		// A zombie has exited; its parent has yet to reap it.
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if _, after, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(after, "Z") {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		found = append(found, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return found
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

type answer struct {
	status int
	body   []byte
}

func (c *client) do(method, path, token string, body any) answer {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: b}
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %d %s: %v", a.status, a.body, err)
	}
}

// TestProcfileRunsTheHeadlineFlow starts the repository's Procfile with
// goreman, on a database, a Redis DB and ports of its own, with Represent
// and the SMTP server replaced by local stand-ins; an admin creates and
// activates a campaign, a visitor looks up their representatives (through
// worker_represent) and writes to their MP (through worker_email), and the
// message reaches the SMTP server. Then SIGTERM to goreman, as a process
// manager stops it: every process stops, nothing started from the run is
// left, and every port is free again.
func TestProcfileRunsTheHeadlineFlow(t *testing.T) {
	t.Parallel()
	goreman := lookGoreman(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "changemaker")
	build := exec.Command("go", "build", "-o", bin, "./cmd/changemaker")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	procfile, err := os.ReadFile("../Procfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Procfile"), procfile, 0o644); err != nil {
		t.Fatal(err)
	}
	types := procTypes(procfile)

	dbURL := testenv.DatabaseURLFor(t)
	ropt := testenv.Redis(t)
	smtpSrv := testenv.NewSMTPServer(t)
	represent := testenv.NewRepresentServer(t)

	// Ports of its own: the Procfile's defaults (4000, 4100, 8080,
	// 9101-9106) may be taken by another test or a developer's instance.
	ports := map[string]int{}
	for _, name := range []string{"API_PORT", "MEDIA_API_PORT", "QUEUES_PORT", "WORKER_EMAIL_METRICS_PORT",
		"WORKER_REPRESENT_METRICS_PORT", "WORKER_GEOCODE_METRICS_PORT", "WORKER_IMPORT_METRICS_PORT",
		"WORKER_MEDIA_METRICS_PORT", "WORKER_DEFAULT_METRICS_PORT"} {
		ports[name] = freePort(t)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"APP_ENV=production",
		"JWT_ACCESS_SECRET=procfile-test-access-secret-0123456789abcdef",
		"JWT_REFRESH_SECRET=procfile-test-refresh-secret-0123456789abcdef",
		"ENCRYPTION_KEY=procfile-test-encryption-key-0123456789abcdef",
		"DATABASE_URL=" + dbURL,
		fmt.Sprintf("REDIS_URL=redis://%s/%d", ropt.Addr, ropt.DB),
		// Twelve processes share the test's Postgres with other tests.
		"DB_MAX_CONNS=4", "REDIS_POOL_SIZE=4",
		"LOG_LEVEL=info", "ACCESS_LOG=off",
		"API_HOST=127.0.0.1", "MEDIA_API_HOST=127.0.0.1", "QUEUES_HOST=127.0.0.1", "WORKER_METRICS_HOST=127.0.0.1",
		"SMTP_HOST=" + smtpSrv.Host, "SMTP_PORT=" + strconv.Itoa(smtpSrv.Port), "SMTP_TLS=none",
		"SMTP_FROM=campaigns@org.example", "SMTP_FROM_NAME=Test Organization",
		"REPRESENT_BASE_URL=" + represent.URL,
		"PUBLIC_URL=http://changemaker.test",
		"MEDIA_ROOT=" + filepath.Join(dir, "media"), "IMPORT_ROOT=" + filepath.Join(dir, "imports"),
		// goreman sends SIGKILL 10 s after SIGTERM: hand tasks back before that.
		"WORKER_SHUTDOWN_TIMEOUT=5s",
	}
	for k, v := range ports {
		env = append(env, fmt.Sprintf("%s=%d", k, v))
	}

	var out syncBuffer
	// -set-ports=false: the processes take their ports from the variables
	// above, not goreman's PORT; no RPC server (its port 8555 is shared).
	runner := exec.Command(goreman, "-f", "Procfile", "-rpc-server=false", "-set-ports=false", "-logtime=false", "start")
	runner.Dir = dir
	runner.Env = env
	runner.Stdout, runner.Stderr = &out, &out
	runner.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := runner.Start(); err != nil {
		t.Fatalf("start goreman: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- runner.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			// The test failed before its own SIGTERM: take everything down.
			_ = runner.Process.Signal(syscall.SIGKILL)
			<-exited
		}
		for _, p := range leftovers(dir, bin) {
			if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("goreman's output:\n%s", tail(out.String(), 120))
		}
	})
	alive := func() {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("goreman exited early: %v", err)
		default:
		}
	}

	// Every HTTP part and every worker's metrics answer. Generous: twelve
	// processes start at once on a loaded machine.
	hc := &http.Client{Timeout: 10 * time.Second}
	for name, path := range map[string]string{"API_PORT": "/api/health", "MEDIA_API_PORT": "/api/media/health",
		"QUEUES_PORT": "/api/health"} {
		url := fmt.Sprintf("http://127.0.0.1:%d%s", ports[name], path)
		testenv.Eventually(t, 3*time.Minute, url, func() bool { alive(); return get(hc, url) == 200 })
	}
	for name, port := range ports {
		if !strings.HasPrefix(name, "WORKER_") {
			continue
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
		testenv.Eventually(t, 3*time.Minute, name+" "+url, func() bool { alive(); return get(hc, url) == 200 })
	}
	// release ran its migration check and ended; the others keep running.
	testenv.Eventually(t, time.Minute, "release to finish", func() bool {
		return strings.Contains(out.String(), "Terminating release")
	})
	if !strings.Contains(out.String(), "up to date") {
		t.Errorf("release did not report the database up to date:\n%s", tail(out.String(), 40))
	}

	// An administrator, as an operator creates the first one.
	admin := exec.Command(bin, "admin", "create-user", "--email", "admin@example.test", "--role", "SUPER_ADMIN")
	admin.Dir, admin.Env = dir, env
	created, err := admin.CombinedOutput()
	if err != nil {
		t.Fatalf("admin create-user: %v\n%s", err, created)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindSubmatch(created)
	if m == nil {
		t.Fatalf("admin create-user printed no password: %s", created)
	}
	api := &client{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", ports["API_PORT"]), http: hc}
	var login struct {
		AccessToken string `json:"accessToken"`
	}
	res := api.do("POST", "/api/auth/login", "", map[string]any{"email": "admin@example.test", "password": string(m[1])})
	res.decode(t, &login)
	if res.status != 200 || login.AccessToken == "" {
		t.Fatalf("login = %d %s", res.status, res.body)
	}
	token := login.AccessToken

	res = api.do("POST", "/api/campaigns", token, map[string]any{
		"title": "Fund Transit", "emailSubject": "Transit for {{postalCode}}, {{representativeName}}",
		"emailBody":              "Dear {{representativeName}},\n\nFund transit.\n\n{{senderName}}",
		"targetGovernmentLevels": []string{"FEDERAL", "PROVINCIAL", "MUNICIPAL"},
	})
	var campaign struct {
		Campaign struct {
			ID   int64  `json:"id"`
			Slug string `json:"slug"`
		} `json:"campaign"`
	}
	res.decode(t, &campaign)
	if res.status != 201 {
		t.Fatalf("create campaign = %d %s", res.status, res.body)
	}
	if res = api.do("PATCH", fmt.Sprintf("/api/campaigns/%d", campaign.Campaign.ID), token, map[string]any{"status": "ACTIVE"}); res.status != 200 {
		t.Fatalf("activate = %d %s", res.status, res.body)
	}

	// The lookup waits a few seconds for worker_represent, then answers 202
	// while it works; a visitor's page asks again.
	var found struct {
		Representatives []struct {
			ID    int64  `json:"id"`
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"representatives"`
	}
	testenv.Eventually(t, 2*time.Minute, "the lookup to answer 200", func() bool {
		alive()
		res = api.do("POST", "/api/public/representatives/lookup", "", map[string]any{"postalCode": "T5K 2J1", "campaign": campaign.Campaign.Slug})
		switch res.status {
		case 200:
			return true
		case 202:
			return false
		}
		t.Fatalf("lookup = %d %s", res.status, res.body)
		return false
	})
	res.decode(t, &found)
	var mpID int64
	for _, r := range found.Representatives {
		if r.Name == testenv.RepMP.Name {
			mpID = r.ID
		}
	}
	if mpID == 0 {
		t.Fatalf("the lookup did not find the MP: %s", res.body)
	}
	if represent.Calls(testenv.RepresentCodeFull) == 0 {
		t.Error("the lookup never reached the Represent stand-in")
	}

	res = api.do("POST", "/api/public/campaigns/"+campaign.Campaign.Slug+"/send-email", "", map[string]any{
		"senderName": "Chris Constituent", "senderEmail": "chris@home.example", "postalCode": "T5K 2J1",
		"recipients": []map[string]any{{"representativeId": mpID}},
	})
	if res.status != 202 {
		t.Fatalf("send-email = %d %s", res.status, res.body)
	}
	msgs := smtpSrv.WaitFor(t, 1, 2*time.Minute)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != testenv.RepMP.Email {
		t.Fatalf("the SMTP server got %d messages, first to %v; want one to %s", len(msgs), msgs[0].To, testenv.RepMP.Email)
	}
	if got := msgs[0].Subject(); got != "Transit for T5K2J1, Jane Federal" {
		t.Errorf("subject = %q", got)
	}
	// The admin sees it sent.
	testenv.Eventually(t, time.Minute, "the email listed as SENT", func() bool {
		res = api.do("GET", fmt.Sprintf("/api/campaigns/%d/emails?status=SENT", campaign.Campaign.ID), token, nil)
		var list struct {
			Pagination struct{ Total int } `json:"pagination"`
		}
		return res.status == 200 && json.Unmarshal(res.body, &list) == nil && list.Pagination.Total == 1
	})

	// Stop as a process manager does: SIGTERM to the runner alone.
	stopped = true
	if err := runner.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(3 * time.Minute):
		t.Fatal("goreman did not exit within 3 minutes of SIGTERM")
	}
	log := out.String()
	for _, name := range types {
		if !regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(name) + ` \| Terminating ` + regexp.QuoteMeta(name) + `$`).MatchString(log) {
			t.Errorf("goreman never saw %s end", name)
		}
	}
	// goreman sends SIGKILL to a process still running 10 s after SIGTERM;
	// a clean stop needs none: each server logs its shutdown, each worker
	// asynq's last line.
	for _, name := range types {
		want := ""
		switch {
		case name == "web" || name == "media" || name == "queues":
			want = `"msg":"shutting down"`
		case strings.HasPrefix(name, "worker_"):
			want = `"msg":"Exiting"`
		default:
			continue
		}
		if !regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(name) + ` \| .*` + regexp.QuoteMeta(want)).MatchString(log) {
			t.Errorf("%s did not stop cleanly (no %s in its log)", name, want)
		}
	}
	testenv.Eventually(t, 30*time.Second, "no process of the run left", func() bool { return len(leftovers(dir, bin)) == 0 })
	for name, port := range ports {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Errorf("%s=%d is still taken after the stop: %v", name, port, err)
			continue
		}
		ln.Close()
	}
}

func get(c *http.Client, url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := c.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
