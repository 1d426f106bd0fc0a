// Package mapcuts serves cuts (turf drawn by organizers), what lies in them,
// the walk-list export, the vector tiles, and the public map.
package mapcuts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb/geojson"

	"changemaker/api/httpx"
	"changemaker/api/maplocations"
	"changemaker/config"
	"changemaker/internal/geo"
	"changemaker/storage"
)

const (
	noSuchCut = "no such cut"
	// MaxWalkStops bounds a walk list: the route is ordered in memory, and
	// a list longer than this is more than one volunteer walks anyway.
	MaxWalkStops = 5000
	// maxTileZoom is the deepest zoom a tile is served for.
	maxTileZoom = 22
	// adminTileMaxAge keeps organizers' tiles briefly in their own browser.
	adminTileMaxAge = 30 * time.Second
	// publicListMaxAge is how long the public points and cuts may be cached.
	publicListMaxAge = time.Minute
	walkTimeout      = 5 * time.Minute
)

// Handler serves the cut, tile and public map routes.
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
		return nil, fmt.Errorf("mapcuts: Store, Auth and Log are required")
	}
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group); the role check is on each
// route, since other modules serve routes under /map too.
func (h *Handler) Routes(r fiber.Router) {
	admin := h.Auth.Require(storage.RoleMapAdmin)
	r.Get("/map/cuts", admin, h.list)
	r.Post("/map/cuts", admin, h.create)
	r.Get("/map/cuts/:id", admin, h.get)
	r.Patch("/map/cuts/:id", admin, h.update)
	r.Delete("/map/cuts/:id", admin, h.delete)
	r.Get("/map/cuts/:id/locations", admin, h.locations)
	r.Get("/map/cuts/:id/stats", admin, h.stats)
	r.Get("/map/cuts/:id/export", admin, h.export)
	r.Get("/map/tiles/:z/:x/:y.mvt", admin, h.adminTile)

	r.Get("/public/map/tiles/:z/:x/:y.mvt", h.publicTile)
	r.Get("/public/map/locations", h.publicLocations)
	r.Get("/public/map/cuts", h.publicCuts)
}

func userID(c *fiber.Ctx) int64 {
	if u := httpx.CurrentUser(c); u != nil {
		return u.ID
	}
	return 0
}

var colorShape = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// validateCut checks a cut body; create requires the name and geometry.
// The geometry is parsed and checked by internal/geo and handed on as
// GeoJSON of a MultiPolygon.
func validateCut(in *cutInput, create bool) (storage.CutFields, error) {
	var v httpx.Validator
	var f storage.CutFields
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		f.Name = &n
	}
	if create || f.Name != nil {
		if f.Name == nil || *f.Name == "" {
			v.Add("name", "is required")
		} else {
			v.MaxLen("name", *f.Name, 200)
			v.SingleLine("name", *f.Name)
		}
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		v.MaxLen("description", d, 5000)
		v.MultiLine("description", d)
		f.Description = &d
	}
	if in.Category != nil {
		v.OneOf("category", *in.Category, storage.CutCategories)
		f.Category = in.Category
	}
	if in.Color != nil {
		v.Check(colorShape.MatchString(*in.Color), "color", "must be a colour like #3388ff")
		f.Color = in.Color
	}
	if in.Opacity != nil {
		v.Check(*in.Opacity >= 0 && *in.Opacity <= 1, "opacity", "must be between 0 and 1")
		f.Opacity = in.Opacity
	}
	f.IsPublic = in.IsPublic
	switch {
	case len(in.Geometry) > 0:
		mp, err := geo.ParseMultiPolygon(in.Geometry)
		var gerr *geo.InvalidGeometryError
		switch {
		case errors.As(err, &gerr):
			v.Add("geometry", gerr.Error())
		case err != nil:
			v.Add("geometry", "must be a GeoJSON Polygon or MultiPolygon")
		default:
			b, err := geojson.NewGeometry(mp).MarshalJSON()
			if err != nil {
				v.Add("geometry", "must be a GeoJSON Polygon or MultiPolygon")
				break
			}
			g := string(b)
			f.Geometry = &g
		}
	case create:
		v.Add("geometry", "is required: a GeoJSON Polygon or MultiPolygon")
	}
	return f, v.Err()
}

