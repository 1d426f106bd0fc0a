// Package mapimports serves the address imports: NAR release and generic
// CSV uploads (streamed to IMPORT_ROOT, never buffered), their progress,
// the list, and cancellation. The import fleet does the loading.
package mapimports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/api/httpx/multipart"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/tasks"
)

const noSuchImport = "no such import"

// Handler serves /api/map/imports.
type Handler struct {
	Options
}

// Options are what the module needs.
type Options struct {
	Store  *storage.Store
	Auth   *httpx.Auth
	Queue  *asynq.Client
	Config config.ImportConfig
	Log    *slog.Logger
}

// New builds the module.
func New(o Options) (*Handler, error) {
	if o.Config.Root == "" {
		return nil, errors.New("mapimports: no IMPORT_ROOT")
	}
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group). SUPER_ADMIN passes every
// role check.
func (h *Handler) Routes(r fiber.Router) {
	g := r.Group("/map/imports", h.Auth.Require(storage.RoleMapAdmin))
	g.Get("/", h.list)
	g.Post("/nar", h.uploadNAR)
	g.Post("/csv", h.uploadCSV)
	g.Get("/:id", h.get)
	g.Post("/:id/cancel", h.cancel)
}

// IsUpload tells the main app which requests read their own (streamed)
// body: the two upload routes, matched as loosely as the router matches
// them (any case, a trailing slash).
func IsUpload(method, path string) bool {
	if method != fiber.MethodPost {
		return false
	}
	p := strings.ToLower(strings.TrimSuffix(path, "/"))
	return p == "/api/map/imports/nar" || p == "/api/map/imports/csv"
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.MapImportFilter{Status: c.Query("status"), Kind: c.Query("kind")}
	var v httpx.Validator
	if f.Status != "" {
		v.OneOf("status", f.Status, storage.ImportStatuses)
	}
	if f.Kind != "" {
		v.OneOf("kind", f.Kind, []string{storage.ImportNAR, storage.ImportCSV})
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, total, err := h.Store.ListMapImports(c.UserContext(), f, page.Limit, page.Offset())
	if err != nil {
		return err
	}
	views := make([]importView, len(list))
	for i, m := range list {
		views[i] = toImportView(m)
	}
	return c.JSON(httpx.Paged(views, page, total))
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.MapImportByID(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("import %d: %w", id, err), noSuchImport)
	}
	return c.JSON(toImportView(m))
}

func (h *Handler) cancel(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.CancelMapImport(c.UserContext(), id)
	if errors.Is(err, storage.ErrConflict) {
		return httpx.Conflict(fmt.Sprintf("the import is already %s", m.Status))
	}
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("cancel import %d: %w", id, err), noSuchImport)
	}
	return c.JSON(toImportView(m))
}

// Upload limits besides the body's.
const (
	multipartSlack = 1 << 20 // framing and text fields around the files
	maxFiles       = 100
	maxFieldBytes  = 4096
	enqueueTimeout = 3 * time.Second
)

// upload is a body read to its end: files stored in dir, fields read.
type upload struct {
	dir    string // under IMPORT_ROOT
	files  []string
	fields map[string]string
}

func (h *Handler) uploadNAR(c *fiber.Ctx) error {
	in, err := h.receive(c, []string{"province", "municipality", "postalPrefix", "bbox"}, checkNARName)
	if err != nil {
		return err
	}
	var v httpx.Validator
	hasAddress := false
	for _, n := range in.files {
		hasAddress = hasAddress || narFileKind(n) == "zip" || narFileKind(n) == "address"
	}
	if len(in.files) == 0 {
		v.Add("file", "is required: a release .zip, or Address_*.csv files with their Location_*.csv")
	} else if !hasAddress {
		v.Add("file", "holds no Address_*.csv file nor a release .zip")
	}
	f := parseFilters(&v, in.fields)
	if err := v.Err(); err != nil {
		h.discard(in.dir)
		return err
	}
	return h.record(c, in, storage.NewMapImport{Kind: storage.ImportNAR, Filters: f})
}

