// Package mapgeocode serves the geocoding routes of the map: geocode one
// location or a batch (both answer 202 with a job the geocode fleet works
// through), a job's progress, and reverse geocoding. All are for
// SUPER_ADMIN and MAP_ADMIN.
package mapgeocode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/geocoder"
	"changemaker/storage"
	"changemaker/tasks"
)

// maxIDs bounds the locationIds of one batch request.
const maxIDs = 10_000

// reverseWait bounds a reverse look-up: the providers' own timeouts, plus
// waiting for the fleet-wide Nominatim slot.
const reverseWait = 20 * time.Second

// Options are what the module needs.
type Options struct {
	Config   config.GeocodeConfig
	Store    *storage.Store
	Redis    redis.UniversalClient
	Queue    *asynq.Client
	Auth     *httpx.Auth
	Registry prometheus.Registerer // the geocoding metrics of reverse look-ups; nil: none
	Log      *slog.Logger
}

// Handler serves the geocoding routes.
type Handler struct {
	o       Options
	reverse *geocoder.Chain
}

// New builds the module and its provider chain (for reverse look-ups).
func New(o Options) (*Handler, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var m *geocoder.Metrics
	if o.Registry != nil {
		m = geocoder.NewMetrics(o.Registry)
	}
	bo := geocoder.BuildOptions{Redis: o.Redis, Metrics: m, Log: o.Log}
	if o.Store != nil {
		bo.Store = o.Store
	}
	chain, _, err := geocoder.Build(o.Config, bo)
	if err != nil {
		return nil, fmt.Errorf("geocoding providers: %w", err)
	}
	return &Handler{o: o, reverse: chain}, nil
}

// Routes mounts the module on r (the /api group). Each route carries its
// own role check: a group's middleware would reach the other map modules'
// routes under the same prefix.
func (h *Handler) Routes(r fiber.Router) {
	admin := h.o.Auth.Require(storage.RoleMapAdmin)
	r.Post("/map/locations/geocode", admin, h.batch)
	r.Post("/map/locations/:id/geocode", admin, h.one)
	r.Get("/map/jobs/:id", admin, h.job)
	r.Post("/map/jobs/:id/cancel", admin, h.cancel)
	r.Get("/map/geocode/reverse", admin, h.reverseLookup)
}

func userID(c *fiber.Ctx) int64 {
	if u := httpx.CurrentUser(c); u != nil {
		return u.ID
	}
	return 0
}

// one geocodes location :id through the fleet: a job of one location,
// answered 202 at once. Not synchronous: a Nominatim answer may wait its
// turn behind a batch (one request a second for the whole fleet), and a
// request should not hang on that.
func (h *Handler) one(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := h.o.Store.GeocodeTargetByID(ctx, id); err != nil {
		return httpx.NotFoundf(fmt.Errorf("location %d: %w", id, err), "no such location")
	}
	job, err := h.o.Store.CreateGeocodeJobForIDs(ctx, []int64{id}, batchRequest{LocationIDs: []int64{id}}, userID(c))
	if err != nil {
		return fmt.Errorf("create geocode job for location %d: %w", id, err)
	}
	return h.start(c, job)
}

func (h *Handler) batch(c *fiber.Ctx) error {
	var req batchRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	var v httpx.Validator
	v.Check((req.LocationIDs != nil) != (req.Filter != nil), "", "send exactly one of locationIds and filter")
	if err := v.Err(); err != nil {
		return err
	}
	if req.LocationIDs != nil {
		if len(req.LocationIDs) == 0 || len(req.LocationIDs) > maxIDs {
			v.Add("locationIds", fmt.Sprintf("must hold 1 to %d location IDs", maxIDs))
		}
		for _, id := range req.LocationIDs {
			if id <= 0 {
				v.Add("locationIds", "every ID must be a positive integer")
				break
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		missing, err := h.o.Store.MissingLocations(ctx, req.LocationIDs)
		if err != nil {
			return fmt.Errorf("check locations: %w", err)
		}
		if len(missing) > 0 {
			ids := make([]string, len(missing))
			for i, m := range missing {
				ids[i] = strconv.FormatInt(m, 10)
			}
			v.Add("locationIds", "no such location: "+strings.Join(ids, ", "))
			return v.Err()
		}
		job, err := h.o.Store.CreateGeocodeJobForIDs(ctx, req.LocationIDs, req, userID(c))
		if err != nil {
			return fmt.Errorf("create geocode job: %w", err)
		}
		return h.start(c, job)
	}
	f := storage.GeocodeFilter{WithoutPoint: true, Source: strings.ToUpper(strings.TrimSpace(req.Filter.Source)),
		City: strings.TrimSpace(req.Filter.City)}
	if req.Filter.WithoutPoint != nil {
		f.WithoutPoint = *req.Filter.WithoutPoint
	}
	if req.Filter.PostalCodePrefix != "" {
		p, ok := postalPrefix(req.Filter.PostalCodePrefix)
		v.Check(ok, "filter.postalCodePrefix", "must be the start of a Canadian postal code, such as K1A or K1A 0")
		f.PostalPrefix = p
	}
	if f.Source != "" {
		v.OneOf("filter.source", f.Source, []string{"NAR", "CSV", "MANUAL"})
	}
	v.MaxLen("filter.city", f.City, 120)
	v.SingleLine("filter.city", f.City)
	if err := v.Err(); err != nil {
		return err
	}
	job, err := h.o.Store.CreateGeocodeJobForFilter(ctx, f, h.o.Config.BatchMax, req, userID(c))
	if errors.Is(err, storage.ErrTooManyLocations) {
		return httpx.Invalid(httpx.Detail{Field: "filter",
			Message: fmt.Sprintf("matches more than %d locations; narrow it", h.o.Config.BatchMax)})
	}
	if err != nil {
		return fmt.Errorf("create geocode job: %w", err)
	}
	return h.start(c, job)
}

// postalPrefix reads the start of a postal code ("k1a0", "K1A 0") and
// writes it as the locations store it ("K1A 0").
func postalPrefix(s string) (string, bool) {
	var b []byte
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' {
			continue
		}
		if len(b) == 6 || r > 'Z' {
			return "", false
		}
		i := len(b)
		if i%2 == 0 && (r < 'A' || r > 'Z') || i%2 == 1 && (r < '0' || r > '9') {
			return "", false
		}
		b = append(b, byte(r))
	}
	if len(b) == 0 {
		return "", false
	}
	if len(b) > 3 {
		return string(b[:3]) + " " + string(b[3:]), true
	}
	return string(b), true
}

