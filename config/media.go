package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MediaConfig configures the media API and the media worker fleet.
type MediaConfig struct {
	// Root is the directory every stored video and thumbnail lives under
	// (MEDIA_ROOT). Uploads, scans and the stream endpoints never leave it.
	Root string
	// MaxUpload bounds one upload's request body in bytes (MEDIA_MAX_UPLOAD,
	// e.g. 10GiB, 500MB or a plain byte count).
	MaxUpload int64
	// UploadIdleTimeout is how long an upload may stall between two reads
	// before the connection is dropped; a slow but moving upload never is.
	UploadIdleTimeout time.Duration
	// FFprobePath and FFmpegPath name the binaries (a PATH lookup by default).
	FFprobePath string
	FFmpegPath  string
	// ProbeTimeout and ThumbnailTimeout bound each ffprobe/ffmpeg run; the
	// process is killed when they pass.
	ProbeTimeout     time.Duration
	ThumbnailTimeout time.Duration
	// PublicCacheTTL is how long a page of the public gallery stays in Redis.
	PublicCacheTTL time.Duration
	// ViewWindow is how long one viewer's views of a video count once.
	ViewWindow time.Duration
	// StreamRateLimit is how many stream and thumbnail requests one client
	// may make per MEDIA_RATE_WINDOW (MEDIA_STREAM_RATE_LIMIT; 0: no limit).
	// Video players fetch a file in many range requests, so these are counted
	// apart from MEDIA_RATE_LIMIT, which covers every other media route.
	StreamRateLimit int
	// SettingsTTL is how long the media API trusts its copy of the site
	// settings (the enableMedia switch) before reading them again; 0 reads
	// them on every public request.
	SettingsTTL time.Duration
}

func loadMedia(r *reader) MediaConfig {
	root := "./data/media"
	if r.str("APP_ENV", "development") == "test" {
		// Tests that never touch media must not litter the source tree.
		root = filepath.Join(os.TempDir(), "changemaker-test-media")
	}
	return MediaConfig{
		Root:              r.str("MEDIA_ROOT", root),
		MaxUpload:         r.size("MEDIA_MAX_UPLOAD", 10<<30),
		UploadIdleTimeout: r.duration("MEDIA_UPLOAD_IDLE_TIMEOUT", 2*time.Minute),
		FFprobePath:       r.str("FFPROBE_PATH", "ffprobe"),
		FFmpegPath:        r.str("FFMPEG_PATH", "ffmpeg"),
		ProbeTimeout:      r.duration("MEDIA_PROBE_TIMEOUT", time.Minute),
		ThumbnailTimeout:  r.duration("MEDIA_THUMBNAIL_TIMEOUT", 2*time.Minute),
		PublicCacheTTL:    r.duration("MEDIA_PUBLIC_CACHE_TTL", 5*time.Minute),
		ViewWindow:        r.duration("MEDIA_VIEW_WINDOW", time.Hour),
		StreamRateLimit:   r.int("MEDIA_STREAM_RATE_LIMIT", 3000),
		SettingsTTL:       r.duration("MEDIA_SETTINGS_TTL", 5*time.Second),
	}
}

// size reads a byte count: a plain number or one with a unit
// (KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024).
func (r *reader) size(name string, def int64) int64 {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := ParseSize(v)
	if err != nil || n <= 0 {
		if r.err == nil {
			r.err = fmt.Errorf("%s: want a positive size like 10GiB or 500MB, got %q", name, v)
		}
		return def
	}
	return n
}

// ParseSize parses "10GiB", "500MB", "1048576" and the like, case-insensitively.
// KB, MB, GB and TB are powers of 1000; KiB…TiB and the bare K, M, G, T are powers of 1024.
func ParseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
		{"B", 1},
	}
	mult := int64(1)
	for _, unit := range units {
		if strings.HasSuffix(u, unit.suffix) {
			mult = unit.mult
			u = strings.TrimSpace(strings.TrimSuffix(u, unit.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse size %q: %w", s, err)
	}
	if n < 0 || (n > 0 && mult > (1<<62)/n) {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return n * mult, nil
}
