package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"changemaker/storage/internal/db"
)

// Canvass session statuses.
const (
	SessionActive    = "ACTIVE"
	SessionCompleted = "COMPLETED"
	SessionAbandoned = "ABANDONED"
)

// Visit outcomes.
const (
	OutcomeNotHome        = "NOT_HOME"
	OutcomeRefused        = "REFUSED"
	OutcomeMoved          = "MOVED"
	OutcomeSpokeWith      = "SPOKE_WITH"
	OutcomeLeftLiterature = "LEFT_LITERATURE"
	OutcomeComeBackLater  = "COME_BACK_LATER"
)

// VisitOutcomes lists every outcome.
var VisitOutcomes = []string{OutcomeNotHome, OutcomeRefused, OutcomeMoved, OutcomeSpokeWith,
	OutcomeLeftLiterature, OutcomeComeBackLater}

// ErrSessionNotActive is an end or a track upload for a session that has ended.
var ErrSessionNotActive = errors.New("canvass session is not active")

// CanvassSession is one volunteer's stretch of door knocking in a cut.
type CanvassSession struct {
	ID             int64
	UserID         int64
	CutID          *int64
	ShiftID        *int64
	Status         string
	StartedAt      time.Time
	EndedAt        *time.Time
	LastActivityAt time.Time
}

func sessionFromDB(r db.MapCanvassSession) CanvassSession {
	return CanvassSession{ID: r.ID, UserID: r.UserID, CutID: r.CutID, ShiftID: r.ShiftID, Status: r.Status,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt, LastActivityAt: r.LastActivityAt}
}

// CutExists reports whether cut id exists.
func (s *Store) CutExists(ctx context.Context, id int64) (bool, error) {
	return s.q().CutExists(ctx, id)
}

// StartCanvassSession opens an ACTIVE session for user in cut.
func (s *Store) StartCanvassSession(ctx context.Context, userID, cutID int64, shiftID *int64) (CanvassSession, error) {
	r, err := s.q().CreateCanvassSession(ctx, db.CreateCanvassSessionParams{UserID: userID, CutID: &cutID,
		ShiftID: shiftID})
	if err != nil {
		return CanvassSession{}, fmt.Errorf("start canvass session: %w", err)
	}
	return sessionFromDB(r), nil
}

// CanvassSessionByID finds a session.
func (s *Store) CanvassSessionByID(ctx context.Context, id int64) (CanvassSession, error) {
	r, err := s.q().CanvassSessionByID(ctx, id)
	return sessionFromDB(r), notFound(err)
}

// EndCanvassSession marks an ACTIVE session COMPLETED; ErrSessionNotActive
// when it has ended already.
func (s *Store) EndCanvassSession(ctx context.Context, id int64) (CanvassSession, error) {
	r, err := s.q().EndCanvassSession(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.CanvassSessionByID(ctx, id); err != nil {
			return CanvassSession{}, err
		}
		return CanvassSession{}, ErrSessionNotActive
	}
	if err != nil {
		return CanvassSession{}, fmt.Errorf("end canvass session %d: %w", id, err)
	}
	return sessionFromDB(r), nil
}

// AbandonIdleSessions marks ABANDONED the ACTIVE sessions with no activity
// since cutoff, and returns how many.
func (s *Store) AbandonIdleSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.q().AbandonIdleSessions(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("abandon idle sessions: %w", err)
	}
	return n, nil
}

// Visit is one knock on one door.
type Visit struct {
	ID           int64
	ClientID     uuid.UUID
	SessionID    *int64
	UserID       *int64
	LocationID   int64
	UnitID       *int64
	Outcome      string
	SupportLevel *int
	Notes        string
	VisitedAt    time.Time
	CreatedAt    time.Time
}

func intFromInt16(n *int16) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

func visitFromDB(r db.MapCanvassVisit) Visit {
	return Visit{ID: r.ID, ClientID: r.ClientID, SessionID: r.SessionID, UserID: r.UserID, LocationID: r.LocationID,
		UnitID: r.UnitID, Outcome: r.Outcome, SupportLevel: intFromInt16(r.SupportLevel), Notes: r.Notes,
		VisitedAt: r.VisitedAt, CreatedAt: r.CreatedAt}
}

