package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"changemaker/storage/internal/db"
)

// Import kinds and statuses (map_imports.kind, .status; parts share the statuses).
const (
	ImportNAR = "NAR"
	ImportCSV = "CSV"

	ImportQueued    = "QUEUED"
	ImportRunning   = "RUNNING"
	ImportDone      = "DONE"
	ImportFailed    = "FAILED"
	ImportCancelled = "CANCELLED"
)

// ImportStatuses lists every import status.
var ImportStatuses = []string{ImportQueued, ImportRunning, ImportDone, ImportFailed, ImportCancelled}

// MaxSkippedLines is how many skipped rows an import part keeps with their
// line and reason; the rest are only counted.
const MaxSkippedLines = 100

// ImportFilters narrow a NAR import. Empty fields filter nothing.
type ImportFilters struct {
	Province     string      // PROV_CODE ("35") or the postal abbreviation ("ON")
	Municipality string      // CSD_ENG_NAME, compared without case
	PostalPrefix string      // the first characters of the postal code, without space ("K1A")
	BBox         *[4]float64 // minLng, minLat, maxLng, maxLat; rows without a point are left out
}

// CSVMapping names the CSV column (by its header) that holds each field.
// Address is required; the rest may be empty.
type CSVMapping struct {
	Address, City, Province, PostalCode, Latitude, Longitude string
	Unit, ResidentName, Phone, Email, SourceID               string
}

type filtersJSON struct {
	Province     string      `json:"province,omitempty"`
	Municipality string      `json:"municipality,omitempty"`
	PostalPrefix string      `json:"postalPrefix,omitempty"`
	BBox         *[4]float64 `json:"bbox,omitempty"`
}

