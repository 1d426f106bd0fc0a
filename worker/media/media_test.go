package media_test

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
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"changemaker/internal/asynqconn"
	"changemaker/internal/testenv"
	"changemaker/scheduler"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
	"changemaker/worker/fleet"
	"changemaker/worker/media"
)

type mediaBundle struct {
	store     *storage.Store
	media     *media.Handler
	root      string
	inspector *asynq.Inspector
	rdb       *redis.Client
	queue     *asynq.Client
}

func setupMedia(t *testing.T) *mediaBundle {
	t.Helper()
	store := testenv.DB(t)
	rdb, ropt := testenv.RedisClient(t)
	queue := asynq.NewClient(asynqconn.FromRedis(ropt))
	t.Cleanup(func() { queue.Close() })
	inspector := asynq.NewInspector(asynqconn.FromRedis(ropt))
	t.Cleanup(func() { inspector.Close() })
	root := t.TempDir()
	cfg := testenv.Config().Media
	cfg.Root = root
	return &mediaBundle{store: store, root: root, inspector: inspector, rdb: rdb, queue: queue,
		media: &media.Handler{Store: store, Queue: queue, RootDir: root, FF: media.NewFFmpeg(cfg), Log: testenv.Logger(t),
			Inspector: inspector}}
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
			task(tasks.TypeMediaSweep, `{"olderThanSeconds":"x"}`), task(tasks.TypeMediaSweep, `{"limit":-1}`),
		} {
			var err error
			switch tk.Type() {
			case tasks.TypeMediaProbe:
				err = b.media.Probe(ctx, tk)
			case tasks.TypeMediaThumbnail:
				err = b.media.Thumbnail(ctx, tk)
			case tasks.TypeMediaSweep:
				err = b.media.Sweep(ctx, tk)
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
	ff := media.FFmpeg{FFprobePath: script, ProbeTimeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := ff.Probe(context.Background(), "/dev/null")
	if !errors.Is(err, media.ErrToolTimeout) {
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
		if got := media.Orientation(c.w, c.h); got != c.want {
			t.Errorf("Orientation(%d, %d) = %s, want %s", c.w, c.h, got, c.want)
		}
	}
}

// taskState is the state of a media task, "" when there is none.
func (b *mediaBundle) taskState(t *testing.T, id string) string {
	t.Helper()
	info, err := b.inspector.GetTaskInfo(tasks.QueueMedia, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return info.State.String()
}

func (b *mediaBundle) sweep(t *testing.T, olderThan int) {
	t.Helper()
	tk, err := tasks.NewMediaSweep(tasks.MediaSweep{OlderThanSeconds: olderThan, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.media.Sweep(context.Background(), tk); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

func (b *mediaBundle) probed(t *testing.T) storage.Video {
	t.Helper()
	v := b.stored(t, []byte("x"))
	if _, err := b.store.SetVideoProbe(context.Background(), v.ID, storage.ProbeResult{DurationSeconds: 2,
		Width: 320, Height: 240, Orientation: "landscape", VideoCodec: "h264"}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMediaSweep: a video processing with no task on its way is set moving
// again, a task on its way is left alone, and a task asynq gave up on
// settles the video.
func TestMediaSweep(t *testing.T) {
	t.Parallel()
	b := setupMedia(t)
	ctx := context.Background()

	t.Run("a recent video is not swept", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		b.sweep(t, 300)
		if st := b.taskState(t, tasks.MediaProbeTaskID(v.ID)); st != "" {
			t.Fatalf("probe task is %s, want none", st)
		}
	})
	t.Run("a video with no task gets its probe again, once", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		b.sweep(t, 0)
		b.sweep(t, 0)
		if st := b.taskState(t, tasks.MediaProbeTaskID(v.ID)); st != "pending" {
			t.Fatalf("probe task is %q, want pending", st)
		}
	})
	t.Run("a probed video gets its thumbnail, not another probe", func(t *testing.T) {
		v := b.probed(t)
		b.sweep(t, 0)
		if st := b.taskState(t, tasks.MediaThumbnailTaskID(v.ID)); st != "pending" {
			t.Fatalf("thumbnail task is %q, want pending", st)
		}
		if st := b.taskState(t, tasks.MediaProbeTaskID(v.ID)); st != "" {
			t.Fatalf("probe task is %q, want none", st)
		}
	})
	t.Run("a task on its way is left alone", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		p, _ := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
		if _, err := b.media.Queue.Enqueue(p, asynq.ProcessIn(time.Hour)); err != nil {
			t.Fatal(err)
		}
		b.sweep(t, 0)
		if st := b.taskState(t, tasks.MediaProbeTaskID(v.ID)); st != "scheduled" {
			t.Fatalf("probe task is %q, want still scheduled", st)
		}
		if got, _ := b.store.VideoByID(ctx, v.ID); got.Status != storage.VideoProcessing {
			t.Fatalf("status = %s, want processing", got.Status)
		}
	})
	t.Run("an archived probe makes the video invalid with the reason", func(t *testing.T) {
		v := b.stored(t, []byte("x"))
		p, _ := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
		if _, err := b.media.Queue.Enqueue(p); err != nil {
			t.Fatal(err)
		}
		if err := b.inspector.ArchiveTask(tasks.QueueMedia, tasks.MediaProbeTaskID(v.ID)); err != nil {
			t.Fatal(err)
		}
		b.sweep(t, 0)
		got, _ := b.store.VideoByID(ctx, v.ID)
		if got.Status != storage.VideoInvalid || got.InvalidReason == nil || !strings.Contains(*got.InvalidReason, "probe gave up") {
			t.Fatalf("video = %s %v, want invalid because the probe gave up", got.Status, got.InvalidReason)
		}
	})
	t.Run("an archived thumbnail leaves the video ready without one", func(t *testing.T) {
		v := b.probed(t)
		th, _ := tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: v.ID})
		if _, err := b.media.Queue.Enqueue(th); err != nil {
			t.Fatal(err)
		}
		if err := b.inspector.ArchiveTask(tasks.QueueMedia, tasks.MediaThumbnailTaskID(v.ID)); err != nil {
			t.Fatal(err)
		}
		b.sweep(t, 0)
		if got, _ := b.store.VideoByID(ctx, v.ID); got.Status != storage.VideoReady || got.HasThumbnail {
			t.Fatalf("video = %s thumbnail %v, want ready without one", got.Status, got.HasThumbnail)
		}
	})
	t.Run("ready, invalid and deleted videos are not touched", func(t *testing.T) {
		ready := b.probed(t)
		b.store.MarkVideoReady(ctx, ready.ID, nil)
		invalid := b.stored(t, []byte("x"))
		b.store.MarkVideoInvalid(ctx, invalid.ID, "test")
		deleted := b.stored(t, []byte("x"))
		b.store.DeleteVideo(ctx, deleted.ID)
		b.sweep(t, 0)
		for _, id := range []int64{ready.ID, invalid.ID, deleted.ID} {
			if st := b.taskState(t, tasks.MediaProbeTaskID(id)); st != "" {
				t.Errorf("video %d has a probe task (%s)", id, st)
			}
			if st := b.taskState(t, tasks.MediaThumbnailTaskID(id)); st != "" {
				t.Errorf("video %d has a thumbnail task (%s)", id, st)
			}
		}
	})
}

// TestSweepIsScheduled: the scheduler enqueues the sweep on the media queue.
func TestSweepIsScheduled(t *testing.T) {
	t.Parallel()
	for _, e := range scheduler.Entries() {
		tk, err := e.Task()
		if err != nil {
			t.Fatal(err)
		}
		if tk.Type() == tasks.TypeMediaSweep {
			var p tasks.MediaSweep
			if err := tasks.Decode(tk, &p); err != nil {
				t.Fatal(err)
			}
			if p.OlderThanSeconds < 60 || p.Limit <= 0 {
				t.Errorf("sweep payload %+v: want a few minutes' grace and a limit", p)
			}
			return
		}
	}
	t.Fatal("no scheduler entry enqueues media:sweep")
}

// TestMediaDurationMetrics: every ffprobe and ffmpeg run is observed in its
// own histogram, through the fleet's registration as a worker process runs it.
func TestMediaDurationMetrics(t *testing.T) {
	t.Parallel()
	b := setupMedia(t)
	cfg := testenv.Config()
	cfg.Media.Root = b.root
	reg := prometheus.NewRegistry()
	mux := asynq.NewServeMux()
	media.Register(mux, fleet.Deps{Config: cfg, Store: b.store, Redis: b.rdb, Queue: b.queue, Log: testenv.Logger(t),
		Metrics: reg})
	v := b.stored(t, lavfi(t))
	ctx := context.Background()
	p, _ := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
	th, _ := tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: v.ID})
	for _, tk := range []*asynq.Task{p, th} {
		if err := mux.ProcessTask(ctx, tk); err != nil {
			t.Fatalf("%s: %v", tk.Type(), err)
		}
	}
	if got, _ := b.store.VideoByID(ctx, v.ID); got.Status != storage.VideoReady || !got.HasThumbnail {
		t.Fatalf("video = %s thumbnail %v, want ready with one", got.Status, got.HasThumbnail)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, m := range f.GetMetric() {
				counts[f.GetName()] += m.GetHistogram().GetSampleCount()
				if m.GetHistogram().GetSampleSum() <= 0 && m.GetHistogram().GetSampleCount() > 0 {
					t.Errorf("%s: sum %v, want a positive duration", f.GetName(), m.GetHistogram().GetSampleSum())
				}
			}
		}
	}
	for _, name := range []string{"cm_media_probe_seconds", "cm_media_thumbnail_seconds"} {
		if counts[name] != 1 {
			t.Errorf("%s observed %d times, want 1", name, counts[name])
		}
	}
}

