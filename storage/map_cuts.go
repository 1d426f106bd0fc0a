package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"changemaker/storage/internal/db"
)

// ErrInvalidGeometry is a cut geometry PostGIS refuses (ST_IsValid, the
// last word after internal/geo's checks).
var ErrInvalidGeometry = errors.New("PostGIS finds the geometry invalid")

// geometryError turns PostGIS's refusal of a geometry into ErrInvalidGeometry.
func geometryError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23514" || pgErr.Code == "XX000") {
		return fmt.Errorf("%w: %s", ErrInvalidGeometry, pgErr.Message)
	}
	return err
}

// Cut categories.
var CutCategories = []string{"CUSTOM", "WARD", "NEIGHBORHOOD", "DISTRICT"}

// Cut is a named area on the map. Geometry is its MultiPolygon as GeoJSON.
type Cut struct {
	ID          int64
	Name        string
	Description string
	Category    string
	Color       string
	Opacity     float64
	IsPublic    bool
	Geometry    string
	CreatedBy   *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func cutFromDB(r db.MapCutByIDRow) Cut {
	return Cut{ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category, Color: r.Color,
		Opacity: float64(r.Opacity), IsPublic: r.IsPublic, Geometry: r.Geometry, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CutFields are the fields of a cut; nil leaves a field as it is (on
// create: the default). Geometry is GeoJSON already validated by
// internal/geo (a MultiPolygon).
type CutFields struct {
	Name        *string
	Description *string
	Category    *string
	Color       *string
	Opacity     *float64
	IsPublic    *bool
	Geometry    *string
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// CreateCut inserts a cut. The name and the geometry are required.
func (s *Store) CreateCut(ctx context.Context, f CutFields, createdBy int64) (Cut, error) {
	var out Cut
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		id, err := q.InsertMapCut(ctx, db.InsertMapCutParams{Name: deref(f.Name, ""),
			Description: deref(f.Description, ""), Category: deref(f.Category, "CUSTOM"),
			Color: deref(f.Color, "#3388ff"), Opacity: float32(deref(f.Opacity, 0.3)),
			IsPublic: deref(f.IsPublic, false), Geometry: deref(f.Geometry, ""), CreatedBy: optID(createdBy)})
		if err != nil {
			return fmt.Errorf("insert cut: %w", geometryError(err))
		}
		r, err := q.MapCutByID(ctx, id)
		out = cutFromDB(r)
		return err
	})
	return out, err
}

// CutByID finds a cut.
func (s *Store) CutByID(ctx context.Context, id int64) (Cut, error) {
	r, err := s.q().MapCutByID(ctx, id)
	return cutFromDB(r), notFound(err)
}

// UpdateCut applies f.
func (s *Store) UpdateCut(ctx context.Context, id int64, f CutFields) (Cut, error) {
	var out Cut
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		var opacity *float32
		if f.Opacity != nil {
			o := float32(*f.Opacity)
			opacity = &o
		}
		n, err := q.UpdateMapCut(ctx, db.UpdateMapCutParams{ID: id, Name: f.Name, Description: f.Description,
			Category: f.Category, Color: f.Color, Opacity: opacity, IsPublic: f.IsPublic, Geometry: f.Geometry})
		if err != nil {
			return fmt.Errorf("update cut %d: %w", id, geometryError(err))
		}
		if n == 0 {
			return ErrNotFound
		}
		r, err := q.MapCutByID(ctx, id)
		out = cutFromDB(r)
		return err
	})
	return out, err
}

// DeleteCut deletes a cut.
func (s *Store) DeleteCut(ctx context.Context, id int64) error {
	n, err := s.q().DeleteMapCut(ctx, id)
	if err != nil {
		return fmt.Errorf("delete cut %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CutFilter narrows ListCuts; zero fields do not filter.
type CutFilter struct {
	Category string
	IsPublic *bool
	Limit    int
	Offset   int
}

// ListCuts returns one page of cuts by name and the total.
func (s *Store) ListCuts(ctx context.Context, f CutFilter) ([]Cut, int, error) {
	cat := optText(f.Category)
	return page(ctx, s, "cuts",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountMapCuts(ctx, db.CountMapCutsParams{Category: cat, IsPublic: f.IsPublic})
		},
		func(ctx context.Context, q *db.Queries) ([]db.ListMapCutsRow, error) {
			return q.ListMapCuts(ctx, db.ListMapCutsParams{Category: cat, IsPublic: f.IsPublic,
				PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		func(r db.ListMapCutsRow) Cut { return cutFromDB(db.MapCutByIDRow(r)) })
}

// PublicCuts lists the published cuts by name (CreatedBy and the times are
// left zero: they are nobody's business).
func (s *Store) PublicCuts(ctx context.Context) ([]Cut, error) {
	rows, err := s.q().PublicMapCuts(ctx)
	if err != nil {
		return nil, fmt.Errorf("public cuts: %w", err)
	}
	return convert(rows, func(r db.PublicMapCutsRow) Cut {
		return Cut{ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category, Color: r.Color,
			Opacity: float64(r.Opacity), IsPublic: true, Geometry: r.Geometry}
	}), nil
}

// CutLocations returns one page of the locations inside a cut (by id) and
// their total, read in one scan of the cut's points. A missing cut is
// ErrNotFound.
func (s *Store) CutLocations(ctx context.Context, cutID int64, limit, offset int) ([]Location, int, error) {
	out := []Location{}
	total := 0
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := queries(tx)
		if _, err := q.MapCutByID(ctx, cutID); err != nil {
			return notFound(err)
		}
		rows, err := q.ListMapCutLocations(ctx, db.ListMapCutLocationsParams{CutID: cutID,
			PageLimit: int64(limit), PageOffset: int64(offset)})
		if err != nil {
			return fmt.Errorf("list cut locations: %w", err)
		}
		for _, r := range rows {
			total = int(r.Total)
			out = append(out, locationFromDB(db.MapLocationByIDRow{ID: r.ID, Address: r.Address, City: r.City,
				Province: r.Province, PostalCode: r.PostalCode, Lat: r.Lat, Lng: r.Lng, HasPoint: r.HasPoint,
				BuildingType: r.BuildingType, GeocodeProvider: r.GeocodeProvider,
				GeocodeConfidence: r.GeocodeConfidence, GeocodedAt: r.GeocodedAt, Source: r.Source,
				SourceID: r.SourceID, AddressKey: r.AddressKey, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
				UpdatedAt: r.UpdatedAt, UnitCount: r.UnitCount}))
		}
		if len(rows) == 0 && offset > 0 { // past the end: no row carried the total
			n, err := q.CountMapCutLocations(ctx, cutID)
			if err != nil {
				return fmt.Errorf("count cut locations: %w", err)
			}
			total = int(n)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CutStats is what a cut holds.
type CutStats struct {
	Locations int
	Units     int
	// Visited counts the locations with at least one canvass visit.
	Visited int
	// BySupportLevel counts units per support level: "1"…"4", and
	// "unknown" for units without one.
	BySupportLevel map[string]int
}

// CutStats counts a cut's locations, units and support levels. A missing
// cut is ErrNotFound.
func (s *Store) CutStats(ctx context.Context, cutID int64) (CutStats, error) {
	if _, err := s.q().MapCutByID(ctx, cutID); err != nil {
		return CutStats{}, notFound(err)
	}
	r, err := s.q().MapCutStats(ctx, cutID)
	if err != nil {
		return CutStats{}, fmt.Errorf("cut stats: %w", err)
	}
	return CutStats{Locations: int(r.Locations), Units: int(r.Units), Visited: int(r.Visited),
		BySupportLevel: map[string]int{"1": int(r.Level1), "2": int(r.Level2), "3": int(r.Level3),
			"4": int(r.Level4), "unknown": int(r.Unknown)}}, nil
}

// WalkStop is a location of a walk list with its point.
type WalkStop struct {
	LocationID int64
	Lat, Lng   float64
}

// CutWalkStops returns the cut's locations with their points, by id, at
// most max of them, and whether there were more. A missing cut is
// ErrNotFound.
func (s *Store) CutWalkStops(ctx context.Context, cutID int64, max int) ([]WalkStop, bool, error) {
	if _, err := s.q().MapCutByID(ctx, cutID); err != nil {
		return nil, false, notFound(err)
	}
	rows, err := s.q().MapCutWalk(ctx, db.MapCutWalkParams{CutID: cutID, MaxRows: int64(max) + 1})
	if err != nil {
		return nil, false, fmt.Errorf("cut walk: %w", err)
	}
	more := len(rows) > max
	if more {
		rows = rows[:max]
	}
	return convert(rows, func(r db.MapCutWalkRow) WalkStop {
		return WalkStop{LocationID: r.ID, Lat: r.Lat, Lng: r.Lng}
	}), more, nil
}

// LocationUnits returns the units of the given locations, grouped by
// location id, for a walk list.
func (s *Store) LocationUnits(ctx context.Context, ids []int64) (map[int64][]Unit, error) {
	rows, err := s.q().MapUnitsOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("units of locations: %w", err)
	}
	out := map[int64][]Unit{}
	for _, r := range rows {
		out[r.LocationID] = append(out[r.LocationID], unitFromDB(r))
	}
	return out, nil
}

// LocationsByIDs returns the given locations by id.
func (s *Store) LocationsByIDs(ctx context.Context, ids []int64) (map[int64]Location, error) {
	rows, err := s.q().MapLocationsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("locations by id: %w", err)
	}
	out := make(map[int64]Location, len(rows))
	for _, r := range rows {
		out[r.ID] = locationFromDB(db.MapLocationByIDRow(r))
	}
	return out, nil
}

// TileZoomPoints is the zoom from which tiles carry single buildings;
// below it they carry clusters (a count per grid cell).
const TileZoomPoints = 14

// AdminTile is the organizers' vector tile z/x/y (see AdminMapTile in
// storage/queries/map_cuts.sql for its layers).
func (s *Store) AdminTile(ctx context.Context, z, x, y int) ([]byte, error) {
	b, err := s.q().AdminMapTile(ctx, db.AdminMapTileParams{Z: int32(z), X: int32(x), Y: int32(y),
		PointZoom: TileZoomPoints})
	if err != nil {
		return nil, fmt.Errorf("admin tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}

// PublicTile is the vector tile z/x/y anyone may read: bare points or
// cluster counts, and the published cuts; no identifiers, no personal data.
func (s *Store) PublicTile(ctx context.Context, z, x, y int) ([]byte, error) {
	b, err := s.q().PublicMapTile(ctx, db.PublicMapTileParams{Z: int32(z), X: int32(x), Y: int32(y),
		PointZoom: TileZoomPoints})
	if err != nil {
		return nil, fmt.Errorf("public tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}
