package media

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/api/httpx/multipart"
	"changemaker/storage"
	"changemaker/storage/blob"
	"changemaker/tasks"
)

// enqueueTimeout bounds the enqueue that follows an upload.
const enqueueTimeout = 3 * time.Second

// multipartSlack is what the multipart framing and the small form fields may
// add to the file itself.
const multipartSlack = 1 << 20

// An upload refused before its body was read is read on, up to drainLimit
// bytes for at most drainWait, so that the client gets the answer rather
// than a connection reset (httpx.DrainUnread).
const (
	drainLimit = 256 << 10
	drainWait  = 2 * time.Second
)

// uploadGate lets SUPER_ADMIN upload without counting against the rate limit;
// anyone else's attempt counts (and is refused by the role check after it).
func (h *Handler) uploadGate(c *fiber.Ctx) error {
	if u := httpx.CurrentUser(c); u == nil || u.Role != storage.RoleSuperAdmin {
		if err := h.Limiter.Check(c, h.RateLimit, httpx.ClientKey(c)); err != nil {
			c.Response().Header.SetConnectionClose()
			return err
		}
	}
	return c.Next()
}

// upload receives one video as multipart/form-data: a file part ("file")
// and optional fields title, producer, creator and tags (comma-separated).
// The body is read from the connection as it arrives, hashed and written to a
// temporary file under MEDIA_ROOT, then renamed into place and recorded in one
// step; any failure on the way leaves neither file nor row.
func (h *Handler) upload(c *fiber.Ctx) error {
	u := httpx.CurrentUser(c)
	in, err := h.receive(c)
	if err != nil {
		// The body may be partly unread: the connection cannot be reused.
		c.Response().Header.SetConnectionClose()
		return err
	}
	defer in.tmp.Abort()

	if dup, err := h.Store.VideoBySHA256(c.UserContext(), in.sha256); err == nil {
		return duplicate(c, dup.ID)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	name := blob.NewVideoName(time.Now(), in.container)
	placed := false
	// One insert carries every field, and the rename happens inside its
	// transaction: once the file is in place nothing else is written, so no
	// failure can leave a file or a row behind, nor a half-recorded video
	// that a retry would find as a duplicate.
	v, err := h.Store.CreateVideo(c.UserContext(), storage.NewVideo{
		Title: in.title, OriginalName: in.originalName, Path: name, SHA256: in.sha256,
		SizeBytes: in.size, Container: in.container, Source: "upload", UploadedBy: &u.ID,
		Producer: in.producer, Creator: in.creator, Tags: in.tags,
	}, func(storage.Video) error {
		if err := in.tmp.Commit(name); err != nil {
			return err
		}
		placed = true
		return nil
	})
	if err != nil && placed {
		// Not recorded: the file goes. Unless Postgres could not say
		// whether the COMMIT happened (storage.CreateVideo asked it): a
		// file without a row can be removed by hand, a row without its file
		// would be a video lost.
		if errors.Is(err, storage.ErrOutcomeUnknown) {
			h.Log.Error("upload outcome unknown: its file is kept", "path", name, "sha256", in.sha256, "err", err)
		} else if rerr := h.root.Remove(name); rerr != nil {
			h.Log.Error("remove the file of an upload that was not recorded", "path", name, "err", rerr)
		}
	}
	if err != nil {
		if errors.Is(err, storage.ErrConflict) { // the same file, uploaded at the same moment
			if dup, derr := h.Store.VideoBySHA256(c.UserContext(), in.sha256); derr == nil {
				return duplicate(c, dup.ID)
			}
			return httpx.Conflict("this video is already in the library")
		}
		return err
	}
	h.uploads.WithLabelValues(in.container).Inc()
	h.bytes.Add(float64(in.size))
	if err := h.enqueueProbe(c, v.ID); err != nil {
		// The video is recorded and the answer is the same: the media sweep
		// (a scheduler entry) enqueues the probe once Redis is back.
		h.Log.Error("enqueue probe after upload; the media sweep will retry", "video_id", v.ID, "err", err)
	}
	return c.Status(fiber.StatusCreated).JSON(toVideoView(v))
}

// enqueueProbe asks the media fleet to probe a new video. It gives Redis a
// few seconds at most: the video is already recorded, and the media sweep
// enqueues the probe of any video left processing without a task.
func (h *Handler) enqueueProbe(c *fiber.Ctx, id int64) error {
	task, err := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: id})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), enqueueTimeout)
	defer cancel()
	_, err = h.Queue.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// duplicate answers 409 in the usual error format plus the existing video's ID.
