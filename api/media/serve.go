package media

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/storage"
	"changemaker/storage/blob"
)

func (h *Handler) serveVideo(c *fiber.Ctx, v storage.Video) error {
	return h.serveFile(c, v.Path, blob.ContentType(v.Container), `"`+v.SHA256+`"`)
}

func (h *Handler) serveThumbnail(c *fiber.Ctx, v storage.Video) error {
	if v.ThumbnailPath == nil {
		return httpx.NotFound("this video has no thumbnail yet")
	}
	return h.serveFile(c, *v.ThumbnailPath, "image/jpeg", fmt.Sprintf(`"thumb-%s-%d"`, v.SHA256[:16], v.UpdatedAt.Unix()))
}

// serveFile sends a stored file, or the one byte range the Range header asks
// for (206 with Content-Range; 416 when the range is malformed or outside the
// file). The file is streamed from disk, never read into memory.
func (h *Handler) serveFile(c *fiber.Ctx, name, contentType, etag string) error {
	f, err := h.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return httpx.NotFound("the file is missing")
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", name, err)
	}
	size := st.Size()
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderLastModified, st.ModTime().UTC().Format(http.TimeFormat))
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")

	start, length, status := int64(0), size, fiber.StatusOK
	if rng := c.Get(fiber.HeaderRange); rng != "" && ifRangeMatches(c.Get(fiber.HeaderIfRange), etag) {
		s, n, ok, err := parseRange(rng, size)
		if err != nil {
			f.Close()
			c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(size, 10))
			return httpx.NewError(fiber.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", err.Error())
		}
		if ok {
			start, length, status = s, n, fiber.StatusPartialContent
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", s, s+n-1, size))
		}
	}
	c.Status(status)
	c.Response().SetBodyStream(&sectionFile{SectionReader: io.NewSectionReader(f, start, length), f: f}, int(length))
	return nil
}

// sectionFile is the part of an open file being sent; fasthttp closes it
// when the response is done.
type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// ifRangeMatches: a Range applies only when If-Range is absent or names the
// current entity tag (otherwise the whole, changed file is sent).
func ifRangeMatches(ifRange, etag string) bool {
	return ifRange == "" || ifRange == etag
}

var errRange = errors.New("the requested range is not satisfiable")

// parseRange reads a Range header against a file of size bytes. It returns
// the start and length of the one range asked for; ok is false when the
// header is to be ignored (another unit, or several ranges — the whole file
// is sent then). A malformed or unsatisfiable byte range is an error.
func parseRange(header string, size int64) (start, length int64, ok bool, err error) {
	unit, spec, found := strings.Cut(header, "=")
	if !found || strings.TrimSpace(unit) != "bytes" {
		return 0, 0, false, nil
	}
	if strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, errRange
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case first == "" && last == "": // "bytes=-"
		return 0, 0, false, errRange
	case first == "": // suffix: the last N bytes
		n, perr := parseBytePos(last)
		if perr != nil || n <= 0 || size == 0 {
			return 0, 0, false, errRange
		}
		n = min(n, size)
		return size - n, n, true, nil
	default:
		s, perr := parseBytePos(first)
		if perr != nil || s < 0 || s >= size {
			return 0, 0, false, errRange
		}
		e := size - 1
		if last != "" {
			e, perr = parseBytePos(last)
			if perr != nil || e < s {
				return 0, 0, false, errRange
			}
			e = min(e, size-1)
		}
		return s, e - s + 1, true, nil
	}
}

// parseBytePos reads a byte position or length of a Range header. One too
// large for int64 is past any file's end: it counts as the largest int64, to
// be cut to the file's end like any other.
func parseBytePos(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) && s != "" && s[0] != '-' && s[0] != '+' {
		return math.MaxInt64, nil
	}
	return n, err
}
