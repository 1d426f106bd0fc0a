package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
	"changemaker/worker"
)

type mediaBundle struct {
	store *storage.Store
	media *worker.Media
	root  string
}

func setupMedia(t *testing.T) *mediaBundle {
	t.Helper()
	store := testenv.DB(t)
	_, ropt := testenv.RedisClient(t)
	queue := asynq.NewClient(storage.AsynqRedis(ropt))
	t.Cleanup(func() { queue.Close() })
	root := t.TempDir()
	cfg := testenv.Config().Media
	cfg.Root = root
	return &mediaBundle{store: store, root: root,
		media: &worker.Media{Store: store, Queue: queue, RootDir: root, FF: worker.NewFFmpeg(cfg), Log: testenv.Logger(t)}}
}

// stored puts a file under the media root and records it as processing.
func (b *mediaBundle) stored(t *testing.T, content []byte) storage.Video {
	t.Helper()
	name := blob.NewVideoName(time.Now(), "mp4")
	os.MkdirAll(filepath.Join(b.root, filepath.Dir(name)), 0o755)
	if err := os.WriteFile(filepath.Join(b.root, name), content, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := b.store.CreateVideo(context.Background(), storage.NewVideo{Title: "t", Path: name,
		SHA256:    randomSHA(),
		SizeBytes: int64(len(content)), Container: "mp4"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func randomSHA() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func lavfi(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "v.mp4")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	b, _ := os.ReadFile(out)
	return b
}

func task(typ string, payload string) *asynq.Task { return asynq.NewTask(typ, []byte(payload)) }

func TestMediaHandlers(t *testing.T) {
	t.Parallel()
	b := setupMedia(t)
	ctx := context.Background()

	t.Run("probe and thumbnail twice give the same ready video", func(t *testing.T) {
		v := b.stored(t, lavfi(t))
		p, _ := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
		th, _ := tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: v.ID})
		for range 2 {
			if err := b.media.Probe(ctx, p); err != nil {
				t.Fatal(err)
			}
			if err := b.media.Thumbnail(ctx, th); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := b.store.VideoByID(ctx, v.ID)
		if got.Status != "ready" || *got.Width != 320 || *got.Orientation != "landscape" || *got.HasAudio || !got.HasThumbnail {
			t.Fatalf("video = %+v", got)
		}
		if st, err := os.Stat(filepath.Join(b.root, *got.ThumbnailPath)); err != nil || st.Size() == 0 {
			t.Fatalf("thumbnail file: %v", err)
		}
		if left, _ := os.ReadDir(filepath.Join(b.root, blob.TmpDir)); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	t.Run("a missing file marks the video invalid", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		os.Remove(filepath.Join(b.root, v.Path))
		if err := b.media.Probe(ctx, task(tasks.TypeMediaProbe, `{"videoId":`+itoa(v.ID)+`}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.VideoByID(ctx, v.ID); got.Status != "invalid" || !strings.Contains(*got.InvalidReason, "missing") {
			t.Fatalf("video = %+v", got)
		}
	})
	t.Run("a text file is invalid, not retried", func(t *testing.T) {
		v := b.stored(t, []byte("hello, I am text"))
		if err := b.media.Probe(ctx, task(tasks.TypeMediaProbe, `{"videoId":`+itoa(v.ID)+`}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.VideoByID(ctx, v.ID); got.Status != "invalid" || got.InvalidReason == nil {
			t.Fatalf("video = %+v", got)
		}
	})
	t.Run("a deleted video is skipped", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		b.store.DeleteVideo(ctx, v.ID)
		if err := b.media.Probe(ctx, task(tasks.TypeMediaProbe, `{"videoId":`+itoa(v.ID)+`}`)); err != nil {
			t.Errorf("probe: %v", err)
		}
		if err := b.media.Thumbnail(ctx, task(tasks.TypeMediaThumbnail, `{"videoId":`+itoa(v.ID)+`}`)); err != nil {
			t.Errorf("thumbnail: %v", err)
		}
	})
	t.Run("malformed payloads are not retried", func(t *testing.T) {
		for _, tk := range []*asynq.Task{
			task(tasks.TypeMediaProbe, `{`), task(tasks.TypeMediaProbe, `{"videoId":0}`),
			task(tasks.TypeMediaThumbnail, `[]`), task(tasks.TypeMediaScan, `{"dir":"../x"}`),
		} {
			var err error
			switch tk.Type() {
			case tasks.TypeMediaProbe:
				err = b.media.Probe(ctx, tk)
			case tasks.TypeMediaThumbnail:
				err = b.media.Thumbnail(ctx, tk)
			default:
				err = b.media.Scan(ctx, tk)
			}
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("%s %s: err = %v, want SkipRetry", tk.Type(), tk.Payload(), err)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A hung ffprobe is killed at its timeout.
func TestFFprobeTimeoutKills(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "slow-ffprobe")
	os.WriteFile(script, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 60\n"), 0o755)
	ff := worker.FFmpeg{FFprobePath: script, ProbeTimeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := ff.Probe(context.Background(), "/dev/null")
	if !errors.Is(err, worker.ErrToolTimeout) {
		t.Fatalf("err = %v, want ErrToolTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	b, _ := os.ReadFile(pidFile)
	pid := 0
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	if pid == 0 {
		t.Fatal("the script never ran")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still alive after the timeout", pid)
	}
}

func TestOrientation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w, h int
		want string
	}{{1920, 1080, "landscape"}, {1080, 1920, "portrait"}, {500, 500, "square"}} {
		if got := worker.Orientation(c.w, c.h); got != c.want {
			t.Errorf("Orientation(%d, %d) = %s, want %s", c.w, c.h, got, c.want)
		}
	}
}
