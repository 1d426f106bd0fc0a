package media

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"changemaker/api/httpx"
	"changemaker/tasks"
)

// jobStates are the states ?state= accepts; "failed" means failed and
// waiting to be retried (asynq's "retry").
var jobStates = []string{"pending", "active", "scheduled", "retry", "failed", "archived", "completed"}

type job struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	State         string          `json:"state"`
	Payload       json.RawMessage `json:"payload"`
	Retried       int             `json:"retried"`
	MaxRetry      int             `json:"maxRetry"`
	LastError     string          `json:"lastError,omitempty"`
	LastFailedAt  *time.Time      `json:"lastFailedAt,omitempty"`
	NextProcessAt *time.Time      `json:"nextProcessAt,omitempty"`
	CompletedAt   *time.Time      `json:"completedAt,omitempty"`
	// Result is what a finished task reported (a scan's counts).
	Result json.RawMessage `json:"result,omitempty"`
}

func toJob(t *asynq.TaskInfo) job {
	j := job{ID: t.ID, Type: t.Type, State: t.State.String(), Retried: t.Retried, MaxRetry: t.MaxRetry,
		LastError: t.LastErr}
	if json.Valid(t.Payload) {
		j.Payload = t.Payload
	} else {
		j.Payload = json.RawMessage("null")
	}
	if len(t.Result) > 0 && json.Valid(t.Result) {
		j.Result = t.Result
	}
	for dst, ts := range map[**time.Time]time.Time{&j.LastFailedAt: t.LastFailedAt, &j.NextProcessAt: t.NextProcessAt, &j.CompletedAt: t.CompletedAt} {
		if !ts.IsZero() {
			ts := ts
			*dst = &ts
		}
	}
	return j
}

type jobCounts struct {
	Pending   int `json:"pending"`
	Active    int `json:"active"`
	Scheduled int `json:"scheduled"`
	Retry     int `json:"retry"`
	Archived  int `json:"archived"`
	Completed int `json:"completed"`
}

// listJobs lists the media queue's tasks in one state (pending by default),
// with the count of every state.
func (h *Handler) listJobs(c *fiber.Ctx) error {
	p, err := httpx.ParsePage(c)
	if err != nil {
		return err
	}
	state := c.Query("state", "pending")
	var v httpx.Validator
	v.OneOf("state", state, jobStates)
	if err := v.Err(); err != nil {
		return err
	}
	empty := func() error {
		return c.JSON(fiber.Map{"data": []job{}, "pagination": httpx.Paged([]job{}, p, 0).Pagination, "counts": jobCounts{}})
	}
	// Until a first media task is enqueued the queue does not exist.
	info, err := h.Inspector.GetQueueInfo(tasks.QueueMedia)
	if err != nil {
		if h.queueMissing(err) {
			return empty()
		}
		return h.queueUnavailable(err)
	}
	counts := jobCounts{Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled, Retry: info.Retry,
		Archived: info.Archived, Completed: info.Completed}
	ins := h.Inspector
	type lister func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	byState := map[string]struct {
		list  lister
		total int
	}{
		"pending":   {ins.ListPendingTasks, counts.Pending},
		"active":    {ins.ListActiveTasks, counts.Active},
		"scheduled": {ins.ListScheduledTasks, counts.Scheduled},
		"retry":     {ins.ListRetryTasks, counts.Retry},
		"failed":    {ins.ListRetryTasks, counts.Retry},
		"archived":  {ins.ListArchivedTasks, counts.Archived},
		"completed": {ins.ListCompletedTasks, counts.Completed},
	}
	sel := byState[state]
	list, err := sel.list(tasks.QueueMedia, asynq.PageSize(p.Limit), asynq.Page(p.Page))
	if err != nil {
		if h.queueMissing(err) { // removed since GetQueueInfo
			return empty()
		}
		return h.queueUnavailable(err)
	}
	jobs := make([]job, len(list))
	for i, t := range list {
		jobs[i] = toJob(t)
	}
	page := httpx.Paged(jobs, p, sel.total)
	return c.JSON(fiber.Map{"data": page.Data, "pagination": page.Pagination, "counts": counts})
}

