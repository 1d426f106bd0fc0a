// Package mapshifts serves volunteer shifts: admins schedule them (one-off
// or weekly series), volunteers and the public sign up, and confirmation and
// cancellation emails go out through the email fleet.
package mapshifts

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/web"
)

// Series bounds.
const (
	MaxSeriesWeeks  = 12
	MaxSeriesShifts = 100
)

const noSuchShift = "no such shift"

// Options are what the module needs.
type Options struct {
	Store    *storage.Store
	Auth     *httpx.Auth
	Limiter  *httpx.RateLimiter
	Queue    *asynq.Client
	Config   config.CanvassConfig
	Registry prometheus.Registerer // takes the signup metric; may be nil
	Log      *slog.Logger
	// Now is the clock deciding which shifts are over; nil is time.Now.
	Now func() time.Time
}

// Handler serves the shift routes.
type Handler struct {
	Options
	signups *prometheus.CounterVec
}

// New builds the module and registers its metric.
func New(o Options) (*Handler, error) {
	h := &Handler{Options: o, signups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cm_map_shift_signups_total",
		Help: "Shift signups made, by source (SELF, PUBLIC, ADMIN).",
	}, []string{"source"})}
	if o.Registry != nil {
		if err := o.Registry.Register(h.signups); err != nil {
			return nil, fmt.Errorf("register shift metrics: %w", err)
		}
	}
	return h, nil
}

// Routes mounts the module on r (the /api group). Middleware is per route:
// a Group's middleware would apply to every path under its prefix.
func (h *Handler) Routes(r fiber.Router) {
	admin := h.Auth.Require(storage.RoleMapAdmin)
	volunteer := h.Auth.Require()
	r.Post("/map/shifts", admin, h.create)
	r.Get("/map/shifts", volunteer, h.list)
	r.Get("/map/shifts/:id", volunteer, h.get)
	r.Patch("/map/shifts/:id", admin, h.update)
	r.Delete("/map/shifts/:id", admin, h.delete)
	r.Post("/map/shifts/:id/signup", volunteer, h.signUp)
	r.Delete("/map/shifts/:id/signup", volunteer, h.cancelOwn)
	r.Get("/map/shifts/:id/signups/export", admin, h.export)
	r.Get("/map/shifts/:id/signups", admin, h.signupList)
	r.Post("/map/shifts/:id/signups", admin, h.adminAdd)
	r.Delete("/map/shifts/:id/signups/:userId", admin, h.adminRemove)
	r.Get("/public/map/shifts", h.publicList)
	r.Post("/public/map/shifts/:id/signup", h.publicSignUp)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) today() string { return h.now().UTC().Format(storage.DateLayout) }

var weekdayNames = map[string]time.Weekday{"MON": time.Monday, "TUE": time.Tuesday, "WED": time.Wednesday,
	"THU": time.Thursday, "FRI": time.Friday, "SAT": time.Saturday, "SUN": time.Sunday}

func validDate(s string) bool {
	_, err := time.Parse(storage.DateLayout, s)
	return err == nil
}

func validClock(s string) bool {
	t, err := time.Parse(storage.ClockLayout, s)
	return err == nil && t.Format(storage.ClockLayout) == s
}

// checkText validates a single-line field of at most n characters.
func checkLine(v *httpx.Validator, field, s string, n int, required bool) {
	if required && !v.Required(field, s) {
		return
	}
	v.MaxLen(field, s, n)
	v.SingleLine(field, s)
}

func (h *Handler) checkCut(ctx context.Context, v *httpx.Validator, id *int64) error {
	if id == nil {
		return nil
	}
	if *id <= 0 {
		v.Add("cutId", "must be a positive integer")
		return nil
	}
	ok, err := h.Store.CutExists(ctx, *id)
	if err != nil {
		return err
	}
	v.Check(ok, "cutId", "names no cut")
	return nil
}

