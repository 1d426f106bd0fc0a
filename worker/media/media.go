// Package media is the media fleet: it probes uploaded and scanned videos
// with ffprobe, cuts their thumbnails with ffmpeg, scans folders of the media
// root, and sweeps videos left processing.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"

	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
	"changemaker/worker/fleet"
)

// Handler handles the media fleet's tasks: probe, thumbnail, scan and sweep.
// Every handler may run twice: it re-reads the video and does nothing a
// finished run already did, or does it again to the same result.
type Handler struct {
	Store   *storage.Store
	Queue   *asynq.Client
	RootDir string // MEDIA_ROOT
	FF      FFmpeg
	Log     *slog.Logger
	// Inspector tells the sweep whether a video's task is still on its way;
	// without one, a task that exists in any state counts as on its way.
	Inspector *asynq.Inspector
	Metrics   *Metrics // nil: no metrics
	// StaleTempAge is how long a temporary file under MEDIA_ROOT/.tmp may go
	// unwritten before the sweep removes it as left by a crash; 0 means
	// MinStaleTempAge.
	StaleTempAge time.Duration
}

// MinStaleTempAge is the shortest StaleTempAge. A live writer holds its
// temporary file's lock (blob.RemoveStaleTemps skips it); the age is for
// where locks do not reach, as when the API and the workers share
// MEDIA_ROOT across machines.
const MinStaleTempAge = time.Hour

// Register routes the media fleet's task types to their handlers.
func Register(mux *asynq.ServeMux, d fleet.Deps) {
	m := &Handler{Store: d.Store, Queue: d.Queue, RootDir: d.Config.Media.Root, FF: NewFFmpeg(d.Config.Media), Log: d.Log,
		StaleTempAge: max(MinStaleTempAge, 4*d.Config.Media.UploadIdleTimeout)}
	if d.Metrics != nil {
		m.Metrics = NewMetrics(d.Metrics)
	}
	m.Inspector = d.Inspector()
	mux.HandleFunc(tasks.TypeMediaProbe, m.Probe)
	mux.HandleFunc(tasks.TypeMediaThumbnail, m.Thumbnail)
	mux.HandleFunc(tasks.TypeMediaScan, m.Scan)
	mux.HandleFunc(tasks.TypeMediaSweep, m.Sweep)
}

// lastAttempt reports whether this run is the task's last try (or not run by
// asynq at all, as in a direct call).
func lastAttempt(ctx context.Context) bool {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return retried >= maxRetry
}

// Probe runs ffprobe on a video, records what it found and asks for a
// thumbnail. A file ffprobe rejects is marked invalid at once; other
// failures are retried and mark it invalid on the last attempt.
func (m *Handler) Probe(ctx context.Context, t *asynq.Task) error {
	var p tasks.MediaProbe
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.VideoID <= 0 {
		return fmt.Errorf("probe: bad video id %d: %w", p.VideoID, asynq.SkipRetry)
	}
	v, err := m.Store.VideoByID(ctx, p.VideoID)
	if errors.Is(err, storage.ErrNotFound) {
		m.Log.Info("probe: video is gone", "video_id", p.VideoID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("probe video %d: %w", p.VideoID, err)
	}
	if v.Status == storage.VideoInvalid {
		return nil
	}
	root, err := blob.Open(m.RootDir)
	if err != nil {
		return fmt.Errorf("probe video %d: %w", v.ID, err)
	}
	defer root.Close()
	file, err := root.Path(v.Path)
	if err != nil {
		return m.invalid(ctx, v.ID, "the video file is missing")
	}
	started := time.Now()
	res, err := m.FF.Probe(ctx, file)
	m.Metrics.observeProbe(time.Since(started))
	switch {
	case errors.Is(err, ErrUnreadable):
		return m.invalid(ctx, v.ID, err.Error())
	case err != nil && lastAttempt(ctx):
		if ierr := m.invalid(ctx, v.ID, err.Error()); ierr != nil {
			return ierr
		}
		return fmt.Errorf("probe video %d: %w: %w", v.ID, err, asynq.SkipRetry)
	case err != nil:
		return fmt.Errorf("probe video %d: %w", v.ID, err)
	}
	if ok, err := m.Store.SetVideoProbe(ctx, v.ID, res); err != nil || !ok {
		return err // deleted or invalidated meanwhile: nothing more to do
	}
	return m.enqueue(ctx)(tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: v.ID}))
}