func (h *Handler) uploadCSV(c *fiber.Ctx) error {
	in, err := h.receive(c, []string{"mapping"}, checkCSVName)
	if err != nil {
		return err
	}
	var v httpx.Validator
	switch len(in.files) {
	case 0:
		v.Add("file", "is required: one CSV file")
	case 1:
	default:
		v.Add("file", "send one CSV file per import")
	}
	m := parseMapping(&v, in.fields["mapping"])
	if err := v.Err(); err != nil {
		h.discard(in.dir)
		return err
	}
	return h.record(c, in, storage.NewMapImport{Kind: storage.ImportCSV, Mapping: m})
}

// record writes the import and asks the fleet to plan it.
func (h *Handler) record(c *fiber.Ctx, in *upload, n storage.NewMapImport) error {
	n.Dir, n.FileNames = in.dir, in.files
	n.CreatedBy = &httpx.CurrentUser(c).ID
	m, err := h.Store.CreateMapImport(c.UserContext(), n)
	if err != nil {
		h.discard(in.dir)
		return err
	}
	task, err := tasks.NewMapImportPlan(tasks.MapImportPlan{ImportID: m.ID})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), enqueueTimeout)
	defer cancel()
	if _, err := h.Queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		h.Log.Error("enqueue import plan", "import_id", m.ID, "err", err)
		if ferr := h.Store.FailMapImport(context.WithoutCancel(c.UserContext()), m.ID,
			"the import could not be queued; upload it again"); ferr != nil {
			h.Log.Error("mark unqueued import failed", "import_id", m.ID, "err", ferr)
		}
		return httpx.NewError(fiber.StatusServiceUnavailable, httpx.CodeUnavailable,
			"the import queue is unavailable; try again later")
	}
	return c.Status(fiber.StatusAccepted).JSON(toImportView(m))
}

func (h *Handler) discard(dir string) {
	if dir == "" {
		return
	}
	if err := os.RemoveAll(filepath.Join(h.Config.Root, dir)); err != nil {
		h.Log.Error("remove a refused upload", "dir", dir, "err", err)
	}
}

// narFileKind sorts an uploaded file by its name, as the import fleet will
// (worker/imports/nar.ClassifyName, which the API may not import): "zip",
// "address" (Address_*.csv), "location" (Location_*.csv) or "".
func narFileKind(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		return "zip"
	case !strings.HasSuffix(lower, ".csv"):
		return ""
	case strings.HasPrefix(lower, "address_") && len(lower) > len("address_.csv"):
		return "address"
	case strings.HasPrefix(lower, "location_") && len(lower) > len("location_.csv"):
		return "location"
	}
	return ""
}

func checkNARName(name string) string {
	if narFileKind(name) != "" {
		return ""
	}
	return fmt.Sprintf("%q is neither a release .zip nor an Address_*.csv or Location_*.csv file", name)
}

func checkCSVName(name string) string {
	if name == "" {
		return "a file part needs a file name"
	}
	return ""
}

