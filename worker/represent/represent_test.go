package represent_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/internal/asynqconn"
	"changemaker/internal/asynqlog"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/represent"
)

func TestGovernmentLevel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ office, set, want string }{
		{"MP", "House of Commons", "FEDERAL"},
		{"MLA", "Legislative Assembly of Alberta", "PROVINCIAL"},
		{"MPP", "Legislative Assembly of Ontario", "PROVINCIAL"},
		{"MNA", "Assemblée nationale du Québec", "PROVINCIAL"},
		{"Mayor", "Edmonton City Council", "MUNICIPAL"},
		{"Councillor", "Toronto City Council", "MUNICIPAL"},
		{"Conseiller", "Conseil municipal de Montréal", "MUNICIPAL"},
		{"Trustee", "Edmonton Public School Board", "SCHOOL_BOARD"},
		{"Regional Chair", "Regional Council of Peel", "MUNICIPAL"},
		{"", "Some Other Body", "OTHER"},
	} {
		if got := represent.GovernmentLevel(c.office, c.set); got != c.want {
			t.Errorf("GovernmentLevel(%q, %q) = %s, want %s", c.office, c.set, got, c.want)
		}
	}
}

func newRepresent(t *testing.T) (*represent.Handler, *testenv.RepresentServer, *storage.Store) {
	store := testenv.DB(t)
	rdb, opt := testenv.RedisClient(t)
	srv := testenv.NewRepresentServer(t)
	q := asynq.NewClient(asynqconn.FromRedis(opt))
	t.Cleanup(func() { q.Close() })
	inspector := asynq.NewInspector(asynqconn.FromRedis(opt))
	t.Cleanup(func() { inspector.Close() })
	return &represent.Handler{Store: store, Redis: rdb, Queue: q, HTTP: &http.Client{Timeout: 5 * time.Second},
		BaseURL: srv.URL, RateLimit: 55, CacheTTL: time.Hour, Inspector: inspector, RetryCooldown: time.Minute,
		Log: testenv.Logger(t)}, srv, store
}

func lookupTask(code string) *asynq.Task {
	task, _ := tasks.NewRepresentLookup(tasks.RepresentLookup{PostalCode: code})
	return task
}

func TestRepresentLookup(t *testing.T) {
	t.Parallel()
	rp, srv, store := newRepresent(t)
	ctx := context.Background()
	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: rp.Redis.(*redis.Client).Options().Addr, DB: rp.Redis.(*redis.Client).Options().DB})
	defer inspector.Close()

	t.Run("a 503 is an error asynq retries, then the answer is stored", func(t *testing.T) {
		srv.FailNext(testenv.RepresentCodeSmall, 1)
		err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeSmall))
		if err == nil || errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("first = %v, want a retryable error", err)
		}
		if err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeSmall)); err != nil {
			t.Fatal(err)
		}
		reps, _ := store.RepresentativesFor(ctx, testenv.RepresentCodeSmall)
		if len(reps) != 1 || reps[0].GovernmentLevel != "FEDERAL" {
			t.Errorf("reps = %+v", reps)
		}
	})
	t.Run("a fresh entry is not fetched again", func(t *testing.T) {
		before := srv.Calls(testenv.RepresentCodeSmall)
		if err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeSmall)); err != nil {
			t.Fatal(err)
		}
		if srv.Calls(testenv.RepresentCodeSmall) != before {
			t.Error("called upstream for a fresh entry")
		}
	})
	t.Run("a 404 is cached as unknown", func(t *testing.T) {
		if err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeUnknown)); err != nil {
			t.Fatal(err)
		}
		pc, err := store.PostalCodeByCode(ctx, testenv.RepresentCodeUnknown)
		if err != nil || pc.Status != storage.PostalUnknown {
			t.Errorf("= %+v %v", pc, err)
		}
	})
	t.Run("a refresh keeps representative IDs", func(t *testing.T) {
		if err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeFull)); err != nil {
			t.Fatal(err)
		}
		first, err := store.RepresentativesFor(ctx, testenv.RepresentCodeFull)
		if err != nil {
			t.Fatal(err)
		}
		// Age the entry past the TTL, so the second lookup really fetches and
		// saves again; without it the lookup is a no-op and the IDs match
		// trivially.
		tag, err := store.Pool.Exec(ctx, `UPDATE postal_codes SET fetched_at = now() - interval '2 hours' WHERE code = $1`,
			testenv.RepresentCodeFull)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("age the cache entry: %v (%d rows)", err, tag.RowsAffected())
		}
		calls := srv.Calls(testenv.RepresentCodeFull)
		if err := rp.Lookup(ctx, lookupTask(testenv.RepresentCodeFull)); err != nil {
			t.Fatal(err)
		}
		if srv.Calls(testenv.RepresentCodeFull) != calls+1 {
			t.Fatal("the stale entry was not fetched again")
		}
		second, err := store.RepresentativesFor(ctx, testenv.RepresentCodeFull)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 5 || len(second) != 5 || first[0].ID != second[0].ID || first[4].ID != second[4].ID {
			t.Errorf("IDs changed: %d/%d reps", len(first), len(second))
		}
	})
	t.Run("malformed payloads and codes skip retries", func(t *testing.T) {
		for _, task := range []*asynq.Task{asynq.NewTask(tasks.TypeRepresentLookup, []byte("{")), lookupTask("nope")} {
			if err := rp.Lookup(ctx, task); !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("= %v, want SkipRetry", err)
			}
		}
	})
	t.Run("the refresh drops unknown codes past the TTL and re-fetches stale ones", func(t *testing.T) {
		store.Pool.Exec(ctx, `UPDATE postal_codes SET fetched_at = now() - interval '90 minutes'`)                                         //nolint:errcheck
		store.Pool.Exec(ctx, `UPDATE postal_codes SET fetched_at = now() - interval '3 hours' WHERE code = $1`, testenv.RepresentCodeFull) //nolint:errcheck
		task, _ := tasks.NewRepresentRefresh(tasks.RepresentRefresh{Limit: 10})
		if err := rp.Refresh(ctx, task); err != nil {
			t.Fatal(err)
		}
		codes, _, _ := store.ListPostalCodes(ctx, "", 10, 0)
		if len(codes) != 1 || codes[0].Code != testenv.RepresentCodeSmall {
			t.Fatalf("left in the cache: %+v", codes)
		}
		info, err := inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID(testenv.RepresentCodeSmall))
		if err != nil || info.State != asynq.TaskStatePending {
			t.Errorf("refresh lookup task = %+v, %v", info, err)
		}
	})
}

