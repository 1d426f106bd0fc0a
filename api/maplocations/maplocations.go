// Package maplocations serves the map's locations (buildings), their units,
// their change history and the CSV export, for SUPER_ADMIN and MAP_ADMIN.
package maplocations

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
)

const (
	noSuchLocation = "no such location"
	noSuchUnit     = "no such unit at this location"
	// exportTimeout bounds one CSV export, which runs after the handler
	// returned, on its own context.
	exportTimeout = 30 * time.Minute
)

// Handler serves the location routes.
type Handler struct {
	Options
}

// Options are what the module needs.
type Options struct {
	Store  *storage.Store
	Auth   *httpx.Auth
	Config config.MapConfig
	Log    *slog.Logger
}

// New builds the module.
func New(o Options) (*Handler, error) {
	if o.Store == nil || o.Auth == nil || o.Log == nil {
		return nil, fmt.Errorf("maplocations: Store, Auth and Log are required")
	}
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group). The role check is on each
// route, not on a group: other modules serve routes under /map/locations
// too (geocoding).
func (h *Handler) Routes(r fiber.Router) {
	admin := h.Auth.Require(storage.RoleMapAdmin)
	r.Get("/map/locations", admin, h.list)
	r.Post("/map/locations", admin, h.create)
	r.Get("/map/locations/export", admin, h.export)
	r.Get("/map/locations/:id", admin, h.get)
	r.Patch("/map/locations/:id", admin, h.update)
	r.Delete("/map/locations/:id", admin, h.delete)
	r.Get("/map/locations/:id/history", admin, h.history)
	r.Get("/map/locations/:id/units", admin, h.listUnits)
	r.Post("/map/locations/:id/units", admin, h.createUnit)
	r.Patch("/map/locations/:id/units/:unitId", admin, h.updateUnit)
	r.Delete("/map/locations/:id/units/:unitId", admin, h.deleteUnit)
}

func userID(c *fiber.Ctx) int64 {
	if u := httpx.CurrentUser(c); u != nil {
		return u.ID
	}
	return 0
}

// ParseBBox reads minLng,minLat,maxLng,maxLat into v's problems and a box.
func ParseBBox(v *httpx.Validator, field, s string) *storage.BBox {
	parts := strings.Split(s, ",")
	const want = "must be minLng,minLat,maxLng,maxLat in degrees (longitude -180..180, latitude -90..90, min ≤ max)"
	if len(parts) != 4 {
		v.Add(field, want)
		return nil
	}
	var n [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			v.Add(field, want)
			return nil
		}
		n[i] = f
	}
	b := storage.BBox{MinLng: n[0], MinLat: n[1], MaxLng: n[2], MaxLat: n[3]}
	if b.MinLng < -180 || b.MaxLng > 180 || b.MinLat < -90 || b.MaxLat > 90 || b.MinLng > b.MaxLng || b.MinLat > b.MaxLat {
		v.Add(field, want)
		return nil
	}
	return &b
}

// parseFilter reads the list and export filters.
func parseFilter(c *fiber.Ctx) (storage.LocationFilter, error) {
	var f storage.LocationFilter
	var v httpx.Validator
	if s := c.Query("bbox"); s != "" {
		f.BBox = ParseBBox(&v, "bbox", s)
	}
	if s := c.Query("cutId"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n > 0, "cutId", "must be a positive integer")
		f.CutID = n
	}
	if s := c.Query("postalCode"); s != "" {
		p, ok := storage.NormalisePostalCode(s)
		v.Check(ok, "postalCode", "must be a Canadian postal code such as K1A 0B1")
		f.PostalCode = p
	}
	if s := c.Query("supportLevel"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 4, "supportLevel", "must be 1, 2, 3 or 4")
		f.SupportLevel = n
	}
	if s := strings.TrimSpace(c.Query("q")); s != "" {
		v.MaxLen("q", s, 200)
		v.SingleLine("q", s)
		f.Q = s
	}
	return f, v.Err()
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f, err := parseFilter(c)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = page.Limit, page.Offset()
	list, total, err := h.Store.ListLocations(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, ToLocationView), page, total))
}