// missing reports whether an Inspector error says the media queue or the
// task does not exist. Most Inspector methods wrap asynq.ErrQueueNotFound
// and asynq.ErrTaskNotFound; GetQueueInfo does not (see queueMissing).
func missing(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}

// queueMissing reports whether err, from an Inspector call that failed,
// means the media queue does not exist. GetQueueInfo returns asynq's
// internal not-found error, which errors.Is cannot match, so when the error
// is not a wrapped asynq.ErrQueueNotFound the queue list decides: a queue
// absent from a list Redis did return is missing; anything else is Redis'
// trouble.
func (h *Handler) queueMissing(err error) bool {
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return true
	}
	queues, qerr := h.Inspector.Queues()
	return qerr == nil && !slices.Contains(queues, tasks.QueueMedia)
}

// refused answers for an Inspector operation on a task that failed for a
// reason other than a missing queue or task: a 503 when Redis does not
// answer, else conflict (the task changed state under the request).
func (h *Handler) refused(err, conflict error) error {
	if _, qerr := h.Inspector.Queues(); qerr != nil {
		return h.queueUnavailable(err)
	}
	return conflict
}

func (h *Handler) findJob(c *fiber.Ctx) (*asynq.TaskInfo, error) {
	id := c.Params("id")
	if id == "" || len(id) > 200 {
		return nil, httpx.Invalid(httpx.Detail{Field: "id", Message: "must be a job ID"})
	}
	info, err := h.Inspector.GetTaskInfo(tasks.QueueMedia, id)
	if missing(err) {
		return nil, errNoJob()
	}
	if err != nil {
		return nil, h.queueUnavailable(err)
	}
	return info, nil
}

func errNoJob() error      { return httpx.NotFound("no such job in the media queue") }
func errJobChanged() error { return httpx.Conflict("the job changed state; try again") }

// queueUnavailable is the answer when Redis, which holds the jobs, does not.
func (h *Handler) queueUnavailable(err error) error {
	h.Log.Warn("media jobs: queue unavailable", "err", err)
	return httpx.NewError(fiber.StatusServiceUnavailable, httpx.CodeUnavailable, "the job queue is unavailable; try again later")
}

func (h *Handler) getJob(c *fiber.Ctx) error {
	info, err := h.findJob(c)
	if err != nil {
		return err
	}
	return c.JSON(toJob(info))
}

// retryJob runs a failed, archived or scheduled job now.
func (h *Handler) retryJob(c *fiber.Ctx) error {
	info, err := h.findJob(c)
	if err != nil {
		return err
	}
	switch info.State {
	case asynq.TaskStateRetry, asynq.TaskStateArchived, asynq.TaskStateScheduled:
	default:
		return httpx.Conflict("only a failed, archived or scheduled job can be retried; this one is " + info.State.String())
	}
	if err := h.Inspector.RunTask(tasks.QueueMedia, info.ID); err != nil {
		if missing(err) {
			return errNoJob()
		}
		return h.refused(err, errJobChanged())
	}
	return h.getJob(c)
}

// cancelJob stops a running job, or archives one that is waiting.
func (h *Handler) cancelJob(c *fiber.Ctx) error {
	info, err := h.findJob(c)
	if err != nil {
		return err
	}
	switch info.State {
	case asynq.TaskStateActive:
		if err := h.Inspector.CancelProcessing(info.ID); err != nil {
			return h.queueUnavailable(err) // a publish to Redis: nothing else can fail
		}
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": info.ID, "cancel": "requested"})
	case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry:
		if err := h.Inspector.ArchiveTask(tasks.QueueMedia, info.ID); err != nil {
			if missing(err) {
				return errNoJob()
			}
			return h.refused(err, errJobChanged())
		}
		return h.getJob(c)
	default:
		return httpx.Conflict("only a waiting or running job can be cancelled; this one is " + info.State.String())
	}
}