func TestRepresentQuotaIsShared(t *testing.T) {
	t.Parallel()
	rp, srv, _ := newRepresent(t)
	rp.RateLimit = 1
	// A clock fixed ten seconds into a minute: the quota window cannot turn
	// during the test, and the next one is 50s away.
	now := time.Now().Truncate(time.Minute).Add(10 * time.Second)
	rp.Now = func() time.Time { return now }
	other := *rp // a second worker on the same Redis
	if err := rp.Lookup(context.Background(), lookupTask(testenv.RepresentCodeSmall)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := other.Lookup(ctx, lookupTask(testenv.RepresentCodeFull))
	if err == nil || !strings.Contains(err.Error(), "quota") || srv.Calls(testenv.RepresentCodeFull) != 0 {
		t.Errorf("second call in the minute = %v (upstream calls %d), want a quota error and no call", err, srv.Calls(testenv.RepresentCodeFull))
	}
	now = now.Add(time.Minute) // the next window
	if err := other.Lookup(context.Background(), lookupTask(testenv.RepresentCodeFull)); err != nil {
		t.Errorf("first call of the next minute = %v", err)
	}
}

// archiveLookup runs code's lookup on a worker while Represent answers a
// status retrying cannot fix: asynq archives the task, which keeps the
// code's task ID.
func archiveLookup(t *testing.T, rp *represent.Handler, srv *testenv.RepresentServer, code string) {
	t.Helper()
	srv.FailNextWith(code, http.StatusBadRequest, 1)
	if _, err := rp.Queue.Enqueue(lookupTask(code)); err != nil {
		t.Fatal(err)
	}
	opt := rp.Redis.(*redis.Client).Options()
	server := asynq.NewServer(asynqconn.FromRedis(opt), asynq.Config{Concurrency: 1,
		Queues: map[string]int{tasks.QueueRepresent: 1}, TaskCheckInterval: 20 * time.Millisecond,
		Logger: asynqlog.New(testenv.Logger(t)), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeRepresentLookup, rp.Lookup)
	if err := server.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer server.Shutdown()
	testenv.Eventually(t, 15*time.Second, "the lookup task to be archived", func() bool {
		info, err := rp.Inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID(code))
		return err == nil && info.State == asynq.TaskStateArchived
	})
}

// TestRefreshReplacesArchivedLookups: a stale entry whose last lookup task
// was archived is refreshed again once the cooldown is over (the archived
// task used to hold the code's task ID, so the refresh never ran again).
func TestRefreshReplacesArchivedLookups(t *testing.T) {
	t.Parallel()
	rp, srv, store := newRepresent(t)
	ctx := context.Background()
	code := testenv.RepresentCodeSmall
	if err := rp.Lookup(ctx, lookupTask(code)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool.Exec(ctx, `UPDATE postal_codes SET fetched_at = now() - interval '90 minutes'`); err != nil {
		t.Fatal(err)
	}
	archiveLookup(t, rp, srv, code)
	state := func() asynq.TaskState {
		info, err := rp.Inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID(code))
		if err != nil {
			t.Fatal(err)
		}
		return info.State
	}
	refresh, _ := tasks.NewRepresentRefresh(tasks.RepresentRefresh{Limit: 10})

	t.Run("within the cooldown the archived task stays", func(t *testing.T) {
		if err := rp.Refresh(ctx, refresh); err != nil {
			t.Fatal(err)
		}
		if s := state(); s != asynq.TaskStateArchived {
			t.Errorf("task = %v, want still archived", s)
		}
	})
	t.Run("after the cooldown a new lookup is enqueued", func(t *testing.T) {
		clock := time.Now().Add(2 * time.Minute)
		rp.Now = func() time.Time { return clock }
		if err := rp.Refresh(ctx, refresh); err != nil {
			t.Fatal(err)
		}
		if s := state(); s != asynq.TaskStatePending {
			t.Fatalf("task = %v, want a new pending lookup", s)
		}
		calls := srv.Calls(code)
		if err := rp.Lookup(ctx, lookupTask(code)); err != nil {
			t.Fatal(err)
		}
		if srv.Calls(code) != calls+1 {
			t.Error("the new lookup did not call Represent")
		}
	})
}