// receive streams the body's file parts into a new folder under
// IMPORT_ROOT and reads the named text fields. On error nothing is kept.
func (h *Handler) receive(c *fiber.Ctx, fieldNames []string, checkName func(string) string) (*upload, error) {
	max := h.Config.MaxUpload
	req := c.Request()
	if n := req.Header.ContentLength(); n > 0 && int64(n) > max+multipartSlack {
		c.Response().Header.SetConnectionClose()
		return nil, tooLarge(max)
	}
	mediaType, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, httpx.BadRequest("an upload must be multipart/form-data with a boundary")
	}
	var body io.Reader = req.BodyStream()
	if body == nil {
		body = bytes.NewReader(req.Body())
	}
	cr := &connReader{r: body, limit: max + multipartSlack, conn: c.Context().Conn(), idle: h.Config.UploadIdleTimeout}
	fr, err := multipart.NewReader(cr, params["boundary"])
	if err != nil {
		return nil, httpx.BadRequest("the multipart boundary is invalid")
	}
	in := &upload{dir: "imp-" + uuid.NewString(), fields: map[string]string{}}
	dirPath := filepath.Join(h.Config.Root, in.dir)
	if err := os.MkdirAll(dirPath, 0o750); err != nil {
		return nil, fmt.Errorf("create the import folder: %w", err)
	}
	fail := func(err error) (*upload, error) {
		c.Response().Header.SetConnectionClose()
		h.discard(in.dir)
		switch {
		case cr.over:
			return nil, tooLarge(max)
		case cr.err != nil:
			return nil, httpx.BadRequest("the upload was interrupted")
		}
		return nil, err
	}
	wanted := map[string]bool{}
	for _, n := range fieldNames {
		wanted[n] = true
	}
	seen := map[string]bool{}
	var v httpx.Validator
	for {
		part, err := fr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(httpx.BadRequest("the multipart body is malformed"))
		}
		switch {
		case part.Name == "file":
			name := cleanName(part.FileName)
			if problem := checkName(name); problem != "" {
				return fail(httpx.Invalid(httpx.Detail{Field: "file", Message: problem}))
			}
			if seen[strings.ToLower(name)] {
				return fail(httpx.Invalid(httpx.Detail{Field: "file", Message: fmt.Sprintf("%q is sent twice", name)}))
			}
			if len(in.files) == maxFiles {
				return fail(httpx.Invalid(httpx.Detail{Field: "file", Message: fmt.Sprintf("at most %d files per import", maxFiles)}))
			}
			seen[strings.ToLower(name)] = true
			size, err := storeFile(fr, filepath.Join(dirPath, name))
			if err != nil {
				return fail(err)
			}
			if size == 0 {
				return fail(httpx.Invalid(httpx.Detail{Field: "file", Message: fmt.Sprintf("%q is empty", name)}))
			}
			in.files = append(in.files, name)
		case wanted[part.Name]:
			b, tooLong, err := fr.ReadValue(maxFieldBytes)
			if err != nil {
				return fail(httpx.BadRequest("the multipart body is malformed"))
			}
			switch {
			case tooLong:
				v.Add(part.Name, fmt.Sprintf("must be at most %d bytes", maxFieldBytes))
			case !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0:
				v.Add(part.Name, "must be valid UTF-8 without NUL characters")
			default:
				in.fields[part.Name] = strings.TrimSpace(string(b))
			}
		default:
			// Unknown parts are skipped by the next NextPart.
		}
	}
	// What follows the closing delimiter (an epilogue, the end of a chunked
	// body) is read too: left unread, it would be taken for a next request.
	if _, err := io.Copy(io.Discard, io.LimitReader(cr, 64<<10)); err != nil {
		return fail(httpx.BadRequest("the multipart body is malformed"))
	}
	if err := v.Err(); err != nil {
		h.discard(in.dir)
		return nil, err
	}
	return in, nil
}

// storeFile writes the current part to dst. A write failure is the
// server's (500); a read failure the client's.
func storeFile(fr *multipart.Reader, dst string) (int64, error) {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", dst, err)
	}
	defer f.Close()
	src := fr.File()
	buf := make([]byte, 1<<20)
	var size int64
	for {
		n, rerr := src.Fill(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return size, fmt.Errorf("write %s: %w", dst, err)
			}
			size += int64(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return size, httpx.BadRequest("the multipart body is malformed")
		}
	}
	if err := f.Sync(); err != nil {
		return size, fmt.Errorf("sync %s: %w", dst, err)
	}
	return size, nil
}

func tooLarge(max int64) error {
	return httpx.NewError(fiber.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
		fmt.Sprintf("the upload is larger than the limit of %d bytes", max))
}

