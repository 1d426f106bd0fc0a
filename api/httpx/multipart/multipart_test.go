package multipart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	stdmultipart "mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"changemaker/storage/blob"
)

type sentPart struct {
	name, fileName string
	body           []byte
}

// trickyBody is random bytes sprinkled with near-misses of the delimiter:
// CRLF, "\r\n--", and the delimiter with its last byte changed.
func trickyBody(rng *rand.Rand, n int, boundary string) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	near := []string{"\r\n", "\r\n--", "\r\n--" + boundary[:len(boundary)-1], "--" + boundary}
	for range n / 512 {
		s := near[rng.IntN(len(near))]
		if at := rng.IntN(n + 1); at+len(s) <= n {
			copy(b[at:], s)
		}
	}
	// Near-misses can meet and make a real delimiter, which a sender must
	// never put in a part: break those.
	delim := []byte("\r\n--" + boundary)
	for i := bytes.Index(b, delim); i >= 0; i = bytes.Index(b, delim) {
		b[i] = 'x'
	}
	return b
}

// encode writes parts with mime/multipart's writer, the reference encoder.
func encode(t *testing.T, boundary string, parts []sentPart) []byte {
	t.Helper()
	var body bytes.Buffer
	mw := stdmultipart.NewWriter(&body)
	if err := mw.SetBoundary(boundary); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.fileName))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.body)
	}
	mw.Close()
	return body.Bytes()
}

// readAll reads a body with Reader the way the upload does: files
// through File (in chunks of chunkSize), other parts through ReadValue.
func readAll(body io.Reader, boundary string, chunkSize int) ([]sentPart, error) {
	fr, err := NewReader(body, boundary)
	if err != nil {
		return nil, err
	}
	var got []sentPart
	for {
		p, err := fr.NextPart()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		sp := sentPart{name: p.Name, fileName: p.FileName}
		if p.FileName == "" {
			v, tooLong, err := fr.ReadValue(1 << 20)
			if err != nil {
				return got, err
			}
			if tooLong {
				return got, fmt.Errorf("field %s too long", p.Name)
			}
			sp.body = v
		} else {
			head, err := fr.Head(blob.SniffLen)
			if err != nil {
				return got, err
			}
			src := fr.File()
			buf := make([]byte, chunkSize)
			for {
				n, err := src.Fill(buf)
				sp.body = append(sp.body, buf[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return got, err
				}
				if n == 0 {
					return got, errors.New("Fill made no progress")
				}
				// What Receive writes with direct I/O: every chunk but the
				// last in whole blocks, when the chunk holds several.
				if chunkSize >= 2*blob.DirectAlign && n%blob.DirectAlign != 0 {
					return got, fmt.Errorf("Fill handed out %d bytes, not a multiple of %d", n, blob.DirectAlign)
				}
			}
			if !bytes.HasPrefix(sp.body, head) {
				return got, fmt.Errorf("Head %q is not the start of the file", head)
			}
		}
		got = append(got, sp)
	}
}

// The reader gives back what mime/multipart's writer wrote: every part's
// name, file name and exact bytes, whatever the read sizes, chunk sizes,
// boundaries and contents (near-misses of the delimiter included).
func TestFormReaderReadsWhatWasSent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	boundaries := []string{
		"------------------------d74496d66958873e", // curl
		"----WebKitFormBoundary7MA4YWxkTrZu0gW",    // browsers
		strings.Repeat("b", 70),
		"x",
	}
	sizes := []int{0, 1, 2, 63, 64, 65, 4095, 4096, 4097, 40000, 1 << 20, 1<<20 + 3, 3<<20 + 12345}
	for round := range 60 {
		boundary := boundaries[round%len(boundaries)]
		var parts []sentPart
		for i := range 1 + rng.IntN(4) {
			p := sentPart{name: fmt.Sprintf("f%d", i), body: trickyBody(rng, sizes[rng.IntN(len(sizes))], boundary)}
			if rng.IntN(2) == 0 {
				p.fileName = fmt.Sprintf("clip %d.mp4", i)
			} else {
				p.body = p.body[:min(len(p.body), 5000)]
			}
			parts = append(parts, p)
		}
		body := encode(t, boundary, parts)
		hows := []string{"whole", "half", "random"}
		if len(body) < 1<<20 {
			hows = append(hows, "one byte") // slow on big bodies; "random" covers small reads
		}
		for _, how := range hows {
			for _, chunk := range []int{100, 8 << 10, blob.ReceiveChunk} {
				r := rewind(how, body, round)
				got, err := readAll(r, boundary, chunk)
				if err != nil {
					t.Fatalf("round %d, %s reads, chunk %d: %v", round, how, chunk, err)
				}
				if len(got) != len(parts) {
					t.Fatalf("round %d, %s reads, chunk %d: %d parts, want %d", round, how, chunk, len(got), len(parts))
				}
				for i := range parts {
					if got[i].name != parts[i].name || got[i].fileName != parts[i].fileName || !bytes.Equal(got[i].body, parts[i].body) {
						t.Fatalf("round %d, %s reads, chunk %d: part %d is %q %q (%d bytes), want %q %q (%d bytes)", round, how, chunk, i,
							got[i].name, got[i].fileName, len(got[i].body), parts[i].name, parts[i].fileName, len(parts[i].body))
					}
				}
			}
		}
	}
}

