package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/internal/address"
	"changemaker/storage/internal/db"
)

// Location sources.
const (
	SourceNAR    = "NAR"
	SourceCSV    = "CSV"
	SourceManual = "MANUAL"
)

// LawnSignStatuses lists a unit's lawn-sign states.
var LawnSignStatuses = []string{"NONE", "REQUESTED", "INSTALLED", "REMOVED", "REFUSED"}

// History actions.
const (
	HistoryCreate = "CREATE"
	HistoryUpdate = "UPDATE"
	HistoryDelete = "DELETE"
)

// Location is a building on the map. Lat and Lng are nil until it is
// geocoded.
type Location struct {
	ID                int64
	Address           string
	City              string
	Province          string
	PostalCode        string
	Lat               *float64
	Lng               *float64
	BuildingType      string
	GeocodeProvider   string
	GeocodeConfidence *int
	GeocodedAt        *time.Time
	Source            string
	SourceID          *string
	AddressKey        string
	UnitCount         int
	CreatedBy         *int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func locationFromDB(r db.MapLocationByIDRow) Location {
	l := Location{ID: r.ID, Address: r.Address, City: r.City, Province: r.Province, PostalCode: r.PostalCode,
		BuildingType: r.BuildingType, GeocodeProvider: r.GeocodeProvider, GeocodedAt: r.GeocodedAt,
		Source: r.Source, SourceID: r.SourceID, AddressKey: r.AddressKey, UnitCount: int(r.UnitCount),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.HasPoint {
		lat, lng := r.Lat, r.Lng
		l.Lat, l.Lng = &lat, &lng
	}
	if r.GeocodeConfidence != nil {
		c := int(*r.GeocodeConfidence)
		l.GeocodeConfidence = &c
	}
	return l
}

// AddressKey is the building key of an address line (internal/address,
// Key.Building().String()): two spellings of one building give the same
// key. An address without a civic number and a street gives "", which
// never joins anything.
func AddressKey(line string) string {
	k := address.Parse(line).Key.Building()
	if k.Civic == "" || k.Street == "" {
		return ""
	}
	return k.String()
}

// LocationInput is a new location.
type LocationInput struct {
	Address      string
	City         string
	Province     string
	PostalCode   string // "K1A 0B1" or ""
	Lat, Lng     *float64
	BuildingType string
	Source       string // SourceManual when empty
	SourceID     *string
}

// FindOrCreateLocation adds a location, or returns the one it is (joined
// true): a location with the same building key (AddressKey) within
// radiusMeters of the new point, or, without a point, with the same key and
// the same postal code. A location that has no point yet joins on the key
// and the postal code too. Creates of one key are serialised, so two at the
// same instant give one building. The create is written to the history.
// Importers use the same rule.
func (s *Store) FindOrCreateLocation(ctx context.Context, in LocationInput, radiusMeters float64, userID int64) (loc Location, joined bool, err error) {
	if in.Source == "" {
		in.Source = SourceManual
	}
	key := AddressKey(in.Address)
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if key != "" {
			if err := q.LockAddressKey(ctx, key); err != nil {
				return fmt.Errorf("lock address key: %w", err)
			}
			var id int64
			var err error
			if in.Lat != nil && in.Lng != nil {
				id, err = q.FindMapLocationNear(ctx, db.FindMapLocationNearParams{AddressKey: key, Lng: *in.Lng,
					Lat: *in.Lat, Radius: radiusMeters, PostalCode: in.PostalCode})
			} else {
				id, err = q.FindMapLocationByPostal(ctx, db.FindMapLocationByPostalParams{AddressKey: key,
					PostalCode: in.PostalCode})
			}
			switch {
			case err == nil:
				joined = true
				r, err := q.MapLocationByID(ctx, id)
				loc = locationFromDB(r)
				return err
			case !errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("find a location to join: %w", err)
			}
		}
		id, err := q.InsertMapLocation(ctx, db.InsertMapLocationParams{Address: in.Address, City: in.City,
			Province: in.Province, PostalCode: in.PostalCode, Lng: in.Lng, Lat: in.Lat,
			BuildingType: in.BuildingType, Source: in.Source, SourceID: in.SourceID, AddressKey: key,
			CreatedBy: optID(userID)})
		if err != nil {
			return fmt.Errorf("insert location: %w", err)
		}
		changes := changeSet{}
		changes.add("address", nil, in.Address)
		changes.addIf("city", "", in.City)
		changes.addIf("province", "", in.Province)
		changes.addIf("postalCode", "", in.PostalCode)
		changes.add("latitude", nil, floatOrNil(in.Lat))
		changes.add("longitude", nil, floatOrNil(in.Lng))
		changes.addIf("buildingType", "", in.BuildingType)
		changes.add("source", nil, in.Source)
		if err := writeHistory(ctx, q, id, nil, userID, HistoryCreate, changes); err != nil {
			return err
		}
		r, err := q.MapLocationByID(ctx, id)
		loc = locationFromDB(r)
		return err
	})
	return loc, joined, err
}

