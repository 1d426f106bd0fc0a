// Package mapcanvass serves canvassing: sessions in a cut, the visits a
// volunteer records at each door (idempotent by the phone's clientId), the
// walking route through the doors left, GPS tracks, and the activity,
// leaderboard and statistics built on them.
package mapcanvass

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/geo"
	"changemaker/storage"
)

const noSuchSession = "no such canvass session"

// Options are what the module needs.
type Options struct {
	Store    *storage.Store
	Auth     *httpx.Auth
	Limiter  *httpx.RateLimiter
	Config   config.CanvassConfig
	Registry prometheus.Registerer // takes the visit metric; may be nil
	Log      *slog.Logger
}

// Handler serves the canvassing routes.
type Handler struct {
	Options
	visits *prometheus.CounterVec
}

// New builds the module and registers its metric.
func New(o Options) (*Handler, error) {
	h := &Handler{Options: o, visits: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cm_map_canvass_visits_total",
		Help: "Canvass visits recorded (repeats of a clientId not counted), by outcome.",
	}, []string{"outcome"})}
	for _, o := range storage.VisitOutcomes {
		h.visits.WithLabelValues(o) // every outcome shows, at 0
	}
	if o.Registry != nil {
		if err := o.Registry.Register(h.visits); err != nil {
			return nil, fmt.Errorf("register canvass metrics: %w", err)
		}
	}
	return h, nil
}

// Routes mounts the module on r (the /api group), middleware per route.
func (h *Handler) Routes(r fiber.Router) {
	admin := h.Auth.Require(storage.RoleMapAdmin)
	volunteer := h.Auth.Require()
	r.Post("/map/canvass/sessions", volunteer, h.limit, h.startSession)
	r.Get("/map/canvass/sessions/:id", volunteer, h.getSession)
	r.Post("/map/canvass/sessions/:id/end", volunteer, h.endSession)
	r.Get("/map/canvass/sessions/:id/route", volunteer, h.route)
	r.Post("/map/canvass/sessions/:id/track", volunteer, h.limit, h.track)
	r.Get("/map/canvass/sessions/:id/track", volunteer, h.getTrack)
	r.Post("/map/canvass/visits", volunteer, h.limit, h.recordVisits)
	r.Get("/map/canvass/activity", admin, h.activity)
	r.Get("/map/canvass/leaderboard", volunteer, h.leaderboard)
	r.Get("/map/canvass/stats/me", volunteer, h.myStats)
	r.Get("/map/canvass/assignments", volunteer, h.assignments)
}

// limit applies the per-volunteer limit on canvassing writes.
func (h *Handler) limit(c *fiber.Ctx) error {
	u := httpx.CurrentUser(c)
	if err := h.Limiter.Check(c, httpx.Limit{Name: "map-canvass", Max: h.Config.RateLimit,
		Window: h.Config.RateWindow}, "u:"+strconv.FormatInt(u.ID, 10)); err != nil {
		return err
	}
	return c.Next()
}

func isAdmin(u *storage.User) bool {
	return u.Role == storage.RoleSuperAdmin || u.Role == storage.RoleMapAdmin
}

// session loads session :id: the caller's own, or any for an admin unless
// ownOnly. Another volunteer's session is a 404, as if it did not exist.
func (h *Handler) session(c *fiber.Ctx, ownOnly bool) (storage.CanvassSession, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.CanvassSession{}, err
	}
	s, err := h.Store.CanvassSessionByID(c.UserContext(), id)
	if err != nil {
		return s, httpx.NotFoundf(err, noSuchSession)
	}
	u := httpx.CurrentUser(c)
	if s.UserID != u.ID && (ownOnly || !isAdmin(u)) {
		return storage.CanvassSession{}, httpx.NotFound(noSuchSession)
	}
	return s, nil
}

func (h *Handler) startSession(c *fiber.Ctx) error {
	var req sessionRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	if req.CutID <= 0 {
		v.Add("cutId", "must be a positive integer")
	} else {
		ok, err := h.Store.CutExists(c.UserContext(), req.CutID)
		if err != nil {
			return err
		}
		v.Check(ok, "cutId", "names no cut")
	}
	if req.ShiftID != nil {
		if *req.ShiftID <= 0 {
			v.Add("shiftId", "must be a positive integer")
		} else if _, err := h.Store.ShiftByID(c.UserContext(), *req.ShiftID); errors.Is(err, storage.ErrNotFound) {
			v.Add("shiftId", "names no shift")
		} else if err != nil {
			return err
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	s, err := h.Store.StartCanvassSession(c.UserContext(), httpx.CurrentUser(c).ID, req.CutID, req.ShiftID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"session": toSessionView(s)})
}

func (h *Handler) getSession(c *fiber.Ctx) error {
	s, err := h.session(c, false)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"session": toSessionView(s)})
}