// NewVisit is one visit as a volunteer posts it. LocationID or UnitID (or
// both, when they agree) names the door.
type NewVisit struct {
	ClientID     uuid.UUID
	SessionID    *int64
	LocationID   int64
	UnitID       int64
	Outcome      string
	SupportLevel *int
	Notes        string
	VisitedAt    time.Time
}

// VisitResult is what became of one posted visit.
type VisitResult struct {
	Visit   Visit
	Created bool // false: its clientId was recorded before; nothing new was
}

// VisitError is a posted visit that cannot be recorded: Index is its place
// in the batch, Field the field at fault.
type VisitError struct {
	Index   int
	Field   string
	Message string
}

func (e *VisitError) Error() string {
	return fmt.Sprintf("visit %d: %s %s", e.Index, e.Field, e.Message)
}

// ErrClientIDTaken is a clientId another volunteer's visit already holds.
var ErrClientIDTaken = errors.New("clientId belongs to another volunteer's visit")

// RecordVisits records a batch of visits by user in one transaction. A
// clientId recorded before (earlier in the batch, or in an earlier request)
// records nothing and returns the visit first recorded with it. A support
// level is written to the unit (the building's only unit when no unit is
// named; a building without units gets its building unit), with a VISIT
// row in the location's history. Sessions named must be the user's own.
//
// Two simultaneous batches that share clientIds or units may deadlock on
// their locks; Postgres then aborts one, which is run again (up to three
// times), so the phone sees an answer, not a 500.
func (s *Store) RecordVisits(ctx context.Context, userID int64, visits []NewVisit) ([]VisitResult, error) {
	var out []VisitResult
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		out, err = s.recordVisits(ctx, userID, visits)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			break
		}
	}
	return out, err
}

