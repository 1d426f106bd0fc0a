// Package geocode is the geocode fleet: it places the locations of geocode
// jobs with the provider chain of internal/geocoder (nar, then the network
// providers GEOCODE_PROVIDERS names, answers cached in Redis, Nominatim
// held to one request a second across the whole fleet by a slot in Redis)
// and records progress per location, so a task that runs twice counts
// nothing twice.
package geocode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/internal/geocoder"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
)

// Geocoder is what the fleet asks: the provider chain.
type Geocoder interface {
	Geocode(ctx context.Context, query string) (geocoder.Result, error)
}

// Handler handles the geocode fleet's tasks.
type Handler struct {
	Store     *storage.Store
	Queue     *asynq.Client
	Geocoder  Geocoder
	ChunkSize int // locations per chunk task; 0 is 100
	Log       *slog.Logger
}

// Register routes the geocode task types to a Handler built from d: the
// provider chain comes from d.Config.Geocode, its cache and the Nominatim
// slot from d.Redis, its metrics go to d.Metrics.
func Register(mux *asynq.ServeMux, d fleet.Deps) {
	h := New(d)
	mux.HandleFunc(tasks.TypeGeocodeJob, h.Plan)
	mux.HandleFunc(tasks.TypeGeocodeChunk, h.Chunk)
	mux.HandleFunc(tasks.TypeGeocodeSweep, h.Sweep)
}

// New builds the fleet's handler from d.
func New(d fleet.Deps) *Handler {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var m *geocoder.Metrics
	if d.Metrics != nil {
		m = geocoder.NewMetrics(d.Metrics)
	}
	opts := geocoder.BuildOptions{Redis: d.Redis, Metrics: m, Log: log}
	if d.Store != nil {
		opts.Store = d.Store
	}
	chain, skipped, err := geocoder.Build(d.Config.Geocode, opts)
	if err != nil {
		// Config checks the URLs already; what is left fails every task
		// with the reason rather than the process.
		log.Error("geocoding providers cannot be built; every location will fail", "err", err)
		chain = geocoder.NewChain(nil, geocoder.ChainOptions{})
	}
	for _, s := range skipped {
		log.Info("geocoding provider not configured, skipped", "provider", s)
	}
	return &Handler{Store: d.Store, Queue: d.Queue, Geocoder: chain, ChunkSize: d.Config.Geocode.ChunkSize, Log: log}
}

// lastAttempt reports whether this run is the task's last try (or not run
// by asynq at all, as in a direct call).
func lastAttempt(ctx context.Context) bool {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return retried >= maxRetry
}

// Plan cuts a job's locations into chunks and enqueues a task per chunk.
// Chunks are cut from all of the job's locations, in ID order, so a second
// run cuts the same chunks and asynq refuses the ones already queued.
func (h *Handler) Plan(ctx context.Context, t *asynq.Task) error {
	var p tasks.GeocodeJob
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.JobID <= 0 {
		return fmt.Errorf("geocode job: bad job id %d: %w", p.JobID, asynq.SkipRetry)
	}
	job, err := h.Store.GeocodeJobByID(ctx, p.JobID)
	if errors.Is(err, storage.ErrNotFound) {
		h.Log.Info("geocode job is gone", "job_id", p.JobID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("geocode job %d: %w", p.JobID, err)
	}
	if ended(job.Status) {
		return nil
	}
	if err := h.Store.StartGeocodeJob(ctx, job.ID); err != nil {
		return fmt.Errorf("start geocode job %d: %w", job.ID, err)
	}
	size := h.ChunkSize
	if size <= 0 {
		size = 100
	}
	var after int64
	for {
		ids, err := h.Store.GeocodeItemIDs(ctx, job.ID, after, size)
		if err != nil {
			return fmt.Errorf("plan geocode job %d: %w", job.ID, err)
		}
		if len(ids) == 0 {
			return nil
		}
		task, err := tasks.NewGeocodeChunk(tasks.GeocodeChunk{JobID: job.ID, FirstLocationID: ids[0],
			LastLocationID: ids[len(ids)-1]})
		if err != nil {
			return err
		}
		if _, err := h.Queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue geocode chunk of job %d: %w", job.ID, err)
		}
		after = ids[len(ids)-1]
	}
}

// pendingPage is how many pending locations a chunk reads at a time.
const pendingPage = 500

// cancelCheckEvery is how many locations a chunk places between two looks
// at its job's status, so a cancel stops it within that many (a page
// boundary looks too).
const cancelCheckEvery = 20

// ended reports whether a job with status is over: nothing more to place.
func ended(status string) bool {
	return status == storage.GeocodeJobDone || status == storage.GeocodeJobFailed ||
		status == storage.GeocodeJobCancelled
}

// cancelled reports whether job was stopped (or is gone) since the chunk
// started.
func (h *Handler) cancelled(ctx context.Context, jobID int64) (bool, error) {
	job, err := h.Store.GeocodeJobByID(ctx, jobID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("geocode job %d: %w", jobID, err)
	}
	return ended(job.Status), nil
}

