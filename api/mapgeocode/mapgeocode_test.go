package mapgeocode_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/config"
	"changemaker/internal/asynqconn"
	"changemaker/internal/geocoder/geocodertest"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
	"changemaker/worker/geocode"
)

type jobBody struct {
	Job struct {
		ID     int64  `json:"id"`
		Type   string `json:"type"`
		Status string `json:"status"`
		Total  int    `json:"total"`
		Done   int    `json:"done"`
		Failed int    `json:"failed"`
	} `json:"job"`
}

type reverseBody struct {
	Result struct {
		Latitude   float64 `json:"latitude"`
		Longitude  float64 `json:"longitude"`
		Address    string  `json:"address"`
		Provider   string  `json:"provider"`
		Confidence int     `json:"confidence"`
	} `json:"result"`
}

func newEnv(t *testing.T) (*testenv.API, *geocodertest.Nominatim) {
	t.Helper()
	fake := geocodertest.NewNominatim(t, func(path, q string) geocodertest.Place {
		if strings.Contains(q, "Nowhere") || q == "10,10" {
			return geocodertest.Place{}
		}
		return geocodertest.Place{Found: true, Lat: 45.3, Lng: -75.8, Name: "1 Somewhere Rd, Ottawa", Rank: 30}
	})
	env := testenv.NewAPI(t, func(c *config.Config) {
		c.Geocode.Providers = []string{"nar", "nominatim"}
		c.Geocode.NominatimURL = fake.URL
		c.Geocode.Contact = "maps@example.org"
		c.Geocode.NominatimInterval = 0
	})
	return env, fake
}

// TestRoles: every route is for SUPER_ADMIN and MAP_ADMIN only.
func TestRoles(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(t)
	geocodertest.AddNAR(t, env.Store, geocodertest.NARRow{Civic: "40", Street: "Elgin", Type: "ST", City: "Ottawa",
		Province: "ON", Lat: 45.4215, Lng: -75.6953})
	loc := geocodertest.AddLocation(t, env.Store, "40 Elgin St", "Ottawa", "ON", "")
	job, err := env.Store.CreateGeocodeJobForIDs(t.Context(), []int64{loc}, map[string]any{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		method, path string
		body         any
		ok           int
	}{
		{"POST", fmt.Sprintf("/api/map/locations/%d/geocode", loc), nil, 202},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": []int64{loc}}, 202},
		{"GET", fmt.Sprintf("/api/map/jobs/%d", job.ID), nil, 200},
		{"GET", "/api/map/geocode/reverse?lat=45.4215&lng=-75.6953", nil, 200},
	}
	allowed := []string{storage.RoleSuperAdmin, storage.RoleMapAdmin}
	callers := []string{"", storage.RoleTemp, storage.RoleUser, storage.RoleInfluenceAdmin, storage.RoleMapAdmin, storage.RoleSuperAdmin}
	for _, r := range routes {
		for _, role := range callers {
			name := role
			if name == "" {
				name = "anonymous"
			}
			t.Run(r.method+" "+r.path+" as "+name, func(t *testing.T) {
				token := ""
				if role != "" {
					token = env.TokenFor(role)
				}
				res := testenv.Do(t, env.Main, testenv.Request{Method: r.method, Path: r.path, Body: r.body, Token: token})
				want := r.ok
				switch {
				case role == "":
					want = 401
				case !slices.Contains(allowed, role):
					want = 403
				}
				if res.Status != want {
					t.Fatalf("%d %s, want %d", res.Status, res.Body, want)
				}
			})
		}
	}
}

// TestBadInput: what is wrong with a request is a 4xx that says so.
func TestBadInput(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(t)
	loc := geocodertest.AddLocation(t, env.Store, "1 Main St", "Ottawa", "ON", "")
	token := env.TokenFor(storage.RoleMapAdmin)
	cases := []struct {
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{"POST", "/api/map/locations/abc/geocode", nil, 400, "validation_failed", "id"},
		{"POST", "/api/map/locations/0/geocode", nil, 400, "validation_failed", "id"},
		{"POST", "/api/map/locations/999999/geocode", nil, 404, "not_found", ""},
		{"POST", "/api/map/locations/geocode", "{", 400, "invalid_json", ""},
		{"POST", "/api/map/locations/geocode", map[string]any{}, 400, "validation_failed", ""},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": []int64{loc}, "filter": map[string]any{}}, 400, "validation_failed", ""},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": []int64{}}, 400, "validation_failed", "locationIds"},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": []int64{-4}}, 400, "validation_failed", "locationIds"},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": []int64{loc, 987654}}, 400, "validation_failed", "locationIds"},
		{"POST", "/api/map/locations/geocode", map[string]any{"locationIds": "1,2"}, 400, "invalid_json", "locationIds"},
		{"POST", "/api/map/locations/geocode", map[string]any{"filter": map[string]any{"postalCodePrefix": "1A1"}}, 400, "validation_failed", "filter.postalCodePrefix"},
		{"POST", "/api/map/locations/geocode", map[string]any{"filter": map[string]any{"postalCodePrefix": "K1A0B1X"}}, 400, "validation_failed", "filter.postalCodePrefix"},
		{"POST", "/api/map/locations/geocode", map[string]any{"filter": map[string]any{"source": "OSM"}}, 400, "validation_failed", "filter.source"},
		{"GET", "/api/map/jobs/x", nil, 400, "validation_failed", "id"},
		{"GET", "/api/map/jobs/999999", nil, 404, "not_found", ""},
		{"GET", "/api/map/geocode/reverse", nil, 400, "validation_failed", "lat"},
		{"GET", "/api/map/geocode/reverse?lat=45&lng=abc", nil, 400, "validation_failed", "lng"},
		{"GET", "/api/map/geocode/reverse?lat=91&lng=-75", nil, 400, "validation_failed", "lat"},
		{"GET", "/api/map/geocode/reverse?lat=NaN&lng=-75", nil, 400, "validation_failed", "lat"},
		{"GET", "/api/map/geocode/reverse?lat=45&lng=-181", nil, 400, "validation_failed", "lng"},
	}
	for _, c := range cases {
		res := testenv.Do(t, env.Main, testenv.Request{Method: c.method, Path: c.path, Body: c.body, Token: token})
		if res.Status != c.status || res.ErrorCode() != c.code {
			t.Errorf("%s %s %v: %d %s, want %d %s", c.method, c.path, c.body, res.Status, res.Body, c.status, c.code)
			continue
		}
		if c.field != "" && !strings.Contains(string(res.Body), `"field":"`+c.field+`"`) {
			t.Errorf("%s %s %v: %s does not name the field %s", c.method, c.path, c.body, res.Body, c.field)
		}
	}
}

