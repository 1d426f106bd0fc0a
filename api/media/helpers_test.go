package media_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/config"
	"changemaker/internal/asynqlog"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/worker/fleet"
	mediafleet "changemaker/worker/media"
)

// bundle is what a media test needs: the apps, a served media API, a media
// root of its own and tokens for each kind of caller.
type bundle struct {
	env     *testenv.API
	base    string // URL of the media API on a real listener
	root    string
	owner   string // SUPER_ADMIN
	manager string // INFLUENCE_ADMIN
	user    string // USER
	ownerID int64
}

func setup(t *testing.T, opts ...func(*config.Config)) *bundle {
	t.Helper()
	root := t.TempDir()
	opts = append([]func(*config.Config){func(c *config.Config) {
		c.Media.Root = root
		c.MediaRateLimit = 10_000
	}}, opts...)
	env := testenv.NewAPI(t, opts...)
	owner := env.CreateUser(storage.RoleSuperAdmin, "")
	return &bundle{
		env: env, base: testenv.Serve(t, env.Media), root: root,
		owner: env.Token(owner), ownerID: owner.ID,
		manager: env.TokenFor(storage.RoleInfluenceAdmin),
		user:    env.TokenFor(storage.RoleUser),
	}
}

// startWorker runs a media worker on the test's Redis until the test ends.
func (b *bundle) startWorker(t *testing.T) {
	t.Helper()
	log := testenv.Logger(t)
	queue := asynq.NewClient(b.env.Asynq)
	t.Cleanup(func() { queue.Close() })
	srv := asynq.NewServer(b.env.Asynq, asynq.Config{
		Queues: map[string]int{"media": 1}, Concurrency: 2, ShutdownTimeout: 5 * time.Second, Logger: asynqlog.New(log)})
	mux := asynq.NewServeMux()
	mediafleet.Register(mux, fleet.Deps{Config: b.env.Config, Store: b.env.Store, Redis: b.env.Redis, Queue: queue, Log: log})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// ffmpegFile makes a test file with ffmpeg's lavfi sources.
func ffmpegFile(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)
	full = append(full, "-y", out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

func landscapeWithAudio(t *testing.T) string {
	return ffmpegFile(t, "landscape.mp4",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")
}

func portraitSilent(t *testing.T) string {
	return ffmpegFile(t, "portrait.webm",
		"-f", "lavfi", "-i", "testsrc=size=180x320:rate=10", "-t", "1", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k")
}

func squareMKV(t *testing.T) string {
	return ffmpegFile(t, "square.mkv",
		"-f", "lavfi", "-i", "testsrc=size=200x200:rate=10", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload posts content as the multipart "file" part, with fields.
func (b *bundle) upload(t *testing.T, token, filename string, content []byte, fields map[string]string) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return b.send(t, "POST", "/api/media/videos", token, mw.FormDataContentType(), &body)
}

// send makes a request over the network and decodes a JSON answer.
func (b *bundle) send(t *testing.T, method, path, token, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return res.StatusCode, out
}

func (b *bundle) do(t *testing.T, req testenv.Request) *testenv.Response {
	t.Helper()
	return testenv.Do(t, b.env.Media, req)
}

func idOf(t *testing.T, m map[string]any) int64 {
	t.Helper()
	id, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", m)
	}
	return int64(id)
}

func (b *bundle) video(t *testing.T, id int64) storage.Video {
	t.Helper()
	v, err := b.env.Store.VideoByID(context.Background(), id)
	if err != nil {
		t.Fatalf("video %d: %v", id, err)
	}
	return v
}

func (b *bundle) waitStatus(t *testing.T, id int64, want string) storage.Video {
	t.Helper()
	var v storage.Video
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("video %d to be %s", id, want), func() bool {
		v = b.video(t, id)
		return v.Status == want
	})
	return v
}

// readyVideo records a ready video whose file holds content, without the worker.
func (b *bundle) readyVideo(t *testing.T, title string, content []byte) storage.Video {
	t.Helper()
	ctx := context.Background()
	root, err := blob.Open(b.root)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tmp, err := root.CreateTemp("test-")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Write(content)
	name := blob.NewVideoName(time.Now(), "mp4")
	sum := fmt.Sprintf("%064x", time.Now().UnixNano())
	v, err := b.env.Store.CreateVideo(ctx, storage.NewVideo{Title: title, Path: name, SHA256: sum,
		SizeBytes: int64(len(content)), Container: "mp4", UploadedBy: &b.ownerID}, func(storage.Video) error { return tmp.Commit(name) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.env.Store.SetVideoProbe(ctx, v.ID, storage.ProbeResult{DurationSeconds: 2, Width: 320, Height: 240,
		Orientation: "landscape", VideoCodec: "h264", SizeBytes: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if err := b.env.Store.MarkVideoReady(ctx, v.ID, nil); err != nil {
		t.Fatal(err)
	}
	return b.video(t, v.ID)
}

// leftovers lists files under the media root's temporary folder.
func (b *bundle) leftovers(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(b.root, blob.TmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func (b *bundle) videoCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := b.env.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM media_videos`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