// seriesDates lists the dates of a shift: date alone, or every chosen
// weekday of weeks weeks from date on.
func seriesDates(date string, rep *repeatInput, v *httpx.Validator) []string {
	if rep == nil {
		return []string{date}
	}
	v.Check(rep.Weeks >= 1 && rep.Weeks <= MaxSeriesWeeks, "repeat.weeks",
		fmt.Sprintf("must be from 1 to %d", MaxSeriesWeeks))
	days := map[time.Weekday]bool{}
	for _, d := range rep.Weekdays {
		wd, ok := weekdayNames[strings.ToUpper(d)]
		if !ok {
			v.Add("repeat.weekdays", "must list days among MON, TUE, WED, THU, FRI, SAT, SUN")
			return nil
		}
		days[wd] = true
	}
	start, err := time.Parse(storage.DateLayout, date)
	if err != nil || rep.Weeks < 1 || rep.Weeks > MaxSeriesWeeks {
		return nil
	}
	if len(days) == 0 {
		days[start.Weekday()] = true
	}
	var out []string
	for d := start; d.Before(start.AddDate(0, 0, 7*rep.Weeks)); d = d.AddDate(0, 0, 1) {
		if days[d.Weekday()] {
			out = append(out, d.Format(storage.DateLayout))
		}
	}
	v.Check(len(out) <= MaxSeriesShifts, "repeat", fmt.Sprintf("makes more than %d shifts", MaxSeriesShifts))
	return out
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req createRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Title, req.Location = strings.TrimSpace(req.Title), strings.TrimSpace(req.Location)
	var v httpx.Validator
	checkLine(&v, "title", req.Title, 200, true)
	v.MaxLen("description", req.Description, 5000)
	v.MultiLine("description", req.Description)
	checkLine(&v, "location", req.Location, 300, false)
	v.Check(validDate(req.Date), "date", "must be a date YYYY-MM-DD")
	v.Check(validClock(req.StartTime), "startTime", "must be a time HH:MM")
	v.Check(validClock(req.EndTime), "endTime", "must be a time HH:MM")
	if validClock(req.StartTime) && validClock(req.EndTime) {
		v.Check(req.EndTime > req.StartTime, "endTime", "must be after startTime")
	}
	v.Check(req.Capacity >= 1 && req.Capacity <= 10000, "capacity", "must be from 1 to 10000")
	var dates []string
	if validDate(req.Date) {
		dates = seriesDates(req.Date, req.Repeat, &v)
	}
	if err := h.checkCut(c.UserContext(), &v, req.CutID); err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	shifts, err := h.Store.CreateShifts(c.UserContext(), storage.NewShift{Title: req.Title,
		Description: req.Description, Dates: dates, StartTime: req.StartTime, EndTime: req.EndTime,
		Location: req.Location, Capacity: req.Capacity, CutID: req.CutID, IsPublic: req.IsPublic},
		httpx.CurrentUser(c).ID)
	if err != nil {
		return err
	}
	views := httpx.MapSlice(shifts, toShiftView)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"shift": views[0], "shifts": views, "seriesId": shifts[0].SeriesID})
}

// filter reads the list filters shared by the admin and public lists.
func readFilter(c *fiber.Ctx, v *httpx.Validator) storage.ShiftFilter {
	f := storage.ShiftFilter{From: c.Query("from"), To: c.Query("to")}
	if f.From != "" {
		v.Check(validDate(f.From), "from", "must be a date YYYY-MM-DD")
	}
	if f.To != "" {
		v.Check(validDate(f.To), "to", "must be a date YYYY-MM-DD")
	}
	return f
}

func queryID(c *fiber.Ctx, v *httpx.Validator, name string) int64 {
	s := c.Query(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	v.Check(err == nil && n > 0, name, "must be a positive integer")
	return n
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	var v httpx.Validator
	f := readFilter(c, &v)
	f.Status = c.Query("status")
	if f.Status != "" {
		v.OneOf("status", f.Status, []string{storage.ShiftOpen, storage.ShiftFull, storage.ShiftCancelled})
	}
	f.SeriesID, f.CutID = queryID(c, &v, "seriesId"), queryID(c, &v, "cutId")
	if err := v.Err(); err != nil {
		return err
	}
	f.Limit, f.Offset = page.Limit, page.Offset()
	list, total, err := h.Store.ListShifts(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toShiftView), page, total))
}

func (h *Handler) publicList(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	var v httpx.Validator
	f := readFilter(c, &v)
	if err := v.Err(); err != nil {
		return err
	}
	if f.From == "" || f.From < h.today() {
		f.From = h.today()
	}
	f.PublicOnly, f.Limit, f.Offset = true, page.Limit, page.Offset()
	list, total, err := h.Store.ListShifts(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toPublicShift), page, total))
}

func (h *Handler) shift(c *fiber.Ctx) (storage.Shift, error) {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return storage.Shift{}, err
	}
	s, err := h.Store.ShiftByID(c.UserContext(), id)
	return s, httpx.NotFoundf(err, noSuchShift)
}

func (h *Handler) get(c *fiber.Ctx) error {
	s, err := h.shift(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"shift": toShiftView(s)})
}

func readScope(c *fiber.Ctx, v *httpx.Validator) string {
	scope := c.Query("scope", storage.ScopeThis)
	v.OneOf("scope", scope, []string{storage.ScopeThis, storage.ScopeFollowing, storage.ScopeAll})
	return scope
}

