package geocode_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/config"
	"changemaker/internal/asynqconn"
	"changemaker/internal/geocoder/geocodertest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
	"changemaker/worker/geocode"
)

func answerAll(path, q string) geocodertest.Place {
	if strings.Contains(q, "Nowhere") {
		return geocodertest.Place{}
	}
	// A point per address, so a wrong answer shows.
	var h float64
	for _, r := range q {
		h = h*31 + float64(r)
		for h > 1000 {
			h -= 1000
		}
	}
	return geocodertest.Place{Found: true, Lat: 45 + h/10000, Lng: -75 - h/10000, Name: q + ", Canada", Rank: 30}
}

func testConfig(nominatimURL, contact string, providers ...string) config.Config {
	c := testenv.Config()
	c.Geocode.Providers = providers
	c.Geocode.NominatimURL = nominatimURL
	c.Geocode.Contact = contact
	return c
}

func openStore(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), url, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// startWorker runs one geocode worker process: its own Postgres pool, its
// own Redis clients and asynq server; it shares only the databases.
func startWorker(t *testing.T, dbURL string, ropt *redis.Options, cfg config.Config) {
	t.Helper()
	rdb := redis.NewClient(ropt)
	t.Cleanup(func() { rdb.Close() })
	conn := asynqconn.FromRedis(ropt)
	q := asynq.NewClient(conn)
	t.Cleanup(func() { q.Close() })
	mux := asynq.NewServeMux()
	geocode.Register(mux, fleet.Deps{Config: cfg, Store: openStore(t, dbURL), Redis: rdb, Queue: q, Log: testenv.Logger(t)})
	srv := asynq.NewServer(conn, asynq.Config{Concurrency: 3, Queues: map[string]int{tasks.QueueGeocode: 1},
		ShutdownTimeout: 2 * time.Second, LogLevel: asynq.ErrorLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func waitDone(t *testing.T, s *storage.Store, jobID int64, timeout time.Duration) storage.GeocodeJob {
	t.Helper()
	var job storage.GeocodeJob
	testenv.Eventually(t, timeout, fmt.Sprintf("geocode job %d to end", jobID), func() bool {
		var err error
		job, err = s.GeocodeJobByID(context.Background(), jobID)
		if err != nil {
			t.Fatal(err)
		}
		return job.Status == storage.GeocodeJobDone || job.Status == storage.GeocodeJobFailed
	})
	return job
}

// TestTwoWorkersKeepNominatimToOneRequestASecond: two worker processes
// sharing only Redis and Postgres place a batch; the fake Nominatim never
// sees two requests less than a second apart, both workers did their
// share, addresses the register knows never reach Nominatim, and the job
// ends DONE with the right counts.
func TestTwoWorkersKeepNominatimToOneRequestASecond(t *testing.T) {
	t.Parallel()
	dbURL := testenv.DatabaseURLFor(t)
	store := openStore(t, dbURL)
	ropt := testenv.Redis(t)
	fake := geocodertest.NewNominatim(t, answerAll)

	geocodertest.AddNAR(t, store, geocodertest.NARRow{Civic: "40", Street: "Elgin", Type: "ST", City: "Ottawa",
		Province: "ON", PostalCode: "K1P 1C7", Lat: 45.4215, Lng: -75.6953})
	fromRegister := geocodertest.AddLocation(t, store, "40 Elgin Street", "Ottawa", "ON", "K1P 1C7")
	var viaNominatim []int64
	for i := range 6 {
		viaNominatim = append(viaNominatim, geocodertest.AddLocation(t, store, fmt.Sprintf("%d Bank St", 100+i), "Ottawa", "ON", ""))
	}
	nowhere := geocodertest.AddLocation(t, store, "1 Nowhere Lane", "Ottawa", "ON", "")

	ctx := context.Background()
	job, err := store.CreateGeocodeJobForFilter(ctx, storage.GeocodeFilter{WithoutPoint: true}, 1000, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if job.Total != 8 || job.Status != storage.GeocodeJobQueued {
		t.Fatalf("job %+v, want 8 locations queued (the register building has its point)", job)
	}
	for _, contact := range []string{"worker-a@example.org", "worker-b@example.org"} {
		cfg := testConfig(fake.URL, contact, "nar", "nominatim")
		cfg.Geocode.ChunkSize = 1 // a task per location, so both workers take some
		cfg.Geocode.NominatimInterval = time.Second
		startWorker(t, dbURL, ropt, cfg)
	}
	q := asynq.NewClient(asynqconn.FromRedis(ropt))
	defer q.Close()
	task, err := tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: job.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(task); err != nil {
		t.Fatal(err)
	}

	job = waitDone(t, store, job.ID, 90*time.Second)
	if job.Status != storage.GeocodeJobDone || job.Total != 8 || job.Done != 7 || job.Failed != 1 {
		t.Fatalf("job ended %+v; want DONE, 7 placed, 1 failed", job)
	}
	reqs := fake.Requests()
	if len(reqs) != 7 {
		t.Fatalf("nominatim got %d requests, want 7 (6 found, 1 not; the register answered the 8th)", len(reqs))
	}
	agents := map[string]int{}
	for i, r := range reqs {
		agents[r.UserAgent]++
		if i > 0 {
			// The slot is a second as Redis counts. Between a grant and its
			// request's arrival a loaded machine may stall a goroutine, so
			// one gap may look shorter by that stall; without the limit the
			// six concurrent tasks would send within milliseconds.
			if gap := r.At.Sub(reqs[i-1].At); gap < 700*time.Millisecond {
				t.Errorf("requests %d and %d reached nominatim %v apart", i-1, i, gap)
			}
		}
	}
	// Over the whole run only the first and last stall count.
	if span, least := reqs[len(reqs)-1].At.Sub(reqs[0].At), time.Duration(len(reqs)-1)*time.Second-300*time.Millisecond; span < least {
		t.Errorf("%d requests within %v; at one a second they take at least %v", len(reqs), span, least)
	}
	for _, contact := range []string{"worker-a@example.org", "worker-b@example.org"} {
		if agents["Changemaker geocoder ("+contact+")"] == 0 {
			t.Errorf("no request came from %s: %v", contact, agents)
		}
	}
	if lat, lng, provider, conf, ok := geocodertest.Point(t, store, fromRegister); !ok || provider != "nar" ||
		!near(lat, 45.4215) || !near(lng, -75.6953) || conf != 95 {
		t.Errorf("40 Elgin St: %v %v %q %d %v", lat, lng, provider, conf, ok)
	}
	for i, id := range viaNominatim {
		want := answerAll("/search", fmt.Sprintf("%d Bank St, Ottawa, ON", 100+i))
		lat, lng, provider, conf, ok := geocodertest.Point(t, store, id)
		if !ok || provider != "nominatim" || conf != 90 || !near(lat, want.Lat) || !near(lng, want.Lng) {
			t.Errorf("location %d: %v %v %q %d %v, want %v %v", id, lat, lng, provider, conf, ok, want.Lat, want.Lng)
		}
		if n := geocodertest.HistoryCount(t, store, id, "GEOCODE"); n != 1 {
			t.Errorf("location %d has %d GEOCODE history rows, want 1", id, n)
		}
	}
	if _, _, _, _, ok := geocodertest.Point(t, store, nowhere); ok {
		t.Error("1 Nowhere Lane got a point")
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func chunkTask(t *testing.T, jobID, first, last int64) *asynq.Task {
	t.Helper()
	task, err := tasks.NewGeocodeChunk(tasks.GeocodeChunk{JobID: jobID, FirstLocationID: first, LastLocationID: last})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// TestChunkRunTwiceCountsOnce: a chunk task that runs again counts nothing
// twice, writes no second history row and asks no provider again; a
// repeated address is answered from the cache.
func TestChunkRunTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	rdb, _ := testenv.RedisClient(t)
	fake := geocodertest.NewNominatim(t, answerAll)
	cfg := testConfig(fake.URL, "maps@example.org", "nominatim")
	cfg.Geocode.NominatimInterval = 0
	h := geocode.New(fleet.Deps{Config: cfg, Store: store, Redis: rdb, Log: testenv.Logger(t)})
	a := geocodertest.AddLocation(t, store, "7 Rideau St", "Ottawa", "ON", "K1N 5W9")
	b := geocodertest.AddLocation(t, store, "7 Rideau St", "Ottawa", "ON", "K1N 5W9") // the same address typed twice
	c := geocodertest.AddLocation(t, store, "8 Rideau St", "Ottawa", "ON", "")
	ctx := context.Background()
	job, err := store.CreateGeocodeJobForIDs(ctx, []int64{a, b, c, a}, map[string]any{}, 0)
	if err != nil || job.Total != 3 {
		t.Fatalf("job %+v, %v; want 3 locations (a duplicate ID counts once)", job, err)
	}
	for run := range 2 {
		if err := h.Chunk(ctx, chunkTask(t, job.ID, a, c)); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	job, err = store.GeocodeJobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != storage.GeocodeJobDone || job.Done != 3 || job.Failed != 0 || job.FinishedAt == nil {
		t.Fatalf("job %+v; want DONE with 3 placed", job)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("nominatim asked %d times, want 2 (the repeated address came from the cache)", n)
	}
	for _, id := range []int64{a, b, c} {
		if n := geocodertest.HistoryCount(t, store, id, "GEOCODE"); n != 1 {
			t.Errorf("location %d has %d GEOCODE history rows, want 1", id, n)
		}
	}
	// Geocoding a location again to the same point records no new history.
	job2, err := store.CreateGeocodeJobForIDs(ctx, []int64{a}, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Chunk(ctx, chunkTask(t, job2.ID, a, a)); err != nil {
		t.Fatal(err)
	}
	if n := geocodertest.HistoryCount(t, store, a, "GEOCODE"); n != 1 {
		t.Errorf("same point again: %d GEOCODE history rows, want 1", n)
	}
}

// TestChunkLastAttemptEndsTheJob: when the providers keep failing, the last
// attempt counts what is left failed, so the job ends; a location deleted
// meanwhile fails with that reason.
func TestChunkLastAttemptEndsTheJob(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	rdb, _ := testenv.RedisClient(t)
	cfg := testConfig("http://127.0.0.1:1", "maps@example.org", "nominatim") // nothing listens there
	cfg.Geocode.NominatimInterval = 0
	h := geocode.New(fleet.Deps{Config: cfg, Store: store, Redis: rdb, Log: testenv.Logger(t)})
	a := geocodertest.AddLocation(t, store, "1 Sparks St", "Ottawa", "ON", "")
	gone := geocodertest.AddLocation(t, store, "2 Sparks St", "Ottawa", "ON", "")
	ctx := context.Background()
	job, err := store.CreateGeocodeJobForIDs(ctx, []int64{a, gone}, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool.Exec(ctx, `DELETE FROM map_locations WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	// Called directly, a handler runs as its task's last attempt.
	err = h.Chunk(ctx, chunkTask(t, job.ID, a, gone))
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("last attempt: %v, want SkipRetry", err)
	}
	job, err = store.GeocodeJobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != storage.GeocodeJobDone || job.Done != 0 || job.Failed != 2 {
		t.Fatalf("job %+v; want DONE with 2 failed", job)
	}
}

// TestPlanTwiceEnqueuesEachChunkOnce: planning runs again (a retry) and
// queues no chunk twice.
func TestPlanTwiceEnqueuesEachChunkOnce(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	rdb, ropt := testenv.RedisClient(t)
	q := asynq.NewClient(asynqconn.FromRedis(ropt))
	defer q.Close()
	cfg := testConfig("http://127.0.0.1:1", "maps@example.org", "nominatim")
	cfg.Geocode.ChunkSize = 2
	h := geocode.New(fleet.Deps{Config: cfg, Store: store, Redis: rdb, Queue: q, Log: testenv.Logger(t)})
	var ids []int64
	for i := range 5 {
		ids = append(ids, geocodertest.AddLocation(t, store, fmt.Sprintf("%d Queen St", i+1), "Ottawa", "ON", ""))
	}
	ctx := context.Background()
	job, err := store.CreateGeocodeJobForIDs(ctx, ids, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: job.ID})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.Plan(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	ins := asynq.NewInspector(asynqconn.FromRedis(ropt))
	defer ins.Close()
	pending, err := ins.ListPendingTasks(tasks.QueueGeocode)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 {
		t.Fatalf("%d chunk tasks queued, want 3 (5 locations, 2 a chunk)", len(pending))
	}
	job, _ = store.GeocodeJobByID(ctx, job.ID)
	if job.Status != storage.GeocodeJobRunning || job.StartedAt == nil {
		t.Fatalf("job %+v, want RUNNING", job)
	}
}

// TestSweepPlansAgainAJobWhoseTasksWereLost: a job planned, then Redis
// loses every task (a wipe, a failover without persistence). The job would
// stay RUNNING for ever; the sweep plans it again once it has not changed
// for a while, a worker then places every location, and a second sweep
// right after the first queues nothing more.
func TestSweepPlansAgainAJobWhoseTasksWereLost(t *testing.T) {
	t.Parallel()
	dbURL := testenv.DatabaseURLFor(t)
	store := openStore(t, dbURL)
	rdb, ropt := testenv.RedisClient(t)
	q := asynq.NewClient(asynqconn.FromRedis(ropt))
	defer q.Close()
	fake := geocodertest.NewNominatim(t, answerAll)
	cfg := testConfig(fake.URL, "maps@example.org", "nominatim")
	cfg.Geocode.NominatimInterval = 0
	cfg.Geocode.ChunkSize = 2
	h := geocode.New(fleet.Deps{Config: cfg, Store: store, Redis: rdb, Queue: q, Log: testenv.Logger(t)})
	var ids []int64
	for i := range 5 {
		ids = append(ids, geocodertest.AddLocation(t, store, fmt.Sprintf("%d Wellington St", i+1), "Ottawa", "ON", ""))
	}
	ctx := context.Background()
	job, err := store.CreateGeocodeJobForIDs(ctx, ids, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := tasks.NewGeocodeJob(tasks.GeocodeJob{JobID: job.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Plan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil { // every task is gone
		t.Fatal(err)
	}
	sweep, err := tasks.NewGeocodeSweep(tasks.GeocodeSweep{OlderThanSeconds: 600, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Recently changed: not the sweep's business yet.
	if err := h.Sweep(ctx, sweep); err != nil {
		t.Fatal(err)
	}
	// Read the queue's list itself: after a wipe the client does not list
	// the queue among asynq's queues again (it remembers having done so),
	// so the Inspector would answer "no such queue" though workers serve it.
	queued := func() int64 {
		t.Helper()
		n, err := rdb.LLen(ctx, "asynq:{"+tasks.QueueGeocode+"}:pending").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := queued(); n != 0 {
		t.Fatalf("a job changed a moment ago was swept: %d tasks queued", n)
	}
	if _, err := store.Pool.Exec(ctx, `UPDATE map_geocode_jobs SET updated_at = now() - interval '1 hour' WHERE id = $1`, job.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
	}
	if n := queued(); n != 1 {
		t.Fatalf("after two sweeps %d tasks queued, want the job's planning task once", n)
	}
	startWorker(t, dbURL, ropt, cfg)
	job = waitDone(t, store, job.ID, 30*time.Second)
	if job.Status != storage.GeocodeJobDone || job.Done != 5 || job.Failed != 0 {
		t.Fatalf("job %+v; want DONE with the 5 locations placed", job)
	}
}

// TestCancelStopsAChunkWithinAFewLocations: an organizer cancels a job
// while a chunk is placing its locations; the chunk stops within
// cancelCheckEvery locations, the job stays CANCELLED (a location that
// finishes after the cancel does not turn it DONE) and what was not
// reached stays unplaced.
func TestCancelStopsAChunkWithinAFewLocations(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	rdb, _ := testenv.RedisClient(t)
	var jobID int64
	var cancelErr error
	asked := 0
	fake := geocodertest.NewNominatim(t, func(path, q string) geocodertest.Place {
		asked++ // one chunk asks one question at a time
		if asked == 3 {
			_, cancelErr = store.CancelGeocodeJob(context.Background(), jobID)
		}
		return answerAll(path, q)
	})
	cfg := testConfig(fake.URL, "maps@example.org", "nominatim")
	cfg.Geocode.NominatimInterval = 0
	h := geocode.New(fleet.Deps{Config: cfg, Store: store, Redis: rdb, Log: testenv.Logger(t)})
	var ids []int64
	for i := range 60 {
		ids = append(ids, geocodertest.AddLocation(t, store, fmt.Sprintf("%d Laurier Ave", i+1), "Ottawa", "ON", ""))
	}
	ctx := context.Background()
	job, err := store.CreateGeocodeJobForIDs(ctx, ids, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	jobID = job.ID
	if err := h.Chunk(ctx, chunkTask(t, job.ID, ids[0], ids[len(ids)-1])); err != nil {
		t.Fatal(err)
	}
	if cancelErr != nil {
		t.Fatal(cancelErr)
	}
	job, err = store.GeocodeJobByID(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != storage.GeocodeJobCancelled {
		t.Fatalf("job %+v; want CANCELLED", job)
	}
	if job.Done < 3 || job.Done > 20 {
		t.Fatalf("%d of 60 placed after a cancel at the third; want the chunk to stop within 20", job.Done)
	}
	if n := len(fake.Requests()); n != job.Done {
		t.Fatalf("nominatim asked %d times for %d placed", n, job.Done)
	}
	// A chunk that starts after the cancel places nothing.
	if err := h.Chunk(ctx, chunkTask(t, job.ID, ids[0], ids[len(ids)-1])); err != nil {
		t.Fatal(err)
	}
	if again, _ := store.GeocodeJobByID(ctx, job.ID); again.Done != job.Done || again.Status != storage.GeocodeJobCancelled {
		t.Fatalf("a chunk run after the cancel changed the job: %+v", again)
	}
}