func duplicate(c *fiber.Ctx, existing int64) error {
	return c.Status(fiber.StatusConflict).JSON(fiber.Map{
		"error": fiber.Map{
			"code":    httpx.CodeConflict,
			"message": "this video is already in the library",
			"details": []httpx.Detail{{Field: "file", Message: fmt.Sprintf("same content as video %d", existing)}},
		},
		"existingId": existing,
	})
}

// received is an upload read to its end and not yet placed.
type received struct {
	tmp          *blob.Temp
	sha256       string
	size         int64
	container    string
	originalName string
	title        string
	producer     string
	creator      string
	tags         []string
}

func (h *Handler) receive(c *fiber.Ctx) (*received, error) {
	max := h.Config.MaxUpload
	req := c.Request()
	if n := req.Header.ContentLength(); n > 0 && int64(n) > max+multipartSlack {
		return nil, uploadTooLarge(max)
	}
	mediaType, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, httpx.BadRequest("an upload must be multipart/form-data with a boundary")
	}
	var body io.Reader = req.BodyStream()
	if body == nil { // an app without body streaming (not how the media API runs)
		body = bytes.NewReader(req.Body())
	}
	cr := &connReader{r: body, limit: max + multipartSlack, conn: c.Context().Conn(), idle: h.Config.UploadIdleTimeout}
	fr, err := multipart.NewReader(cr, params["boundary"])
	if err != nil {
		return nil, httpx.BadRequest("the multipart boundary is invalid")
	}

	in := &received{}
	fail := func(err error) (*received, error) {
		if in.tmp != nil {
			in.tmp.Abort()
		}
		if cr.over {
			return nil, uploadTooLarge(max)
		}
		if cr.err != nil { // the client went away or stalled
			return nil, httpx.BadRequest("the upload was interrupted")
		}
		return nil, err
	}
	// Text fields are checked as they arrive, for what Postgres refuses (a
	// NUL, invalid UTF-8) as much as for length: a bad field sent before the
	// file fails the upload before a byte of the file is stored, and one
	// sent after it before anything is placed or recorded.
	var v httpx.Validator
	var tags string
	fields := map[string]*string{"title": &in.title, "producer": &in.producer, "creator": &in.creator, "tags": &tags}
	for {
		part, err := fr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(httpx.BadRequest("the multipart body is malformed"))
		}
		switch name := part.Name; {
		case name == "file":
			if in.tmp != nil {
				return fail(httpx.BadRequest("send one file per upload"))
			}
			if err := v.Err(); err != nil {
				return fail(err)
			}
			if err := h.receiveFile(fr, part, in, max); err != nil {
				return fail(err)
			}
		case fields[name] != nil:
			value, problem, err := readField(fr)
			if err != nil {
				return fail(err)
			}
			if problem != "" {
				v.Add(name, problem)
				continue
			}
			*fields[name] = value
			checkField(&v, name, value)
		default:
			// Unknown fields are skipped by the next NextPart.
		}
	}
	if in.tmp == nil {
		v.Add("file", "is required")
	}
	if err := v.Err(); err != nil {
		return fail(err)
	}
	in.tags = splitTags(tags)
	if in.title == "" {
		// From the file name, within the title's limit of 200 characters.
		in.title = strings.TrimSuffix(in.originalName, filepath.Ext(in.originalName))
		if r := []rune(in.title); len(r) > 200 {
			in.title = string(r[:200])
		}
	}
	return in, nil
}