// TestScanSkipsBadFiles: a file a scan cannot register — a name that is not
// UTF-8 (Postgres cannot store it), a row Postgres refuses — is skipped and
// the scan goes on to register the rest; a database that stops answering
// ends the scan with an error, so that it runs again.
func TestScanSkipsBadFiles(t *testing.T) {
	t.Parallel()
	b := setupMedia(t)
	ctx := context.Background()
	if _, err := b.store.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.original_name LIKE '%poison%' THEN
				RAISE EXCEPTION 'refused: %', NEW.original_name;
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON media_videos FOR EACH ROW EXECUTE FUNCTION refuse_poison();`); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(b.root, "imports")
	video := func(name string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("\x00\x00\x00\x18ftypisom-"+randomSHA()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Walked in lexical order: every bad file comes before a good one.
	video("a-poison.mp4")
	video("b-caf\xe9.mp4")
	video("c-good.mp4")
	video("d-\xff\xfe/inside.mp4")
	video("e-good.mp4")
	os.WriteFile(filepath.Join(dir, "f-notes.txt"), []byte("not a video"), 0o644)

	scan, err := tasks.NewMediaScan(tasks.MediaScan{Dir: "imports"})
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ { // a second run registers nothing twice
		if err := b.media.Scan(ctx, scan); err != nil {
			t.Fatalf("scan %d: %v, want the bad files skipped", run, err)
		}
		var paths []string
		rows, _ := b.store.Pool.Query(ctx, `SELECT path FROM media_videos ORDER BY path`)
		for rows.Next() {
			var p string
			rows.Scan(&p)
			paths = append(paths, p)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(paths, " ") != "imports/c-good.mp4 imports/e-good.mp4" {
			t.Fatalf("scan %d registered %q, want the two good files", run, paths)
		}
	}
	for _, name := range []string{"imports/c-good.mp4", "imports/e-good.mp4"} {
		v, err := b.store.VideoByPathLive(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.inspector.GetTaskInfo(tasks.QueueMedia, tasks.MediaProbeTaskID(v.ID)); err != nil {
			t.Errorf("probe of %s: %v", name, err)
		}
	}

	t.Run("a database that stops answering ends the scan with an error", func(t *testing.T) {
		video("g-new.mp4")
		store := testenv.DB(t)
		m := *b.media
		m.Store = store
		store.Close()
		if err := m.Scan(ctx, scan); err == nil || errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("scan without a database: %v, want an error to retry", err)
		}
	})
}

// TestMediaSweepRemovesStaleTemps: what a crash left in MEDIA_ROOT/.tmp goes
// with the next sweep; a temporary file still being written stays, and so
// does anything that is not one of ours.
func TestMediaSweepRemovesStaleTemps(t *testing.T) {
	t.Parallel()
	b := setupMedia(t)
	tmp := filepath.Join(b.root, blob.TmpDir)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-media.MinStaleTempAge - time.Minute)
	write := func(name string, mtime time.Time) {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("upload-crashed.part", old)
	write("thumb-crashed.part", old)
	write("upload-live.part", time.Now().Add(-time.Minute))
	write("notes.txt", old)
	b.sweep(t, 300)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "notes.txt upload-live.part" {
		t.Fatalf("left in .tmp: %v, want notes.txt and upload-live.part", left)
	}
}
