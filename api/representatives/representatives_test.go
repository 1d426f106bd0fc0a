package representatives_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/api"
	"changemaker/config"
	"changemaker/internal/influencetest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

type lookupBody struct {
	PostalCode      storage.PostalCode       `json:"postalCode"`
	Representatives []storage.Representative `json:"representatives"`
}

func lookup(t *testing.T, env *influencetest.Env, body any) *testenv.Response {
	t.Helper()
	return testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/public/representatives/lookup", Body: body})
}

func lookupFrom(t *testing.T, app *api.App, ip, code string) *testenv.Response {
	t.Helper()
	return testenv.Do(t, app, testenv.Request{Method: "POST", Path: "/api/public/representatives/lookup",
		Body: map[string]any{"postalCode": code}, Header: map[string]string{"X-Real-Ip": ip}})
}

func TestLookup(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)

	t.Run("a miss waits for the worker; both lists merge without duplicates", func(t *testing.T) {
		res := lookup(t, env, map[string]any{"postalCode": " t5k-2j1 "})
		var b lookupBody
		res.JSON(t, &b)
		if res.Status != 200 || b.PostalCode.Code != "T5K2J1" || b.PostalCode.Province != "AB" {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		names := map[string]int{}
		for _, r := range b.Representatives {
			names[r.Name]++
		}
		if len(b.Representatives) != 5 || names[testenv.RepMP.Name] != 1 {
			t.Errorf("representatives = %v, want 5 with the MP once", names)
		}
		for _, r := range b.Representatives {
			if r.Name == testenv.RepCouncillorNoEmail.Name && (r.Email != "" || r.GovernmentLevel != "MUNICIPAL") {
				t.Errorf("councillor = %+v", r)
			}
			if r.Name == testenv.RepTrustee.Name && r.GovernmentLevel != "SCHOOL_BOARD" {
				t.Errorf("trustee level = %s", r.GovernmentLevel)
			}
			if r.Name == testenv.RepMP.Name && (len(r.Offices) != 1 || r.Offices[0].Tel == "") {
				t.Errorf("MP offices = %+v", r.Offices)
			}
		}
		if b.PostalCode.Latitude == nil || *b.PostalCode.Latitude != 53.54 {
			t.Errorf("centroid = %+v", b.PostalCode)
		}
	})
	t.Run("a hit does not call upstream", func(t *testing.T) {
		before := env.Represent.Calls("T5K2J1")
		if res := lookup(t, env, map[string]any{"postalCode": "T5K2J1"}); res.Status != 200 {
			t.Fatalf("= %d", res.Status)
		}
		if n := env.Represent.Calls("T5K2J1"); n != before {
			t.Errorf("upstream calls %d -> %d on a cache hit", before, n)
		}
	})
	t.Run("with a campaign, only its levels", func(t *testing.T) {
		owner := env.CreateUser(storage.RoleInfluenceAdmin, "")
		camp := env.CreateCampaign(t, owner.ID, func(f *storage.CampaignFields) {
			f.TargetGovernmentLevels = &[]string{storage.LevelProvincial, storage.LevelSchoolBoard}
		})
		res := lookup(t, env, map[string]any{"postalCode": "T5K2J1", "campaign": camp.Slug})
		var b lookupBody
		res.JSON(t, &b)
		if res.Status != 200 || len(b.Representatives) != 2 {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
		if res := lookup(t, env, map[string]any{"postalCode": "T5K2J1", "campaign": "no-such-campaign"}); res.Status != 404 {
			t.Errorf("unknown campaign = %d", res.Status)
		}
	})
	t.Run("an unknown code is a 404, cached", func(t *testing.T) {
		for i := range 2 {
			if res := lookup(t, env, map[string]any{"postalCode": testenv.RepresentCodeUnknown}); res.Status != 404 {
				t.Fatalf("call %d = %d %s", i, res.Status, res.Body)
			}
		}
		if n := env.Represent.Calls(testenv.RepresentCodeUnknown); n != 1 {
			t.Errorf("upstream calls = %d, want 1", n)
		}
	})
	t.Run("a 503 upstream is retried", func(t *testing.T) {
		env.Represent.FailNext(testenv.RepresentCodeSmall, 2)
		res := lookup(t, env, map[string]any{"postalCode": "K1A 0B1"})
		if res.Status != 200 {
			t.Fatalf("= %d %s", res.Status, res.Body)
		}
		if n := env.Represent.Calls(testenv.RepresentCodeSmall); n != 3 {
			t.Errorf("upstream calls = %d, want 3 (two 503s, then 200)", n)
		}
	})
	t.Run("bad input is a 400", func(t *testing.T) {
		for _, body := range []any{
			map[string]any{"postalCode": "12345"},
			map[string]any{"postalCode": "D1A 1A1"}, // D is never a first letter
			map[string]any{"postalCode": ""},
			map[string]any{},
			map[string]any{"postalCode": 5},
			`{"postalCode":`,
		} {
			if res := lookup(t, env, body); res.Status != 400 {
				t.Errorf("%v = %d %s", body, res.Status, res.Body)
			}
		}
	})
}

func TestLookupManyMissesMakeOneUpstreamCall(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	release := env.Represent.Hold()
	var wg sync.WaitGroup
	statuses := make([]int, 25)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Many visitors, each within their own limit on misses.
			statuses[i] = lookupFrom(t, env.Main, fmt.Sprintf("198.51.100.%d", i+1), "T5K 2J1").Status
		}()
	}
	testenv.Eventually(t, 10*time.Second, "the worker to call upstream", func() bool { return env.Represent.Calls("T5K2J1") >= 1 })
	release()
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("lookup %d = %d", i, s)
		}
	}
	if n := env.Represent.Calls("T5K2J1"); n != 1 {
		t.Errorf("upstream calls = %d, want 1", n)
	}
}