func (h *Handler) endSession(c *fiber.Ctx) error {
	s, err := h.session(c, false)
	if err != nil {
		return err
	}
	s, err = h.Store.EndCanvassSession(c.UserContext(), s.ID)
	if errors.Is(err, storage.ErrSessionNotActive) {
		return httpx.Conflict("this session has ended already")
	}
	if err != nil {
		return httpx.NotFoundf(err, noSuchSession)
	}
	return c.JSON(fiber.Map{"session": toSessionView(s)})
}

// coordinate reads a query coordinate in [-max, max].
func coordinate(c *fiber.Ctx, v *httpx.Validator, name string, max float64) float64 {
	x, err := strconv.ParseFloat(c.Query(name), 64)
	if err != nil || math.IsNaN(x) || math.Abs(x) > max {
		v.Add(name, fmt.Sprintf("must be a number from -%g to %g", max, max))
		return 0
	}
	return x
}

func (h *Handler) route(c *fiber.Ctx) error {
	s, err := h.session(c, false)
	if err != nil {
		return err
	}
	var v httpx.Validator
	start := geo.LatLng{Lat: coordinate(c, &v, "lat", 90), Lng: coordinate(c, &v, "lng", 180)}
	if err := v.Err(); err != nil {
		return err
	}
	if s.CutID == nil {
		return httpx.Conflict("this session's cut was deleted")
	}
	stops, err := h.Store.RouteStops(c.UserContext(), s.ID, *s.CutID, start.Lat, start.Lng, h.Config.RouteMaxStops+1)
	if err != nil {
		return err
	}
	truncated := len(stops) > h.Config.RouteMaxStops
	if truncated {
		stops = stops[:h.Config.RouteMaxStops]
	}
	pts := make([]geo.LatLng, len(stops))
	for i, st := range stops {
		pts[i] = geo.LatLng{Lat: st.Lat, Lng: st.Lng}
	}
	order := geo.OrderRoute(start, pts)
	out := make([]routeStopView, len(order))
	prev, total := start, 0.0
	for i, idx := range order {
		leg := geo.Distance(prev, pts[idx])
		total += leg
		prev = pts[idx]
		st := stops[idx]
		out[i] = routeStopView{Order: i + 1, LocationID: st.LocationID, Address: st.Address, Latitude: st.Lat,
			Longitude: st.Lng, LegMeters: math.Round(leg*10) / 10}
	}
	return c.JSON(fiber.Map{"sessionId": s.ID, "cutId": *s.CutID,
		"start":       fiber.Map{"latitude": start.Lat, "longitude": start.Lng},
		"stops":       out,
		"totalMeters": math.Round(total*10) / 10,
		"truncated":   truncated})
}

func (h *Handler) track(c *fiber.Ctx) error {
	s, err := h.session(c, true)
	if err != nil {
		return err
	}
	var req trackRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	v.Check(len(req.Points) >= 1 && len(req.Points) <= h.Config.MaxBatch, "points",
		fmt.Sprintf("must hold 1 to %d points", h.Config.MaxBatch))
	now := time.Now()
	points := make([]storage.TrackPoint, 0, len(req.Points))
	for i, p := range req.Points {
		if problems(&v) >= 10 {
			break
		}
		f := fmt.Sprintf("points[%d].", i)
		ok := true
		if p.Latitude == nil || math.IsNaN(*p.Latitude) || math.Abs(*p.Latitude) > 90 {
			v.Add(f+"latitude", "must be a number from -90 to 90")
			ok = false
		}
		if p.Longitude == nil || math.IsNaN(*p.Longitude) || math.Abs(*p.Longitude) > 180 {
			v.Add(f+"longitude", "must be a number from -180 to 180")
			ok = false
		}
		acc := float32(-1)
		if p.Accuracy != nil {
			if *p.Accuracy < 0 || *p.Accuracy > 100_000 {
				v.Add(f+"accuracy", "must be metres from 0 to 100000")
				ok = false
			}
			acc = float32(*p.Accuracy)
		}
		at, err := clientTime(p.RecordedAt, now)
		if err != "" {
			v.Add(f+"recordedAt", err)
			ok = false
		}
		if ok {
			points = append(points, storage.TrackPoint{Lat: *p.Latitude, Lng: *p.Longitude, Accuracy: acc,
				RecordedAt: at})
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if s.Status != storage.SessionActive {
		return httpx.Conflict("this session has ended; start a new one")
	}
	total, err := h.Store.AddTrackPoints(c.UserContext(), s.ID, points)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"accepted": len(points), "total": total})
}