// LocationByID finds a location.
func (s *Store) LocationByID(ctx context.Context, id int64) (Location, error) {
	r, err := s.q().MapLocationByID(ctx, id)
	return locationFromDB(r), notFound(err)
}

// LocationPatch holds the fields UpdateLocation changes; nil stays as it
// is. Lat and Lng go together; ClearPoint removes the point.
type LocationPatch struct {
	Address      *string
	City         *string
	Province     *string
	PostalCode   *string
	BuildingType *string
	Lat, Lng     *float64
	ClearPoint   bool
}

// UpdateLocation applies p and records what changed in the history (nothing
// when nothing changed).
func (s *Store) UpdateLocation(ctx context.Context, id int64, p LocationPatch, userID int64) (Location, error) {
	var out Location
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if _, err := q.LockMapLocation(ctx, id); err != nil {
			return notFound(err)
		}
		r, err := q.MapLocationByID(ctx, id)
		if err != nil {
			return notFound(err)
		}
		old := locationFromDB(r)
		nw := old
		changes := changeSet{}
		setText := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				changes.add(field, *dst, *v)
				*dst = *v
			}
		}
		setText("address", &nw.Address, p.Address)
		setText("city", &nw.City, p.City)
		setText("province", &nw.Province, p.Province)
		setText("postalCode", &nw.PostalCode, p.PostalCode)
		setText("buildingType", &nw.BuildingType, p.BuildingType)
		switch {
		case p.ClearPoint:
			nw.Lat, nw.Lng = nil, nil
		case p.Lat != nil && p.Lng != nil:
			nw.Lat, nw.Lng = p.Lat, p.Lng
		}
		if floatOrNil(old.Lat) != floatOrNil(nw.Lat) || floatOrNil(old.Lng) != floatOrNil(nw.Lng) {
			changes.add("latitude", floatOrNil(old.Lat), floatOrNil(nw.Lat))
			changes.add("longitude", floatOrNil(old.Lng), floatOrNil(nw.Lng))
		}
		if len(changes) == 0 {
			out = old
			return nil
		}
		key := old.AddressKey
		if p.Address != nil {
			key = AddressKey(nw.Address)
		}
		if err := q.UpdateMapLocation(ctx, db.UpdateMapLocationParams{ID: id, Address: nw.Address, City: nw.City,
			Province: nw.Province, PostalCode: nw.PostalCode, Lng: nw.Lng, Lat: nw.Lat,
			BuildingType: nw.BuildingType, AddressKey: key}); err != nil {
			return fmt.Errorf("update location %d: %w", id, err)
		}
		if err := writeHistory(ctx, q, id, nil, userID, HistoryUpdate, changes); err != nil {
			return err
		}
		r, err = q.MapLocationByID(ctx, id)
		out = locationFromDB(r)
		return err
	})
	return out, err
}