// shiftConflict turns the shift errors into the 409s a client reads.
func shiftConflict(err error) error {
	switch {
	case errors.Is(err, storage.ErrShiftFull):
		return httpx.Conflict("this shift is full")
	case errors.Is(err, storage.ErrShiftClosed):
		return httpx.Conflict("this shift is cancelled or over")
	case errors.Is(err, storage.ErrCapacityBelowSignups):
		return httpx.Conflict("capacity cannot go below the signups already made; remove signups first")
	case errors.Is(err, storage.ErrShiftTimes):
		return httpx.Invalid(httpx.Detail{Field: "endTime", Message: "must be after startTime"})
	}
	return httpx.NotFoundf(err, noSuchShift)
}

func (h *Handler) update(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var req patchRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var v httpx.Validator
	scope := readScope(c, &v)
	p := storage.ShiftPatch{Description: req.Description, Capacity: req.Capacity, IsPublic: req.IsPublic,
		Status: req.Status, Date: req.Date, StartTime: req.StartTime, EndTime: req.EndTime}
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		checkLine(&v, "title", t, 200, true)
		p.Title = &t
	}
	if req.Location != nil {
		l := strings.TrimSpace(*req.Location)
		checkLine(&v, "location", l, 300, false)
		p.Location = &l
	}
	if req.Description != nil {
		v.MaxLen("description", *req.Description, 5000)
		v.MultiLine("description", *req.Description)
	}
	if req.Date != nil {
		v.Check(validDate(*req.Date), "date", "must be a date YYYY-MM-DD")
		v.Check(scope == storage.ScopeThis, "date", "can change only with scope=this")
	}
	if req.StartTime != nil {
		v.Check(validClock(*req.StartTime), "startTime", "must be a time HH:MM")
	}
	if req.EndTime != nil {
		v.Check(validClock(*req.EndTime), "endTime", "must be a time HH:MM")
	}
	if req.Capacity != nil {
		v.Check(*req.Capacity >= 1 && *req.Capacity <= 10000, "capacity", "must be from 1 to 10000")
	}
	if req.Status != nil {
		v.OneOf("status", *req.Status, []string{storage.ShiftOpen, storage.ShiftCancelled})
	}
	if len(req.CutID) > 0 {
		p.SetCut = true
		if string(req.CutID) != "null" {
			var cut int64
			if json.Unmarshal(req.CutID, &cut) != nil {
				v.Add("cutId", "must be a positive integer or null")
			} else {
				p.CutID = &cut
				if err := h.checkCut(c.UserContext(), &v, p.CutID); err != nil {
					return err
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	shifts, emails, err := h.Store.UpdateShifts(c.UserContext(), id, scope, p)
	if err != nil {
		return shiftConflict(err)
	}
	h.enqueueEmails(c.UserContext(), emails)
	views := httpx.MapSlice(shifts, toShiftView)
	var self shiftView
	for _, s := range views {
		if s.ID == id {
			self = s
		}
	}
	return c.JSON(fiber.Map{"shift": self, "shifts": views})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var v httpx.Validator
	scope := readScope(c, &v)
	if err := v.Err(); err != nil {
		return err
	}
	n, emails, err := h.Store.DeleteShifts(c.UserContext(), id, scope)
	if err != nil {
		return httpx.NotFoundf(err, noSuchShift)
	}
	h.enqueueEmails(c.UserContext(), emails)
	return c.JSON(fiber.Map{"deleted": n})
}

// enqueueEmails hands outbox rows to the email fleet. A failure is logged:
// the sweeper enqueues rows that have no task.
func (h *Handler) enqueueEmails(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := tasks.EnqueueMapShiftEmails(ctx, h.Queue, ids); err != nil {
		h.Log.Warn("enqueue shift emails failed; the sweeper will retry", "err", err)
	}
}

// emailLang is the language of a volunteer's shift emails: explicit (the
// request's lang field) when given, else the pages' language switch (the
// cm_lang cookie), else the best of Accept-Language, else English.
func emailLang(c *fiber.Ctx, explicit string) string {
	if explicit != "" {
		return storage.ShiftEmailLang(explicit)
	}
	return storage.ShiftEmailLang(web.Language(c.Cookies(web.LangCookie), c.Get(fiber.HeaderAcceptLanguage)))
}

func (h *Handler) signUpAs(c *fiber.Ctx, shiftID, userID int64, source string, addedBy *int64, public bool,
	lang string) error {
	res, err := h.Store.SignUp(c.UserContext(), storage.SignupRequest{ShiftID: shiftID, UserID: userID,
		Source: source, AddedBy: addedBy, PublicOnly: public, Today: h.today(), Lang: lang})
	if err != nil {
		return shiftConflict(err)
	}
	status := fiber.StatusOK
	if res.Created {
		status = fiber.StatusCreated
		h.signups.WithLabelValues(source).Inc()
		h.enqueueEmails(c.UserContext(), []int64{res.EmailID})
	}
	body := fiber.Map{"signedUp": true, "alreadySignedUp": !res.Created}
	if public {
		body["shift"] = toPublicShift(res.Shift)
	} else {
		body["shift"] = toShiftView(res.Shift)
	}
	return c.Status(status).JSON(body)
}

func (h *Handler) signUp(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	return h.signUpAs(c, id, httpx.CurrentUser(c).ID, storage.SignupSelf, nil, false, emailLang(c, ""))
}

func (h *Handler) publicSignUp(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var req publicSignupRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Name, req.Email = strings.TrimSpace(req.Name), strings.TrimSpace(req.Email)
	var v httpx.Validator
	checkLine(&v, "name", req.Name, 100, true)
	if v.Required("email", req.Email) {
		v.Email("email", req.Email)
	}
	if req.Lang != "" {
		v.OneOf("lang", req.Lang, storage.ShiftEmailLangs())
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.Limiter.Check(c, httpx.Limit{Name: "map-shift-signup", Max: h.Config.SignupRateLimit,
		Window: h.Config.SignupRateWindow}, httpx.ClientKey(c)); err != nil {
		return err
	}
	// The shift first: a signup for a shift that does not exist (or is not
	// public) creates no account.
	s, err := h.Store.ShiftByID(c.UserContext(), id)
	if err != nil || !s.IsPublic {
		if err == nil {
			err = storage.ErrNotFound
		}
		return httpx.NotFoundf(err, noSuchShift)
	}
	// Checked again under the row's lock; here it spares the account.
	switch s.Status {
	case storage.ShiftFull:
		return shiftConflict(storage.ErrShiftFull)
	case storage.ShiftCancelled:
		return shiftConflict(storage.ErrShiftClosed)
	}
	u, err := h.Store.TempUserFor(c.UserContext(), req.Email, req.Name)
	if err != nil {
		return err
	}
	return h.signUpAs(c, id, u.ID, storage.SignupPublic, nil, true, emailLang(c, req.Lang))
}

func (h *Handler) cancel(c *fiber.Ctx, shiftID, userID int64) error {
	_, emailID, err := h.Store.CancelSignup(c.UserContext(), shiftID, userID)
	if err != nil {
		return httpx.NotFoundf(err, "no such signup")
	}
	h.enqueueEmails(c.UserContext(), []int64{emailID})
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) cancelOwn(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	return h.cancel(c, id, httpx.CurrentUser(c).ID)
}

func (h *Handler) adminAdd(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	var req adminSignupRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	if req.UserID <= 0 {
		return httpx.Invalid(httpx.Detail{Field: "userId", Message: "must be a positive integer"})
	}
	u, err := h.Store.UserByID(c.UserContext(), req.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return httpx.Invalid(httpx.Detail{Field: "userId", Message: "names no user"})
	}
	if err != nil {
		return err
	}
	if u.EffectiveStatus(h.now()) != storage.StatusActive {
		return httpx.Invalid(httpx.Detail{Field: "userId", Message: "names an account that is not active"})
	}
	admin := httpx.CurrentUser(c).ID
	// The admin's browser says nothing of the volunteer's language.
	return h.signUpAs(c, id, u.ID, storage.SignupAdmin, &admin, false, "")
}

func (h *Handler) adminRemove(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	userID, err := httpx.ParamID(c, "userId")
	if err != nil {
		return err
	}
	return h.cancel(c, id, userID)
}

func (h *Handler) signupList(c *fiber.Ctx) error {
	s, err := h.shift(c)
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListSignups(c.UserContext(), s.ID, page.Limit, page.Offset())
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toSignupView), page, total))
}

// csvCell keeps a spreadsheet from running a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (h *Handler) export(c *fiber.Ctx) error {
	s, err := h.shift(c)
	if err != nil {
		return err
	}
	list, err := h.Store.AllSignups(c.UserContext(), s.ID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"signup_id", "user_id", "name", "email", "role", "source", "signed_up_at",
		"shift_id", "shift_title", "shift_date", "start_time", "end_time"})
	for _, g := range list {
		_ = w.Write([]string{strconv.FormatInt(g.ID, 10), strconv.FormatInt(g.UserID, 10), csvCell(g.Name),
			csvCell(g.Email), g.Role, g.Source, g.CreatedAt.UTC().Format(time.RFC3339), strconv.FormatInt(s.ID, 10),
			csvCell(s.Title), s.Date, s.StartTime, s.EndTime})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write signups CSV: %w", err)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="shift-%d-signups.csv"`, s.ID))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}