type mappingJSON struct {
	Address      string `json:"address,omitempty"`
	City         string `json:"city,omitempty"`
	Province     string `json:"province,omitempty"`
	PostalCode   string `json:"postalCode,omitempty"`
	Latitude     string `json:"latitude,omitempty"`
	Longitude    string `json:"longitude,omitempty"`
	Unit         string `json:"unit,omitempty"`
	ResidentName string `json:"residentName,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	SourceID     string `json:"sourceId,omitempty"`
}

// SkippedLine is a row an import could not use.
type SkippedLine struct {
	File   string
	Line   int
	Reason string
}

type skippedJSON struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// MapImportPart is one file of an import and its progress.
type MapImportPart struct {
	ImportID      int64
	Name          string // Address (or CSV) file: an archive entry or a stored file
	Archive       string // the release .zip it is in; "" for a loose file
	LocationFiles []string
	Status        string
	RowsDone      int64 // data rows consumed by committed batches
	RowsRead      int64
	Inserted      int64
	Updated       int64
	Skipped       int64
	Filtered      int64
	SkippedLines  []SkippedLine
	Error         string
	StartedAt     *time.Time
	FinishedAt    *time.Time
}

// MapImport is one upload and its progress, counters summed over its parts.
type MapImport struct {
	ID         int64
	Kind       string
	Status     string
	Dir        string // under IMPORT_ROOT
	FileNames  []string
	Filters    ImportFilters
	Mapping    CSVMapping
	Error      string
	CreatedBy  *int64
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time

	RowsRead, Inserted, Updated, Skipped, Filtered int64
	// SkippedLines: the first MaxSkippedLines over all parts (MapImportByID only).
	SkippedLines []SkippedLine
	Parts        []MapImportPart // MapImportByID only
}

func mapImportFromDB(r db.MapImport) MapImport {
	m := MapImport{ID: r.ID, Kind: r.Kind, Status: r.Status, Dir: r.Dir, FileNames: r.FileNames, Error: r.Error,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		UpdatedAt: r.UpdatedAt, SkippedLines: []SkippedLine{}}
	if m.FileNames == nil {
		m.FileNames = []string{}
	}
	var f filtersJSON
	if json.Unmarshal(r.Filters, &f) == nil {
		m.Filters = ImportFilters(f)
	}
	var mp mappingJSON
	if json.Unmarshal(r.Mapping, &mp) == nil {
		m.Mapping = CSVMapping(mp)
	}
	return m
}

func mapImportPartFromDB(r db.MapImportPart) MapImportPart {
	p := MapImportPart{ImportID: r.ImportID, Name: r.Name, Archive: r.Archive, LocationFiles: r.LocationFiles,
		Status: r.Status, RowsDone: r.RowsDone, RowsRead: r.RowsRead, Inserted: r.Inserted, Updated: r.Updated,
		Skipped: r.Skipped, Filtered: r.Filtered, Error: r.Error, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		SkippedLines: []SkippedLine{}}
	var lines []skippedJSON
	if json.Unmarshal(r.SkippedLines, &lines) == nil {
		for _, l := range lines {
			p.SkippedLines = append(p.SkippedLines, SkippedLine{File: r.Name, Line: l.Line, Reason: l.Reason})
		}
	}
	// Slots commit their batches in any order: the lines read in file order.
	slices.SortStableFunc(p.SkippedLines, func(a, b SkippedLine) int { return cmp.Compare(a.Line, b.Line) })
	return p
}

// NewMapImport is an upload to record.
type NewMapImport struct {
	Kind      string
	Dir       string
	FileNames []string
	Filters   ImportFilters
	Mapping   CSVMapping
	CreatedBy *int64
}

// CreateMapImport records a QUEUED import without parts; the planning task
// adds them.
func (s *Store) CreateMapImport(ctx context.Context, n NewMapImport) (MapImport, error) {
	filters, err := json.Marshal(filtersJSON(n.Filters))
	if err != nil {
		return MapImport{}, err
	}
	mapping, err := json.Marshal(mappingJSON(n.Mapping))
	if err != nil {
		return MapImport{}, err
	}
	names := n.FileNames
	if names == nil {
		names = []string{}
	}
	r, err := s.q().InsertMapImport(ctx, db.InsertMapImportParams{Kind: n.Kind, Dir: n.Dir, FileNames: names,
		Filters: filters, Mapping: mapping, CreatedBy: n.CreatedBy})
	if err != nil {
		return MapImport{}, fmt.Errorf("insert map import: %w", err)
	}
	return mapImportFromDB(r), nil
}

// NewImportPart is one file an import will load.
type NewImportPart struct {
	Name          string
	Archive       string
	LocationFiles []string
}

// AddMapImportParts records an import's parts; parts it has already are
// kept as they are (a planning task that runs twice adds nothing).
func (s *Store) AddMapImportParts(ctx context.Context, importID int64, parts []NewImportPart) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		for _, p := range parts {
			locs := p.LocationFiles
			if locs == nil {
				locs = []string{}
			}
			_, err := q.MapImportPart(ctx, db.MapImportPartParams{ImportID: importID, Name: p.Name})
			if err == nil {
				continue
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("look up import part: %w", err)
			}
			if err := q.InsertMapImportPart(ctx, db.InsertMapImportPartParams{ImportID: importID, Name: p.Name,
				Archive: p.Archive, LocationFiles: locs}); err != nil {
				return fmt.Errorf("insert import part: %w", err)
			}
		}
		return nil
	})
}

// MapImportByID returns an import with its parts, totals and first
// skipped lines.
func (s *Store) MapImportByID(ctx context.Context, id int64) (MapImport, error) {
	var m MapImport
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.MapImportByID(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("get map import: %w", err)
		}
		m = mapImportFromDB(r)
		parts, err := q.MapImportParts(ctx, id)
		if err != nil {
			return fmt.Errorf("list import parts: %w", err)
		}
		m.Parts = make([]MapImportPart, 0, len(parts))
		for _, pr := range parts {
			p := mapImportPartFromDB(pr)
			m.Parts = append(m.Parts, p)
			m.RowsRead += p.RowsRead
			m.Inserted += p.Inserted
			m.Updated += p.Updated
			m.Skipped += p.Skipped
			m.Filtered += p.Filtered
			for _, l := range p.SkippedLines {
				if len(m.SkippedLines) < MaxSkippedLines {
					m.SkippedLines = append(m.SkippedLines, l)
				}
			}
		}
		return nil
	})
	return m, err
}

// MapImportFilter narrows the import list; empty fields filter nothing.
type MapImportFilter struct {
	Status, Kind string
}

// ListMapImports returns a page of imports, newest first, with totals.
func (s *Store) ListMapImports(ctx context.Context, f MapImportFilter, limit, offset int) ([]MapImport, int, error) {
	status, kind := nullable(f.Status), nullable(f.Kind)
	list, total, err := page(ctx, s, "map imports",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountMapImports(ctx, db.CountMapImportsParams{Status: status, Kind: kind})
		},
		func(ctx context.Context, q *db.Queries) ([]db.MapImport, error) {
			return q.ListMapImports(ctx, db.ListMapImportsParams{Status: status, Kind: kind,
				Lim: int32(limit), Off: int32(offset)})
		},
		mapImportFromDB)
	if err != nil || len(list) == 0 {
		return list, total, err
	}
	ids := make([]int64, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	totals, err := s.q().MapImportTotals(ctx, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("import totals: %w", err)
	}
	byID := make(map[int64]db.MapImportTotalsRow, len(totals))
	for _, t := range totals {
		byID[t.ImportID] = t
	}
	for i := range list {
		t := byID[list[i].ID]
		list[i].RowsRead, list[i].Inserted, list[i].Updated, list[i].Skipped, list[i].Filtered =
			t.RowsRead, t.Inserted, t.Updated, t.Skipped, t.Filtered
	}
	return list, total, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CancelMapImport stops an import that is QUEUED or RUNNING: its queued
// parts are cancelled at once, running ones stop after their current batch.
// It returns ErrNotFound for no such import and ErrConflict (with the
// import as it is) for one already finished.
func (s *Store) CancelMapImport(ctx context.Context, id int64) (MapImport, error) {
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		_, err := q.CancelMapImport(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, gerr := q.MapImportByID(ctx, id); errors.Is(gerr, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("cancel map import: %w", err)
		}
		return q.CancelMapImportParts(ctx, id)
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		return MapImport{}, err
	}
	m, gerr := s.MapImportByID(ctx, id)
	if gerr != nil {
		return MapImport{}, gerr
	}
	return m, err
}

// StartMapImportPart marks a part RUNNING (again, after a crash) and its
// import RUNNING. ok is false when there is nothing to run: the part is
// finished, or its import is cancelled, failed or gone.
func (s *Store) StartMapImportPart(ctx context.Context, importID int64, name string) (p MapImportPart, ok bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.StartMapImportPart(ctx, db.StartMapImportPartParams{ImportID: importID, Name: name})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("start import part: %w", err)
		}
		if err := q.StartMapImport(ctx, importID); err != nil {
			return fmt.Errorf("start import: %w", err)
		}
		p, ok = mapImportPartFromDB(r), true
		return nil
	})
	return p, ok, err
}

// MapImportStatus is an import's status (ErrNotFound when it is gone).
func (s *Store) MapImportStatus(ctx context.Context, id int64) (string, error) {
	st, err := s.q().MapImportStatus(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return st, err
}

// FinishMapImportPart ends a part (DONE, FAILED with a reason for people,
// or CANCELLED) and, when it was the last one running, settles the import:
// DONE, or FAILED with the first failed part's reason. settled reports
// that this call finished the import.
func (s *Store) FinishMapImportPart(ctx context.Context, importID int64, name, status, reason string) (settled bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if err := q.FinishMapImportPart(ctx, db.FinishMapImportPartParams{ImportID: importID, Name: name,
			Status: status, Error: clipText(reason, 1500)}); err != nil {
			return fmt.Errorf("finish import part: %w", err)
		}
		n, err := q.SettleMapImport(ctx, importID)
		if err != nil {
			return fmt.Errorf("settle import: %w", err)
		}
		settled = n > 0
		return nil
	})
	return settled, err
}

// FailMapImport ends an import that cannot run at all (its upload is not
// what it claims) with a reason for people.
func (s *Store) FailMapImport(ctx context.Context, id int64, reason string) error {
	return s.q().FailMapImport(ctx, db.FailMapImportParams{ID: id, Error: clipText(reason, 2000)})
}

// SettleMapImport finishes an import none of whose parts is left to run
// (one planned without parts, say). settled reports that it did.
func (s *Store) SettleMapImport(ctx context.Context, id int64) (bool, error) {
	n, err := s.q().SettleMapImport(ctx, id)
	return n > 0, err
}

// ImportRow is one address ready to load: a unit (UnitID) in a building
// (LocationID), both keyed by their source.
type ImportRow struct {
	Line         int
	LocationID   string // map_locations.source_id: NAR LOC_GUID
	UnitID       string // map_units.source_id: NAR ADDR_GUID
	Unit         string
	Address      string // the building's address line, without the unit
	City         string
	Province     string
	PostalCode   string // "K1A 0B1" or ""
	BuildingType string
	AddressKey   string // internal/address Key.Building().String()
	Lat, Lng     float64
	HasPoint     bool
	ResidentName string
	Phone        string
	Email        string
}

// Problem says why Postgres would refuse the row (a limit of the schema,
// text it cannot store), or "" when it is fine.
func (r ImportRow) Problem() string {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"location id", r.LocationID, 100}, {"unit id", r.UnitID, 100}, {"address", r.Address, 300},
		{"city", r.City, 120}, {"province", r.Province, 40}, {"unit", r.Unit, 40},
		{"building type", r.BuildingType, 60}, {"resident name", r.ResidentName, 200},
		{"phone", r.Phone, 40}, {"email", r.Email, 254},
	} {
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return f.name + " is not valid UTF-8 text"
		}
		if utf8.RuneCountInString(f.v) > f.max {
			return fmt.Sprintf("%s is longer than %d characters", f.name, f.max)
		}
	}
	switch {
	case r.Address == "":
		return "the address is empty"
	case r.LocationID == "" || r.UnitID == "":
		return "the row has no identifier"
	case r.HasPoint && (r.Lat < -90 || r.Lat > 90 || r.Lng < -180 || r.Lng > 180):
		return fmt.Sprintf("the point (%g, %g) is outside -90..90, -180..180", r.Lat, r.Lng)
	}
	return ""
}

// BatchProgress is what a batch adds to its part's counters; it is
// written in the batch's own transaction.
type BatchProgress struct {
	// Slot is the loader slot (1-based) whose rows the batch holds, 0 for a
	// part loaded without slots (see MapImportSlots).
	Slot         int
	RowsDone     int64 // the file's data rows consumed so far, this batch included (of its slot's rows)
	Read         int64 // rows read since the last batch, skipped and filtered ones included
	Skipped      int64
	Filtered     int64 // left out by filters applied before the load
	SkippedLines []SkippedLine
}

// ImportLoader loads the rows of one import part on one connection: a
// staging table takes each batch by COPY, one statement upserts the
// buildings and units, and the part's counters move in the same
// transaction. For a NAR part the province's Location rows are loaded
// first into a temporary table the batches join for their points.
type ImportLoader struct {
	conn     *pgxpool.Conn
	importID int64
	part     string
	source   string // NAR or CSV: map_locations.source
	bbox     *[4]float64
	provider string
	userID   *int64
	// joinRadius > 0: new buildings join MANUAL locations of the same
	// address within it (joinManualSQL); set by JoinManualWithin.
	joinRadius float64
}

// JoinManualWithin makes the loader join a new building to a location an
// organizer added by hand (source MANUAL) with the same building address
// within meters, instead of adding a second building. It looks once whether
// there is any MANUAL location at all, so an import into a map without
// hand-made locations pays nothing for it.
func (l *ImportLoader) JoinManualWithin(ctx context.Context, meters float64) error {
	if meters <= 0 {
		l.joinRadius = 0
		return nil
	}
	var manual bool
	if err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM map_locations WHERE source = 'MANUAL')`).Scan(&manual); err != nil {
		return translate(fmt.Errorf("look for manual locations: %w", err))
	}
	if manual {
		l.joinRadius = meters
	}
	return nil
}

