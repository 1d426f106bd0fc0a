// Package admin serves what the admin GUI needs beyond the other modules:
// the dashboard summary and "send a test email" for the SMTP settings.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/storage"
)

// Who may read the dashboard: the influence and media part for
// INFLUENCE_ADMIN (their own campaigns; media as the media API's content
// managers), everything (and the queues) for SUPER_ADMIN.
var summaryRoles = []string{storage.RoleInfluenceAdmin}

// testEmailLimit bounds test emails per admin: enough to fix a setting and
// try again, too few to use the route to send mail in bulk.
var testEmailLimit = httpx.Limit{Name: "smtp-test", Max: 5, Window: time.Minute}

// inspectTimeout bounds the dashboard's Redis reads.
const inspectTimeout = 2 * time.Second

// Options are what the module needs.
type Options struct {
	Store     *storage.Store
	Auth      *httpx.Auth
	Limiter   *httpx.RateLimiter
	Inspector *asynq.Inspector // nil: the queues part is reported unavailable
	Box       *storage.SecretBox
	// SMTP is the fallback server (SMTP_*), used when the settings name none.
	SMTP config.SMTP
	// AllowPrivateSMTP is SMTP_ALLOW_PRIVATE: when false, a server named in
	// the settings must be at a public address.
	AllowPrivateSMTP bool
	SMTPTimeout      time.Duration
	Log              *slog.Logger
}

// Handler serves the module's routes.
type Handler struct {
	Options
}

// New builds the module.
func New(o Options) (*Handler, error) {
	if o.SMTPTimeout <= 0 {
		o.SMTPTimeout = 30 * time.Second
	}
	return &Handler{Options: o}, nil
}

// Routes mounts the module on r (the /api group).
func (h *Handler) Routes(r fiber.Router) {
	r.Get("/admin/summary", h.Auth.Require(summaryRoles...), h.summary)
	r.Post("/settings/email/test", h.Auth.Require(storage.RoleSuperAdmin), h.testEmail)
}

type campaignCounts struct {
	Draft    int `json:"DRAFT"`
	Active   int `json:"ACTIVE"`
	Paused   int `json:"PAUSED"`
	Archived int `json:"ARCHIVED"`
}

type emailCounts struct {
	Queued int `json:"queued"`
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

type influencePart struct {
	Campaigns        campaignCounts `json:"campaigns"`
	Emails           emailCounts    `json:"emails"`
	ResponsesPending int            `json:"responsesPending"`
}

type mediaJob struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	State     string     `json:"state"`
	VideoID   *int64     `json:"videoId"`
	LastError string     `json:"lastError"`
	At        *time.Time `json:"at"`
}

type mediaPart struct {
	Videos        int  `json:"videos"`
	Processing    int  `json:"processing"`
	Invalid       int  `json:"invalid"`
	Published     int  `json:"published"`
	JobsAvailable bool `json:"jobsAvailable"`
	// RecentJobs are the media queue's tasks: running, failed and waiting
	// first, then the latest finished.
	RecentJobs []mediaJob `json:"recentJobs"`
}

type queueInfo struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Pending   int    `json:"pending"`
	Active    int    `json:"active"`
	Scheduled int    `json:"scheduled"`
	Retry     int    `json:"retry"`
	Archived  int    `json:"archived"`
	Completed int    `json:"completed"`
	// Processed and Failed count today's tasks (UTC), as asynq does.
	Processed int  `json:"processedToday"`
	Failed    int  `json:"failedToday"`
	Paused    bool `json:"paused"`
}

type queuesPart struct {
	Available bool        `json:"available"`
	Queues    []queueInfo `json:"queues"`
}

type summaryResponse struct {
	Role      string         `json:"role"`
	Since     time.Time      `json:"since"`
	Influence *influencePart `json:"influence"`
	Media     *mediaPart     `json:"media"`
	Queues    *queuesPart    `json:"queues"` // SUPER_ADMIN only
}