// DeleteLocation deletes a location with its units. Its history goes with
// it (migration 0008: map_location_history cascades with the location).
func (s *Store) DeleteLocation(ctx context.Context, id int64) error {
	n, err := s.q().DeleteMapLocation(ctx, id)
	if err != nil {
		return fmt.Errorf("delete location %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// BBox is a bounding box in degrees.
type BBox struct {
	MinLng, MinLat, MaxLng, MaxLat float64
}

// LocationFilter narrows the location list and its export. Zero fields do
// not filter.
type LocationFilter struct {
	BBox         *BBox
	CutID        int64
	PostalCode   string
	SupportLevel int
	Q            string
	Limit        int
	Offset       int
}

func (f LocationFilter) params() db.CountMapLocationsParams {
	p := db.CountMapLocationsParams{CutID: optID(f.CutID), PostalCode: optText(f.PostalCode),
		Q: optText(escapeLike(f.Q))}
	if f.BBox != nil {
		b := *f.BBox
		p.MinLng, p.MinLat, p.MaxLng, p.MaxLat = &b.MinLng, &b.MinLat, &b.MaxLng, &b.MaxLat
	}
	if f.SupportLevel != 0 {
		l := int16(f.SupportLevel)
		p.SupportLevel = &l
	}
	return p
}

// ListLocations returns one page of locations (by id) and the total.
func (s *Store) ListLocations(ctx context.Context, f LocationFilter) ([]Location, int, error) {
	p := f.params()
	return page(ctx, s, "locations",
		func(ctx context.Context, q *db.Queries) (int64, error) { return q.CountMapLocations(ctx, p) },
		func(ctx context.Context, q *db.Queries) ([]db.ListMapLocationsRow, error) {
			return q.ListMapLocations(ctx, db.ListMapLocationsParams{MinLng: p.MinLng, MinLat: p.MinLat,
				MaxLng: p.MaxLng, MaxLat: p.MaxLat, CutID: p.CutID, PostalCode: p.PostalCode,
				SupportLevel: p.SupportLevel, Q: p.Q, PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		func(r db.ListMapLocationsRow) Location { return locationFromDB(db.MapLocationByIDRow(r)) })
}

// Unit is a door inside a building, with the personal data of who lives
// there.
type Unit struct {
	ID           int64
	LocationID   int64
	UnitLabel    string
	SourceID     *string
	ResidentName string
	Phone        string
	Email        string
	SupportLevel *int
	LawnSign     string
	Notes        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func unitFromDB(r db.MapUnit) Unit {
	u := Unit{ID: r.ID, LocationID: r.LocationID, UnitLabel: r.UnitLabel, SourceID: r.SourceID,
		ResidentName: r.ResidentName, Phone: r.Phone, Email: r.Email, LawnSign: r.LawnSign, Notes: r.Notes,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.SupportLevel != nil {
		l := int(*r.SupportLevel)
		u.SupportLevel = &l
	}
	return u
}

func int16Ptr(n *int) *int16 {
	if n == nil {
		return nil
	}
	v := int16(*n)
	return &v
}

// UnitInput is a new unit.
type UnitInput struct {
	UnitLabel    string
	SourceID     *string
	ResidentName string
	Phone        string
	Email        string
	SupportLevel *int
	LawnSign     string // NONE when empty
	Notes        string
}

// Units lists a location's units by label.
func (s *Store) Units(ctx context.Context, locationID int64) ([]Unit, error) {
	if _, err := s.q().MapLocationByID(ctx, locationID); err != nil {
		return nil, notFound(err)
	}
	rows, err := s.q().MapUnits(ctx, locationID)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return convert(rows, unitFromDB), nil
}

// CreateUnit adds a unit to a location and records it in the history. A
// sourceId another unit has is ErrConflict; a missing location ErrNotFound.
func (s *Store) CreateUnit(ctx context.Context, locationID int64, in UnitInput, userID int64) (Unit, error) {
	if in.LawnSign == "" {
		in.LawnSign = "NONE"
	}
	var out Unit
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if _, err := q.LockMapLocation(ctx, locationID); err != nil {
			return notFound(err)
		}
		r, err := q.InsertMapUnit(ctx, db.InsertMapUnitParams{LocationID: locationID, UnitLabel: in.UnitLabel,
			SourceID: in.SourceID, ResidentName: in.ResidentName, Phone: in.Phone, Email: in.Email,
			SupportLevel: int16Ptr(in.SupportLevel), LawnSign: in.LawnSign, Notes: in.Notes})
		if err != nil {
			return fmt.Errorf("insert unit: %w", err)
		}
		out = unitFromDB(r)
		changes := changeSet{}
		changes.add("unitLabel", nil, in.UnitLabel)
		changes.addIf("residentName", "", in.ResidentName)
		changes.addIf("phone", "", in.Phone)
		changes.addIf("email", "", in.Email)
		if in.SupportLevel != nil {
			changes.add("supportLevel", nil, *in.SupportLevel)
		}
		changes.addIf("lawnSign", "NONE", in.LawnSign)
		changes.addIf("notes", "", in.Notes)
		if err := q.TouchMapLocation(ctx, locationID); err != nil {
			return err
		}
		return writeHistory(ctx, q, locationID, &out.ID, userID, HistoryCreate, changes)
	})
	return out, err
}

// UnitPatch holds the fields UpdateUnit changes; nil stays as it is.
// SetSupportLevel with a nil SupportLevel clears the level.
type UnitPatch struct {
	UnitLabel       *string
	ResidentName    *string
	Phone           *string
	Email           *string
	LawnSign        *string
	Notes           *string
	SupportLevel    *int
	SetSupportLevel bool
}

// UpdateUnit applies p to a unit of a location and records what changed.
func (s *Store) UpdateUnit(ctx context.Context, locationID, unitID int64, p UnitPatch, userID int64) (Unit, error) {
	var out Unit
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.LockMapUnit(ctx, db.LockMapUnitParams{ID: unitID, LocationID: locationID})
		if err != nil {
			return notFound(err)
		}
		old := unitFromDB(r)
		nw := old
		changes := changeSet{}
		setText := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				changes.add(field, *dst, *v)
				*dst = *v
			}
		}
		setText("unitLabel", &nw.UnitLabel, p.UnitLabel)
		setText("residentName", &nw.ResidentName, p.ResidentName)
		setText("phone", &nw.Phone, p.Phone)
		setText("email", &nw.Email, p.Email)
		setText("lawnSign", &nw.LawnSign, p.LawnSign)
		setText("notes", &nw.Notes, p.Notes)
		if p.SetSupportLevel && intOrNil(p.SupportLevel) != intOrNil(old.SupportLevel) {
			changes.add("supportLevel", intOrNil(old.SupportLevel), intOrNil(p.SupportLevel))
			nw.SupportLevel = p.SupportLevel
		}
		if len(changes) == 0 {
			out = old
			return nil
		}
		r, err = q.UpdateMapUnit(ctx, db.UpdateMapUnitParams{ID: unitID, UnitLabel: nw.UnitLabel,
			ResidentName: nw.ResidentName, Phone: nw.Phone, Email: nw.Email,
			SupportLevel: int16Ptr(nw.SupportLevel), LawnSign: nw.LawnSign, Notes: nw.Notes})
		if err != nil {
			return fmt.Errorf("update unit %d: %w", unitID, err)
		}
		out = unitFromDB(r)
		if err := q.TouchMapLocation(ctx, locationID); err != nil {
			return err
		}
		return writeHistory(ctx, q, locationID, &unitID, userID, HistoryUpdate, changes)
	})
	return out, err
}

// DeleteUnit deletes a unit of a location; the history keeps what it held.
func (s *Store) DeleteUnit(ctx context.Context, locationID, unitID int64, userID int64) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.LockMapUnit(ctx, db.LockMapUnitParams{ID: unitID, LocationID: locationID})
		if err != nil {
			return notFound(err)
		}
		if _, err := q.DeleteMapUnit(ctx, db.DeleteMapUnitParams{ID: unitID, LocationID: locationID}); err != nil {
			return fmt.Errorf("delete unit %d: %w", unitID, err)
		}
		old := unitFromDB(r)
		changes := changeSet{}
		changes.add("unitLabel", old.UnitLabel, nil)
		changes.addIf("residentName", old.ResidentName, "")
		changes.addIf("phone", old.Phone, "")
		changes.addIf("email", old.Email, "")
		if old.SupportLevel != nil {
			changes.add("supportLevel", *old.SupportLevel, nil)
		}
		changes.addIf("notes", old.Notes, "")
		if err := q.TouchMapLocation(ctx, locationID); err != nil {
			return err
		}
		return writeHistory(ctx, q, locationID, &unitID, userID, HistoryDelete, changes)
	})
}