// NewImportLoader takes a connection from the pool for one part's load.
// wait > 0 bounds how long it waits for a free one: without one by then it
// returns (nil, nil).
func (s *Store) NewImportLoader(ctx context.Context, wait time.Duration, importID int64, part, source string, bbox *[4]float64, userID *int64) (*ImportLoader, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if wait > 0 {
		actx, cancel = context.WithTimeout(ctx, wait)
	}
	conn, err := s.Pool.Acquire(actx)
	cancel()
	if err != nil && wait > 0 && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(fmt.Errorf("acquire a connection: %w", err))
	}
	l := &ImportLoader{conn: conn, importID: importID, part: part, source: source, bbox: bbox, userID: userID}
	if source == ImportNAR {
		l.provider = "nar"
	}
	// Temporary tables live as long as the connection; a pooled connection
	// may already have them from an earlier part, emptied here.
	_, err = conn.Exec(ctx, `
CREATE TEMP TABLE IF NOT EXISTS imp_stage (
    line int NOT NULL, loc_id text NOT NULL, unit_id text NOT NULL, unit text NOT NULL,
    address text NOT NULL, city text NOT NULL, province text NOT NULL, postal_code text NOT NULL,
    building_type text NOT NULL, address_key text NOT NULL, lat float8, lng float8,
    resident_name text NOT NULL, phone text NOT NULL, email text NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS imp_loc (loc_id text NOT NULL, lat float8, lng float8);
TRUNCATE imp_loc;
`)
	if err != nil {
		conn.Release()
		return nil, translate(fmt.Errorf("create staging tables: %w", err))
	}
	return l, nil
}