func (s *Store) recordVisits(ctx context.Context, userID int64, visits []NewVisit) ([]VisitResult, error) {
	out := make([]VisitResult, 0, len(visits))
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		if err := checkVisitRefs(ctx, q, userID, visits); err != nil {
			return err
		}
		units, err := unitLocations(ctx, q, visits)
		if err != nil {
			return err
		}
		touched := map[int64]bool{}
		for i, v := range visits {
			locationID := v.LocationID
			if v.UnitID != 0 {
				locationID = units[v.UnitID]
			}
			if old, err := q.VisitByClientID(ctx, v.ClientID); err == nil {
				if old.UserID == nil || *old.UserID != userID {
					return fmt.Errorf("visit %d: %w", i, ErrClientIDTaken)
				}
				out = append(out, VisitResult{Visit: visitFromDB(old)})
				continue
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("find visit: %w", err)
			}
			var unitID *int64
			if v.UnitID != 0 {
				unitID = &v.UnitID
			}
			var oldSupport *int16
			if v.SupportLevel != nil {
				unitID, oldSupport, err = supportUnit(ctx, q, i, locationID, unitID, int16(*v.SupportLevel))
				if err != nil {
					return err
				}
			}
			var level *int16
			if v.SupportLevel != nil {
				l := int16(*v.SupportLevel)
				level = &l
			}
			r, err := q.InsertVisit(ctx, db.InsertVisitParams{ClientID: v.ClientID, SessionID: v.SessionID,
				UserID: &userID, LocationID: locationID, UnitID: unitID, Outcome: v.Outcome, SupportLevel: level,
				Notes: v.Notes, VisitedAt: v.VisitedAt})
			if errors.Is(err, pgx.ErrNoRows) {
				// Recorded by a simultaneous request since we looked.
				old, err := q.VisitByClientID(ctx, v.ClientID)
				if err != nil {
					return fmt.Errorf("find visit: %w", err)
				}
				if old.UserID == nil || *old.UserID != userID {
					return fmt.Errorf("visit %d: %w", i, ErrClientIDTaken)
				}
				out = append(out, VisitResult{Visit: visitFromDB(old)})
				continue
			}
			if err != nil {
				return fmt.Errorf("insert visit: %w", err)
			}
			if level != nil {
				if err := q.SetUnitSupport(ctx, db.SetUnitSupportParams{ID: *unitID, SupportLevel: level}); err != nil {
					return fmt.Errorf("set support level: %w", err)
				}
			}
			changes := map[string]any{"outcome": map[string]any{"old": nil, "new": v.Outcome}, "visitId": r.ID}
			if level != nil {
				changes["supportLevel"] = map[string]any{"old": oldSupport, "new": *level}
			}
			js, err := json.Marshal(changes)
			if err != nil {
				return fmt.Errorf("encode visit history: %w", err)
			}
			if err := q.InsertVisitHistory(ctx, db.InsertVisitHistoryParams{LocationID: locationID, UnitID: unitID,
				UserID: &userID, Changes: js}); err != nil {
				return fmt.Errorf("visit history: %w", err)
			}
			if v.SessionID != nil && !touched[*v.SessionID] {
				touched[*v.SessionID] = true
				if err := q.TouchCanvassSession(ctx, *v.SessionID); err != nil {
					return fmt.Errorf("touch session: %w", err)
				}
			}
			out = append(out, VisitResult{Visit: visitFromDB(r), Created: true})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkVisitRefs checks that the sessions named are the user's and the
// locations exist.
func checkVisitRefs(ctx context.Context, q *db.Queries, userID int64, visits []NewVisit) error {
	sessions := map[int64]bool{}
	var locIDs []int64
	for _, v := range visits {
		if v.SessionID != nil {
			sessions[*v.SessionID] = true
		}
		if v.UnitID == 0 {
			locIDs = append(locIDs, v.LocationID)
		}
	}
	for id := range sessions {
		sess, err := q.CanvassSessionByID(ctx, id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("load session %d: %w", id, err)
		}
		if errors.Is(err, pgx.ErrNoRows) || sess.UserID != userID {
			for i, v := range visits {
				if v.SessionID != nil && *v.SessionID == id {
					return &VisitError{Index: i, Field: "sessionId", Message: "is not one of your sessions"}
				}
			}
		}
	}
	if len(locIDs) > 0 {
		found, err := q.LocationIDsExisting(ctx, locIDs)
		if err != nil {
			return fmt.Errorf("check locations: %w", err)
		}
		have := map[int64]bool{}
		for _, id := range found {
			have[id] = true
		}
		for i, v := range visits {
			if v.UnitID == 0 && !have[v.LocationID] {
				return &VisitError{Index: i, Field: "locationId", Message: "names no location"}
			}
		}
	}
	return nil
}

// unitLocations maps the units the visits name to their locations, and
// checks a location named beside a unit is the unit's.
func unitLocations(ctx context.Context, q *db.Queries, visits []NewVisit) (map[int64]int64, error) {
	var ids []int64
	for _, v := range visits {
		if v.UnitID != 0 {
			ids = append(ids, v.UnitID)
		}
	}
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.UnitLocations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("check units: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.LocationID
	}
	for i, v := range visits {
		if v.UnitID == 0 {
			continue
		}
		loc, ok := out[v.UnitID]
		if !ok {
			return nil, &VisitError{Index: i, Field: "unitId", Message: "names no unit"}
		}
		if v.LocationID != 0 && v.LocationID != loc {
			return nil, &VisitError{Index: i, Field: "unitId", Message: "is not a unit of locationId"}
		}
	}
	return out, nil
}

// supportUnit locks the unit a support level goes to and returns it with its
// level before: the unit named, else the building's only unit, else a new
// building unit. A building of several units needs the unit named.
func supportUnit(ctx context.Context, q *db.Queries, i int, locationID int64, unitID *int64, level int16) (*int64, *int16, error) {
	if unitID != nil {
		old, err := q.UnitSupportForUpdate(ctx, *unitID)
		if err != nil {
			return nil, nil, fmt.Errorf("lock unit %d: %w", *unitID, notFound(err))
		}
		return unitID, old, nil
	}
	units, err := q.LocationUnitsForUpdate(ctx, locationID)
	if err != nil {
		return nil, nil, fmt.Errorf("lock units of location %d: %w", locationID, err)
	}
	switch len(units) {
	case 0:
		id, err := q.CreateBuildingUnit(ctx, db.CreateBuildingUnitParams{LocationID: locationID, SupportLevel: &level})
		if err != nil {
			return nil, nil, fmt.Errorf("create building unit: %w", err)
		}
		return &id, nil, nil
	case 1:
		return &units[0].ID, units[0].SupportLevel, nil
	}
	return nil, nil, &VisitError{Index: i, Field: "unitId",
		Message: "is required with supportLevel: the building has several units"}
}

// RouteStop is a building on a walking route.
type RouteStop struct {
	LocationID int64
	Address    string
	Lat, Lng   float64
}

// RouteStops lists the buildings of cutID a session still has to knock on,
// nearest (lat, lng) first, at most max.
func (s *Store) RouteStops(ctx context.Context, sessionID, cutID int64, lat, lng float64, max int) ([]RouteStop, error) {
	rows, err := s.q().RouteStops(ctx, db.RouteStopsParams{CutID: cutID, SessionID: &sessionID, StartLat: lat,
		StartLng: lng, MaxStops: int64(max)})
	if err != nil {
		return nil, fmt.Errorf("route stops: %w", err)
	}
	return convert(rows, func(r db.RouteStopsRow) RouteStop {
		return RouteStop{LocationID: r.ID, Address: r.Address, Lat: r.Lat, Lng: r.Lng}
	}), nil
}

// TrackPoint is one GPS fix of a session. Accuracy < 0 is unknown.
type TrackPoint struct {
	Lat, Lng   float64
	Accuracy   float32
	RecordedAt time.Time
}

// AddTrackPoints stores a batch of fixes of an ACTIVE session and returns
// the session's total.
func (s *Store) AddTrackPoints(ctx context.Context, sessionID int64, points []TrackPoint) (int64, error) {
	var total int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		arg := db.InsertTrackPointsParams{SessionID: sessionID}
		for _, p := range points {
			arg.Lats = append(arg.Lats, p.Lat)
			arg.Lngs = append(arg.Lngs, p.Lng)
			arg.Accuracies = append(arg.Accuracies, p.Accuracy)
			arg.Recorded = append(arg.Recorded, p.RecordedAt)
		}
		if _, err := q.InsertTrackPoints(ctx, arg); err != nil {
			return fmt.Errorf("insert track points: %w", err)
		}
		if err := q.TouchCanvassSession(ctx, sessionID); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		var err error
		total, err = q.CountTrackPoints(ctx, sessionID)
		return err
	})
	return total, err
}