// maxTrackPoints bounds the fixes one GET of a track returns (a day of
// canvassing at one fix every 10 s is about 3,000).
const maxTrackPoints = 10_000

type trackPointView struct {
	Latitude   float64   `json:"latitude"`
	Longitude  float64   `json:"longitude"`
	Accuracy   *float32  `json:"accuracy,omitempty"`
	RecordedAt time.Time `json:"recordedAt"`
}

// getTrack returns a session's GPS track in the order it was recorded: to
// the volunteer whose session it is and to map admins (who see where their
// volunteers went); anyone else gets 404, as for the session itself.
func (h *Handler) getTrack(c *fiber.Ctx) error {
	s, err := h.session(c, false)
	if err != nil {
		return err
	}
	pts, err := h.Store.TrackPoints(c.UserContext(), s.ID, maxTrackPoints+1)
	if err != nil {
		return err
	}
	truncated := len(pts) > maxTrackPoints
	if truncated {
		pts = pts[:maxTrackPoints]
	}
	out := make([]trackPointView, len(pts))
	for i, p := range pts {
		out[i] = trackPointView{Latitude: p.Lat, Longitude: p.Lng, RecordedAt: p.RecordedAt}
		if p.Accuracy >= 0 {
			acc := p.Accuracy
			out[i].Accuracy = &acc
		}
	}
	return c.JSON(fiber.Map{"sessionId": s.ID, "points": out, "truncated": truncated})
}

// clientTime reads a time a phone recorded (RFC 3339; empty is now). It may
// be up to 30 days old (an offline backlog) and at most 10 minutes ahead
// (clock drift). The message is "" when it is fine.
func clientTime(s string, now time.Time) (time.Time, string) {
	if s == "" {
		return now, ""
	}
	t, err := time.Parse(time.RFC3339, s)
	switch {
	case err != nil:
		return now, "must be an RFC 3339 time"
	case t.After(now.Add(10 * time.Minute)):
		return now, "must not be in the future"
	case t.Before(now.Add(-30 * 24 * time.Hour)):
		return now, "must be within the last 30 days"
	}
	return t, ""
}

func (h *Handler) recordVisits(c *fiber.Ctx) error {
	var req visitsRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	batch := req.Visits != nil
	inputs := []visitInput{req.visitInput}
	prefix := func(int) string { return "" }
	if batch {
		inputs = *req.Visits
		prefix = func(i int) string { return fmt.Sprintf("visits[%d].", i) }
	}
	var v httpx.Validator
	if batch {
		v.Check(len(inputs) >= 1 && len(inputs) <= h.Config.MaxBatch, "visits",
			fmt.Sprintf("must hold 1 to %d visits", h.Config.MaxBatch))
	}
	now := time.Now()
	visits := make([]storage.NewVisit, 0, len(inputs))
	for i, in := range inputs {
		if problems(&v) >= 10 {
			break
		}
		nv, ok := checkVisit(&v, prefix(i), in, now)
		if ok {
			visits = append(visits, nv)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.Store.RecordVisits(c.UserContext(), httpx.CurrentUser(c).ID, visits)
	var verr *storage.VisitError
	switch {
	case errors.As(err, &verr):
		return httpx.Invalid(httpx.Detail{Field: prefix(verr.Index) + verr.Field, Message: verr.Message})
	case errors.Is(err, storage.ErrClientIDTaken):
		return httpx.Conflict("a clientId of this request belongs to another volunteer's visit; make a new one")
	case err != nil:
		return err
	}
	out := make([]visitResult, len(res))
	for i, r := range res {
		if r.Created {
			h.visits.WithLabelValues(r.Visit.Outcome).Inc()
		}
		out[i] = visitResult{Visit: toVisitView(r.Visit), Duplicate: !r.Created}
	}
	// The same answer whether this request recorded the visits or an
	// earlier one did: a phone retrying after a dropped connection reads
	// what it would have read the first time.
	if !batch {
		return c.Status(fiber.StatusCreated).JSON(out[0])
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"visits": out})
}

func checkVisit(v *httpx.Validator, f string, in visitInput, now time.Time) (storage.NewVisit, bool) {
	n := problems(v)
	nv := storage.NewVisit{SessionID: in.SessionID, LocationID: in.LocationID, UnitID: in.UnitID,
		Outcome: in.Outcome, SupportLevel: in.SupportLevel, Notes: strings.TrimSpace(in.Notes)}
	id, err := uuid.Parse(in.ClientID)
	if err != nil || len(in.ClientID) != 36 || id == uuid.Nil {
		v.Add(f+"clientId", "must be a UUID the client made (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
	}
	nv.ClientID = id
	if in.SessionID != nil && *in.SessionID <= 0 {
		v.Add(f+"sessionId", "must be a positive integer")
	}
	switch {
	case in.LocationID < 0:
		v.Add(f+"locationId", "must be a positive integer")
	case in.UnitID < 0:
		v.Add(f+"unitId", "must be a positive integer")
	case in.LocationID == 0 && in.UnitID == 0:
		v.Add(f+"locationId", "locationId or unitId is required")
	}
	v.OneOf(f+"outcome", in.Outcome, storage.VisitOutcomes)
	if in.SupportLevel != nil {
		v.Check(*in.SupportLevel >= 1 && *in.SupportLevel <= 4, f+"supportLevel", "must be from 1 to 4")
	}
	v.MaxLen(f+"notes", nv.Notes, 2000)
	v.MultiLine(f+"notes", nv.Notes)
	for name, raw := range map[string][]byte{"residentName": in.ResidentName, "phone": in.Phone, "email": in.Email} {
		if len(raw) > 0 {
			v.Add(f+name, "volunteers may record support data, not personal data; ask an admin to change it")
		}
	}
	at, msg := clientTime(in.VisitedAt, now)
	if msg != "" {
		v.Add(f+"visitedAt", msg)
	}
	nv.VisitedAt = at
	return nv, problems(v) == n
}

func (h *Handler) activity(c *fiber.Ctx) error {
	limit := 50
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return httpx.Invalid(httpx.Detail{Field: "limit", Message: "must be a whole number from 1 to 200"})
		}
		limit = n
	}
	visits, err := h.Store.RecentVisits(c.UserContext(), limit)
	if err != nil {
		return err
	}
	sessions, err := h.Store.ActiveSessions(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"recentVisits": httpx.MapSlice(visits, func(r storage.RecentVisit) recentVisitView {
			return recentVisitView{visitView: toVisitView(r.Visit), UserName: r.UserName, Address: r.Address}
		}),
		"activeSessions": httpx.MapSlice(sessions, func(r storage.ActiveSession) activeSessionView {
			return activeSessionView{sessionView: toSessionView(r.CanvassSession), UserName: r.UserName,
				CutName: r.CutName, Visits: r.Visits}
		}),
	})
}