// Close gives the connection back.
func (l *ImportLoader) Close() { l.conn.Release() }

// ImportStatus is the import's status, read on the loader's own connection
// (ErrNotFound when it is gone).
func (l *ImportLoader) ImportStatus(ctx context.Context) (string, error) {
	st, err := queries(l.conn).MapImportStatus(ctx, l.importID)
	return st, notFound(err)
}

// LocationPoint is a building's published point (NAR Location file).
type LocationPoint struct {
	LocationID string
	Lat, Lng   float64
	HasPoint   bool
}

// LoadLocations copies the buildings' points that batches will join on
// LocationID; next returns false at the end, or an error to stop.
func (l *ImportLoader) LoadLocations(ctx context.Context, next func() (LocationPoint, bool, error)) (int64, error) {
	var stop error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		p, ok, err := next()
		if err != nil {
			stop = err
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		if !p.HasPoint {
			return []any{p.LocationID, nil, nil}, nil
		}
		return []any{p.LocationID, p.Lat, p.Lng}, nil
	})
	n, err := l.conn.CopyFrom(ctx, pgx.Identifier{"imp_loc"}, []string{"loc_id", "lat", "lng"}, src)
	if stop != nil {
		return n, stop
	}
	if err != nil {
		return n, translate(fmt.Errorf("copy locations: %w", err))
	}
	if _, err := l.conn.Exec(ctx, `CREATE INDEX IF NOT EXISTS imp_loc_id_idx ON imp_loc (loc_id); ANALYZE imp_loc`); err != nil {
		return n, translate(fmt.Errorf("index locations: %w", err))
	}
	return n, nil
}