// TestBatchThroughTheFleet: a batch by filter answers 202 with a job, and
// the job's progress, read through the API, reaches DONE with the right
// counts once a geocode worker has run.
func TestBatchThroughTheFleet(t *testing.T) {
	t.Parallel()
	env, fake := newEnv(t)
	token := env.TokenFor(storage.RoleMapAdmin)
	geocodertest.AddNAR(t, env.Store, geocodertest.NARRow{Civic: "40", Street: "Elgin", Type: "ST", City: "Ottawa",
		Province: "ON", PostalCode: "K1P 1C7", Lat: 45.4215, Lng: -75.6953})
	inRegister := geocodertest.AddLocation(t, env.Store, "40 Elgin Street", "Ottawa", "ON", "K1P 1C7")
	elsewhere := geocodertest.AddLocation(t, env.Store, "90 Sparks St", "Ottawa", "ON", "K1P 5B4")
	nowhere := geocodertest.AddLocation(t, env.Store, "1 Nowhere Lane", "Ottawa", "ON", "K1P 5Z9")
	geocodertest.AddLocation(t, env.Store, "5 Other St", "Gatineau", "QC", "J8X 1A1") // not in K1P

	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/locations/geocode", Token: token,
		Body: map[string]any{"filter": map[string]any{"postalCodePrefix": "k1p"}}})
	if res.Status != 202 {
		t.Fatalf("batch: %d %s", res.Status, res.Body)
	}
	var created jobBody
	res.JSON(t, &created)
	if created.Job.Total != 3 || created.Job.Status != "QUEUED" || created.Job.Type != "GEOCODE" {
		t.Fatalf("job %+v, want 3 locations queued", created.Job)
	}
	// A filter that matches nothing is a job with nothing to do.
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/locations/geocode", Token: token,
		Body: map[string]any{"filter": map[string]any{"postalCodePrefix": "X0X", "withoutPoint": false}}})
	var empty jobBody
	res.JSON(t, &empty)
	if res.Status != 202 || empty.Job.Total != 0 || empty.Job.Status != "DONE" {
		t.Fatalf("empty batch: %d %s", res.Status, res.Body)
	}

	mux := asynq.NewServeMux()
	geocode.Register(mux, fleet.Deps{Config: env.Config, Store: env.Store, Redis: env.Redis, Queue: env.Deps.Queue,
		Log: testenv.Logger(t)})
	srv := asynq.NewServer(asynqconn.FromRedis(env.RedisOpt), asynq.Config{Concurrency: 2,
		Queues: map[string]int{tasks.QueueGeocode: 1}, LogLevel: asynq.ErrorLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	var job jobBody
	testenv.Eventually(t, 60*time.Second, "the batch to end", func() bool {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/jobs/%d", created.Job.ID), Token: token})
		if res.Status != 200 {
			t.Fatalf("job: %d %s", res.Status, res.Body)
		}
		res.JSON(t, &job)
		return job.Job.Status == "DONE"
	})
	if job.Job.Total != 3 || job.Job.Done != 2 || job.Job.Failed != 1 {
		t.Fatalf("job ended %+v, want 2 placed and 1 failed of 3", job.Job)
	}
	if _, _, p, _, ok := geocodertest.Point(t, env.Store, inRegister); !ok || p != "nar" {
		t.Errorf("40 Elgin St: provider %q, placed %v", p, ok)
	}
	if _, _, p, _, ok := geocodertest.Point(t, env.Store, elsewhere); !ok || p != "nominatim" {
		t.Errorf("90 Sparks St: provider %q, placed %v", p, ok)
	}
	if _, _, _, _, ok := geocodertest.Point(t, env.Store, nowhere); ok {
		t.Error("1 Nowhere Lane was placed")
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("nominatim asked %d times, want 2", n)
	}

	// One location, again through the fleet.
	res = testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/map/locations/%d/geocode", elsewhere), Token: token})
	var one jobBody
	res.JSON(t, &one)
	if res.Status != 202 || one.Job.Total != 1 {
		t.Fatalf("one location: %d %s", res.Status, res.Body)
	}
	testenv.Eventually(t, 60*time.Second, "the one-location job to end", func() bool {
		j, err := env.Store.GeocodeJobByID(t.Context(), one.Job.ID)
		return err == nil && j.Status == storage.GeocodeJobDone && j.Done == 1
	})
}

// TestReverse: the register answers near its buildings, Nominatim
// elsewhere; nowhere is a 404.
func TestReverse(t *testing.T) {
	t.Parallel()
	env, fake := newEnv(t)
	token := env.TokenFor(storage.RoleSuperAdmin)
	geocodertest.AddNAR(t, env.Store, geocodertest.NARRow{Civic: "40", Street: "Elgin", Type: "ST", City: "Ottawa",
		Province: "ON", PostalCode: "K1P 1C7", Lat: 45.4215, Lng: -75.6953})
	get := func(lat, lng string) (*testenv.Response, reverseBody) {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/geocode/reverse?lat=" + lat + "&lng=" + lng, Token: token})
		var b reverseBody
		if res.Status == 200 {
			res.JSON(t, &b)
		}
		return res, b
	}
	res, b := get("45.42151", "-75.69531")
	if res.Status != 200 || b.Result.Provider != "nar" || b.Result.Address != "40 Elgin ST, Ottawa ON K1P 1C7" || b.Result.Confidence != 90 {
		t.Fatalf("near the register: %d %s", res.Status, res.Body)
	}
	res, b = get("45.3", "-75.8")
	if res.Status != 200 || b.Result.Provider != "nominatim" || b.Result.Address != "1 Somewhere Rd, Ottawa" {
		t.Fatalf("away from the register: %d %s", res.Status, res.Body)
	}
	res, _ = get("10", "10")
	if res.Status != 404 || res.ErrorCode() != "not_found" {
		t.Fatalf("nowhere: %d %s", res.Status, res.Body)
	}
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("nominatim asked %d times, want 2", n)
	}
}