func TestLookupAnswers202WhenTheWorkerIsSlow(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Influence.LookupWait = 300 * time.Millisecond })
	env.StartWorker(t)
	release := env.Represent.Hold()
	res := lookup(t, env, map[string]any{"postalCode": "T5K 2J1"})
	if res.Status != 202 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("= %d (Retry-After %q) %s, want 202 with Retry-After", res.Status, res.Header.Get("Retry-After"), res.Body)
	}
	release()
	testenv.Eventually(t, 10*time.Second, "the cache to fill", func() bool {
		_, err := env.Store.PostalCodeByCode(context.Background(), "T5K2J1")
		return err == nil
	})
	if res := lookup(t, env, map[string]any{"postalCode": "T5K 2J1"}); res.Status != 200 {
		t.Errorf("next call = %d, want 200", res.Status)
	}
}

func TestCacheAdmin(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t)
	env.StartWorker(t)
	admin := env.TokenFor(storage.RoleInfluenceAdmin)
	for _, code := range []string{"T5K2J1", "K1A0B1"} {
		env.Lookup(t, code)
	}
	lookup(t, env, map[string]any{"postalCode": "T5K2J1"}) // a hit

	res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/representatives", Token: admin})
	var list struct {
		Data []storage.CachedPostalCode
	}
	res.JSON(t, &list)
	if res.Status != 200 || len(list.Data) != 2 {
		t.Fatalf("list = %d %s", res.Status, res.Body)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/representatives/stats", Token: admin})
	var stats struct {
		Stats struct {
			Entries       int     `json:"entries"`
			Hits          int     `json:"hits"`
			Misses        int     `json:"misses"`
			HitRatio      float64 `json:"hitRatio"`
			UpstreamCalls int     `json:"upstreamCalls"`
		} `json:"stats"`
	}
	res.JSON(t, &stats)
	if s := stats.Stats; s.Entries != 2 || s.Hits != 1 || s.Misses != 2 || s.UpstreamCalls != 2 || s.HitRatio < 0.33 || s.HitRatio > 0.34 {
		t.Errorf("stats = %s", res.Body)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: "/api/representatives/cache?postalCode=k1a%200b1", Token: admin})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"deleted":1`) {
		t.Errorf("delete one = %d %s", res.Status, res.Body)
	}
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: "/api/representatives/cache?postalCode=nope", Token: admin}); res.Status != 400 {
		t.Errorf("delete bad code = %d", res.Status)
	}
	// A postal code named but left empty is refused, not taken for "all".
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: "/api/representatives/cache?postalCode=", Token: admin}); res.Status != 400 {
		t.Errorf("delete with an empty code = %d %s, want 400", res.Status, res.Body)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "DELETE", Path: "/api/representatives/cache", Token: admin})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"deleted":1`) {
		t.Errorf("delete all = %d %s", res.Status, res.Body)
	}
	res = testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/metrics"})
	if !strings.Contains(string(res.Body), `cm_represent_lookups_total{result="hit"} 1`) {
		t.Errorf("metrics lack the lookup counter")
	}
}