// keptSQL begins the statements on a staged batch: src is every staged row
// with its building's point (its Location row's when it has one, else the
// row's own), kept those inside the bounding box $1..$4 (if any).
const keptSQL = `
WITH src AS (
    SELECT s.*,
           CASE WHEN l.lat IS NOT NULL THEN l.lat ELSE s.lat END AS plat,
           CASE WHEN l.lat IS NOT NULL THEN l.lng ELSE s.lng END AS plng
    FROM imp_stage s LEFT JOIN imp_loc l ON l.loc_id = s.loc_id
), kept AS (
    SELECT * FROM src
    WHERE $1::float8 IS NULL
       OR (plng BETWEEN $1::float8 AND $3::float8 AND plat BETWEEN $2::float8 AND $4::float8)
)`

// joinManualSQL runs before upsertSQL, in the same transaction: a building
// of the batch that this source does not know yet and whose address an
// organizer already added by hand (a MANUAL location with the same building
// key, within $8 metres — or, where a point is missing, with the same
// postal code) joins that location instead of adding a second building:
// the location takes the source's ID, so upsertSQL updates it and a
// re-import finds it again. Each join is written to the location's history
// (action IMPORT, by the import's user $7). $5 is unused (upsertSQL's
// provider), $6 the source.
const joinManualSQL = keptSQL + `, cand AS (
    SELECT DISTINCT ON (k.loc_id) k.loc_id, m.id AS location_id
    FROM kept k
    JOIN LATERAL (
        SELECT m.id FROM map_locations m
        WHERE m.source = 'MANUAL' AND k.address_key <> '' AND m.address_key = k.address_key
          AND ((k.plat IS NOT NULL AND m.geom IS NOT NULL
                AND ST_DWithin(m.geom::geography, ST_SetSRID(ST_MakePoint(k.plng, k.plat), 4326)::geography, $8::float8))
               OR ((k.plat IS NULL OR m.geom IS NULL) AND k.postal_code <> '' AND m.postal_code = k.postal_code))
        ORDER BY m.id
        LIMIT 1
    ) m ON true
    WHERE $5::text IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM map_locations x WHERE x.source = $6::text AND x.source_id = k.loc_id)
    ORDER BY k.loc_id, k.line
), claimed AS (
    UPDATE map_locations m SET source = $6::text, source_id = c.loc_id, updated_at = now()
    FROM cand c
    WHERE m.id = c.location_id AND m.source = 'MANUAL'
    RETURNING m.id, c.loc_id
)
INSERT INTO map_location_history (location_id, user_id, action, changes)
SELECT id, $7::bigint, 'IMPORT', jsonb_build_object(
    'source', jsonb_build_object('old', 'MANUAL', 'new', $6::text),
    'sourceId', jsonb_build_object('old', NULL, 'new', loc_id))
FROM claimed`