func (m *Handler) invalid(ctx context.Context, id int64, reason string) error {
	m.Log.Warn("video is invalid", "video_id", id, "reason", reason)
	return m.Store.MarkVideoInvalid(ctx, id, reason)
}

// enqueue returns a function that adds a follow-up task built by a tasks
// constructor: m.enqueue(ctx)(tasks.NewMediaProbe(…)). A task already queued
// under the same ID counts as enqueued.
func (m *Handler) enqueue(ctx context.Context) func(*asynq.Task, error) error {
	return func(task *asynq.Task, err error) error {
		if err != nil {
			return err
		}
		if _, err := m.Queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue %s: %w", task.Type(), err)
		}
		return nil
	}
}

// Thumbnail cuts a JPEG at about 10% of the video and marks it ready. When
// no frame can be cut even on the last attempt the video is still ready,
// just without a thumbnail: it plays all the same.
func (m *Handler) Thumbnail(ctx context.Context, t *asynq.Task) error {
	var p tasks.MediaThumbnail
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.VideoID <= 0 {
		return fmt.Errorf("thumbnail: bad video id %d: %w", p.VideoID, asynq.SkipRetry)
	}
	v, err := m.Store.VideoByID(ctx, p.VideoID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("thumbnail video %d: %w", p.VideoID, err)
	}
	if v.Status == storage.VideoInvalid {
		return nil
	}
	if v.DurationSeconds == nil {
		// Not probed yet (a thumbnail task outran its probe): make sure a probe
		// is coming; it enqueues the thumbnail again.
		return m.enqueue(ctx)(tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID}))
	}
	root, err := blob.Open(m.RootDir)
	if err != nil {
		return fmt.Errorf("thumbnail video %d: %w", v.ID, err)
	}
	defer root.Close()
	src, err := root.Path(v.Path)
	if err != nil {
		return m.invalid(ctx, v.ID, "the video file is missing")
	}
	name, err := m.cut(ctx, root, v.ID, src, *v.DurationSeconds)
	if err != nil {
		if !lastAttempt(ctx) {
			return fmt.Errorf("thumbnail video %d: %w", v.ID, err)
		}
		m.Log.Warn("no thumbnail; video is ready without one", "video_id", v.ID, "err", err)
		return m.Store.MarkVideoReady(ctx, v.ID, nil)
	}
	return m.Store.MarkVideoReady(ctx, v.ID, &name)
}

// cut writes the thumbnail to a temporary file and renames it into place. A
// seek near the end can yield no frame; then it tries the first frame.
func (m *Handler) cut(ctx context.Context, root *blob.Root, id int64, src string, duration float64) (string, error) {
	tmp, err := root.CreateTemp("thumb-")
	if err != nil {
		return "", err
	}
	defer tmp.Abort()
	dst := path.Join(root.Dir(), tmp.TempName())
	for _, at := range []float64{duration * 0.1, 0} {
		started := time.Now()
		err := m.FF.Thumbnail(ctx, src, dst, at)
		m.Metrics.observeThumbnail(time.Since(started))
		if err != nil {
			return "", err
		}
		if st, err := tmp.Stat(); err == nil && st.Size() > 0 {
			name := blob.ThumbnailName(id)
			return name, tmp.Commit(name)
		}
	}
	return "", fmt.Errorf("ffmpeg wrote no frame: %w", ErrUnreadable)
}