// validateLocation checks a location body; create requires the address.
func validateLocation(in *locationInput, create bool) (storage.LocationPatch, error) {
	var v httpx.Validator
	var p storage.LocationPatch
	text := func(field string, s *string, max int) *string {
		if s == nil {
			return nil
		}
		t := strings.TrimSpace(*s)
		v.MaxLen(field, t, max)
		v.SingleLine(field, t)
		return &t
	}
	if create && (in.Address == nil || strings.TrimSpace(*in.Address) == "") {
		v.Add("address", "is required")
	} else if in.Address != nil && strings.TrimSpace(*in.Address) == "" {
		v.Add("address", "must not be blank")
	}
	p.Address = text("address", in.Address, 300)
	p.City = text("city", in.City, 120)
	p.Province = text("province", in.Province, 40)
	p.BuildingType = text("buildingType", in.BuildingType, 60)
	if in.PostalCode != nil {
		if strings.TrimSpace(*in.PostalCode) == "" {
			empty := ""
			p.PostalCode = &empty
		} else if pc, ok := storage.NormalisePostalCode(*in.PostalCode); ok {
			p.PostalCode = &pc
		} else {
			v.Add("postalCode", "must be a Canadian postal code such as K1A 0B1")
		}
	}
	lat, lng := in.Latitude, in.Longitude
	switch {
	case lat.Set != lng.Set || (lat.Value == nil) != (lng.Value == nil):
		v.Add("latitude", "latitude and longitude go together: send both or neither")
	case lat.Value != nil:
		okLat := *lat.Value >= -90 && *lat.Value <= 90
		okLng := *lng.Value >= -180 && *lng.Value <= 180
		v.Check(okLat, "latitude", "must be between -90 and 90")
		v.Check(okLng, "longitude", "must be between -180 and 180")
		p.Lat, p.Lng = lat.Value, lng.Value
	case lat.Set:
		p.ClearPoint = true
	}
	return p, v.Err()
}

func (h *Handler) create(c *fiber.Ctx) error {
	var in locationInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := validateLocation(&in, true)
	if err != nil {
		return err
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	loc, joined, err := h.Store.FindOrCreateLocation(c.UserContext(), storage.LocationInput{
		Address: *p.Address, City: str(p.City), Province: str(p.Province), PostalCode: str(p.PostalCode),
		Lat: p.Lat, Lng: p.Lng, BuildingType: str(p.BuildingType), Source: storage.SourceManual,
	}, float64(h.Config.MatchRadiusMeters), userID(c))
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if joined {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"location": ToLocationView(loc), "joined": joined})
}

// location loads location :id.
func (h *Handler) location(c *fiber.Ctx) (storage.Location, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.Location{}, err
	}
	loc, err := h.Store.LocationByID(c.UserContext(), id)
	return loc, httpx.NotFoundf(err, noSuchLocation)
}

func (h *Handler) get(c *fiber.Ctx) error {
	loc, err := h.location(c)
	if err != nil {
		return err
	}
	units, err := h.Store.Units(c.UserContext(), loc.ID)
	if err != nil {
		return httpx.NotFoundf(err, noSuchLocation)
	}
	return c.JSON(fiber.Map{"location": ToLocationView(loc), "units": httpx.MapSlice(units, toUnitView)})
}

func (h *Handler) update(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in locationInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	p, err := validateLocation(&in, false)
	if err != nil {
		return err
	}
	loc, err := h.Store.UpdateLocation(c.UserContext(), id, p, userID(c))
	if err != nil {
		return httpx.NotFoundf(err, noSuchLocation)
	}
	return c.JSON(fiber.Map{"location": ToLocationView(loc)})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteLocation(c.UserContext(), id); err != nil {
		return httpx.NotFoundf(err, noSuchLocation)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) history(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.LocationHistory(c.UserContext(), id, page.Limit, page.Offset())
	if err != nil {
		return httpx.NotFoundf(err, noSuchLocation)
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toHistoryView), page, total))
}

func (h *Handler) listUnits(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	units, err := h.Store.Units(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(err, noSuchLocation)
	}
	return c.JSON(fiber.Map{"data": httpx.MapSlice(units, toUnitView)})
}

// validateUnit checks a unit body into a patch.
func validateUnit(in *unitInput) (storage.UnitPatch, *string, error) {
	var v httpx.Validator
	var p storage.UnitPatch
	text := func(field string, s *string, max int, multiLine bool) *string {
		if s == nil {
			return nil
		}
		t := strings.TrimSpace(*s)
		v.MaxLen(field, t, max)
		if multiLine {
			v.MultiLine(field, t)
		} else {
			v.SingleLine(field, t)
		}
		return &t
	}
	p.UnitLabel = text("unitLabel", in.UnitLabel, 40, false)
	p.ResidentName = text("residentName", in.ResidentName, 200, false)
	p.Phone = text("phone", in.Phone, 40, false)
	p.Email = text("email", in.Email, 254, false)
	if p.Email != nil && *p.Email != "" {
		v.Email("email", *p.Email)
	}
	p.Notes = text("notes", in.Notes, 5000, true)
	p.LawnSign = in.LawnSign
	if p.LawnSign != nil {
		v.OneOf("lawnSign", *p.LawnSign, storage.LawnSignStatuses)
	}
	if in.SupportLevel.Set {
		p.SetSupportLevel = true
		p.SupportLevel = in.SupportLevel.Value
		if p.SupportLevel != nil {
			v.Check(*p.SupportLevel >= 1 && *p.SupportLevel <= 4, "supportLevel", "must be 1, 2, 3 or 4, or null")
		}
	}
	sourceID := text("sourceId", in.SourceID, 100, false)
	if sourceID != nil && *sourceID == "" {
		sourceID = nil
	}
	return p, sourceID, v.Err()
}