// geometryRefused turns PostGIS's refusal into a 400 on the geometry.
func geometryRefused(err error) error {
	if errors.Is(err, storage.ErrInvalidGeometry) {
		return httpx.Invalid(httpx.Detail{Field: "geometry",
			Message: "PostGIS finds the geometry invalid (ST_IsValid); check it for crossings and slivers"})
	}
	return err
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	f := storage.CutFilter{Category: c.Query("category"), Limit: page.Limit, Offset: page.Offset()}
	var v httpx.Validator
	if f.Category != "" {
		v.OneOf("category", f.Category, storage.CutCategories)
	}
	if s := c.Query("isPublic"); s != "" {
		b, err := strconv.ParseBool(s)
		v.Check(err == nil, "isPublic", "must be true or false")
		f.IsPublic = &b
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, total, err := h.Store.ListCuts(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toCutView), page, total))
}

func (h *Handler) create(c *fiber.Ctx) error {
	var in cutInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	f, err := validateCut(&in, true)
	if err != nil {
		return err
	}
	cut, err := h.Store.CreateCut(c.UserContext(), f, userID(c))
	if err != nil {
		return geometryRefused(err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"cut": toCutView(cut)})
}

func (h *Handler) cutID(c *fiber.Ctx) (int64, error) { return httpx.ParamID(c, "id") }

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	cut, err := h.Store.CutByID(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(err, noSuchCut)
	}
	return c.JSON(fiber.Map{"cut": toCutView(cut)})
}

func (h *Handler) update(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	var in cutInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	f, err := validateCut(&in, false)
	if err != nil {
		return err
	}
	cut, err := h.Store.UpdateCut(c.UserContext(), id, f)
	if err != nil {
		return httpx.NotFoundf(geometryRefused(err), noSuchCut)
	}
	return c.JSON(fiber.Map{"cut": toCutView(cut)})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteCut(c.UserContext(), id); err != nil {
		return httpx.NotFoundf(err, noSuchCut)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) locations(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.CutLocations(c.UserContext(), id, page.Limit, page.Offset())
	if err != nil {
		return httpx.NotFoundf(err, noSuchCut)
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, maplocations.ToLocationView), page, total))
}

func (h *Handler) stats(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	s, err := h.Store.CutStats(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(err, noSuchCut)
	}
	pct := 0.0
	if s.Locations > 0 {
		pct = float64(int(float64(s.Visited)*10000/float64(s.Locations)+0.5)) / 100
	}
	return c.JSON(fiber.Map{"stats": statsView{Locations: s.Locations, Units: s.Units, Visited: s.Visited,
		CompletionPct: pct, BySupportLevel: s.BySupportLevel}})
}

// export answers the cut's walk list: every unit of every location, the
// locations in walking order (internal/geo's route) from the cut's first
// location (the lowest id).
func (h *Handler) export(c *fiber.Ctx) error {
	id, err := h.cutID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	stops, more, err := h.Store.CutWalkStops(ctx, id, MaxWalkStops)
	if err != nil {
		return httpx.NotFoundf(err, noSuchCut)
	}
	if more {
		return httpx.BadRequest(fmt.Sprintf("this cut holds more than %d locations, too many for one walk list: "+
			"draw smaller cuts", MaxWalkStops))
	}
	order := []int{}
	if len(stops) > 0 {
		pts := make([]geo.LatLng, len(stops))
		for i, s := range stops {
			pts[i] = geo.LatLng{Lat: s.Lat, Lng: s.Lng}
		}
		order = geo.OrderRoute(pts[0], pts)
	}
	ids := make([]int64, len(stops))
	for i, s := range stops {
		ids[i] = s.LocationID
	}
	locs, err := h.Store.LocationsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	units, err := h.Store.LocationUnits(ctx, ids)
	if err != nil {
		return err
	}
	header := append([]string{"stop"}, maplocations.ExportColumns...)
	maplocations.StreamCSV(c, h.Log, fmt.Sprintf("cut-%d-walk-list.csv", id), walkTimeout,
		func(_ context.Context, w *maplocations.CSVWriter) error {
			if err := w.WriteRow(header); err != nil {
				return err
			}
			rec := make([]string, 0, len(header))
			for n, i := range order {
				loc, ok := locs[stops[i].LocationID]
				if !ok {
					continue // deleted meanwhile
				}
				row := storage.ExportRow{LocationID: loc.ID, Address: loc.Address, City: loc.City,
					Province: loc.Province, PostalCode: loc.PostalCode, Lat: loc.Lat, Lng: loc.Lng, Source: loc.Source}
				us := units[loc.ID]
				if len(us) == 0 {
					us = []storage.Unit{{}}
				}
				for _, u := range us {
					row.UnitLabel, row.ResidentName, row.Phone, row.Email = u.UnitLabel, u.ResidentName, u.Phone, u.Email
					row.SupportLevel, row.SourceID = u.SupportLevel, ""
					if u.SourceID != nil {
						row.SourceID = *u.SourceID
					}
					rec = append(rec[:0], strconv.Itoa(n+1))
					rec = append(rec, maplocations.ExportRecord(row, nil)...)
					if err := w.WriteRow(rec); err != nil {
						return err
					}
				}
			}
			return nil
		})
	return nil
}