// FieldChange is one field's value before and after a change (nil: none).
type FieldChange struct {
	Old any
	New any
}

// HistoryEntry is one change to a location or one of its units.
type HistoryEntry struct {
	ID         int64
	LocationID int64
	UnitID     *int64
	UserID     *int64
	UserName   string
	Action     string
	Changes    map[string]FieldChange
	CreatedAt  time.Time
}

// LocationHistory returns one page of a location's history, newest first.
func (s *Store) LocationHistory(ctx context.Context, locationID int64, limit, offset int) ([]HistoryEntry, int, error) {
	if _, err := s.q().MapLocationByID(ctx, locationID); err != nil {
		return nil, 0, notFound(err)
	}
	return page(ctx, s, "location history",
		func(ctx context.Context, q *db.Queries) (int64, error) { return q.CountMapHistory(ctx, locationID) },
		func(ctx context.Context, q *db.Queries) ([]db.ListMapHistoryRow, error) {
			return q.ListMapHistory(ctx, db.ListMapHistoryParams{LocationID: locationID,
				PageLimit: int64(limit), PageOffset: int64(offset)})
		},
		func(r db.ListMapHistoryRow) HistoryEntry {
			e := HistoryEntry{ID: r.ID, LocationID: r.LocationID, UnitID: r.UnitID, UserID: r.UserID,
				UserName: r.UserName, Action: r.Action, CreatedAt: r.CreatedAt, Changes: map[string]FieldChange{}}
			var raw map[string]map[string]any
			if json.Unmarshal([]byte(r.Changes), &raw) == nil {
				for k, v := range raw {
					e.Changes[k] = FieldChange{Old: v["old"], New: v["new"]}
				}
			}
			return e
		})
}