// summary answers the dashboard's counts. ?since= (RFC 3339, default: the
// start of today, UTC) is where "today" starts for sent and failed emails;
// the page sends the start of the admin's own day.
func (h *Handler) summary(c *fiber.Ctx) error {
	u := httpx.CurrentUser(c)
	now := time.Now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if s := c.Query("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		var v httpx.Validator
		v.Check(err == nil, "since", "must be a time in RFC 3339 format, like 2024-05-01T00:00:00-04:00")
		if err == nil {
			v.Check(!t.After(now.Add(24*time.Hour)) && t.After(now.AddDate(-1, 0, 0)), "since", "must be within the last year")
		}
		if err := v.Err(); err != nil {
			return err
		}
		since = t
	}
	ctx := c.UserContext()
	out := summaryResponse{Role: u.Role, Since: since}
	var createdBy int64
	if u.Role != storage.RoleSuperAdmin {
		createdBy = u.ID
	}
	inf, err := h.Store.DashboardInfluence(ctx, createdBy, since)
	if err != nil {
		return err
	}
	out.Influence = &influencePart{
		Campaigns: campaignCounts{Draft: inf.Campaigns[storage.CampaignDraft], Active: inf.Campaigns[storage.CampaignActive],
			Paused: inf.Campaigns[storage.CampaignPaused], Archived: inf.Campaigns[storage.CampaignArchived]},
		Emails:           emailCounts{Queued: inf.EmailsQueued, Sent: inf.EmailsSent, Failed: inf.EmailsFailed},
		ResponsesPending: inf.ResponsesPending,
	}
	vc, err := h.Store.DashboardVideos(ctx)
	if err != nil {
		return err
	}
	out.Media = &mediaPart{Videos: vc.Total, Processing: vc.Processing, Invalid: vc.Invalid, Published: vc.Published,
		RecentJobs: []mediaJob{}}
	out.Media.RecentJobs, out.Media.JobsAvailable = h.recentMediaJobs(ctx)
	if u.Role == storage.RoleSuperAdmin {
		out.Queues = h.queues(ctx)
	}
	return c.JSON(out)
}

// recentMediaJobs lists up to 10 tasks of the media queue; false when Redis
// could not be read.
func (h *Handler) recentMediaJobs(ctx context.Context) ([]mediaJob, bool) {
	out := []mediaJob{}
	if h.Inspector == nil {
		return out, false
	}
	const queue, max = "media", 10
	lists := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		h.Inspector.ListActiveTasks, h.Inspector.ListRetryTasks, h.Inspector.ListArchivedTasks,
		h.Inspector.ListPendingTasks, h.Inspector.ListScheduledTasks, h.Inspector.ListCompletedTasks,
	}
	for _, list := range lists {
		if len(out) >= max {
			break
		}
		tasks, err := inspect(ctx, func() ([]*asynq.TaskInfo, error) { return list(queue, asynq.PageSize(max-len(out))) })
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return out, true // no media task was ever enqueued
		}
		if err != nil {
			h.Log.Warn("dashboard: list media jobs", "err", err)
			return out, false
		}
		for _, t := range tasks {
			out = append(out, toMediaJob(t))
		}
	}
	return out, true
}

func toMediaJob(t *asynq.TaskInfo) mediaJob {
	j := mediaJob{ID: t.ID, Type: t.Type, State: t.State.String(), LastError: t.LastErr}
	var p struct {
		VideoID json.Number `json:"videoId"`
	}
	if json.Unmarshal(t.Payload, &p) == nil && p.VideoID != "" {
		if id, err := strconv.ParseInt(string(p.VideoID), 10, 64); err == nil {
			j.VideoID = &id
		}
	}
	for _, ts := range []time.Time{t.CompletedAt, t.LastFailedAt, t.NextProcessAt} {
		if !ts.IsZero() {
			ts := ts.UTC()
			j.At = &ts
			break
		}
	}
	return j
}

// queues is every queue's sizes and today's counts.
func (h *Handler) queues(ctx context.Context) *queuesPart {
	out := &queuesPart{Queues: []queueInfo{}}
	if h.Inspector == nil {
		return out
	}
	names, err := inspect(ctx, h.Inspector.Queues)
	if err != nil {
		h.Log.Warn("dashboard: list queues", "err", err)
		return out
	}
	for _, name := range names {
		qi, err := inspect(ctx, func() (*asynq.QueueInfo, error) { return h.Inspector.GetQueueInfo(name) })
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			h.Log.Warn("dashboard: queue info", "queue", name, "err", err)
			return &queuesPart{Queues: []queueInfo{}}
		}
		out.Queues = append(out.Queues, queueInfo{Name: qi.Queue, Size: qi.Size, Pending: qi.Pending, Active: qi.Active,
			Scheduled: qi.Scheduled, Retry: qi.Retry, Archived: qi.Archived, Completed: qi.Completed,
			Processed: qi.Processed, Failed: qi.Failed, Paused: qi.Paused})
	}
	out.Available = true
	return out
}

// inspect runs an Inspector call (which takes no context) with a deadline:
// past it the dashboard answers without that part.
func inspect[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