// cleanName keeps the last element of a client's file name, without
// control characters or separators, at most 200 bytes.
func cleanName(s string) string {
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == ':' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if s == "." || s == ".." || s == "/" || strings.HasPrefix(s, ".") {
		s = strings.TrimLeft(s, ".")
	}
	for len(s) > 200 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

func parseFilters(v *httpx.Validator, fields map[string]string) storage.ImportFilters {
	f := storage.ImportFilters{Province: fields["province"], Municipality: fields["municipality"],
		PostalPrefix: strings.ToUpper(strings.ReplaceAll(fields["postalPrefix"], " ", ""))}
	v.MaxLen("province", f.Province, 40)
	v.SingleLine("province", f.Province)
	v.MaxLen("municipality", f.Municipality, 120)
	v.SingleLine("municipality", f.Municipality)
	if p := f.PostalPrefix; p != "" {
		ok := len(p) <= 6
		for i := 0; ok && i < len(p); i++ {
			letter := i%2 == 0
			ok = (letter && p[i] >= 'A' && p[i] <= 'Z') || (!letter && p[i] >= '0' && p[i] <= '9')
		}
		v.Check(ok, "postalPrefix", "must be the start of a postal code, such as K1A or K1A 0")
	}
	if s := fields["bbox"]; s != "" {
		b, ok := parseBBox(s)
		v.Check(ok, "bbox", "must be minLng,minLat,maxLng,maxLat with longitudes in -180..180, latitudes in -90..90, min below max")
		if ok {
			f.BBox = &b
		}
	}
	return f
}

func parseBBox(s string) ([4]float64, bool) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, false
	}
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return b, false
		}
		b[i] = x
	}
	ok := b[0] >= -180 && b[2] <= 180 && b[1] >= -90 && b[3] <= 90 && b[0] < b[2] && b[1] < b[3]
	return b, ok
}

// mappingFields are the names a CSV mapping may use.
func mappingFields(m *storage.CSVMapping) map[string]*string {
	return map[string]*string{
		"address": &m.Address, "city": &m.City, "province": &m.Province, "postalCode": &m.PostalCode,
		"latitude": &m.Latitude, "longitude": &m.Longitude, "unit": &m.Unit, "residentName": &m.ResidentName,
		"phone": &m.Phone, "email": &m.Email, "sourceId": &m.SourceID,
	}
}

func parseMapping(v *httpx.Validator, s string) storage.CSVMapping {
	var m storage.CSVMapping
	if s == "" {
		v.Add("mapping", `is required: a JSON object naming the CSV column of each field, such as {"address": "Street"}`)
		return m
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		v.Add("mapping", "must be a JSON object of field names to CSV column names (strings)")
		return m
	}
	fields := mappingFields(&m)
	for k, col := range raw {
		dst, ok := fields[k]
		if !ok {
			v.Add("mapping."+k, "is not a field: use address, city, province, postalCode, latitude, longitude, unit, residentName, phone, email or sourceId")
			continue
		}
		col = strings.TrimSpace(col)
		if utf8.RuneCountInString(col) > 200 {
			v.Add("mapping."+k, "must be at most 200 characters")
			continue
		}
		*dst = col
	}
	if m.Address == "" {
		v.Add("mapping.address", "is required: the column holding the street address")
	}
	if (m.Latitude == "") != (m.Longitude == "") {
		v.Add("mapping.latitude", "latitude and longitude are mapped together or not at all")
	}
	return m
}

// connReader reads the request body, refuses to read past limit, and keeps
// pushing the connection's read deadline forward while data arrives (as
// the media upload does): the server's read timeout is for a request, and a
// release of several GB may take far longer, but must not stall.
type connReader struct {
	r        io.Reader
	limit    int64
	read     int64
	conn     net.Conn
	idle     time.Duration
	extended time.Time
	over     bool
	err      error
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