// rewind gives a fresh reader of body, read the way how says.
func rewind(how string, body []byte, round int) io.Reader {
	switch how {
	case "half":
		return iotest.HalfReader(bytes.NewReader(body))
	case "one byte":
		return iotest.OneByteReader(bytes.NewReader(body))
	case "random":
		return &randomReads{r: bytes.NewReader(body), rng: rand.New(rand.NewPCG(uint64(round), 3))}
	}
	return bytes.NewReader(body)
}

type randomReads struct {
	r   io.Reader
	rng *rand.Rand
}

func (rr *randomReads) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+rr.rng.IntN(min(len(p), 70000))]
	}
	return rr.r.Read(p)
}

// A body cut anywhere before its closing delimiter is an error, never a
// shorter file taken for the whole.
func TestFormReaderRefusesTruncatedBodies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	boundary := "------------------------d74496d66958873e"
	parts := []sentPart{
		{name: "title", body: []byte("A rally")},
		{name: "file", fileName: "a.mp4", body: trickyBody(rng, 300000, boundary)},
		{name: "tags", body: []byte("x,y")},
	}
	body := encode(t, boundary, parts)
	closing := bytes.LastIndex(body, []byte("--"+boundary+"--")) + len(boundary) + 4
	cuts := []int{0, 1, 10, 100, closing - 1, closing - 2, closing - len(boundary) - 4}
	for range 200 {
		cuts = append(cuts, rng.IntN(closing))
	}
	for _, cut := range cuts {
		got, err := readAll(&randomReads{r: bytes.NewReader(body[:cut]), rng: rng}, boundary, 64<<10)
		if err == nil {
			t.Fatalf("a body cut at %d of %d bytes was read as %d whole parts", cut, len(body), len(got))
		}
	}
	if _, err := readAll(bytes.NewReader(body[:closing]), boundary, 64<<10); err != nil {
		t.Fatalf("the body up to its closing delimiter: %v", err)
	}
}