// Scan registers the videos found under a folder of the media root: each
// regular file whose first bytes are a known container, not yet known by
// path or content, becomes a video in processing with a probe queued.
// Running it again registers nothing twice. A file that cannot be
// registered (a name that is not UTF-8, which Postgres cannot store; a file
// that cannot be read; a row Postgres refuses) is logged and skipped, and
// the scan goes on; only a cancelled scan or a database that stopped
// answering ends it early, with an error, so that asynq runs it again. The
// counts are logged and kept as the task's result.
func (m *Handler) Scan(ctx context.Context, t *asynq.Task) error {
	var p tasks.MediaScan
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	dir := p.Dir
	if dir == "" {
		dir = "."
	}
	if dir != "." && blob.CheckName(dir) != nil {
		return fmt.Errorf("scan: bad folder %q: %w", p.Dir, asynq.SkipRetry)
	}
	root, err := blob.Open(m.RootDir)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	defer root.Close()
	var uploadedBy *int64
	if p.RequestedBy > 0 {
		uploadedBy = &p.RequestedBy
	}
	var report scanReport
	skip := func(name string, err error) {
		report.fail(name, err)
		m.Log.Warn("media scan skipped a file", "dir", p.Dir, "path", printable(name), "err", err)
	}
	err = fs.WalkDir(root.FS(), dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == dir {
				return fmt.Errorf("scan %q: %w: %w", p.Dir, err, asynq.SkipRetry)
			}
			skip(name, err) // an unreadable entry
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			if name == blob.TmpDir || name == blob.ThumbnailDir {
				return fs.SkipDir
			}
			if !utf8.ValidString(name) {
				skip(name, errNameNotUTF8)
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() { // symlinks and devices are never registered
			return nil
		}
		outcome, err := m.scanFile(ctx, root, name, uploadedBy)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if perr := m.Store.Ping(ctx); perr != nil {
				return fmt.Errorf("scan %q: stopped at %s, the database does not answer: %w", p.Dir, printable(name), err)
			}
			skip(name, err)
			return nil
		}
		report.count(outcome)
		return nil
	})
	if err != nil {
		return err
	}
	m.Log.Info("media scan finished", "dir", p.Dir, "added", report.Added, "known", report.Known,
		"ignored", report.Ignored, "failed", report.Failed)
	if w := t.ResultWriter(); w != nil { // nil when not run by an asynq server
		if b, err := json.Marshal(report); err == nil {
			if _, err := w.Write(b); err != nil {
				m.Log.Warn("media scan: record the result", "err", err)
			}
		}
	}
	return nil
}

// scanReport counts what a scan did with the files it found.
type scanReport struct {
	Added   int `json:"added"`
	Known   int `json:"known"`   // already in the library, by path or content
	Ignored int `json:"ignored"` // not a video
	Failed  int `json:"failed"`  // could not be registered; see Failures
	// Failures lists the first maxScanFailures files that failed, and why.
	Failures []scanFailure `json:"failures,omitempty"`
}

// scanFailure is one file a scan could not register.
type scanFailure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

const maxScanFailures = 50

type scanOutcome int

const (
	scanIgnored scanOutcome = iota
	scanKnown
	scanAdded
)

func (r *scanReport) count(o scanOutcome) {
	switch o {
	case scanAdded:
		r.Added++
	case scanKnown:
		r.Known++
	default:
		r.Ignored++
	}
}

func (r *scanReport) fail(name string, err error) {
	r.Failed++
	if len(r.Failures) < maxScanFailures {
		r.Failures = append(r.Failures, scanFailure{Path: printable(name), Error: err.Error()})
	}
}

var errNameNotUTF8 = errors.New("the name is not valid UTF-8, so it cannot be stored; rename it")

// printable shows a file name in logs and reports: as it is when it is
// UTF-8, else quoted with its bytes escaped.
func printable(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	return strconv.QuoteToASCII(name)
}

// scanFile registers one file and says what became of it.
func (m *Handler) scanFile(ctx context.Context, root *blob.Root, name string, uploadedBy *int64) (scanOutcome, error) {
	if !utf8.ValidString(name) {
		return 0, errNameNotUTF8
	}
	if v, err := m.Store.VideoByPathLive(ctx, name); err == nil {
		if v.Status == storage.VideoProcessing { // a probe may have been lost; ask again
			m.enqueueProbe(ctx, v.ID)
		}
		return scanKnown, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("look up %s: %w", name, err)
	}
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) { // removed since the walk saw it
		return scanIgnored, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	head := make([]byte, blob.SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("read: %w", err)
	}
	container := blob.Sniff(head[:n])
	if container == "" {
		return scanIgnored, nil
	}
	h := sha256.New()
	h.Write(head[:n])
	size, err := io.Copy(h, f)
	if err != nil {
		return 0, fmt.Errorf("hash: %w", err)
	}
	base := path.Base(name)
	v, err := m.Store.CreateVideo(ctx, storage.NewVideo{
		Title:        strings.TrimSuffix(base, path.Ext(base)),
		OriginalName: base, Path: name, SHA256: hex.EncodeToString(h.Sum(nil)),
		SizeBytes: size + int64(n), Container: container, Source: "scan", UploadedBy: uploadedBy,
	}, nil)
	if errors.Is(err, storage.ErrConflict) {
		return scanKnown, nil // same content already in the library
	}
	if err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	m.enqueueProbe(ctx, v.ID)
	return scanAdded, nil
}