// upsertSQL loads the staged batch. A building's point is its Location
// row's when it has one, else the row's own; the bounding box filter (if
// any) drops rows outside it or without a point. Buildings are upserted on
// (source, source_id), units on source_id (ADDR_GUID): a re-import updates
// and never duplicates. Resident data is only ever filled in, never erased,
// and a location keeps its point when the row brings none.
const upsertSQL = keptSQL + `, locs AS (
    INSERT INTO map_locations AS m (address, city, province, postal_code, geom, building_type,
        geocode_provider, geocode_confidence, geocoded_at, source, source_id, address_key, created_by)
    SELECT DISTINCT ON (k.loc_id) k.address, k.city, k.province, k.postal_code,
        CASE WHEN k.plat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(k.plng, k.plat), 4326) END,
        k.building_type,
        CASE WHEN k.plat IS NOT NULL THEN $5::text ELSE '' END,
        CASE WHEN k.plat IS NOT NULL AND $5::text <> '' THEN 100 END,
        CASE WHEN k.plat IS NOT NULL THEN now() END,
        $6::text, k.loc_id, k.address_key, $7::bigint
    FROM kept k
    ORDER BY k.loc_id, k.line
    ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
        address = EXCLUDED.address, city = EXCLUDED.city, province = EXCLUDED.province,
        postal_code = EXCLUDED.postal_code, building_type = EXCLUDED.building_type,
        address_key = EXCLUDED.address_key,
        geom = COALESCE(EXCLUDED.geom, m.geom),
        geocode_provider = CASE WHEN EXCLUDED.geom IS NOT NULL THEN EXCLUDED.geocode_provider ELSE m.geocode_provider END,
        geocode_confidence = CASE WHEN EXCLUDED.geom IS NOT NULL THEN EXCLUDED.geocode_confidence ELSE m.geocode_confidence END,
        geocoded_at = CASE WHEN EXCLUDED.geom IS NOT NULL THEN EXCLUDED.geocoded_at ELSE m.geocoded_at END,
        updated_at = now()
    RETURNING m.id, m.source_id
), units AS (
    INSERT INTO map_units AS u (location_id, unit_label, source_id, resident_name, phone, email)
    SELECT DISTINCT ON (k.unit_id) locs.id, k.unit, k.unit_id, k.resident_name, k.phone, k.email
    FROM kept k JOIN locs ON locs.source_id = k.loc_id
    ORDER BY k.unit_id, k.line DESC
    ON CONFLICT (source_id) WHERE source_id IS NOT NULL DO UPDATE SET
        location_id = EXCLUDED.location_id, unit_label = EXCLUDED.unit_label,
        resident_name = CASE WHEN EXCLUDED.resident_name <> '' THEN EXCLUDED.resident_name ELSE u.resident_name END,
        phone = CASE WHEN EXCLUDED.phone <> '' THEN EXCLUDED.phone ELSE u.phone END,
        email = CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email ELSE u.email END,
        updated_at = now()
    RETURNING (xmax = 0) AS inserted
)
SELECT CASE WHEN $1::float8 IS NULL THEN 0
            ELSE (SELECT count(DISTINCT line) FROM src) - (SELECT count(DISTINCT line) FROM kept) END,
       count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
FROM units`

// BatchResult is what a batch did.
type BatchResult struct {
	Inserted, Updated int64 // units (addresses)
	Filtered          int64 // rows outside the bounding box
}

