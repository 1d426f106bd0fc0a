package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/config"
	"changemaker/internal/asynqlog"
	"changemaker/internal/browsertest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/worker/fleet"
	mediafleet "changemaker/worker/media"
)

// admSite is the whole platform as a browser meets it behind nginx: one
// origin, /api/media/ to the media API and everything else to the main API
// (a reverse proxy in the test, streaming as nginx does with buffering
// off), a media worker and a real SMTP server.
type admSite struct {
	env  *testenv.API
	base string
	smtp *testenv.SMTPServer
	// uploadGate, while set, holds every upload after its first bytes,
	// until the channel is closed.
	mu         sync.Mutex
	uploadGate chan struct{}
}

func newAdmSite(t *testing.T) *admSite {
	t.Helper()
	root := t.TempDir()
	smtp := testenv.NewSMTPServer(t)
	env := testenv.NewAPI(t, smtp.Configure, func(c *config.Config) {
		c.Media.Root = root
		c.MediaRateLimit = 10_000
		// Feature switches read the settings on every request, so a test
		// that turns one off or on sees it at once.
		c.Media.SettingsTTL = 0
		c.Influence.ToggleCacheTTL = 0
	})
	s := &admSite{env: env, smtp: smtp}
	mainURL, _ := url.Parse(testenv.Serve(t, env.Main))
	mediaURL, _ := url.Parse(testenv.Serve(t, env.Media))
	toMain := httputil.NewSingleHostReverseProxy(mainURL)
	toMedia := httputil.NewSingleHostReverseProxy(mediaURL)
	toMedia.FlushInterval = -1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/media/") {
			if r.Method == http.MethodPost && r.URL.Path == "/api/media/videos" {
				s.mu.Lock()
				gate := s.uploadGate
				s.mu.Unlock()
				if gate != nil {
					r.Body = &gatedBody{r: r.Body, gate: gate, ctx: r.Context(), free: 256 << 10}
				}
			}
			toMedia.ServeHTTP(w, r)
			return
		}
		toMain.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.base = srv.URL
	s.startMediaWorker(t)
	return s
}

// gatedBody lets free bytes through, then waits for gate to close.
type gatedBody struct {
	r    io.ReadCloser
	gate chan struct{}
	ctx  context.Context // the browser's request: gone when it cancels
	free int
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if g.free <= 0 {
		select {
		case <-g.gate:
		case <-g.ctx.Done():
			return 0, g.ctx.Err()
		}
	} else if len(p) > g.free {
		p = p[:g.free]
	}
	n, err := g.r.Read(p)
	g.free -= n
	return n, err
}

func (g *gatedBody) Close() error { return g.r.Close() }

// holdUploads makes uploads stall after their first bytes until release.
func (s *admSite) holdUploads() (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.uploadGate = gate
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.uploadGate = nil
			s.mu.Unlock()
			close(gate)
		})
	}
}

// startMediaWorker runs the media fleet on the site's Redis (thumbnails).
func (s *admSite) startMediaWorker(t *testing.T) {
	t.Helper()
	log := testenv.Logger(t)
	queue := asynq.NewClient(s.env.Asynq)
	t.Cleanup(func() { queue.Close() })
	srv := asynq.NewServer(s.env.Asynq, asynq.Config{
		Queues: map[string]int{"media": 1}, Concurrency: 2, ShutdownTimeout: 5 * time.Second, Logger: asynqlog.New(log)})
	mux := asynq.NewServeMux()
	mediafleet.Register(mux, fleet.Deps{Config: s.env.Config, Store: s.env.Store, Redis: s.env.Redis, Queue: queue, Log: log})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// signIn goes through the login page the site sent p to.
func admSignIn(p *browsertest.Page, email string) {
	p.WaitVisible("#login-email")
	p.Type("#login-email", email)
	p.Type("#login-password", testenv.Password)
	p.Click(`button[type="submit"]`)
}

// admVideo makes a small real video with ffmpeg: WebM (VP8), which every
// Chromium plays.
func admVideo(t *testing.T, name string, seconds string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=duration="+seconds+":size=320x240:rate=10",
		"-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k", "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

func admEnableGallery(t *testing.T, env *testenv.API) {
	t.Helper()
	on := true
	if _, err := env.Store.UpdateSettings(context.Background(), storage.SettingsPatch{EnableMedia: &on, EnableInfluence: &on}); err != nil {
		t.Fatal(err)
	}
}

// admUpload uploads the video at path through the API, as a script would.
func admUpload(t *testing.T, base, token, path, title string) {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("title", title) //nolint:errcheck // a bytes.Buffer does not fail
	fw, _ := mw.CreateFormFile("file", filepath.Base(path))
	fw.Write(content) //nolint:errcheck
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/media/videos", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("upload = %d %s", res.StatusCode, b)
	}
}
