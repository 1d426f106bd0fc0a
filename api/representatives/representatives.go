// Package representatives serves the postal-code lookup of elected
// representatives (cache-first, filled by the represent worker fleet) and the
// admin view of that cache.
package representatives

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
	"changemaker/tasks"
)

// Handler serves /api/public/representatives and /api/representatives.
type Handler struct {
	Options
	lookups *prometheus.CounterVec
}

// Options are what the representatives module needs.
type Options struct {
	Store   *storage.Store
	Redis   redis.UniversalClient
	Auth    *httpx.Auth
	Limiter *httpx.RateLimiter
	Queue   *asynq.Client
	// Inspector repairs a postal code whose lookup task asynq archived; nil
	// takes every task ID conflict as a lookup on its way.
	Inspector *asynq.Inspector
	Config    config.InfluenceConfig
	Log       *slog.Logger
	Registry  prometheus.Registerer // takes the lookup metrics; may be nil
}

// New builds the module and registers its metrics on o.Registry.
func New(o Options) (*Handler, error) {
	h := &Handler{Options: o, lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cm_represent_lookups_total",
		Help: "Representative lookups by result: hit (fresh cache), miss (waited for the worker), pending (answered 202), " +
			"unknown (404), unavailable (503: the last lookup of the code just failed).",
	}, []string{"result"})}
	if o.Registry != nil {
		if err := o.Registry.Register(h.lookups); err != nil {
			return nil, fmt.Errorf("register representative metrics: %w", err)
		}
	}
	return h, nil
}

// pollInterval is how often a waiting lookup re-reads the cache.
const pollInterval = 100 * time.Millisecond

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	r.Post("/public/representatives/lookup", h.lookup)
	g := r.Group("/representatives", h.Auth.Require(storage.RoleInfluenceAdmin))
	g.Get("/", h.list)
	g.Get("/stats", h.stats)
	g.Delete("/cache", h.clear)
}

type lookupRequest struct {
	PostalCode string `json:"postalCode"`
	Campaign   string `json:"campaign"`
}

type lookupResponse struct {
	PostalCode      postalCodeView       `json:"postalCode"`
	Representatives []representativeView `json:"representatives"`
}

func (h *Handler) count(ctx context.Context, result string) {
	h.lookups.WithLabelValues(result).Inc()
	field := "hits"
	if result != "hit" {
		field = "misses"
	}
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	h.Redis.HIncrBy(ctx, storage.RepresentStatsKey, field, 1) //nolint:errcheck // stats are best effort
}

func (h *Handler) lookup(c *fiber.Ctx) error {
	var req lookupRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	code, ok := storage.NormalizePostalCode(req.PostalCode)
	if !ok {
		return httpx.Invalid(httpx.Detail{Field: "postalCode", Message: "must be a Canadian postal code like T5K 2J1"})
	}
	client := httpx.ClientKey(c)
	if err := h.Limiter.Check(c, httpx.Limit{Name: "represent-lookup", Max: h.Config.LookupRateLimit,
		Window: h.Config.LookupRateWindow}, client); err != nil {
		return err
	}
	ctx := c.UserContext()
	var camp *storage.Campaign
	if req.Campaign != "" {
		cp, err := h.Store.CampaignBySlug(ctx, strings.TrimSpace(req.Campaign))
		if err != nil {
			return httpx.NotFoundf(fmt.Errorf("campaign %q: %w", req.Campaign, err), "no such campaign")
		}
		if cp.Status != storage.CampaignActive && cp.Status != storage.CampaignPaused {
			return httpx.NotFound("no such campaign")
		}
		camp = &cp
	}
	ttl := h.Config.RepresentCacheTTL
	pc, err := h.Store.PostalCodeByCode(ctx, code)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	have := err == nil
	if have && time.Since(pc.FetchedAt) < ttl {
		h.count(ctx, "hit")
		return h.answer(c, pc, camp)
	}
	// A miss may cost an upstream call from the fleet-wide quota: a client
	// sending random postal codes is held to a lower limit than cache hits.
	if err := h.Limiter.Check(c, httpx.Limit{Name: "represent-miss", Max: h.Config.LookupMissRateLimit,
		Window: h.Config.LookupMissRateWindow}, client); err != nil {
		if have {
			h.count(ctx, "miss")
			return h.answer(c, pc, camp) // stale, but it costs Represent nothing
		}
		return err
	}
	enqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = tasks.EnqueueRepresentLookup(enqCtx, h.Queue, h.Inspector, code, h.Config.RepresentRetryCooldown, time.Now())
	cancel()
	if err != nil {
		if have {
			return h.answer(c, pc, camp) // stale beats nothing
		}
		retryAfter := 5
		var recent *tasks.RecentlyArchivedError
		if errors.As(err, &recent) {
			h.count(ctx, "unavailable")
			retryAfter = max(1, int((recent.RetryAfter+time.Second-1)/time.Second))
		} else {
			h.Log.Warn("enqueue represent lookup failed", "postal_code", code, "err", err)
		}
		e := httpx.NewError(fiber.StatusServiceUnavailable, httpx.CodeUnavailable, unreachableMessage)
		e.RetryAfter = retryAfter
		return e
	}
	deadline := time.Now().Add(h.Config.LookupWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
		fresh, err := h.Store.PostalCodeByCode(ctx, code)
		if err == nil && (!have || fresh.FetchedAt.After(pc.FetchedAt)) {
			h.count(ctx, "miss")
			return h.answer(c, fresh, camp)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	if have {
		h.count(ctx, "miss")
		return h.answer(c, pc, camp) // the refresh is on its way; serve what we have
	}
	if e := h.failing(code); e != nil {
		h.count(ctx, "unavailable")
		return e
	}
	h.count(ctx, "pending")
	c.Set(fiber.HeaderRetryAfter, "2")
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "pending", "postalCode": code})
}