// enqueueProbe asks for a scanned video's probe. The video is recorded
// whether or not Redis takes the task: the media sweep enqueues the probe of
// any video left processing without one, so a failure here is only logged.
func (m *Handler) enqueueProbe(ctx context.Context, id int64) {
	if err := m.enqueue(ctx)(tasks.NewMediaProbe(tasks.MediaProbe{VideoID: id})); err != nil {
		m.Log.Warn("media scan: enqueue probe; the media sweep will retry", "video_id", id, "err", err)
	}
}

// Sweep handles media:sweep. A video stays processing only while a probe or
// thumbnail task is on its way; when the API accepted an upload but could not
// enqueue (Redis was down), or a task was lost, nothing would ever move it.
// For each video processing since before OlderThanSeconds it enqueues the
// task of the step the video is at (probe until probed, then thumbnail).
// The task IDs are per video, so a task still pending, scheduled, waiting
// for a retry or running answers asynq.ErrTaskIDConflict and is left alone;
// sweeping never doubles the work. A task asynq has archived (out of retries
// with the worker gone, or cancelled by an admin) ends the video the way its
// last attempt would have: a probe that gave up makes the video invalid with
// the reason, a thumbnail that gave up leaves it ready without a thumbnail.
func (m *Handler) Sweep(ctx context.Context, t *asynq.Task) error {
	var p tasks.MediaSweep
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.OlderThanSeconds < 0 || p.Limit < 0 {
		return fmt.Errorf("sweep: negative olderThanSeconds or limit: %w", asynq.SkipRetry)
	}
	if p.Limit == 0 {
		p.Limit = 200
	}
	cutoff := time.Now().Add(-time.Duration(p.OlderThanSeconds) * time.Second)
	videos, err := m.Store.StalledVideos(ctx, cutoff, p.Limit)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	var errs []error
	moved := 0
	for _, v := range videos {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ok, err := m.resume(ctx, v)
		if err != nil {
			errs = append(errs, err) // one video's trouble must not hold up the others
			continue
		}
		if ok {
			moved++
		}
	}
	if moved > 0 {
		m.Log.Info("media sweep set stalled videos moving", "moved", moved, "stalled", len(videos))
	}
	if err := m.removeStaleTemps(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeStaleTemps deletes what crashed uploads and thumbnails left in
// MEDIA_ROOT/.tmp.
func (m *Handler) removeStaleTemps() error {
	root, err := blob.Open(m.RootDir)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	defer root.Close()
	n, err := root.RemoveStaleTemps(time.Now().Add(-max(m.StaleTempAge, MinStaleTempAge)))
	if n > 0 {
		m.Log.Info("media sweep removed temporary files left by a crash", "removed", n)
	}
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// resume enqueues the next step of one stalled video, or settles it when
// that step's task was archived. It reports whether it changed anything.
func (m *Handler) resume(ctx context.Context, v storage.Video) (bool, error) {
	step, id := "probe", tasks.MediaProbeTaskID(v.ID)
	task, err := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
	if v.DurationSeconds != nil {
		step, id = "thumbnail", tasks.MediaThumbnailTaskID(v.ID)
		task, err = tasks.NewMediaThumbnail(tasks.MediaThumbnail{VideoID: v.ID})
	}
	if err != nil {
		return false, err
	}
	// A completed task kept by a retention setting, yet the video did not
	// move: it is replaced, to run again. An archived one is settled below.
	_, err = tasks.EnqueueUnique(ctx, m.Queue, m.Inspector, task, tasks.QueueMedia, id,
		tasks.Policy{Replace: []asynq.TaskState{asynq.TaskStateCompleted}, Rounds: 2})
	var held *tasks.HeldError
	switch {
	case err == nil:
		m.Log.Info("media sweep re-enqueued a stalled video", "video_id", v.ID, "step", step)
		return true, nil
	case !errors.As(err, &held):
		return false, fmt.Errorf("sweep: enqueue %s of video %d: %w", step, v.ID, err)
	case held.Info == nil || held.Info.State != asynq.TaskStateArchived:
		return false, nil // pending, scheduled, retry, active, aggregating: on its way
	}
	reason := held.Info.LastErr
	if reason == "" {
		reason = "the task was cancelled"
	}
	if step == "probe" {
		return true, m.invalid(ctx, v.ID, "probe gave up: "+reason)
	}
	m.Log.Warn("thumbnail gave up; video is ready without one", "video_id", v.ID, "reason", reason)
	return true, m.Store.MarkVideoReady(ctx, v.ID, nil)
}