// Bodies that do not follow the format are errors, read to no end.
func TestFormReaderRefusesMalformedBodies(t *testing.T) {
	t.Parallel()
	b := "BOUNDARY"
	bodies := map[string]string{
		"no delimiter":           strings.Repeat("x", maxPreamble+10),
		"no CRLF after the line": "--BOUNDARYxx\r\n\r\nvalue\r\n--BOUNDARY--",
		"headers never end":      "--BOUNDARY\r\nContent-Disposition: form-data; name=a\r\n" + strings.Repeat("X-A: b\r\n", maxPartHeaders/8+10),
		"bad header line":        "--BOUNDARY\r\nnot a header\r\n\r\nvalue\r\n--BOUNDARY--",
		"part never closed":      "--BOUNDARY\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue",
		"empty":                  "",
	}
	for name, body := range bodies {
		if _, err := readAll(strings.NewReader(body), b, 8<<10); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	for _, bad := range []string{"", strings.Repeat("b", maxBoundary+1)} {
		if _, err := NewReader(strings.NewReader(""), bad); err == nil {
			t.Errorf("boundary %q accepted", bad)
		}
	}
}

// A preamble before the first delimiter, blanks after a delimiter, a part
// without headers and an epilogue are all allowed (RFC 2046).
func TestFormReaderAllowsWhatTheRFCAllows(t *testing.T) {
	t.Parallel()
	body := "preamble line\r\n--B \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n--B\r\n\r\nno headers\r\n--B--\r\nepilogue"
	got, err := readAll(strings.NewReader(body), "B", 8<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "a" || string(got[0].body) != "one" || got[1].name != "" || string(got[1].body) != "no headers" {
		t.Fatalf("got %+v", got)
	}
}

// A field longer than its limit is reported and skipped; the next part is
// read as usual.
func TestFormReaderValueTooLong(t *testing.T) {
	t.Parallel()
	boundary := "B0UNDARY"
	body := encode(t, boundary, []sentPart{
		{name: "long", body: bytes.Repeat([]byte("x"), 5000)},
		{name: "short", body: []byte("ok")},
	})
	fr, _ := NewReader(iotest.HalfReader(bytes.NewReader(body)), boundary)
	if p, err := fr.NextPart(); err != nil || p.Name != "long" {
		t.Fatal(p, err)
	}
	if _, tooLong, err := fr.ReadValue(1000); err != nil || !tooLong {
		t.Fatalf("ReadValue = tooLong %v, %v; want too long", tooLong, err)
	}
	if p, err := fr.NextPart(); err != nil || p.Name != "short" {
		t.Fatal(p, err)
	}
	if v, tooLong, err := fr.ReadValue(1000); err != nil || tooLong || string(v) != "ok" {
		t.Fatalf("ReadValue = %q %v %v", v, tooLong, err)
	}
	if _, err := fr.NextPart(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last part: %v", err)
	}
}

// emptyReads never returns anything, nor an error.
type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

// A source that stops making progress fails the body instead of spinning.
func TestFormReaderNoProgress(t *testing.T) {
	t.Parallel()
	head := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n0123456789"
	_, err := readAll(io.MultiReader(strings.NewReader(head), emptyReads{}), "B", 8<<10)
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("read = %v, want io.ErrNoProgress", err)
	}
	if _, err := readAll(emptyReads{}, "B", 8<<10); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("read = %v, want io.ErrNoProgress", err)
	}
}

// Blanks after a delimiter (transport padding) are allowed, a few of them;
// a flood is refused at once, not skipped a byte at a time.
func TestFormReaderPadding(t *testing.T) {
	t.Parallel()
	part := "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n--B--"
	if got, err := readAll(strings.NewReader("--B"+strings.Repeat(" \t", 10)+part), "B", 8<<10); err != nil || len(got) != 1 {
		t.Fatalf("20 blanks: %v %v", got, err)
	}
	flood := "--B" + strings.Repeat(" ", 8<<20) + part
	start := time.Now()
	if _, err := readAll(strings.NewReader(flood), "B", 8<<10); !errors.Is(err, ErrMalformed) {
		t.Fatalf("8 MiB of blanks: %v, want ErrMalformed", err)
	}
	t.Logf("refused 8 MiB of blanks in %v", time.Since(start))
}

// A chunk too small to hold the delimiter is refused, not spun on.
func TestFormReaderShortBuffer(t *testing.T) {
	t.Parallel()
	body := "--B0123456789\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ndata\r\n--B0123456789--"
	fr, _ := NewReader(strings.NewReader(body), "B0123456789")
	if _, err := fr.NextPart(); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.File().Fill(make([]byte, 10)); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("Fill with 10 bytes = %v, want io.ErrShortBuffer", err)
	}
}