// TestLookupAfterTheTaskWasArchived: when Represent keeps failing for a
// postal code, asynq archives its lookup task, and the archive keeps the
// task ID (one per code) for up to 90 days. The lookup used to take the
// conflict for a lookup on its way and answer 202 forever without calling
// Represent again. Now: just after the failure it answers 503 with
// Retry-After (sparing the upstream quota), and once the cooldown is over the
// archived task is replaced and Represent is asked again.
func TestLookupAfterTheTaskWasArchived(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Influence.LookupWait = 300 * time.Millisecond })
	env.StartWorker(t)
	inspector := asynq.NewInspector(env.Asynq)
	t.Cleanup(func() { inspector.Close() })
	code := testenv.RepresentCodeSmall
	env.Represent.FailNext(code, 100)

	res := lookup(t, env, map[string]any{"postalCode": "K1A 0B1"})
	if res.Status != 202 && res.Status != 503 {
		t.Fatalf("first lookup = %d %s, want 202 (or 503 if the worker already gave up)", res.Status, res.Body)
	}
	testenv.Eventually(t, 30*time.Second, "the lookup task to be archived", func() bool {
		info, err := inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID(code))
		return err == nil && info.State == asynq.TaskStateArchived
	})
	failedCalls := env.Represent.Calls(code)
	if failedCalls != tasks.RepresentLookupMaxRetry+1 {
		t.Errorf("upstream calls before the task was archived = %d, want %d", failedCalls, tasks.RepresentLookupMaxRetry+1)
	}

	t.Run("just after, a 503 with Retry-After, and Represent is spared", func(t *testing.T) {
		for range 3 {
			res := lookup(t, env, map[string]any{"postalCode": "K1A 0B1"})
			retryAfter, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			if res.Status != 503 || res.ErrorCode() != "unavailable" || retryAfter < 1 || retryAfter > 60 {
				t.Errorf("= %d %s (Retry-After %q), want 503 unavailable with Retry-After up to a minute",
					res.Status, res.Body, res.Header.Get("Retry-After"))
			}
		}
		if n := env.Represent.Calls(code); n != failedCalls {
			t.Errorf("upstream calls = %d, want still %d", n, failedCalls)
		}
	})

	env.Represent.Recover(code)
	t.Run("after the cooldown, the lookup reaches Represent again", func(t *testing.T) {
		// An API process whose cooldown has passed: one configured without.
		d := env.Deps
		d.Config.Influence.RepresentRetryCooldown = 0
		later, err := api.NewMain(d)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { later.Close() })
		res := lookupFrom(t, later, "192.0.2.1", "K1A 0B1")
		if res.Status == 202 {
			testenv.Eventually(t, 15*time.Second, "the cache to fill", func() bool {
				_, err := env.Store.PostalCodeByCode(context.Background(), code)
				return err == nil
			})
			res = lookupFrom(t, later, "192.0.2.1", "K1A 0B1")
		}
		var b lookupBody
		res.JSON(t, &b)
		if res.Status != 200 || len(b.Representatives) != 1 {
			t.Fatalf("= %d %s, want 200 with the MP", res.Status, res.Body)
		}
		if n := env.Represent.Calls(code); n != failedCalls+1 {
			t.Errorf("upstream calls = %d, want %d", n, failedCalls+1)
		}
		// And the main app, cooldown or not, now finds the cache.
		if res := lookup(t, env, map[string]any{"postalCode": "K1A 0B1"}); res.Status != 200 {
			t.Errorf("next lookup = %d %s", res.Status, res.Body)
		}
	})
}

