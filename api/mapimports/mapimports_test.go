package mapimports_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/worker/fleet"
	"changemaker/worker/imports"
)

type importBody struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	RowsRead     int64  `json:"rowsRead"`
	Inserted     int64  `json:"inserted"`
	Updated      int64  `json:"updated"`
	Skipped      int64  `json:"skipped"`
	Error        string `json:"error"`
	SkippedLines []struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"skippedLines"`
}

func newEnv(t *testing.T) *testenv.API {
	t.Helper()
	root := t.TempDir()
	return testenv.NewAPI(t, func(c *config.Config) { c.Imports.Root = root })
}

// startWorker runs an import worker, as the import fleet would, until t ends.
func startWorker(t testing.TB, env *testenv.API) {
	t.Helper()
	srv := asynq.NewServer(env.Asynq, asynq.Config{Concurrency: 2, Queues: map[string]int{"import": 1},
		Logger: quietLogger{}, LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	imports.Register(mux, fleet.Deps{Config: env.Config, Store: env.Store, Redis: env.Redis, Queue: env.Deps.Queue,
		Log: testenv.Logger(t)})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

type part struct {
	field, name string
	body        []byte
}

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var err error
		if p.name != "" {
			var w io.Writer
			if w, err = mw.CreateFormFile(p.field, p.name); err == nil {
				_, err = w.Write(p.body)
			}
		} else {
			err = mw.WriteField(p.field, string(p.body))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return mw.FormDataContentType(), body.Bytes()
}

func narFiles(t *testing.T, layout string) []part {
	t.Helper()
	var out []part
	for _, n := range []string{"Address_35.csv", "Location_35.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "worker", "imports", "nar", "testdata", layout, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, part{"file", n, b})
	}
	return out
}

func post(t *testing.T, env *testenv.API, path, token string, parts ...part) *testenv.Response {
	t.Helper()
	ct, body := multipartBody(t, parts...)
	r := httptest.NewRequest("POST", path, bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return testenv.Send(t, env.Main, r)
}

func waitFinished(t *testing.T, env *testenv.API, token string, id int64) importBody {
	t.Helper()
	var got importBody
	testenv.Eventually(t, 60*time.Second, "the import to finish", func() bool {
		res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: fmt.Sprintf("/api/map/imports/%d", id), Token: token})
		if res.Status != 200 {
			t.Fatalf("get import = %d %s", res.Status, res.Body)
		}
		got = importBody{}
		res.JSON(t, &got)
		return got.Status != storage.ImportQueued && got.Status != storage.ImportRunning
	})
	return got
}

// TestUploadToDone: an upload answers 202 and the import fleet takes it to
// DONE, the broken rows reported by line; the same release again updates
// and adds nothing.
func TestUploadToDone(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	startWorker(t, env)
	admin := env.TokenFor(storage.RoleMapAdmin)

	res := post(t, env, "/api/map/imports/nar", admin, narFiles(t, "layout-old")...)
	if res.Status != 202 {
		t.Fatalf("upload = %d %s", res.Status, res.Body)
	}
	var queued importBody
	res.JSON(t, &queued)
	got := waitFinished(t, env, admin, queued.ID)
	if got.Status != storage.ImportDone || got.RowsRead != 13 || got.Inserted != 7 || got.Skipped != 6 {
		t.Fatalf("import = %+v, want DONE with 13 read, 7 inserted, 6 skipped", got)
	}
	var lines []int
	for _, l := range got.SkippedLines {
		lines = append(lines, l.Line)
	}
	if fmt.Sprint(lines) != "[5 8 9 10 12 14]" {
		t.Errorf("skipped lines = %v", got.SkippedLines)
	}

	res = post(t, env, "/api/map/imports/nar", admin, narFiles(t, "layout-2026")...)
	res.JSON(t, &queued)
	again := waitFinished(t, env, admin, queued.ID)
	if again.Status != storage.ImportDone || again.Inserted != 0 || again.Updated != 7 {
		t.Fatalf("re-import = %+v, want DONE with 0 inserted, 7 updated", again)
	}

	// A file that is not what it claims ends FAILED with a reason.
	res = post(t, env, "/api/map/imports/nar", admin, part{"file", "release.zip", []byte("PK not really a zip")})
	res.JSON(t, &queued)
	failed := waitFinished(t, env, admin, queued.ID)
	if failed.Status != storage.ImportFailed || !strings.Contains(failed.Error, "zip") {
		t.Fatalf("broken zip = %+v, want FAILED with a reason", failed)
	}

	// The list shows all three, newest first.
	list := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/imports?limit=2", Token: admin})
	var page struct {
		Data       []importBody `json:"data"`
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	list.JSON(t, &page)
	if list.Status != 200 || page.Pagination.Total != 3 || len(page.Data) != 2 || page.Data[0].ID != queued.ID {
		t.Fatalf("list = %d %s", list.Status, list.Body)
	}

	// A finished import cannot be cancelled.
	cancel := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: fmt.Sprintf("/api/map/imports/%d/cancel", queued.ID), Token: admin})
	if cancel.Status != 409 {
		t.Fatalf("cancel a finished import = %d %s, want 409", cancel.Status, cancel.Body)
	}
}

// TestCSVUpload: a CSV with a mapping loads through the fleet.
// The upload is larger than API_BODY_LIMIT, which bounds only the other
// routes' bodies.
func TestCSVUpload(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Imports.Root = root; c.APIBodyLimit = 1024 })
	startWorker(t, env)
	admin := env.TokenFor(storage.RoleSuperAdmin)
	csvText := "Street,Town,Lat,Lon,Note\n12 Main St,Ottawa,45.42,-75.70," + strings.Repeat("x", 4000) + "\n14 Main St,Ottawa,,,\n"
	mapping, _ := json.Marshal(map[string]string{"address": "Street", "city": "Town", "latitude": "Lat", "longitude": "Lon"})
	res := post(t, env, "/api/map/imports/csv", admin, part{"mapping", "", mapping}, part{"file", "list.csv", []byte(csvText)})
	if res.Status != 202 {
		t.Fatalf("upload = %d %s", res.Status, res.Body)
	}
	var queued importBody
	res.JSON(t, &queued)
	got := waitFinished(t, env, admin, queued.ID)
	if got.Status != storage.ImportDone || got.Inserted != 2 {
		t.Fatalf("csv import = %+v", got)
	}
}

// TestBadInput: refused uploads are 4xx in the error format and leave
// nothing behind.
func TestBadInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.TokenFor(storage.RoleMapAdmin)
	addr := narFiles(t, "layout-old")[0]
	for _, tc := range []struct {
		name  string
		path  string
		parts []part
		want  int
	}{
		{"no file", "/api/map/imports/nar", []part{{"province", "", []byte("ON")}}, 400},
		{"only a Location file", "/api/map/imports/nar", []part{{"file", "Location_35.csv", []byte("LOC_GUID\n")}}, 400},
		{"a file of another name", "/api/map/imports/nar", []part{{"file", "notes.txt", []byte("hello")}}, 400},
		{"the same file twice", "/api/map/imports/nar", []part{addr, addr}, 400},
		{"an empty file", "/api/map/imports/nar", []part{{"file", "Address_35.csv", nil}}, 400},
		{"bad bbox", "/api/map/imports/nar", []part{addr, {"bbox", "", []byte("1,2,3")}}, 400},
		{"swapped bbox", "/api/map/imports/nar", []part{addr, {"bbox", "", []byte("-75,46,-80,43")}}, 400},
		{"bad postal prefix", "/api/map/imports/nar", []part{addr, {"postalPrefix", "", []byte("123")}}, 400},
		{"csv without mapping", "/api/map/imports/csv", []part{{"file", "a.csv", []byte("a\n1\n")}}, 400},
		{"csv mapping not JSON", "/api/map/imports/csv", []part{{"mapping", "", []byte("address=Street")}, {"file", "a.csv", []byte("a\n1\n")}}, 400},
		{"csv mapping unknown field", "/api/map/imports/csv", []part{{"mapping", "", []byte(`{"address":"a","colour":"b"}`)}, {"file", "a.csv", []byte("a\n1\n")}}, 400},
		{"csv mapping without address", "/api/map/imports/csv", []part{{"mapping", "", []byte(`{"city":"a"}`)}, {"file", "a.csv", []byte("a\n1\n")}}, 400},
		{"csv two files", "/api/map/imports/csv", []part{{"mapping", "", []byte(`{"address":"a"}`)}, {"file", "a.csv", []byte("a\n1\n")}, {"file", "b.csv", []byte("a\n1\n")}}, 400},
	} {
		res := post(t, env, tc.path, admin, tc.parts...)
		if res.Status != tc.want || res.ErrorCode() == "" {
			t.Errorf("%s: %d %s, want %d in the error format", tc.name, res.Status, res.Body, tc.want)
		}
	}
	// Not multipart at all.
	res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/imports/nar", Token: admin, Body: map[string]any{"file": "x"}})
	if res.Status != 400 {
		t.Errorf("JSON body = %d %s, want 400", res.Status, res.Body)
	}
	for _, path := range []string{"/api/map/imports/abc", "/api/map/imports/0"} {
		if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: path, Token: admin}); res.Status != 400 {
			t.Errorf("GET %s = %d, want 400", path, res.Status)
		}
	}
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/imports/999999", Token: admin}); res.Status != 404 {
		t.Errorf("GET a missing import = %d, want 404", res.Status)
	}
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "POST", Path: "/api/map/imports/999999/cancel", Token: admin}); res.Status != 404 {
		t.Errorf("cancel a missing import = %d, want 404", res.Status)
	}
	if res := testenv.Do(t, env.Main, testenv.Request{Method: "GET", Path: "/api/map/imports?status=DONEISH", Token: admin}); res.Status != 400 {
		t.Errorf("list with a bad status = %d, want 400", res.Status)
	}
	// Nothing refused was kept.
	entries, _ := os.ReadDir(env.Config.Imports.Root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "imp-") {
			t.Errorf("a refused upload left %s behind", e.Name())
		}
	}
}

// TestUploadTooLarge: past IMPORT_MAX_UPLOAD the answer is 413.
func TestUploadTooLarge(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	env := testenv.NewAPI(t, func(c *config.Config) { c.Imports.Root = root; c.Imports.MaxUpload = 1000 })
	res := post(t, env, "/api/map/imports/nar", env.TokenFor(storage.RoleMapAdmin),
		part{"file", "Address_35.csv", bytes.Repeat([]byte("x"), 3<<20)})
	if res.Status != 413 || res.ErrorCode() != "payload_too_large" {
		t.Fatalf("oversize upload = %d %s", res.Status, res.Body)
	}
}

// TestRolesByRoute: every route, every role. Only MAP_ADMIN and SUPER_ADMIN
// get through; anonymous is 401, every other role 403.
func TestRolesByRoute(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.TokenFor(storage.RoleMapAdmin)
	// One import to read and cancel.
	res := post(t, env, "/api/map/imports/nar", owner, narFiles(t, "layout-old")...)
	if res.Status != 202 {
		t.Fatalf("upload = %d %s", res.Status, res.Body)
	}
	var imp importBody
	res.JSON(t, &imp)
	mapping := []byte(`{"address":"Street"}`)
	routes := []struct {
		method, path string
		parts        func() []part // nil: no body
		ok           []int
	}{
		{"GET", "/api/map/imports", nil, []int{200}},
		{"GET", fmt.Sprintf("/api/map/imports/%d", imp.ID), nil, []int{200}},
		{"POST", fmt.Sprintf("/api/map/imports/%d/cancel", imp.ID), nil, []int{200, 409}},
		{"POST", "/api/map/imports/nar", func() []part { return narFiles(t, "layout-old") }, []int{202}},
		{"POST", "/api/map/imports/csv", func() []part {
			return []part{{"mapping", "", mapping}, {"file", "a.csv", []byte("Street\n1 Main St\n")}}
		}, []int{202}},
	}
	roles := append([]string{""}, storage.Roles...)
	for _, rt := range routes {
		for _, role := range roles {
			token := ""
			if role != "" {
				token = env.TokenFor(role)
			}
			var got *testenv.Response
			if rt.parts != nil {
				got = post(t, env, rt.path, token, rt.parts()...)
			} else {
				got = testenv.Do(t, env.Main, testenv.Request{Method: rt.method, Path: rt.path, Token: token})
			}
			want := []int{403}
			switch role {
			case "":
				want = []int{401}
			case storage.RoleMapAdmin, storage.RoleSuperAdmin:
				want = rt.ok
			}
			okStatus := false
			for _, w := range want {
				okStatus = okStatus || got.Status == w
			}
			if !okStatus {
				t.Errorf("%s %s as %q = %d %s, want %v", rt.method, rt.path, role, got.Status, got.Body, want)
			}
		}
	}
}
