package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
)

// Geocode job statuses. A job is QUEUED until its planning task runs,
// RUNNING while locations are placed, DONE when every location is placed
// or given up on, FAILED when it could not be planned at all, CANCELLED
// when an organizer stopped it (what was pending stays PENDING).
const (
	GeocodeJobQueued    = "QUEUED"
	GeocodeJobRunning   = "RUNNING"
	GeocodeJobDone      = "DONE"
	GeocodeJobFailed    = "FAILED"
	GeocodeJobCancelled = "CANCELLED"
)

// Geocode job item outcomes.
const (
	GeocodeItemDone   = "DONE"
	GeocodeItemFailed = "FAILED"
)

// ErrTooManyLocations is a batch whose filter matches more locations than
// a job may hold.
var ErrTooManyLocations = errors.New("too many locations for one geocode job")

// GeocodeTarget is what geocoding reads of a location.
type GeocodeTarget struct {
	ID         int64
	Address    string
	City       string
	Province   string
	PostalCode string
	Source     string
	HasPoint   bool
	Lat, Lng   float64
}

// Query is the location's address as one line for a geocoder:
// "123 Main St, Ottawa, ON K1A 0B1".
func (g GeocodeTarget) Query() string {
	parts := []string{strings.TrimSpace(g.Address)}
	if c := strings.TrimSpace(g.City); c != "" {
		parts = append(parts, c)
	}
	tail := strings.TrimSpace(strings.TrimSpace(g.Province) + " " + strings.TrimSpace(g.PostalCode))
	if tail != "" {
		parts = append(parts, tail)
	}
	return strings.Join(parts, ", ")
}

// GeocodeTargetByID reads the address of location id.
func (s *Store) GeocodeTargetByID(ctx context.Context, id int64) (GeocodeTarget, error) {
	r, err := s.q().GeocodeTarget(ctx, id)
	if err != nil {
		return GeocodeTarget{}, notFound(err)
	}
	return GeocodeTarget{ID: r.ID, Address: r.Address, City: r.City, Province: r.Province, PostalCode: r.PostalCode,
		Source: r.Source, HasPoint: r.HasPoint, Lat: r.Lat, Lng: r.Lng}, nil
}

// GeocodedPoint is where a geocoder put a location.
type GeocodedPoint struct {
	Lat, Lng   float64
	Provider   string
	Confidence int // 0–100
}

// samePoint says whether two points are one for a location (about 1 cm).
func samePoint(lat1, lng1, lat2, lng2 float64) bool {
	return math.Abs(lat1-lat2) < 1e-7 && math.Abs(lng1-lng2) < 1e-7
}

// SetLocationGeocode stores p on location id and records a GEOCODE history
// row (old and new latitude, longitude, provider, confidence) by userID (0:
// nobody). Storing the same result again changes only geocoded_at and adds
// no history, so a task that runs twice leaves one row. It reports whether
// anything but geocoded_at changed; a missing location is ErrNotFound.
func (s *Store) SetLocationGeocode(ctx context.Context, id int64, p GeocodedPoint, userID int64) (bool, error) {
	changed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		old, err := q.GeocodeTargetForUpdate(ctx, id)
		if err != nil {
			return notFound(err)
		}
		conf := int16(max(0, min(100, p.Confidence)))
		if old.HasPoint && samePoint(old.Lat, old.Lng, p.Lat, p.Lng) && old.GeocodeProvider == p.Provider &&
			old.GeocodeConfidence != nil && *old.GeocodeConfidence == conf {
			return q.TouchLocationGeocodedAt(ctx, id)
		}
		changed = true
		if err := q.SetLocationPoint(ctx, db.SetLocationPointParams{Lat: p.Lat, Lng: p.Lng, Provider: p.Provider,
			Confidence: conf, ID: id}); err != nil {
			return fmt.Errorf("set point of location %d: %w", id, err)
		}
		type change struct {
			Old any `json:"old"`
			New any `json:"new"`
		}
		var oldLat, oldLng, oldConf any
		if old.HasPoint {
			oldLat, oldLng = old.Lat, old.Lng
		}
		if old.GeocodeConfidence != nil {
			oldConf = *old.GeocodeConfidence
		}
		changes, err := json.Marshal(map[string]change{
			"latitude":          {oldLat, p.Lat},
			"longitude":         {oldLng, p.Lng},
			"geocodeProvider":   {old.GeocodeProvider, p.Provider},
			"geocodeConfidence": {oldConf, conf},
		})
		if err != nil {
			return err
		}
		return q.AddGeocodeHistory(ctx, db.AddGeocodeHistoryParams{LocationID: id, UserID: optID(userID), Changes: changes})
	})
	return changed, err
}

