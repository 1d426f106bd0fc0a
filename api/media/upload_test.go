package media_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
)

func TestUploadToReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.startWorker(t)

	cases := []struct {
		name        string
		file        string
		container   string
		width       int
		height      int
		orientation string
		audio       bool
		duration    float64
	}{
		{"landscape mp4 with audio", landscapeWithAudio(t), "mp4", 320, 240, "landscape", true, 2},
		{"portrait webm without audio", portraitSilent(t), "webm", 180, 320, "portrait", false, 1},
		{"square mkv", squareMKV(t), "mkv", 200, 200, "square", false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			content := readFile(t, tc.file)
			status, body := b.upload(t, b.owner, "clip.bin", content,
				map[string]string{"title": tc.name, "producer": "Acme", "tags": "Rally, march,rally"})
			if status != 201 || body["status"] != "processing" {
				t.Fatalf("upload = %d %v, want 201 processing", status, body)
			}
			sum := sha256.Sum256(content)
			if body["sha256"] != hex.EncodeToString(sum[:]) || body["container"] != tc.container {
				t.Errorf("upload answered sha256 %v container %v, want %x %s", body["sha256"], body["container"], sum, tc.container)
			}
			v := b.waitStatus(t, idOf(t, body), "ready")
			if *v.Width != tc.width || *v.Height != tc.height || *v.Orientation != tc.orientation || *v.HasAudio != tc.audio {
				t.Errorf("probed %dx%d %s audio=%v, want %dx%d %s audio=%v",
					*v.Width, *v.Height, *v.Orientation, *v.HasAudio, tc.width, tc.height, tc.orientation, tc.audio)
			}
			if math.Abs(*v.DurationSeconds-tc.duration) > 0.3 {
				t.Errorf("duration = %v, want about %v", *v.DurationSeconds, tc.duration)
			}
			if v.SizeBytes != int64(len(content)) || !v.HasThumbnail || v.Producer != "Acme" || strings.Join(v.Tags, ",") != "rally,march" {
				t.Errorf("video = %+v", v)
			}
			if tc.audio && (v.AudioCodec == nil || *v.AudioCodec != "aac") {
				t.Errorf("audio codec = %v, want aac", v.AudioCodec)
			}

			res := b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d/thumbnail", v.ID), Token: b.manager})
			if res.Status != 200 || res.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(res.Body, []byte{0xFF, 0xD8}) {
				t.Errorf("thumbnail = %d %s, %d bytes, want a JPEG", res.Status, res.Header.Get("Content-Type"), len(res.Body))
			}
			res = b.do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/media/videos/%d/stream", v.ID), Token: b.manager})
			if res.Status != 200 || !bytes.Equal(res.Body, content) {
				t.Errorf("stream = %d with %d bytes, want 200 with the uploaded %d bytes", res.Status, len(res.Body), len(content))
			}
		})
	}

	t.Run("a truncated file is marked invalid with the reason", func(t *testing.T) {
		content := readFile(t, landscapeWithAudio(t))
		// ffmpeg writes the index (moov) last: the first half has none.
		content = content[:len(content)/2]
		status, body := b.upload(t, b.owner, "cut.mp4", content, nil)
		if status != 201 {
			t.Fatalf("upload = %d %v, want 201", status, body)
		}
		v := b.waitStatus(t, idOf(t, body), "invalid")
		if v.InvalidReason == nil || *v.InvalidReason == "" {
			t.Errorf("invalid video has no reason: %+v", v)
		}
	})

	t.Run("the same file again is 409 with the existing id", func(t *testing.T) {
		content := readFile(t, squareMKV(t))
		status, first := b.upload(t, b.owner, "a.mkv", content, nil)
		if status != 201 {
			t.Fatalf("first upload = %d %v", status, first)
		}
		status, second := b.upload(t, b.owner, "b.mkv", content, nil)
		if status != 409 || second["existingId"] != first["id"] {
			t.Fatalf("second upload = %d %v, want 409 with existingId %v", status, second, first["id"])
		}
	})
}

func TestUploadRejectsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *config.Config) { c.Media.MaxUpload = 64 << 10 })
	errCode := func(m map[string]any) string {
		e, _ := m["error"].(map[string]any)
		s, _ := e["code"].(string)
		return s
	}
	t.Run("a text file named .mp4 is 415", func(t *testing.T) {
		status, body := b.upload(t, b.owner, "notes.mp4", []byte("just some text, honestly not a video\n"), nil)
		if status != 415 || errCode(body) != "unsupported_media_type" {
			t.Fatalf("= %d %v, want 415", status, body)
		}
	})
	t.Run("an empty file is 400", func(t *testing.T) {
		status, body := b.upload(t, b.owner, "empty.mp4", nil, nil)
		if status != 400 {
			t.Fatalf("= %d %v, want 400", status, body)
		}
	})
	t.Run("no file part is 400", func(t *testing.T) {
		body := "--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--XX--\r\n"
		status, out := b.send(t, "POST", "/api/media/videos", b.owner, "multipart/form-data; boundary=XX", strings.NewReader(body))
		if status != 400 || errCode(out) != "validation_failed" {
			t.Fatalf("= %d %v, want 400 validation_failed", status, out)
		}
	})
	t.Run("not multipart is 400", func(t *testing.T) {
		status, out := b.send(t, "POST", "/api/media/videos", b.owner, "application/json", strings.NewReader(`{}`))
		if status != 400 {
			t.Fatalf("= %d %v, want 400", status, out)
		}
	})
	t.Run("a broken multipart body is 400", func(t *testing.T) {
		body := "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n\x00\x00\x00\x18ftypisom and then it just ends"
		status, out := b.send(t, "POST", "/api/media/videos", b.owner, "multipart/form-data; boundary=XX", strings.NewReader(body))
		if status != 400 {
			t.Fatalf("= %d %v, want 400", status, out)
		}
	})
	t.Run("a file over MEDIA_MAX_UPLOAD is 413", func(t *testing.T) {
		big := append([]byte("\x00\x00\x00\x18ftypisom"), make([]byte, 100<<10)...)
		status, out := b.upload(t, b.owner, "big.mp4", big, nil)
		if status != 413 {
			t.Fatalf("= %d %v, want 413", status, out)
		}
	})
	t.Run("a title too long is 400", func(t *testing.T) {
		status, out := b.upload(t, b.owner, "a.mp4", []byte("\x00\x00\x00\x18ftypisom"), map[string]string{"title": strings.Repeat("x", 300)})
		if status != 400 || errCode(out) != "validation_failed" {
			t.Fatalf("= %d %v, want 400", status, out)
		}
	})
	t.Run("nothing is left behind", func(t *testing.T) {
		if left := b.leftovers(t); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if n := b.videoCount(t); n != 0 {
			t.Errorf("%d video rows, want 0", n)
		}
	})
}

func TestAbortedUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	head := "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n\x00\x00\x00\x18ftypisom"
	fmt.Fprintf(conn, "POST /api/media/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: %d\r\n\r\n%s", b.owner, 50<<20, head)
	chunk := bytes.Repeat([]byte{7}, 64<<10)
	for range 32 { // 2 MB of the promised 50
		if _, err := conn.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	// The server has created its temporary file by now.
	testenv.Eventually(t, 10*time.Second, "the upload's temporary file", func() bool { return len(b.leftovers(t)) == 1 })
	conn.Close()
	testenv.Eventually(t, 10*time.Second, "the temporary file to be removed", func() bool { return len(b.leftovers(t)) == 0 })
	if n := b.videoCount(t); n != 0 {
		t.Errorf("%d video rows after an aborted upload, want 0", n)
	}
}

func TestUploadStreamsWithChunkedBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	content := readFile(t, squareMKV(t))
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriter(pw)
		fmt.Fprintf(w, "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mkv\"\r\n\r\n")
		w.Write(content)
		fmt.Fprintf(w, "\r\n--XX--\r\n")
		w.Flush()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", b.base+"/api/media/videos", pr) // no length: chunked
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	req.Header.Set("Authorization", "Bearer "+b.owner)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("chunked upload = %d, want 201", res.StatusCode)
	}
}

// TestUploadHashAndBytesAcrossChunks: a file of several write chunks (and not
// a multiple of one) is stored byte for byte, under the SHA-256 of its
// content, although it is hashed on another goroutine as it arrives.
func TestUploadHashAndBytesAcrossChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	content := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), make([]byte, 3<<20+12345)...)
	if _, err := rand.Read(content[24:]); err != nil {
		t.Fatal(err)
	}
	status, body := b.upload(t, b.owner, "big.mp4", content, nil)
	if status != 201 {
		t.Fatalf("upload = %d %v", status, body)
	}
	want := sha256.Sum256(content)
	if body["sha256"] != hex.EncodeToString(want[:]) || body["sizeBytes"] != float64(len(content)) {
		t.Fatalf("sha256 %v size %v, want %x %d", body["sha256"], body["sizeBytes"], want, len(content))
	}
	stored, err := os.ReadFile(filepath.Join(b.root, b.video(t, idOf(t, body)).Path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, content) {
		t.Fatalf("stored file differs from the upload (%d bytes, want %d)", len(stored), len(content))
	}
}
