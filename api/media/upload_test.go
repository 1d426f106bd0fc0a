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
	"unicode/utf8"

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
		// Only the headers and a first chunk go out: the server refuses on the
		// declared length, and the test never races it closing a half-sent upload.
		status, body := testenv.PostDeclaringLength(t, b.base, "/api/media/videos", 10<<20, 16<<10, map[string]string{
			"Authorization": "Bearer " + b.owner, "Content-Type": "multipart/form-data; boundary=XX"})
		if status != 413 || !strings.Contains(body, `"code":"payload_too_large"`) {
			t.Fatalf("= %d %s, want 413", status, body)
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

// storedVideos lists the files under the media root's videos folder.
func (b *bundle) storedVideos(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(b.root, "videos"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestUploadTextFields: the multipart text fields are checked for what
// Postgres refuses (a NUL, invalid UTF-8) and for length before anything is
// stored; a refused upload leaves no file and no row, and sending it again
// with good fields is a 201, not a 409.
func TestUploadTextFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	errorOf := func(m map[string]any) (string, map[string]string) {
		e, _ := m["error"].(map[string]any)
		code, _ := e["code"].(string)
		fields := map[string]string{}
		details, _ := e["details"].([]any)
		for _, d := range details {
			d, _ := d.(map[string]any)
			field, _ := d["field"].(string)
			msg, _ := d["message"].(string)
			fields[field] = msg
		}
		return code, fields
	}
	nothingLeft := func(t *testing.T) {
		t.Helper()
		if left := b.leftovers(t); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		if files := b.storedVideos(t); len(files) != 0 {
			t.Errorf("video files left: %v", files)
		}
		if n := b.videoCount(t); n != 0 {
			t.Errorf("%d video rows, want 0", n)
		}
	}
	content := []byte("\x00\x00\x00\x18ftypisom-text-fields")

	for _, field := range []string{"title", "producer", "creator", "tags"} {
		for _, bad := range []struct{ name, value, message string }{
			{"a NUL", "before\x00after", "must not contain NUL characters"},
			{"invalid UTF-8", "caf\xe9", "must be valid UTF-8"},
			{"too many bytes", strings.Repeat("é", 600), "must be at most 1000 bytes"},
		} {
			t.Run(field+" with "+bad.name+" is 400 and stores nothing", func(t *testing.T) {
				status, out := b.upload(t, b.owner, "a.mp4", content, map[string]string{field: bad.value})
				code, details := errorOf(out)
				if status != 400 || code != "validation_failed" || details[field] != bad.message {
					t.Fatalf("= %d %v, want 400 validation_failed with %s: %s", status, out, field, bad.message)
				}
				nothingLeft(t)
			})
		}
	}
	t.Run("every bad field has its own detail", func(t *testing.T) {
		status, out := b.upload(t, b.owner, "a.mp4", content, map[string]string{
			"title": "\x00", "producer": "\xff\xfe", "creator": strings.Repeat("c", 201), "tags": "ok,line\nbreak"})
		code, details := errorOf(out)
		want := map[string]string{
			"title":    "must not contain NUL characters",
			"producer": "must be valid UTF-8",
			"creator":  "must be at most 200 characters",
			"tags":     "each tag must be one line of at most 50 characters",
		}
		if status != 400 || code != "validation_failed" || fmt.Sprint(details) != fmt.Sprint(want) {
			t.Fatalf("= %d %v, want 400 with details %v", status, out, want)
		}
		nothingLeft(t)
	})
	t.Run("a bad field sent before the file is refused before the file arrives", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(b.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := "--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbad\x00title\r\n" +
			"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n\x00\x00\x00\x18ftypisom"
		// 50 MB promised, 64 KB sent (the server reads the first 8 KB before
		// the handler runs): an answer can only come from checking the title
		// before reading the file.
		fmt.Fprintf(conn, "POST /api/media/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: %d\r\n\r\n%s", b.owner, 50<<20, head)
		if _, err := conn.Write(bytes.Repeat([]byte{7}, 64<<10)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the body was sent: %v", err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 400 || !strings.Contains(string(raw), `"field":"title"`) {
			t.Fatalf("= %d %s, want 400 about the title", res.StatusCode, raw)
		}
		nothingLeft(t)
	})
	t.Run("after a refusal the same file with good fields is 201", func(t *testing.T) {
		status, out := b.upload(t, b.owner, "a.mp4", content, map[string]string{"producer": "Acme\x00"})
		if status != 400 {
			t.Fatalf("bad producer = %d %v, want 400", status, out)
		}
		status, out = b.upload(t, b.owner, "a.mp4", content, map[string]string{"title": "Café", "producer": "Acme", "tags": "été, march"})
		if status != 201 || out["title"] != "Café" || out["producer"] != "Acme" || fmt.Sprint(out["tags"]) != "[été march]" {
			t.Fatalf("good upload = %d %v, want 201 with the fields", status, out)
		}
		if n := b.videoCount(t); n != 1 {
			t.Fatalf("%d video rows, want 1", n)
		}
		if _, err := b.env.Store.Pool.Exec(t.Context(), `DELETE FROM media_videos`); err != nil {
			t.Fatal(err)
		}
		for _, f := range b.storedVideos(t) {
			os.Remove(f)
		}
	})
}

// TestUploadFailingAfterTheFileIsPlaced: when Postgres refuses the video at
// the last moment (at commit, after the file was renamed into place), the
// file is removed with the row, and the same upload later succeeds.
func TestUploadFailingAfterTheFileIsPlaced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A deferred constraint trigger runs at COMMIT, after the rename; it
	// refuses text as Postgres refuses a NUL or a bad byte sequence (22021).
	if _, err := b.env.Store.Pool.Exec(t.Context(), `
		CREATE FUNCTION reject_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.producer = 'reject-at-commit' THEN
				RAISE EXCEPTION 'refused at commit' USING ERRCODE = '22021';
			END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER reject_at_commit AFTER INSERT OR UPDATE ON media_videos
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reject_at_commit();`); err != nil {
		t.Fatal(err)
	}
	content := []byte("\x00\x00\x00\x18ftypisom-refused-at-commit")
	status, out := b.upload(t, b.owner, "a.mp4", content, map[string]string{"producer": "reject-at-commit"})
	if status != 400 {
		t.Fatalf("upload refused at commit = %d %v, want 400", status, out)
	}
	if files := b.storedVideos(t); len(files) != 0 {
		t.Errorf("video files left: %v", files)
	}
	if left := b.leftovers(t); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if n := b.videoCount(t); n != 0 {
		t.Errorf("%d video rows, want 0", n)
	}
	status, out = b.upload(t, b.owner, "a.mp4", content, map[string]string{"producer": "Acme"})
	if status != 201 {
		t.Fatalf("the same upload again = %d %v, want 201", status, out)
	}
	if files := b.storedVideos(t); len(files) != 1 {
		t.Errorf("video files = %v, want one", files)
	}
}

// A title taken from a long file name keeps to the title's limit of 200
// characters, so the video can be edited with the title it got.
func TestUploadTitleFromALongFileName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	name := strings.Repeat("a", 300) + ".mp4" // kept to 255 bytes as the original name
	status, out := b.upload(t, b.owner, name, []byte("\x00\x00\x00\x18ftypisom-long-name"), nil)
	if status != 201 {
		t.Fatalf("upload = %d %v", status, out)
	}
	title, _ := out["title"].(string)
	if n := utf8.RuneCountInString(title); n == 0 || n > 200 || !utf8.ValidString(title) {
		t.Fatalf("title %q has %d characters, want 1 to 200 of valid UTF-8", title, n)
	}
	res := b.do(t, testenv.Request{Method: "PATCH", Path: fmt.Sprintf("/api/media/videos/%d", idOf(t, out)), Token: b.owner,
		Body: map[string]string{"title": title}})
	if res.Status != 200 {
		t.Fatalf("PATCH with the title it got = %d %s", res.Status, res.Body)
	}
}