// TestCancel: only map admins stop a job; a stopped or finished job is a
// 409 that says how it ended; the job reads CANCELLED afterwards.
func TestCancel(t *testing.T) {
	t.Parallel()
	env, _ := newEnv(t)
	loc := geocodertest.AddLocation(t, env.Store, "12 Bank St", "Ottawa", "ON", "")
	allowed := []string{storage.RoleSuperAdmin, storage.RoleMapAdmin}
	callers := []string{"", storage.RoleTemp, storage.RoleUser, storage.RoleInfluenceAdmin, storage.RoleMapAdmin, storage.RoleSuperAdmin}
	for _, role := range callers {
		job, err := env.Store.CreateGeocodeJobForIDs(t.Context(), []int64{loc}, map[string]any{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		token, want := "", 200
		switch {
		case role == "":
			want = 401
		case !slices.Contains(allowed, role):
			token, want = env.TokenFor(role), 403
		default:
			token = env.TokenFor(role)
		}
		path := fmt.Sprintf("/api/map/jobs/%d/cancel", job.ID)
		res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: path, Token: token})
		if res.Status != want {
			t.Fatalf("cancel as %q: %d %s, want %d", role, res.Status, res.Body, want)
		}
		got, err := env.Store.GeocodeJobByID(t.Context(), job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want != 200 {
			if got.Status != storage.GeocodeJobQueued {
				t.Fatalf("a refused cancel (as %q) changed the job to %s", role, got.Status)
			}
			continue
		}
		var body struct {
			Job struct {
				Status string `json:"status"`
			} `json:"job"`
		}
		res.JSON(t, &body)
		if body.Job.Status != "CANCELLED" || got.Status != storage.GeocodeJobCancelled || got.FinishedAt == nil {
			t.Fatalf("after cancel: answer %s, stored %+v; want CANCELLED with a finish time", res.Body, got)
		}
		again := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: path, Token: token})
		if again.Status != 409 || !strings.Contains(string(again.Body), "already CANCELLED") {
			t.Fatalf("cancel twice: %d %s, want 409 saying it is already CANCELLED", again.Status, again.Body)
		}
	}
	admin := env.TokenFor(storage.RoleMapAdmin)
	for path, want := range map[string]int{"/api/map/jobs/999999/cancel": 404, "/api/map/jobs/x/cancel": 400} {
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: path, Token: admin}); res.Status != want {
			t.Errorf("POST %s: %d %s, want %d", path, res.Status, res.Body, want)
		}
	}
}