// Chunk places the pending locations of one chunk. Each finished location
// (placed, or given up on: no provider found it, it was deleted) is counted
// in the job at once and only once. A location whose providers failed in a
// way that may pass stays pending and the task is retried for it; on the
// last attempt it is counted failed, so the job always ends.
func (h *Handler) Chunk(ctx context.Context, t *asynq.Task) error {
	var p tasks.GeocodeChunk
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.JobID <= 0 || p.FirstLocationID <= 0 || p.LastLocationID < p.FirstLocationID {
		return fmt.Errorf("geocode chunk: bad payload %+v: %w", p, asynq.SkipRetry)
	}
	job, err := h.Store.GeocodeJobByID(ctx, p.JobID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("geocode job %d: %w", p.JobID, err)
	}
	if ended(job.Status) {
		return nil
	}
	var userID int64
	if job.CreatedBy != nil {
		userID = *job.CreatedBy
	}
	var retry error
	after := p.FirstLocationID - 1
	for {
		ids, err := h.Store.PendingGeocodeItems(ctx, job.ID, after, p.LastLocationID, pendingPage)
		if err != nil {
			return fmt.Errorf("geocode chunk of job %d: %w", job.ID, err)
		}
		if len(ids) == 0 {
			break
		}
		if after >= p.FirstLocationID {
			if stop, err := h.cancelled(ctx, job.ID); err != nil || stop {
				return err
			}
		}
		for i, id := range ids {
			after = id
			if err := ctx.Err(); err != nil {
				return err
			}
			if i > 0 && i%cancelCheckEvery == 0 {
				if stop, err := h.cancelled(ctx, job.ID); err != nil || stop {
					return err
				}
			}
			status, provider, reason, err := h.place(ctx, id, userID)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				h.Log.Warn("geocoding a location failed; it will be tried again", "job_id", job.ID, "location_id", id, "err", err)
				retry = err
				continue
			}
			if _, err := h.Store.FinishGeocodeItem(ctx, job.ID, id, status, provider, reason); err != nil {
				return err
			}
		}
	}
	if retry == nil {
		return nil
	}
	if !lastAttempt(ctx) {
		return fmt.Errorf("geocode chunk of job %d: %w", job.ID, retry)
	}
	// Give up on what is still pending so the job ends.
	if err := h.failPending(ctx, p, "gave up after retries: "+retry.Error()); err != nil {
		return err
	}
	return fmt.Errorf("geocode chunk of job %d: %w: %w", job.ID, retry, asynq.SkipRetry)
}

func (h *Handler) failPending(ctx context.Context, p tasks.GeocodeChunk, reason string) error {
	after := p.FirstLocationID - 1
	for {
		ids, err := h.Store.PendingGeocodeItems(ctx, p.JobID, after, p.LastLocationID, pendingPage)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			after = id
			if _, err := h.Store.FinishGeocodeItem(ctx, p.JobID, id, storage.GeocodeItemFailed, "", reason); err != nil {
				return err
			}
		}
	}
}

// place geocodes one location and stores its point. A finished outcome
// (DONE or FAILED) comes back as status; an error is a failure that may
// pass (a provider timing out, the database away).
func (h *Handler) place(ctx context.Context, id, userID int64) (status, provider, reason string, err error) {
	tgt, err := h.Store.GeocodeTargetByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.GeocodeItemFailed, "", "the location was deleted", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("read location %d: %w", id, err)
	}
	r, err := h.Geocoder.Geocode(ctx, tgt.Query())
	if err != nil {
		if ctx.Err() == nil && geocoder.IsPermanent(err) {
			return storage.GeocodeItemFailed, "", err.Error(), nil
		}
		return "", "", "", fmt.Errorf("geocode location %d: %w", id, err)
	}
	_, err = h.Store.SetLocationGeocode(ctx, id, storage.GeocodedPoint{Lat: r.Lat, Lng: r.Lng, Provider: r.Provider,
		Confidence: r.Confidence}, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.GeocodeItemFailed, "", "the location was deleted", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("store the point of location %d: %w", id, err)
	}
	return storage.GeocodeItemDone, r.Provider, "", nil
}

// Sweep plans again the jobs still going that have not changed for a
// while: a job whose planning or chunk tasks were lost from Redis (a wipe,
// a failover without persistence) would otherwise stay RUNNING for ever.
// Planning is idempotent (chunk task IDs come from the job), so a job whose
// tasks are all still there gets nothing new. Each job swept is touched,
// so it is looked at again only after another OlderThanSeconds.
func (h *Handler) Sweep(ctx context.Context, t *asynq.Task) error {
	var p tasks.GeocodeSweep
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.OlderThanSeconds < 0 || p.Limit < 0 {
		return fmt.Errorf("geocode sweep: negative olderThanSeconds or limit: %w", asynq.SkipRetry)
	}
	if p.Limit == 0 {
		p.Limit = 100
	}
	ids, err := h.Store.StaleGeocodeJobs(ctx, time.Now().Add(-time.Duration(p.OlderThanSeconds)*time.Second), p.Limit)
	if err != nil {
		return fmt.Errorf("geocode sweep: %w", err)
	}
	requeued, err := fleet.Replan(ctx, h.Queue, ids, func(id int64) (*asynq.Task, error) {
		return tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: id})
	}, h.Store.TouchGeocodeJob)
	if err != nil {
		return fmt.Errorf("geocode sweep: %w", err)
	}
	if requeued > 0 {
		h.Log.Info("geocode sweep planned stalled jobs again", "planned", requeued, "stalled", len(ids))
	}
	return nil
}