// changeSet is the changes column of a history row:
// {"field": {"old": …, "new": …}}.
type changeSet map[string]map[string]any

func (c changeSet) add(field string, old, new any) {
	c[field] = map[string]any{"old": old, "new": new}
}

// addIf records a text field that differs from its empty value.
func (c changeSet) addIf(field, empty, v string) {
	if v != empty {
		if empty == "" {
			c.add(field, nil, v)
		} else {
			c.add(field, empty, v)
		}
	}
}

func writeHistory(ctx context.Context, q *db.Queries, locationID int64, unitID *int64, userID int64, action string, c changeSet) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode history: %w", err)
	}
	if err := q.InsertMapHistory(ctx, db.InsertMapHistoryParams{LocationID: locationID, UnitID: unitID,
		UserID: optID(userID), Action: action, Changes: b}); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

func floatOrNil(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// Point is a bare point, for the public map.
type Point struct {
	Lat, Lng float64
}

// PublicPoints returns at most max points inside b, and whether there were
// more.
func (s *Store) PublicPoints(ctx context.Context, b BBox, max int) ([]Point, bool, error) {
	rows, err := s.q().PublicMapPoints(ctx, db.PublicMapPointsParams{MinLng: b.MinLng, MinLat: b.MinLat,
		MaxLng: b.MaxLng, MaxLat: b.MaxLat, MaxPoints: int64(max) + 1})
	if err != nil {
		return nil, false, fmt.Errorf("public points: %w", err)
	}
	more := len(rows) > max
	if more {
		rows = rows[:max]
	}
	return convert(rows, func(r db.PublicMapPointsRow) Point { return Point{Lat: r.Lat, Lng: r.Lng} }), more, nil
}

// ExportRow is one line of a location export: a unit, or a building
// without units (UnitID nil).
type ExportRow struct {
	LocationID   int64
	Address      string
	City         string
	Province     string
	PostalCode   string
	Lat, Lng     *float64
	UnitID       *int64
	UnitLabel    string
	ResidentName string
	Phone        string
	Email        string
	SupportLevel *int
	Source       string
	SourceID     string // the unit's own; "" for a building without units
}

// exportSQL is the location export: one row per unit, a building without
// units as one row, in location order. The filters are those of
// CountMapLocations (storage/queries/map_locations.sql), which sqlc checks;
// this query is written here because sqlc can only collect rows in a
// slice, and the export streams them.
const exportSQL = `
SELECT l.id, l.address, l.city, l.province, l.postal_code, ST_Y(l.geom)::float8, ST_X(l.geom)::float8,
    u.id, COALESCE(u.unit_label, ''), COALESCE(u.resident_name, ''), COALESCE(u.phone, ''),
    COALESCE(u.email, ''), u.support_level::int, l.source, COALESCE(u.source_id, '')
FROM map_locations l LEFT JOIN map_units u ON u.location_id = l.id
WHERE ($1::float8 IS NULL OR l.geom && ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326))
  AND ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM map_cuts c WHERE c.id = $5::bigint AND ST_Intersects(c.geom, l.geom)))
  AND ($6::text IS NULL OR l.postal_code = $6::text)
  AND ($7::smallint IS NULL OR EXISTS (SELECT 1 FROM map_units su
        WHERE su.location_id = l.id AND su.support_level = $7::smallint))
  AND ($8::text IS NULL OR l.address ILIKE '%' || $8::text || '%')
ORDER BY l.id, u.unit_label, u.id`

// ExportLocations streams the export of the locations f selects to fn, one
// row at a time, straight from the database cursor: memory stays constant
// however many rows there are. fn's error stops the export and is returned.
func (s *Store) ExportLocations(ctx context.Context, f LocationFilter, fn func(ExportRow) error) error {
	p := f.params()
	rows, err := s.Pool.Query(ctx, exportSQL, p.MinLng, p.MinLat, p.MaxLng, p.MaxLat, p.CutID, p.PostalCode,
		p.SupportLevel, p.Q)
	if err != nil {
		return translate(fmt.Errorf("export locations: %w", err))
	}
	defer rows.Close()
	var r ExportRow
	for rows.Next() {
		r = ExportRow{}
		var level *int32
		if err := rows.Scan(&r.LocationID, &r.Address, &r.City, &r.Province, &r.PostalCode, &r.Lat, &r.Lng,
			&r.UnitID, &r.UnitLabel, &r.ResidentName, &r.Phone, &r.Email, &level, &r.Source, &r.SourceID); err != nil {
			return translate(fmt.Errorf("export locations: %w", err))
		}
		if level != nil {
			l := int(*level)
			r.SupportLevel = &l
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// NormalisePostalCode gives a Canadian postal code as stored ("K1A 0B1"),
// or "" and false when s is not one.
func NormalisePostalCode(s string) (string, bool) {
	p := address.PostalCode(strings.TrimSpace(s))
	if p == "" {
		return "", false
	}
	return p[:3] + " " + p[3:], true
}