// receiveFile streams the file part into a temporary file, hashing it on
// the way. Its first bytes decide whether it is a video at all.
func (h *Handler) receiveFile(fr *multipart.Reader, part multipart.Part, in *received, max int64) error {
	in.originalName = cleanName(part.FileName)
	head, err := fr.Head(blob.SniffLen)
	if err != nil {
		return httpx.BadRequest("the multipart body is malformed")
	}
	if len(head) == 0 {
		return httpx.Invalid(httpx.Detail{Field: "file", Message: "is empty"})
	}
	in.container = blob.Sniff(head)
	if in.container == "" {
		return httpx.NewError(fiber.StatusUnsupportedMediaType, httpx.CodeUnsupportedMediaType,
			"the file is not a video in a supported container (MP4, MOV, M4V, MKV, WebM, AVI, FLV)")
	}
	// The request body as a whole is limited (connReader); the file's own
	// limit is checked once it is in.
	tmp, got, err := h.root.Receive("upload-", fr.File())
	if err != nil {
		if errors.Is(err, blob.ErrWrite) {
			return err
		}
		return httpx.BadRequest("the multipart body is malformed")
	}
	in.tmp = tmp
	in.size = got.Size
	if in.size > max {
		return uploadTooLarge(max)
	}
	in.sha256 = hex.EncodeToString(got.SHA256[:])
	return nil
}

func uploadTooLarge(max int64) error {
	return httpx.NewError(fiber.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
		fmt.Sprintf("the upload is larger than the limit of %d bytes", max))
}

// connReader reads the request body from the connection, refuses to read
// past limit, and keeps pushing the connection's read deadline forward while
// data arrives: the server's read timeout is meant for a request, and an
// upload of several GB may take far longer, but must not stall.
type connReader struct {
	r        io.Reader
	limit    int64
	read     int64
	conn     net.Conn
	idle     time.Duration
	extended time.Time
	over     bool
	err      error // a read error other than EOF
}

func (cr *connReader) Read(p []byte) (int, error) {
	if cr.read >= cr.limit {
		cr.over = true
		return 0, errors.New("upload too large")
	}
	if int64(len(p)) > cr.limit-cr.read {
		p = p[:cr.limit-cr.read]
	}
	if cr.conn != nil && cr.idle > 0 {
		if now := time.Now(); now.Sub(cr.extended) > time.Second {
			_ = cr.conn.SetReadDeadline(now.Add(cr.idle))
			cr.extended = now
		}
	}
	n, err := cr.r.Read(p)
	cr.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		cr.err = err
	}
	return n, err
}

// maxFieldBytes bounds a text field as sent; checkField then applies each
// field's own limit, in characters.
const maxFieldBytes = 1000

// readField reads one text field. A field Postgres could not store (a NUL,
// invalid UTF-8) or longer than maxFieldBytes comes back as a problem for
// the field's detail; err is for a body that cannot be read.
func readField(fr *multipart.Reader) (value, problem string, err error) {
	b, tooLong, err := fr.ReadValue(maxFieldBytes)
	if err != nil {
		return "", "", httpx.BadRequest("the multipart body is malformed")
	}
	switch {
	case tooLong:
		return "", fmt.Sprintf("must be at most %d bytes", maxFieldBytes), nil
	case !utf8.Valid(b):
		return "", "must be valid UTF-8", nil
	case bytes.IndexByte(b, 0) >= 0:
		return "", "must not contain NUL characters", nil
	}
	return strings.TrimSpace(string(b)), "", nil
}

// checkField checks a text field as it arrives, so that a bad one sent
// before the file is known before the file is read.
func checkField(v *httpx.Validator, name, value string) {
	if name == "tags" {
		checkTags(v, splitTags(value))
		return
	}
	v.MaxLen(name, value, 200)
	v.SingleLine(name, value)
}

// cleanName keeps a client's file name for display only: its last element,
// without control characters, at most 255 bytes.
func cleanName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if s == "." || s == "/" {
		s = ""
	}
	for len(s) > 255 {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}