func (h *Handler) createUnit(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in unitInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	p, sourceID, err := validateUnit(&in)
	if err != nil {
		return err
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	u, err := h.Store.CreateUnit(c.UserContext(), id, storage.UnitInput{UnitLabel: str(p.UnitLabel),
		SourceID: sourceID, ResidentName: str(p.ResidentName), Phone: str(p.Phone), Email: str(p.Email),
		SupportLevel: p.SupportLevel, LawnSign: str(p.LawnSign), Notes: str(p.Notes)}, userID(c))
	if err != nil {
		return httpx.Conflictf(httpx.NotFoundf(err, noSuchLocation), "another unit has this sourceId")
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"unit": toUnitView(u)})
}

func (h *Handler) unitIDs(c *fiber.Ctx) (int64, int64, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return 0, 0, err
	}
	unitID, err := httpx.ParamID(c, "unitId")
	return id, unitID, err
}

func (h *Handler) updateUnit(c *fiber.Ctx) error {
	id, unitID, err := h.unitIDs(c)
	if err != nil {
		return err
	}
	var in unitInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if in.SourceID != nil {
		return httpx.Invalid(httpx.Detail{Field: "sourceId", Message: "is set by imports and cannot be changed"})
	}
	p, _, err := validateUnit(&in)
	if err != nil {
		return err
	}
	u, err := h.Store.UpdateUnit(c.UserContext(), id, unitID, p, userID(c))
	if err != nil {
		return httpx.NotFoundf(err, noSuchUnit)
	}
	return c.JSON(fiber.Map{"unit": toUnitView(u)})
}

func (h *Handler) deleteUnit(c *fiber.Ctx) error {
	id, unitID, err := h.unitIDs(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteUnit(c.UserContext(), id, unitID, userID(c)); err != nil {
		return httpx.NotFoundf(err, noSuchUnit)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ExportColumns is the header of every location CSV.
var ExportColumns = []string{"location_id", "address", "unit", "postal_code", "latitude", "longitude",
	"support_level", "source", "source_id", "city", "province", "resident_name", "phone", "email"}

// SafeCell guards a text cell against formula injection: a spreadsheet
// runs a cell that starts with = + - @ (or a tab or carriage return), so
// such a cell gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ExportRecord is one CSV record of ExportColumns.
func ExportRecord(r storage.ExportRow, rec []string) []string {
	coord := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', 7, 64)
	}
	level := ""
	if r.SupportLevel != nil {
		level = strconv.Itoa(*r.SupportLevel)
	}
	return append(rec[:0], strconv.FormatInt(r.LocationID, 10), SafeCell(r.Address), SafeCell(r.UnitLabel),
		SafeCell(r.PostalCode), coord(r.Lat), coord(r.Lng), level, r.Source, SafeCell(r.SourceID),
		SafeCell(r.City), SafeCell(r.Province), SafeCell(r.ResidentName), SafeCell(r.Phone), SafeCell(r.Email))
}

// CSVWriter writes records of a streamed CSV answer.
type CSVWriter struct {
	*csv.Writer
	bw *bufio.Writer
	n  int
}

// WriteRow writes rec and, every 500 rows, sends what was written to the
// client, so rows leave as they are read and a client that went away stops
// the export.
func (w *CSVWriter) WriteRow(rec []string) error {
	if err := w.Write(rec); err != nil {
		return err
	}
	if w.n++; w.n%500 == 0 {
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		return w.bw.Flush()
	}
	return nil
}

// StreamCSV answers with a CSV attachment written by write, which runs
// after the handler returns, on its own context (bounded by timeout): the
// rows go from the database to the connection as they come. An error
// midway is logged and ends the file early.
func StreamCSV(c *fiber.Ctx, log *slog.Logger, filename string, timeout time.Duration, write func(ctx context.Context, w *CSVWriter) error) {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		w := &CSVWriter{Writer: csv.NewWriter(bw), bw: bw}
		err := write(ctx, w)
		w.Flush()
		if err == nil {
			err = w.Error()
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			log.Warn("CSV export ended early", "file", filename, "err", err)
		}
	})
}

func (h *Handler) export(c *fiber.Ctx) error {
	f, err := parseFilter(c)
	if err != nil {
		return err
	}
	if f.CutID != 0 {
		if _, err := h.Store.CutByID(c.UserContext(), f.CutID); err != nil {
			return httpx.NotFoundf(err, "no such cut")
		}
	}
	StreamCSV(c, h.Log, "locations.csv", exportTimeout, func(ctx context.Context, w *CSVWriter) error {
		if err := w.WriteRow(ExportColumns); err != nil {
			return err
		}
		rec := make([]string, 0, len(ExportColumns))
		return h.Store.ExportLocations(ctx, f, func(r storage.ExportRow) error {
			rec = ExportRecord(r, rec)
			return w.WriteRow(rec)
		})
	})
	return nil
}

func sortStrings(s []string) { slices.Sort(s) }