// Load writes one batch and the part's progress in one transaction: a
// crash before the commit leaves neither, so the task that runs again
// resumes after the last batch that counted.
func (l *ImportLoader) Load(ctx context.Context, rows []ImportRow, p BatchProgress) (BatchResult, error) {
	var res BatchResult
	tx, err := l.conn.Begin(ctx)
	if err != nil {
		return res, translate(fmt.Errorf("begin batch: %w", err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	// The batch's sorts (a building's rows, a unit's rows) stay in memory.
	// Its commit does not wait for the WAL flush: a server crash may lose
	// the last batches, but their progress goes with them (same
	// transaction), so the task that runs again loads them again; and the
	// part's end is written by a synchronous commit, which flushes every
	// batch before it.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'; SET LOCAL synchronous_commit = off`); err != nil {
		return res, translate(fmt.Errorf("set batch options: %w", err))
	}
	if len(rows) > 0 {
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rows) {
				return nil, nil
			}
			r := rows[i]
			i++
			var lat, lng any
			if r.HasPoint {
				lat, lng = r.Lat, r.Lng
			}
			return []any{int32(r.Line), r.LocationID, r.UnitID, r.Unit, r.Address, r.City, r.Province,
				r.PostalCode, r.BuildingType, r.AddressKey, lat, lng, r.ResidentName, r.Phone, r.Email}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"imp_stage"}, []string{"line", "loc_id", "unit_id", "unit",
			"address", "city", "province", "postal_code", "building_type", "address_key", "lat", "lng",
			"resident_name", "phone", "email"}, src); err != nil {
			return res, translate(fmt.Errorf("copy batch: %w", err))
		}
		var b [4]any
		if l.bbox != nil {
			for j, v := range l.bbox {
				b[j] = v
			}
		}
		if l.joinRadius > 0 {
			if _, err := tx.Exec(ctx, joinManualSQL, b[0], b[1], b[2], b[3], l.provider, l.source, l.userID,
				l.joinRadius); err != nil {
				return res, translate(fmt.Errorf("join manual locations: %w", err))
			}
		}
		if err := tx.QueryRow(ctx, upsertSQL, b[0], b[1], b[2], b[3], l.provider, l.source, l.userID).
			Scan(&res.Filtered, &res.Inserted, &res.Updated); err != nil {
			return res, translate(fmt.Errorf("upsert batch: %w", err))
		}
	}
	lines := make([]skippedJSON, 0, len(p.SkippedLines))
	for _, s := range p.SkippedLines {
		lines = append(lines, skippedJSON{Line: s.Line, Reason: clipText(s.Reason, 300)})
	}
	js, err := json.Marshal(lines)
	if err != nil {
		return res, err
	}
	if err := queries(tx).AdvanceMapImportPart(ctx, db.AdvanceMapImportPartParams{
		Slot: int32(p.Slot), RowsDone: p.RowsDone, AddRead: p.Read, AddInserted: res.Inserted, AddUpdated: res.Updated,
		AddSkipped: p.Skipped, AddFiltered: p.Filtered + res.Filtered, NewSkippedLines: js,
		ImportID: l.importID, Name: l.part,
	}); err != nil {
		return res, fmt.Errorf("advance import part: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, translate(fmt.Errorf("commit batch: %w", err))
	}
	return res, nil
}

// MapImportSlots fixes a part's loader slots at n on its first load, each
// starting where the part stands, and returns them: for every slot, the
// file's data rows it has consumed in committed batches. A part that has
// slots already keeps them (and their number), whatever n is now.
func (s *Store) MapImportSlots(ctx context.Context, importID int64, name string, n int) ([]int64, error) {
	if n < 1 {
		n = 1
	}
	done, err := s.q().MapImportSlots(ctx, db.MapImportSlotsParams{N: int32(n), ImportID: importID, Name: name})
	if err != nil {
		return nil, fmt.Errorf("import %d part %s slots: %w", importID, name, notFound(err))
	}
	return done, nil
}

// StaleMapImports returns up to limit imports still QUEUED or RUNNING whose
// last change is older than before, oldest first.
func (s *Store) StaleMapImports(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	return s.q().StaleMapImports(ctx, db.StaleMapImportsParams{Before: before, MaxImports: int32(limit)})
}

// TouchMapImport records that an import still going was just looked after.
func (s *Store) TouchMapImport(ctx context.Context, id int64) error {
	return s.q().TouchMapImport(ctx, id)
}