func (h *Handler) leaderboard(c *fiber.Ctx) error {
	days := 7
	if s := c.Query("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 365 {
			return httpx.Invalid(httpx.Detail{Field: "days", Message: "must be a whole number from 1 to 365"})
		}
		days = n
	}
	since := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	rows, err := h.Store.Leaderboard(c.UserContext(), since, 50)
	if err != nil {
		return err
	}
	out := make([]leaderboardView, len(rows))
	for i, r := range rows {
		out[i] = leaderboardView{Rank: i + 1, UserID: r.UserID, Name: r.Name, Visits: r.Visits,
			Conversations: r.Conversations, Doors: r.Doors}
	}
	return c.JSON(fiber.Map{"days": days, "since": since.UTC(), "data": out})
}

func (h *Handler) myStats(c *fiber.Ctx) error {
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	st, err := h.Store.CanvassStatsOf(c.UserContext(), httpx.CurrentUser(c).ID, today)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"visits": st.Visits, "byOutcome": st.ByOutcome, "doors": st.Doors,
		"visitsToday": st.VisitsToday, "sessions": st.Sessions, "activeSessions": st.ActiveSessions})
}

func (h *Handler) assignments(c *fiber.Ctx) error {
	u := httpx.CurrentUser(c)
	today := time.Now().UTC().Format(storage.DateLayout)
	shifts, err := h.Store.UpcomingShiftsOf(c.UserContext(), u.ID, today, 100)
	if err != nil {
		return err
	}
	cuts, err := h.Store.AssignedCuts(c.UserContext(), u.ID, shifts)
	if err != nil {
		return err
	}
	shifts = slices.DeleteFunc(shifts, func(s storage.Shift) bool { return s.Status == storage.ShiftCancelled })
	return c.JSON(fiber.Map{
		"shifts": httpx.MapSlice(shifts, func(s storage.Shift) assignedShiftView {
			return assignedShiftView{ID: s.ID, Title: s.Title, Date: s.Date, StartTime: s.StartTime,
				EndTime: s.EndTime, Location: s.Location, Status: s.Status, CutID: s.CutID}
		}),
		"cuts": httpx.MapSlice(cuts, func(r storage.CutRef) cutRefView {
			return cutRefView{ID: r.ID, Name: r.Name, Color: r.Color}
		}),
	})
}

// problems counts what v has collected.
func problems(v *httpx.Validator) int {
	var e *httpx.Error
	if errors.As(v.Err(), &e) {
		return len(e.Details)
	}
	return 0
}
