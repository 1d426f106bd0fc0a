// Package nginx_test runs deploy/nginx/changemaker.conf in the real nginx, in
// front of the real main and media APIs, on loopback ports.
package nginx_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("nginx is not installed (Debian/Ubuntu: apt-get install nginx; scripts/install-deps.sh does it)")
	return ""
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

// startNginx runs changemaker.conf with its upstreams pointed at main, media
// and queues (host:port) and returns nginx's base URL. nginx runs in the
// foreground with everything (pid, logs, temp files) under a temp prefix and
// is stopped when the test ends. edits are further {from, to} replacements
// in the file (each must match).
func startNginx(t *testing.T, main, media, queues string, edits ...[2]string) string {
	t.Helper()
	bin := nginxBinary(t)
	conf, err := os.ReadFile("changemaker.conf")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	site := string(conf)
	for from, to := range map[string]string{
		"server 127.0.0.1:4000;": "server " + main + ";",
		"server 127.0.0.1:4100;": "server " + media + ";",
		"server 127.0.0.1:8080;": "server " + queues + ";",
		"listen 80;":             fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"listen [::]:80;":        "",
	} {
		if !strings.Contains(site, from) {
			t.Fatalf("changemaker.conf no longer contains %q; update this test with it", from)
		}
		site = strings.ReplaceAll(site, from, to)
	}
	for _, e := range edits {
		if !strings.Contains(site, e[0]) {
			t.Fatalf("changemaker.conf no longer contains %q; update this test with it", e[0])
		}
		site = strings.ReplaceAll(site, e[0], e[1])
	}
	prefix := t.TempDir()
	if err := os.WriteFile(filepath.Join(prefix, "changemaker.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must reach the temp prefix
	}
	main_ := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/changemaker.conf;
}
`, user, prefix)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(main_), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", prefix, "-c", confPath).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-p", prefix, "-c", confPath, "-g", "daemon off;")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful stop of master and workers
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Logf("nginx stderr:\n%s\nerror.log:\n%s", stderr.String(), logs)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.Eventually(t, 10*time.Second, "nginx to answer", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, stderr.String())
		default:
		}
		res, err := http.Get(base + "/nginx-health")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return base
}

func TestNginxRoutesToTheRightService(t *testing.T) {
	t.Parallel()
	mediaRoot := t.TempDir()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Media.Root = mediaRoot })
	mainURL := testenv.Serve(t, env.Main)
	mediaURL := testenv.Serve(t, env.Media)
	host := func(u string) string { return strings.TrimPrefix(u, "http://") }
	base := startNginx(t, host(mainURL), host(mediaURL), host(mainURL)) // the main API mounts the dashboard too
	admin := env.TokenFor(storage.RoleSuperAdmin)

	get := func(t *testing.T, path string) (int, map[string]any) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	t.Run("/api/media/ reaches the media API", func(t *testing.T) {
		status, body := get(t, "/api/media/health")
		if status != 200 || body["service"] != "media" {
			t.Fatalf("= %d %v, want the media API's health", status, body)
		}
	})
	t.Run("/api/ reaches the main API", func(t *testing.T) {
		status, body := get(t, "/api/health")
		if status != 200 || body["service"] != "main" {
			t.Fatalf("= %d %v, want the main API's health", status, body)
		}
	})
	t.Run("unknown paths are answered by the service that owns the prefix", func(t *testing.T) {
		// Both APIs answer 404 alike; their metrics tell which one did.
		unmatched := func(metricsURL string) int {
			res, err := http.Get(metricsURL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			n := 0
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "http_request_total{") && strings.Contains(line, `route="unmatched",status="404"`) {
					fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%d", &n)
				}
			}
			return n
		}
		for _, tc := range []struct{ path, owner string }{
			{"/api/media/no-such-thing", "media"}, {"/api/no-such-thing", "main"},
		} {
			mainBefore, mediaBefore := unmatched(mainURL+"/api/metrics"), unmatched(mediaURL+"/metrics")
			res, err := http.Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 404 || !strings.Contains(string(b), `"code":"not_found"`) {
				t.Errorf("GET %s = %d %s, want the API's JSON 404", tc.path, res.StatusCode, b)
			}
			mainAfter, mediaAfter := unmatched(mainURL+"/api/metrics"), unmatched(mediaURL+"/metrics")
			got := map[bool]string{true: "main", false: "media"}[mainAfter > mainBefore]
			if mainAfter-mainBefore+mediaAfter-mediaBefore != 1 || got != tc.owner {
				t.Errorf("GET %s answered by %s (main %d→%d, media %d→%d), want %s",
					tc.path, got, mainBefore, mainAfter, mediaBefore, mediaAfter, tc.owner)
			}
		}
	})
	t.Run("pages and their files come from the main API", func(t *testing.T) {
		res, err := http.Get(base + "/no-such-page")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(b), `data-page="notfound"`) {
			t.Fatalf("GET /no-such-page = %d %s, want the pages' HTML 404", res.StatusCode, res.Header.Get("Content-Type"))
		}
		res, err = http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		m := regexp.MustCompile(`/static/[0-9a-f]{12}/js/app\.js`).FindString(string(b))
		if res.StatusCode != 200 || m == "" || res.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET / = %d, CSP %q, app.js %q: want the pages' shell", res.StatusCode,
				res.Header.Get("Content-Security-Policy"), m)
		}
		req, _ := http.NewRequest("GET", base+m, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err = http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("GET %s through nginx = %d %v, want it compressed and kept for a year", m, res.StatusCode, res.Header)
		}
	})
	t.Run("metrics are not published through nginx", func(t *testing.T) {
		for _, path := range []string{"/api/metrics", "/api/metrics/", "/API/Metrics", "/api//metrics", "/api/%6detrics"} {
			status, body := get(t, path)
			if status != 404 || body["error"] == nil {
				t.Errorf("GET %s through nginx = %d %v, want the JSON 404", path, status, body)
			}
		}
	})
	t.Run("the dashboard is routed and still protected", func(t *testing.T) {
		res, err := http.Get(base + "/api/admin/queues")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 && res.StatusCode != 302 && res.StatusCode != 303 {
			t.Fatalf("anonymous dashboard = %d, want it refused", res.StatusCode)
		}
	})
	t.Run("a large upload streams through nginx without a 413", func(t *testing.T) {
		const size = 48 << 20 // far over nginx's default 1m limit
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		half := make(chan struct{})
		go func() {
			fw, err := mw.CreateFormFile("file", "big.mp4")
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			chunk := make([]byte, 1<<20)
			rand.Read(chunk)
			copy(chunk, "\x00\x00\x00\x18ftypisom")
			for i := 0; i < size>>20; i++ {
				if i == size>>21 {
					close(half)
					// Streaming, not spooling: the media API is already writing
					// this upload before the client has sent the second half.
					// Were nginx buffering the body, this would never happen.
					deadline := time.Now().Add(20 * time.Second)
					for tmpBytes(mediaRoot) < 8<<20 {
						if time.Now().After(deadline) {
							pw.CloseWithError(fmt.Errorf("the media API saw only %d bytes of the first half", tmpBytes(mediaRoot)))
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
				chunk[len(chunk)-1] = byte(i)
				if _, err := fw.Write(chunk); err != nil {
					return
				}
			}
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/api/media/videos", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		<-half
		var body struct {
			SizeBytes int64  `json:"sizeBytes"`
			Status    string `json:"status"`
		}
		_ = json.Unmarshal(b, &body)
		if res.StatusCode != 201 || body.SizeBytes != size || body.Status != "processing" {
			t.Fatalf("upload through nginx = %d %s, want 201 with %d bytes", res.StatusCode, b, size)
		}
	})
}

// tmpBytes is how much the media API has written to its temporary files.
func tmpBytes(root string) int64 {
	entries, _ := os.ReadDir(filepath.Join(root, ".tmp"))
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

// apiError is the APIs' error format, which nginx's own errors must share.
type apiError struct {
	Error *struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	} `json:"error"`
}

// checkAPIError fails unless status, content type and body are the APIs'
// JSON error with code.
func checkAPIError(t *testing.T, what string, res *testenv.Response, status int, code string) {
	t.Helper()
	var body apiError
	if err := json.Unmarshal(res.Body, &body); err != nil || body.Error == nil {
		t.Fatalf("%s = %d %q, want the JSON error format", what, res.Status, res.Body)
	}
	if res.Status != status || body.Error.Code != code || body.Error.Message == "" || body.Error.Details == nil {
		t.Errorf("%s = %d %s, want %d with code %s, a message and details []", what, res.Status, res.Body, status, code)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s Content-Type = %q, want application/json", what, ct)
	}
}

func TestNginxAnswersItsOwnErrorsInJSON(t *testing.T) {
	t.Parallel()
	// No API listens on down; hung accepts connections and never answers.
	down := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	var held []net.Conn
	heldDone := make(chan struct{})
	go func() {
		defer close(heldDone)
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		hung.Close()
		<-heldDone
		for _, c := range held {
			c.Close()
		}
	})
	// An API that is up but answers 503 itself, in its own words.
	own := `{"error":{"code":"unavailable","message":"from the API itself","details":[]}}`
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, own)
	}))
	t.Cleanup(media.Close)

	// The main API is down; a one-second read timeout (60s in the file)
	// makes the hung dashboard upstream time out quickly.
	base := startNginx(t, down, strings.TrimPrefix(media.URL, "http://"), hung.Addr().String(),
		[2]string{"proxy_read_timeout 60s;", "proxy_read_timeout 1s;"})

	t.Run("a body over the limit is 413 payload_too_large", func(t *testing.T) {
		res := testenv.SendRaw(t, base, "POST", "/api/auth/login",
			map[string]string{"Content-Type": "application/json", "Content-Length": fmt.Sprint(2 << 20)},
			bytes.Repeat([]byte("x"), 2<<20))
		checkAPIError(t, "POST 2 MiB to /api/auth/login", res, 413, "payload_too_large")
	})
	t.Run("an upload declared over 10g is 413 payload_too_large", func(t *testing.T) {
		res := testenv.SendRaw(t, base, "POST", "/api/media/videos",
			map[string]string{"Content-Type": "multipart/form-data; boundary=x", "Content-Length": fmt.Sprint(11 << 30)}, nil)
		checkAPIError(t, "POST 11 GiB to /api/media/videos", res, 413, "payload_too_large")
	})
	t.Run("an API that is down is 502 unavailable", func(t *testing.T) {
		for _, path := range []string{"/api/health", "/api/campaigns", "/"} {
			res := testenv.SendRaw(t, base, "GET", path, nil, nil)
			checkAPIError(t, "GET "+path+" with the main API down", res, 502, "unavailable")
		}
	})
	t.Run("an API that does not answer in time is 504 unavailable", func(t *testing.T) {
		res := testenv.SendRaw(t, base, "GET", "/api/admin/queues", nil, nil)
		checkAPIError(t, "GET /api/admin/queues with a hung upstream", res, 504, "unavailable")
	})
	t.Run("an API's own error passes through untouched", func(t *testing.T) {
		res := testenv.SendRaw(t, base, "GET", "/api/media/health", nil, nil)
		if res.Status != 502 || string(res.Body) != own {
			t.Fatalf("GET /api/media/health = %d %s, want the API's own 502 %s", res.Status, res.Body, own)
		}
	})
}