// RecentVisit is a visit as the activity feed shows it.
type RecentVisit struct {
	Visit
	UserName string
	Address  string
}

// RecentVisits lists the latest visits recorded, newest first.
func (s *Store) RecentVisits(ctx context.Context, limit int) ([]RecentVisit, error) {
	rows, err := s.q().RecentVisits(ctx, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	return convert(rows, func(r db.RecentVisitsRow) RecentVisit {
		return RecentVisit{Visit: Visit{ID: r.ID, ClientID: r.ClientID, SessionID: r.SessionID, UserID: r.UserID,
			LocationID: r.LocationID, UnitID: r.UnitID, Outcome: r.Outcome, SupportLevel: intFromInt16(r.SupportLevel),
			Notes: r.Notes, VisitedAt: r.VisitedAt, CreatedAt: r.CreatedAt}, UserName: r.UserName, Address: r.Address}
	}), nil
}

// ActiveSession is an ACTIVE session as the activity feed shows it.
type ActiveSession struct {
	CanvassSession
	UserName string
	CutName  string
	Visits   int
}

// ActiveSessions lists ACTIVE sessions, most recently active first.
func (s *Store) ActiveSessions(ctx context.Context, limit int) ([]ActiveSession, error) {
	rows, err := s.q().ActiveSessions(ctx, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("active sessions: %w", err)
	}
	return convert(rows, func(r db.ActiveSessionsRow) ActiveSession {
		return ActiveSession{CanvassSession: CanvassSession{ID: r.ID, UserID: r.UserID, CutID: r.CutID,
			ShiftID: r.ShiftID, Status: r.Status, StartedAt: r.StartedAt, LastActivityAt: r.LastActivityAt},
			UserName: r.UserName, CutName: r.CutName, Visits: int(r.Visits)}
	}), nil
}

// LeaderboardEntry is one volunteer's count.
type LeaderboardEntry struct {
	UserID        int64
	Name          string
	Visits        int
	Conversations int
	Doors         int
}

// Leaderboard ranks volunteers by visits since since.
func (s *Store) Leaderboard(ctx context.Context, since time.Time, limit int) ([]LeaderboardEntry, error) {
	rows, err := s.q().Leaderboard(ctx, db.LeaderboardParams{Since: since, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	return convert(rows, func(r db.LeaderboardRow) LeaderboardEntry {
		return LeaderboardEntry{UserID: r.UserID, Name: r.Name, Visits: int(r.Visits),
			Conversations: int(r.Conversations), Doors: int(r.Doors)}
	}), nil
}

// CanvassStats are one volunteer's totals.
type CanvassStats struct {
	Visits         int
	ByOutcome      map[string]int
	Doors          int
	VisitsToday    int
	Sessions       int
	ActiveSessions int
}

// CanvassStatsOf counts a volunteer's visits and sessions; today is the
// start of their day.
func (s *Store) CanvassStatsOf(ctx context.Context, userID int64, today time.Time) (CanvassStats, error) {
	st := CanvassStats{ByOutcome: map[string]int{}}
	for _, o := range VisitOutcomes {
		st.ByOutcome[o] = 0
	}
	rows, err := s.q().UserVisitOutcomes(ctx, &userID)
	if err != nil {
		return st, fmt.Errorf("visit outcomes: %w", err)
	}
	for _, r := range rows {
		st.ByOutcome[r.Outcome] = int(r.Visits)
		st.Visits += int(r.Visits)
	}
	t, err := s.q().UserCanvassTotals(ctx, db.UserCanvassTotalsParams{UserID: &userID, Today: today})
	if err != nil {
		return st, fmt.Errorf("canvass totals: %w", err)
	}
	st.Doors, st.VisitsToday, st.Sessions, st.ActiveSessions = int(t.Doors), int(t.VisitsToday), int(t.Sessions),
		int(t.ActiveSessions)
	return st, nil
}

// CutRef names a cut.
type CutRef struct {
	ID    int64
	Name  string
	Color string
}

// AssignedCuts lists the cuts of a volunteer's upcoming shifts and active sessions.
func (s *Store) AssignedCuts(ctx context.Context, userID int64, shifts []Shift) ([]CutRef, error) {
	ids := []int64{}
	for _, sh := range shifts {
		if sh.CutID != nil {
			ids = append(ids, *sh.CutID)
		}
	}
	more, err := s.q().UserSessionCuts(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("session cuts: %w", err)
	}
	ids = append(ids, more...)
	rows, err := s.q().CutNames(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("cut names: %w", err)
	}
	return convert(rows, func(r db.CutNamesRow) CutRef { return CutRef{ID: r.ID, Name: r.Name, Color: r.Color} }), nil
}

// TrackPoints returns up to limit GPS fixes of a session in the order they
// were recorded (Accuracy -1: not given).
func (s *Store) TrackPoints(ctx context.Context, sessionID int64, limit int) ([]TrackPoint, error) {
	rows, err := s.q().ListTrackPoints(ctx, db.ListTrackPointsParams{SessionID: sessionID, MaxPoints: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]TrackPoint, len(rows))
	for i, r := range rows {
		out[i] = TrackPoint{Lat: r.Lat, Lng: r.Lng, Accuracy: -1, RecordedAt: r.RecordedAt}
		if r.AccuracyM != nil {
			out[i].Accuracy = *r.AccuracyM
		}
	}
	return out, nil
}