// NARCandidate is an imported register building with a point.
type NARCandidate struct {
	ID         int64
	Address    string
	City       string
	Province   string
	PostalCode string
	Lat, Lng   float64
	Units      []string // unit labels as imported ("101", "APT 4")
	Meters     float64  // distance from the asked point (NearestNAR only)
}

// NARByKeys returns the register buildings (source NAR, with a point) whose
// address_key is one of keys (address.Key.Building().String()), with their
// unit labels, at most 50.
func (s *Store) NARByKeys(ctx context.Context, keys []string) ([]NARCandidate, error) {
	rows, err := s.q().NARLocationsByKey(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("register buildings by key: %w", err)
	}
	out := make([]NARCandidate, 0, len(rows))
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		out = append(out, NARCandidate{ID: r.ID, Address: r.Address, City: r.City, Province: r.Province,
			PostalCode: r.PostalCode, Lat: r.Lat, Lng: r.Lng})
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	units, err := s.q().NARUnitLabels(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("register units: %w", err)
	}
	for _, u := range units {
		for i := range out {
			if out[i].ID == u.LocationID {
				out[i].Units = append(out[i].Units, u.UnitLabel)
			}
		}
	}
	return out, nil
}

// NearestNAR returns the register building nearest to a point (found
// through the GiST index) with its distance in metres; ErrNotFound when
// there is none at all.
func (s *Store) NearestNAR(ctx context.Context, lat, lng float64) (NARCandidate, error) {
	rows, err := s.q().NARNearest(ctx, db.NARNearestParams{Lat: lat, Lng: lng})
	if err != nil {
		return NARCandidate{}, fmt.Errorf("nearest register building: %w", err)
	}
	if len(rows) == 0 {
		return NARCandidate{}, ErrNotFound
	}
	r := rows[0]
	return NARCandidate{ID: r.ID, Address: r.Address, City: r.City, Province: r.Province, PostalCode: r.PostalCode,
		Lat: r.Lat, Lng: r.Lng, Meters: r.Meters}, nil
}

// GeocodeJob is a batch of locations the geocode fleet places.
type GeocodeJob struct {
	ID         int64
	Status     string
	Total      int
	Done       int // placed
	Failed     int // given up on
	Error      string
	CreatedBy  *int64
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

func geocodeJobFromDB(j db.MapGeocodeJob) GeocodeJob {
	return GeocodeJob{ID: j.ID, Status: j.Status, Total: int(j.Total), Done: int(j.Done), Failed: int(j.Failed),
		Error: j.Error, CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt,
		FinishedAt: j.FinishedAt, UpdatedAt: j.UpdatedAt}
}

// GeocodeFilter picks the locations of a batch job.
type GeocodeFilter struct {
	WithoutPoint bool   // only locations without a point
	PostalPrefix string // "K1A 0", as stored (upper case, space after the third character)
	Source       string // NAR, CSV or MANUAL; "" any
	City         string // compared without case; "" any
}

// MissingLocations returns up to ten of ids that name no location.
func (s *Store) MissingLocations(ctx context.Context, ids []int64) ([]int64, error) {
	return s.q().MissingLocationIDs(ctx, ids)
}

// CreateGeocodeJobForIDs records a job for the locations ids (those that
// exist; duplicates count once). request is kept as the job's record.
func (s *Store) CreateGeocodeJobForIDs(ctx context.Context, ids []int64, request any, userID int64) (GeocodeJob, error) {
	return s.createGeocodeJob(ctx, request, userID, func(q *db.Queries, jobID int64) (int64, error) {
		return q.AddGeocodeItemsByIDs(ctx, db.AddGeocodeItemsByIDsParams{JobID: jobID, Ids: ids})
	})
}

// CreateGeocodeJobForFilter records a job for the locations f matches; more
// than maxItems is ErrTooManyLocations and records nothing.
func (s *Store) CreateGeocodeJobForFilter(ctx context.Context, f GeocodeFilter, maxItems int, request any, userID int64) (GeocodeJob, error) {
	return s.createGeocodeJob(ctx, request, userID, func(q *db.Queries, jobID int64) (int64, error) {
		n, err := q.AddGeocodeItemsByFilter(ctx, db.AddGeocodeItemsByFilterParams{JobID: jobID,
			WithoutPoint: f.WithoutPoint, PostalPrefix: optText(f.PostalPrefix), Source: optText(f.Source),
			City: optText(f.City), MaxItems: int32(min(maxItems, math.MaxInt32-1) + 1)})
		if err == nil && n > int64(maxItems) {
			return 0, fmt.Errorf("%w: the filter matches more than %d", ErrTooManyLocations, maxItems)
		}
		return n, err
	})
}

func (s *Store) createGeocodeJob(ctx context.Context, request any, userID int64,
	add func(*db.Queries, int64) (int64, error)) (GeocodeJob, error) {
	req, err := json.Marshal(request)
	if err != nil {
		return GeocodeJob{}, fmt.Errorf("encode job request: %w", err)
	}
	var job GeocodeJob
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		id, err := q.CreateGeocodeJob(ctx, db.CreateGeocodeJobParams{Request: req, CreatedBy: optID(userID)})
		if err != nil {
			return fmt.Errorf("create geocode job: %w", err)
		}
		n, err := add(q, id)
		if err != nil {
			return fmt.Errorf("add locations to geocode job: %w", err)
		}
		j, err := q.SetGeocodeJobTotal(ctx, db.SetGeocodeJobTotalParams{ID: id, Total: int32(n)})
		if err != nil {
			return fmt.Errorf("set geocode job total: %w", err)
		}
		job = geocodeJobFromDB(j)
		return nil
	})
	return job, err
}