// unreachableMessage is what a constituent reads when the lookup cannot be
// done now.
const unreachableMessage = "We cannot reach the service that finds your representatives right now. " +
	"We keep trying; please try again in a few minutes."

// failing is the answer for a lookup that is not slow but failing: its task
// already tried the upstream and is waiting to try again (Represent
// unreachable, refusing, timing out). "Still looking" would then be untrue
// for as long as the retries last (over an hour), so the constituent hears
// that it is not working now, with a Retry-After until the next attempt; the
// task keeps retrying in the background and the next lookup after it
// succeeds answers at once. The bound is one upstream attempt
// (REPRESENT_TIMEOUT) plus LOOKUP_WAIT. nil when the lookup is merely on
// its way, or when the queue cannot be asked.
func (h *Handler) failing(code string) error {
	if h.Inspector == nil {
		return nil
	}
	info, err := h.Inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID(code))
	if err != nil || info.State != asynq.TaskStateRetry {
		return nil
	}
	h.Log.Warn("represent lookup failing; answering 503", "postal_code", code, "retried", info.Retried, "last_err", info.LastErr)
	e := httpx.NewError(fiber.StatusServiceUnavailable, httpx.CodeUnavailable, unreachableMessage)
	e.RetryAfter = max(5, min(300, int(time.Until(info.NextProcessAt).Seconds())+1))
	return e
}

func (h *Handler) answer(c *fiber.Ctx, pc storage.PostalCode, camp *storage.Campaign) error {
	if pc.Status == storage.PostalUnknown {
		h.lookups.WithLabelValues("unknown").Inc()
		return httpx.NotFound("Represent does not know this postal code")
	}
	reps, err := h.Store.RepresentativesFor(c.UserContext(), pc.Code)
	if err != nil {
		return err
	}
	out := make([]representativeView, 0, len(reps))
	for _, r := range reps {
		if camp == nil || camp.Targets(r.GovernmentLevel) {
			out = append(out, toRepresentativeView(r))
		}
	}
	return c.JSON(lookupResponse{PostalCode: toPostalCodeView(pc), Representatives: out})
}

func (h *Handler) list(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	prefix := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c.Query("postalCode")), " ", ""))
	var v httpx.Validator
	v.MaxLen("postalCode", prefix, 6)
	if err := v.Err(); err != nil {
		return err
	}
	list, total, err := h.Store.ListPostalCodes(c.UserContext(), prefix, page.Limit, page.Offset())
	if err != nil {
		return err
	}
	return c.JSON(httpx.Paged(httpx.MapSlice(list, toCachedPostalCodeView), page, total))
}

func (h *Handler) clear(c *fiber.Ctx) error {
	code := ""
	// Named but empty is a mistake (a form left blank), not "everything":
	// only leaving the parameter out clears the whole cache.
	if c.Context().QueryArgs().Has("postalCode") {
		raw := c.Query("postalCode")
		var ok bool
		if code, ok = storage.NormalizePostalCode(raw); !ok {
			return httpx.Invalid(httpx.Detail{Field: "postalCode", Message: "must be a Canadian postal code like T5K 2J1"})
		}
	}
	n, err := h.Store.DeletePostalCodes(c.UserContext(), code)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deleted": n})
}

type statsResponse struct {
	Entries        int     `json:"entries"`
	Found          int     `json:"found"`
	Unknown        int     `json:"unknown"`
	Hits           int64   `json:"hits"`
	Misses         int64   `json:"misses"`
	HitRatio       float64 `json:"hitRatio"`
	UpstreamCalls  int64   `json:"upstreamCalls"`
	UpstreamErrors int64   `json:"upstreamErrors"`
}

func (h *Handler) stats(c *fiber.Ctx) error {
	found, unknown, err := h.Store.CountPostalCodes(c.UserContext())
	if err != nil {
		return err
	}
	out := statsResponse{Entries: found + unknown, Found: found, Unknown: unknown}
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	vals, err := h.Redis.HGetAll(ctx, storage.RepresentStatsKey).Result()
	if err != nil {
		h.Log.Warn("read represent stats", "err", err)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(vals[k], 10, 64); return n }
	out.Hits, out.Misses = num("hits"), num("misses")
	out.UpstreamCalls, out.UpstreamErrors = num("upstream"), num("upstream_errors")
	if out.Hits+out.Misses > 0 {
		out.HitRatio = float64(out.Hits) / float64(out.Hits+out.Misses)
	}
	return c.JSON(fiber.Map{"stats": out})
}