// TestLookupMissLimit: a client may look up only a few postal codes that are
// not cached per window (each may cost a Represent call from the fleet-wide
// quota); cache hits do not count, other clients are not affected, and an
// IPv6 client is one /64.
func TestLookupMissLimit(t *testing.T) {
	t.Parallel()
	env := influencetest.New(t, func(c *config.Config) { c.Influence.LookupMissRateLimit = 2 })
	env.StartWorker(t)
	codes := []string{"A1A1A1", "B2B2B2", "C3C3C3", "E4E4E4"} // unknown to Represent: a 404 each
	for i, code := range codes[:2] {
		if res := lookupFrom(t, env.Main, "198.51.100.1", code); res.Status != 404 {
			t.Fatalf("miss %d = %d %s, want 404 from Represent", i, res.Status, res.Body)
		}
	}
	res := lookupFrom(t, env.Main, "198.51.100.1", codes[2])
	if res.Status != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third miss = %d %s (Retry-After %q), want 429", res.Status, res.Body, res.Header.Get("Retry-After"))
	}
	if n := env.Represent.Calls(codes[2]); n != 0 {
		t.Errorf("the refused miss reached Represent %d times", n)
	}
	t.Run("cache hits do not count", func(t *testing.T) {
		for range 5 {
			if res := lookupFrom(t, env.Main, "198.51.100.1", codes[0]); res.Status != 404 {
				t.Errorf("cached unknown code = %d, want its cached 404", res.Status)
			}
		}
		if res := lookupFrom(t, env.Main, "198.51.100.2", testenv.RepresentCodeFull); res.Status != 200 {
			t.Fatalf("another client's miss = %d", res.Status)
		}
		for range 5 {
			if res := lookupFrom(t, env.Main, "198.51.100.1", testenv.RepresentCodeFull); res.Status != 200 {
				t.Errorf("hit = %d %s", res.Status, res.Body)
			}
		}
	})
	t.Run("another client is not limited", func(t *testing.T) {
		if res := lookupFrom(t, env.Main, "198.51.100.3", codes[2]); res.Status != 404 {
			t.Errorf("= %d %s", res.Status, res.Body)
		}
	})
	t.Run("an IPv6 client is its /64", func(t *testing.T) {
		for i, code := range []string{"G5G5G5", "H6H6H6"} {
			if res := lookupFrom(t, env.Main, fmt.Sprintf("2001:db8:1:2::%d", i+1), code); res.Status != 404 {
				t.Fatalf("miss %d = %d %s", i, res.Status, res.Body)
			}
		}
		if res := lookupFrom(t, env.Main, "2001:db8:1:2:ffff::9", codes[3]); res.Status != 429 {
			t.Errorf("third miss from the same /64 = %d, want 429", res.Status)
		}
		if res := lookupFrom(t, env.Main, "2001:db8:1:3::1", codes[3]); res.Status != 404 {
			t.Errorf("a miss from the next /64 = %d, want 404", res.Status)
		}
	})
}

// TestLookupAnswers503WhenRepresentIsUnreachable: with Represent out of
// reach (connection refused), a lookup used to answer 202 "still looking"
// for over an hour while its task retried. Once the first attempt has
// failed, the constituent hears that it is not working now (503, with
// Retry-After and words a person understands), and the task keeps retrying
// in the background.
func TestLookupAnswers503WhenRepresentIsUnreachable(t *testing.T) {
	t.Parallel()
	gone := httptest.NewServer(http.NotFoundHandler())
	unreachable := gone.URL
	gone.Close() // nothing listens there any more: connection refused
	env := influencetest.New(t, func(c *config.Config) {
		c.Influence.LookupWait = 300 * time.Millisecond
		c.Influence.RepresentBaseURL = unreachable
	})
	env.StartWorker(t)
	var last *testenv.Response
	testenv.Eventually(t, 30*time.Second, "a 503 for the failing lookup", func() bool {
		last = lookup(t, env, map[string]any{"postalCode": "T5K 2J1"})
		if last.Status != 202 && last.Status != 503 {
			t.Fatalf("lookup with Represent unreachable = %d %s, want 202 then 503", last.Status, last.Body)
		}
		return last.Status == 503
	})
	if last.ErrorCode() != "unavailable" || !strings.Contains(string(last.Body), "cannot reach the service") {
		t.Errorf("503 body = %s, want code unavailable and a message a constituent understands", last.Body)
	}
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 5 {
		t.Errorf("Retry-After = %q, want at least 5 seconds", last.Header.Get("Retry-After"))
	}
	// The task is still there, having failed and being retried: waiting to
	// retry, due again (pending), running, or — the test worker retries
	// quickly — archived, to be enqueued again after the cooldown.
	info, err := env.Deps.Inspector.GetTaskInfo(tasks.QueueRepresent, tasks.RepresentLookupTaskID("T5K2J1"))
	if err != nil || info.Retried < 1 || info.State == asynq.TaskStateCompleted {
		t.Fatalf("the lookup's task = %v, %v; want it failed and retrying in the background", info, err)
	}
}