// GeocodeJobByID reads a job.
func (s *Store) GeocodeJobByID(ctx context.Context, id int64) (GeocodeJob, error) {
	j, err := s.q().GeocodeJobByID(ctx, id)
	if err != nil {
		return GeocodeJob{}, notFound(err)
	}
	return geocodeJobFromDB(j), nil
}

// StartGeocodeJob moves a QUEUED job to RUNNING (nothing otherwise).
func (s *Store) StartGeocodeJob(ctx context.Context, id int64) error {
	return s.q().StartGeocodeJob(ctx, id)
}

// FailGeocodeJob ends a QUEUED or RUNNING job FAILED with reason.
func (s *Store) FailGeocodeJob(ctx context.Context, id int64, reason string) error {
	return s.q().FailGeocodeJob(ctx, db.FailGeocodeJobParams{ID: id, Error: reason})
}

// PendingGeocodeItems returns up to limit location IDs of job that are
// still PENDING, in order, in (afterID, toID].
func (s *Store) PendingGeocodeItems(ctx context.Context, jobID, afterID, toID int64, limit int) ([]int64, error) {
	return s.q().PendingGeocodeItems(ctx, db.PendingGeocodeItemsParams{JobID: jobID, AfterID: afterID, ToID: toID,
		MaxItems: int32(limit)})
}

// FinishGeocodeItem moves a PENDING item of job to status (GeocodeItemDone
// or GeocodeItemFailed) and counts it in the job's progress, ending the job
// DONE with its last item. An item already finished is left alone and
// counted nothing: it reports false.
func (s *Store) FinishGeocodeItem(ctx context.Context, jobID, locationID int64, status, provider, reason string) (bool, error) {
	if status != GeocodeItemDone && status != GeocodeItemFailed {
		return false, fmt.Errorf("finish geocode item: bad status %q", status)
	}
	n, err := s.q().FinishGeocodeItem(ctx, db.FinishGeocodeItemParams{JobID: jobID, LocationID: locationID,
		Status: status, Provider: provider, Error: reason})
	if err != nil {
		return false, fmt.Errorf("finish geocode item %d/%d: %w", jobID, locationID, err)
	}
	return n > 0, nil
}

// GeocodeItemIDs returns up to limit location IDs of job after afterID, in
// order, whatever their status: the planner cuts chunks from them, the same
// chunks however often it runs.
func (s *Store) GeocodeItemIDs(ctx context.Context, jobID, afterID int64, limit int) ([]int64, error) {
	return s.q().GeocodeItemIDs(ctx, db.GeocodeItemIDsParams{JobID: jobID, AfterID: afterID, MaxItems: int32(limit)})
}

// CancelGeocodeJob ends a QUEUED or RUNNING job CANCELLED and returns it.
// A job that has ended already is returned as it is with ErrConflict;
// ErrNotFound when there is no such job.
func (s *Store) CancelGeocodeJob(ctx context.Context, id int64) (GeocodeJob, error) {
	j, err := s.q().CancelGeocodeJob(ctx, id)
	if err == nil {
		return geocodeJobFromDB(j), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return GeocodeJob{}, err
	}
	job, err := s.GeocodeJobByID(ctx, id)
	if err != nil {
		return GeocodeJob{}, err
	}
	return job, ErrConflict
}

// StaleGeocodeJobs returns up to limit jobs still QUEUED or RUNNING whose
// last change is older than before, oldest first.
func (s *Store) StaleGeocodeJobs(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	return s.q().StaleGeocodeJobs(ctx, db.StaleGeocodeJobsParams{Before: before, MaxJobs: int32(limit)})
}

// TouchGeocodeJob records that a job still going was just looked after.
func (s *Store) TouchGeocodeJob(ctx context.Context, id int64) error {
	return s.q().TouchGeocodeJob(ctx, id)
}
