package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	ffmpeg "github.com/u2takey/ffmpeg-go"

	"changemaker/config"
	"changemaker/storage"
)

// Errors of an ffprobe or ffmpeg run.
var (
	// ErrUnreadable: the tool ran and rejected the file. Trying again will not help.
	ErrUnreadable = errors.New("file is not a readable video")
	// ErrToolTimeout: the run took longer than its timeout and was killed.
	ErrToolTimeout = errors.New("timed out")
)

// FFmpeg runs ffprobe and ffmpeg. Command lines are built with ffmpeg-go; the
// processes are started here, each under a context with the run's timeout, so
// a stuck run is killed and a cancelled task stops its process.
type FFmpeg struct {
	FFprobePath      string
	FFmpegPath       string
	ProbeTimeout     time.Duration
	ThumbnailTimeout time.Duration
}

// NewFFmpeg configures the runner from the media config.
func NewFFmpeg(c config.MediaConfig) FFmpeg {
	return FFmpeg{FFprobePath: c.FFprobePath, FFmpegPath: c.FFmpegPath,
		ProbeTimeout: c.ProbeTimeout, ThumbnailTimeout: c.ThumbnailTimeout}
}

// run starts bin with args, kills it when timeout passes or ctx ends, and
// returns its stdout. A non-zero exit is ErrUnreadable with stderr's last line.
func run(ctx context.Context, timeout time.Duration, bin string, args []string) ([]byte, error) {
	if timeout <= 0 {
		timeout = time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// The default Cancel kills the process; WaitDelay bounds the wait for its
	// pipes should a child of it hold them open.
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{max: 64 << 10, buf: &stderr}
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if parent.Err() != nil {
			return nil, fmt.Errorf("%s: %w", bin, parent.Err())
		}
		return nil, fmt.Errorf("%s: %w after %v", bin, ErrToolTimeout, timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return nil, fmt.Errorf("%s: %s: %w", bin, lastLine(stderr.String(), exitErr.String()), ErrUnreadable)
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest,
// so a chatty tool cannot grow the worker's memory.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func lastLine(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	lines := strings.Split(s, "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// ffprobe's JSON, the fields we use.
type probeOutput struct {
	Streams []struct {
		CodecType    string            `json:"codec_type"`
		CodecName    string            `json:"codec_name"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		Duration     string            `json:"duration"`
		Tags         map[string]string `json:"tags"`
		SideDataList []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
		Disposition map[string]int `json:"disposition"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
		Size     string `json:"size"`
	} `json:"format"`
}

// Probe runs ffprobe on path (an absolute path) and reads what the library
// needs. A file without a video stream or a duration is ErrUnreadable.
func (f FFmpeg) Probe(ctx context.Context, path string) (storage.ProbeResult, error) {
	args := ffmpeg.ConvertKwargsToCmdLineArgs(ffmpeg.KwArgs{
		"v": "error", "show_format": "", "show_streams": "", "of": "json",
	})
	// "file:" keeps ffprobe from reading the name as a protocol or option.
	out, err := run(ctx, f.ProbeTimeout, f.FFprobePath, append(args, "file:"+path))
	if err != nil {
		return storage.ProbeResult{}, fmt.Errorf("ffprobe: %w", err)
	}
	return parseProbe(out)
}

func parseProbe(out []byte) (storage.ProbeResult, error) {
	var p probeOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return storage.ProbeResult{}, fmt.Errorf("ffprobe output: %v: %w", err, ErrUnreadable)
	}
	var r storage.ProbeResult
	foundVideo := false
	streamDuration := 0.0
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			// Cover art in an audio file is a "video" stream of one picture.
			if foundVideo || s.Disposition["attached_pic"] == 1 {
				continue
			}
			foundVideo = true
			r.VideoCodec = s.CodecName
			r.Width, r.Height = s.Width, s.Height
			if rotation(s.Tags["rotate"], s.SideDataList) {
				r.Width, r.Height = r.Height, r.Width
			}
			streamDuration, _ = strconv.ParseFloat(s.Duration, 64)
		case "audio":
			if !r.HasAudio {
				r.HasAudio = true
				r.AudioCodec = s.CodecName
			}
		}
	}
	if !foundVideo || r.Width <= 0 || r.Height <= 0 {
		return storage.ProbeResult{}, fmt.Errorf("no video stream: %w", ErrUnreadable)
	}
	r.DurationSeconds, _ = strconv.ParseFloat(p.Format.Duration, 64)
	if r.DurationSeconds <= 0 || math.IsNaN(r.DurationSeconds) || math.IsInf(r.DurationSeconds, 0) {
		r.DurationSeconds = streamDuration
	}
	if r.DurationSeconds <= 0 || math.IsNaN(r.DurationSeconds) || math.IsInf(r.DurationSeconds, 0) {
		return storage.ProbeResult{}, fmt.Errorf("no duration: %w", ErrUnreadable)
	}
	r.SizeBytes, _ = strconv.ParseInt(p.Format.Size, 10, 64)
	r.Orientation = Orientation(r.Width, r.Height)
	return r, nil
}

// rotation reports whether the display is turned a quarter, which swaps the
// displayed width and height (phones record portrait video this way).
func rotation(tag string, side []struct {
	Rotation float64 `json:"rotation"`
}) bool {
	deg := 0.0
	if tag != "" {
		deg, _ = strconv.ParseFloat(tag, 64)
	}
	for _, s := range side {
		if s.Rotation != 0 {
			deg = s.Rotation
		}
	}
	q := int(math.Round(deg/90)) % 2
	return q != 0
}

// Orientation names the shape of a width × height picture.
func Orientation(w, h int) string {
	switch {
	case w > h:
		return "landscape"
	case h > w:
		return "portrait"
	default:
		return "square"
	}
}

// Thumbnail cuts one JPEG frame at `at` seconds from src into dst (both
// absolute paths; dst is overwritten). -ss before -i makes ffmpeg seek in
// the container instead of decoding everything before that point.
func (f FFmpeg) Thumbnail(ctx context.Context, src, dst string, at float64) error {
	args := ffmpeg.Input("file:"+src, ffmpeg.KwArgs{"ss": strconv.FormatFloat(at, 'f', 3, 64)}).
		Output("file:"+dst, ffmpeg.KwArgs{
			"frames:v": 1, "q:v": 3, "format": "image2", "an": "",
			"vf": "scale='min(640,iw)':-2",
		}).
		GlobalArgs("-nostdin", "-hide_banner", "-loglevel", "error").
		OverWriteOutput().
		GetArgs()
	if _, err := run(ctx, f.ThumbnailTimeout, f.FFmpegPath, args); err != nil {
		return fmt.Errorf("ffmpeg thumbnail: %w", err)
	}
	return nil
}
