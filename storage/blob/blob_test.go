package blob_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"changemaker/storage/blob"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		head string
		want string
	}{
		"mp4":           {"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "mp4"},
		"mov":           {"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"},
		"old quicktime": {"\x00\x00\x00\x08wide\x00\x00", "mov"},
		"m4v":           {"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01", "m4v"},
		"webm":          {"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"},
		"mkv":           {"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"},
		"avi":           {"RIFF\x00\x10\x00\x00AVI LIST", "avi"},
		"flv":           {"FLV\x01\x05\x00\x00\x00\x09", "flv"},
		"text":          {"hello world, not a video", ""},
		"wav":           {"RIFF\x00\x10\x00\x00WAVEfmt ", ""},
		"short":         {"\x00\x00", ""},
	} {
		if got := blob.Sniff([]byte(c.head)); got != c.want {
			t.Errorf("%s: Sniff = %q, want %q", name, got, c.want)
		}
	}
}

func TestNamesStayInsideTheRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("x"), 0o644)
	r, err := blob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	os.Symlink(outside, filepath.Join(dir, "videos", "link.mp4"))
	for _, name := range []string{"../secret", "/etc/passwd", "videos/../../x", "", "videos//a", "videos/link.mp4"} {
		if _, err := r.Open(name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
		if _, err := r.Path(name); err == nil {
			t.Errorf("Path(%q) succeeded", name)
		}
	}
}

func TestTempCommitAndAbort(t *testing.T) {
	t.Parallel()
	r, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tmp, _ := r.CreateTemp("t-")
	tmp.Write([]byte("data"))
	name := blob.NewVideoName(time.Now(), "mp4")
	if err := tmp.Commit(name); err != nil {
		t.Fatal(err)
	}
	tmp.Abort() // after Commit: a no-op
	if b, err := os.ReadFile(filepath.Join(r.Dir(), name)); err != nil || string(b) != "data" {
		t.Fatalf("committed file: %q %v", b, err)
	}
	tmp2, _ := r.CreateTemp("t-")
	tmp2.Abort()
	if entries, _ := os.ReadDir(filepath.Join(r.Dir(), blob.TmpDir)); len(entries) != 0 {
		t.Fatalf("aborted temp left: %v", entries)
	}
}