// start enqueues a recorded job's planning task and answers 202 with the
// job. A job whose task cannot be queued is ended FAILED, so it never sits
// QUEUED forever.
func (h *Handler) start(c *fiber.Ctx, job storage.GeocodeJob) error {
	if job.Status == storage.GeocodeJobQueued {
		task, err := tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: job.ID})
		if err == nil {
			_, err = h.o.Queue.EnqueueContext(c.UserContext(), task)
		}
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			reason := "the job could not be queued; try again"
			if ferr := h.o.Store.FailGeocodeJob(context.WithoutCancel(c.UserContext()), job.ID, reason); ferr != nil {
				h.o.Log.Error("mark unqueued geocode job failed", "job_id", job.ID, "err", ferr)
			}
			h.o.Log.Error("enqueue geocode job", "job_id", job.ID, "err", err)
			e := httpx.NewError(http.StatusServiceUnavailable, httpx.CodeUnavailable, reason)
			e.RetryAfter = 5
			return e
		}
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"job": toJobView(job)})
}

func (h *Handler) job(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	job, err := h.o.Store.GeocodeJobByID(c.UserContext(), id)
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("geocode job %d: %w", id, err), "no such job")
	}
	return c.JSON(fiber.Map{"job": toJobView(job)})
}

func coordinate(c *fiber.Ctx, v *httpx.Validator, name string, limit float64) float64 {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		v.Add(name, "is required")
		return 0
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		v.Add(name, "must be a number")
		return 0
	}
	if f < -limit || f > limit {
		v.Add(name, fmt.Sprintf("must be between %v and %v", -limit, limit))
	}
	return f
}

// reverseLookup finds the address at lat, lng: the nearest register
// address when one is close, else the network providers in order.
func (h *Handler) reverseLookup(c *fiber.Ctx) error {
	var v httpx.Validator
	lat := coordinate(c, &v, "lat", 90)
	lng := coordinate(c, &v, "lng", 180)
	if err := v.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), reverseWait)
	defer cancel()
	r, err := h.reverse.Reverse(ctx, lat, lng)
	switch {
	case err == nil:
		return c.JSON(fiber.Map{"result": toReverseView(r)})
	case errors.Is(err, geocoder.ErrNotFound):
		return httpx.NotFound("no address found at this point")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, geocoder.ErrRetryable):
		h.o.Log.Warn("reverse geocoding failed", "err", err)
		e := httpx.NewError(http.StatusServiceUnavailable, httpx.CodeUnavailable,
			"the geocoding providers did not answer; try again shortly")
		e.RetryAfter = 5
		var ge *geocoder.Error
		if errors.As(err, &ge) && ge.RetryAfter > 0 {
			e.RetryAfter = int(math.Ceil(ge.RetryAfter.Seconds()))
		}
		return e
	case errors.Is(err, geocoder.ErrPermanent):
		h.o.Log.Error("reverse geocoding refused", "err", err)
		e := httpx.NewError(http.StatusServiceUnavailable, httpx.CodeUnavailable,
			"reverse geocoding is not available: no provider accepted the request")
		e.RetryAfter = 60
		return e
	}
	return fmt.Errorf("reverse geocode: %w", err)
}

// cancel stops a job: its chunks stop within a few locations, and what is
// still pending is never placed by it. 409 when the job has ended.
func (h *Handler) cancel(c *fiber.Ctx) error {
	id, err := httpx.ParamID(c, "id")
	if err != nil {
		return err
	}
	job, err := h.o.Store.CancelGeocodeJob(c.UserContext(), id)
	if errors.Is(err, storage.ErrConflict) {
		return httpx.Conflict(fmt.Sprintf("the job is already %s", job.Status))
	}
	if err != nil {
		return httpx.NotFoundf(fmt.Errorf("cancel geocode job %d: %w", id, err), "no such job")
	}
	return c.JSON(fiber.Map{"job": toJobView(job)})
}