// parseTile reads z/x/y; anything off the tile grid is a 400.
func parseTile(c *fiber.Ctx) (z, x, y int, err error) {
	var v httpx.Validator
	z, zerr := strconv.Atoi(c.Params("z"))
	x, xerr := strconv.Atoi(c.Params("x"))
	y, yerr := strconv.Atoi(c.Params("y"))
	if zerr != nil || z < 0 || z > maxTileZoom {
		v.Add("z", fmt.Sprintf("must be a zoom from 0 to %d", maxTileZoom))
		return 0, 0, 0, v.Err()
	}
	n := 1 << z
	v.Check(xerr == nil && x >= 0 && x < n, "x", fmt.Sprintf("must be from 0 to %d at zoom %d", n-1, z))
	v.Check(yerr == nil && y >= 0 && y < n, "y", fmt.Sprintf("must be from 0 to %d at zoom %d", n-1, z))
	return z, x, y, v.Err()
}

func sendTile(c *fiber.Ctx, tile []byte, cacheControl string) error {
	c.Set(fiber.HeaderContentType, "application/vnd.mapbox-vector-tile")
	c.Set(fiber.HeaderCacheControl, cacheControl)
	return c.Send(tile)
}

func (h *Handler) adminTile(c *fiber.Ctx) error {
	z, x, y, err := parseTile(c)
	if err != nil {
		return err
	}
	tile, err := h.Store.AdminTile(c.UserContext(), z, x, y)
	if err != nil {
		return err
	}
	return sendTile(c, tile, fmt.Sprintf("private, max-age=%d", int(adminTileMaxAge.Seconds())))
}

func (h *Handler) publicTile(c *fiber.Ctx) error {
	z, x, y, err := parseTile(c)
	if err != nil {
		return err
	}
	tile, err := h.Store.PublicTile(c.UserContext(), z, x, y)
	if err != nil {
		return err
	}
	return sendTile(c, tile, fmt.Sprintf("public, max-age=%d", int(h.Config.PublicTileMaxAge.Seconds())))
}

func (h *Handler) publicLocations(c *fiber.Ctx) error {
	var v httpx.Validator
	s := c.Query("bbox")
	var b *storage.BBox
	if s == "" {
		v.Add("bbox", "is required: minLng,minLat,maxLng,maxLat")
	} else {
		b = maplocations.ParseBBox(&v, "bbox", s)
	}
	if err := v.Err(); err != nil {
		return err
	}
	pts, more, err := h.Store.PublicPoints(c.UserContext(), *b, h.Config.PublicMaxPoints)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, fmt.Sprintf("public, max-age=%d", int(publicListMaxAge.Seconds())))
	return c.JSON(fiber.Map{"data": httpx.MapSlice(pts, func(p storage.Point) pointView {
		return pointView{Latitude: p.Lat, Longitude: p.Lng}
	}), "truncated": more, "maxPoints": h.Config.PublicMaxPoints})
}

func (h *Handler) publicCuts(c *fiber.Ctx) error {
	cuts, err := h.Store.PublicCuts(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, fmt.Sprintf("public, max-age=%d", int(publicListMaxAge.Seconds())))
	return c.JSON(fiber.Map{"data": httpx.MapSlice(cuts, toPublicCutView)})
}
