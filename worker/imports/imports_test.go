package imports

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/internal/asynqconn"
	"changemaker/internal/testenv"
	"changemaker/storage"
	"changemaker/tasks"
)

type fixture struct {
	h     *Handler
	store *storage.Store
	redis *redis.Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := testenv.DB(t)
	_, opt := testenv.RedisClient(t)
	queue := asynq.NewClient(asynqconn.FromRedis(opt))
	t.Cleanup(func() { queue.Close() })
	h := &Handler{Store: store, Queue: queue, Root: t.TempDir(), BatchSize: 1000, Log: testenv.Logger(t)}
	return &fixture{h: h, store: store, redis: opt}
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("nar", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload stores files as the API does and records the import.
func (f *fixture) upload(t *testing.T, kind string, files map[string][]byte, filters storage.ImportFilters, mapping storage.CSVMapping) int64 {
	t.Helper()
	imp, err := f.store.CreateMapImport(context.Background(), storage.NewMapImport{Kind: kind, Dir: "pending",
		Filters: filters, Mapping: mapping})
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("imp-%d", imp.ID)
	if _, err := f.store.Pool.Exec(context.Background(), "UPDATE map_imports SET dir = $1 WHERE id = $2", dir, imp.ID); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.h.Root, dir), 0o750); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(f.h.Root, dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return imp.ID
}

// run plans an import and loads every part, as the fleet would.
func (f *fixture) run(t *testing.T, id int64) storage.MapImport {
	t.Helper()
	ctx := context.Background()
	task, err := tasks.NewMapImportPlan(tasks.MapImportPlan{ImportID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.h.Plan(ctx, task); err != nil && !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("plan: %v", err)
	}
	imp := f.get(t, id)
	for _, p := range imp.Parts {
		ft, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: p.Name})
		if err := f.h.File(ctx, ft); err != nil && !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("file %s: %v", p.Name, err)
		}
	}
	return f.get(t, id)
}

// plan runs the import's plan task, which must succeed.
func (f *fixture) plan(t *testing.T, id int64) {
	t.Helper()
	task, err := tasks.NewMapImportPlan(tasks.MapImportPlan{ImportID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.h.Plan(context.Background(), task); err != nil {
		t.Fatalf("plan: %v", err)
	}
}

func (f *fixture) get(t *testing.T, id int64) storage.MapImport {
	t.Helper()
	imp, err := f.store.MapImportByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

type unitRow struct {
	AddrGUID, LocGUID, Unit, Address, City, Province, Postal string
	Lat, Lng                                                 *float64
}

func (f *fixture) units(t *testing.T) []unitRow {
	t.Helper()
	rows, err := f.store.Pool.Query(context.Background(), `
SELECT u.source_id, l.source_id, u.unit_label, l.address, l.city, l.province, l.postal_code,
       ST_Y(l.geom)::float8, ST_X(l.geom)::float8
FROM map_units u JOIN map_locations l ON l.id = u.location_id ORDER BY u.source_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []unitRow
	for rows.Next() {
		var r unitRow
		if err := rows.Scan(&r.AddrGUID, &r.LocGUID, &r.Unit, &r.Address, &r.City, &r.Province, &r.Postal, &r.Lat, &r.Lng); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func layout(t *testing.T, dir string) map[string][]byte {
	return map[string][]byte{
		"Address_35.csv":  testdata(t, dir+"/Address_35.csv"),
		"Location_35.csv": testdata(t, dir+"/Location_35.csv"),
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create("nar-2026/" + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func guid(n int) string { return fmt.Sprintf("a7d3e4b2-8c1f-4e2a-b5d6-%012d", n) }

// TestLayoutsImportTheSame: the old layout, the 2026 layout and the 2026
// layout inside a release .zip give the same units, buildings and points;
// the broken rows are reported with their lines while the good ones load.
func TestLayoutsImportTheSame(t *testing.T) {
	t.Parallel()
	var first []unitRow
	for _, tc := range []struct {
		name  string
		files func(t *testing.T) map[string][]byte
	}{
		{"layout-old", func(t *testing.T) map[string][]byte { return layout(t, "layout-old") }},
		{"layout-2026", func(t *testing.T) map[string][]byte { return layout(t, "layout-2026") }},
		{"release zip", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"release.zip": zipOf(t, layout(t, "layout-2026"))}
		}},
	} {
		f := newFixture(t)
		imp := f.run(t, f.upload(t, storage.ImportNAR, tc.files(t), storage.ImportFilters{}, storage.CSVMapping{}))
		if imp.Status != storage.ImportDone || imp.Error != "" {
			t.Fatalf("%s: status %s error %q", tc.name, imp.Status, imp.Error)
		}
		if imp.RowsRead != 13 || imp.Inserted != 7 || imp.Updated != 0 || imp.Skipped != 6 {
			t.Errorf("%s: read %d inserted %d updated %d skipped %d, want 13 7 0 6", tc.name,
				imp.RowsRead, imp.Inserted, imp.Updated, imp.Skipped)
		}
		var lines []int
		for _, l := range imp.SkippedLines {
			if l.Reason == "" {
				t.Errorf("%s: line %d skipped without a reason", tc.name, l.Line)
			}
			lines = append(lines, l.Line)
		}
		if fmt.Sprint(lines) != "[5 8 9 10 12 14]" {
			t.Errorf("%s: skipped lines %v, want [5 8 9 10 12 14]", tc.name, lines)
		}
		got := f.units(t)
		if len(got) != 7 || f.count(t, "map_locations") != 6 {
			t.Fatalf("%s: %d units, %d locations; want 7 and 6", tc.name, len(got), f.count(t, "map_locations"))
		}
		byGUID := map[string]unitRow{}
		for _, u := range got {
			byGUID[u.AddrGUID] = u
		}
		ottawa := byGUID[guid(1)]
		if ottawa.Unit != "101" || ottawa.Address != "123A Main St NW" || ottawa.City != "Ottawa" ||
			ottawa.Province != "ON" || ottawa.Postal != "K1A 0A6" || ottawa.Lat == nil || *ottawa.Lat != 45.4236 || *ottawa.Lng != -75.7009 {
			t.Errorf("%s: Ottawa unit = %+v (point from the Location file expected)", tc.name, ottawa)
		}
		if byGUID[guid(2)].LocGUID != ottawa.LocGUID {
			t.Errorf("%s: the two Ottawa units are not in one building", tc.name)
		}
		halifax := byGUID[guid(4)] // no Location row: BG_X/BG_Y converted in Go
		if halifax.Lat == nil || math.Abs(*halifax.Lat-44.6488) > 0.01 || math.Abs(*halifax.Lng+63.5752) > 0.01 {
			t.Errorf("%s: Halifax (Lambert only) = %+v", tc.name, halifax)
		}
		if q := byGUID[guid(5)]; q.Lat != nil || q.Address != "1000 RUE Principale O" {
			t.Errorf("%s: Quebec row without coordinates = %+v, want no point", tc.name, q)
		}
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			a, b := got[i], first[i]
			if a.AddrGUID != b.AddrGUID || a.Address != b.Address || a.Unit != b.Unit || a.Postal != b.Postal ||
				!samePoint(a.Lat, b.Lat) || !samePoint(a.Lng, b.Lng) {
				t.Errorf("%s: row %d = %+v, layout-old gave %+v", tc.name, i, a, b)
			}
		}
	}
}

func samePoint(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}

// TestReimportUpdates: the same release again updates every address and
// adds nothing.
func TestReimportUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run(t, f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{}))
	before := f.units(t)
	imp := f.run(t, f.upload(t, storage.ImportNAR, layout(t, "layout-2026"), storage.ImportFilters{}, storage.CSVMapping{}))
	if imp.Status != storage.ImportDone || imp.Inserted != 0 || imp.Updated != 7 {
		t.Fatalf("re-import: status %s inserted %d updated %d, want DONE 0 7", imp.Status, imp.Inserted, imp.Updated)
	}
	if n := f.count(t, "map_units"); n != 7 {
		t.Errorf("%d units after a re-import, want 7", n)
	}
	if n := f.count(t, "map_locations"); n != 6 {
		t.Errorf("%d locations after a re-import, want 6", n)
	}
	after := f.units(t)
	for i := range after {
		if after[i].AddrGUID != before[i].AddrGUID || after[i].Address != before[i].Address {
			t.Errorf("row %d changed: %+v → %+v", i, before[i], after[i])
		}
	}
}

// TestResumeAfterCrash: a task that dies after some batches runs again and
// ends with the counts of a run that never stopped.
func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.h.BatchSize = 2
	id := f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{})
	ctx := context.Background()
	f.plan(t, id)
	file, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	crashCtx, crash := context.WithCancel(ctx)
	batches := 0
	f.h.afterBatch = func() {
		if batches++; batches == 2 {
			crash()
		}
	}
	if err := f.h.File(crashCtx, file); err == nil {
		t.Fatal("the interrupted run returned nil")
	}
	mid := f.get(t, id)
	if mid.Status != storage.ImportRunning || mid.Inserted != 4 {
		t.Fatalf("after the crash: status %s inserted %d, want RUNNING 4", mid.Status, mid.Inserted)
	}
	f.h.afterBatch = nil
	if err := f.h.File(ctx, file); err != nil {
		t.Fatal(err)
	}
	// And once more, as asynq may deliver a finished task again.
	if err := f.h.File(ctx, file); err != nil {
		t.Fatal(err)
	}
	imp := f.get(t, id)
	if imp.Status != storage.ImportDone || imp.RowsRead != 13 || imp.Inserted != 7 || imp.Updated != 0 || imp.Skipped != 6 {
		t.Fatalf("after resuming: %s read %d inserted %d updated %d skipped %d, want DONE 13 7 0 6",
			imp.Status, imp.RowsRead, imp.Inserted, imp.Updated, imp.Skipped)
	}
	if len(imp.SkippedLines) != 6 {
		t.Errorf("skipped lines %v, want 6", imp.SkippedLines)
	}
}

// TestNotWhatItClaims: a broken zip, a binary file named like an Address
// file and a CSV without ADDR_GUID end FAILED with a reason.
func TestNotWhatItClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := zipOf(t, layout(t, "layout-old"))
	damaged := bytes.Clone(good)
	for i := 60; i < 200; i++ { // inside the first entry's compressed data
		damaged[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"not a zip", map[string][]byte{"release.zip": []byte("this is not a zip archive at all")}, "not a readable zip archive"},
		{"damaged zip", map[string][]byte{"release.zip": damaged}, "damaged"},
		{"binary", map[string][]byte{"Address_35.csv": {0x89, 'P', 'N', 'G', 0, 0, 0, 1, 2, 3}}, "not a CSV file"},
		{"no ADDR_GUID", map[string][]byte{"Address_35.csv": []byte("LOC_GUID,CIVIC_NO,OFFICIAL_STREET_NAME\nx,1,Main\n")}, "no ADDR_GUID column"},
		{"other file", map[string][]byte{"notes.txt": []byte("hello")}, "not a release .zip"},
	} {
		imp := f.run(t, f.upload(t, storage.ImportNAR, tc.files, storage.ImportFilters{}, storage.CSVMapping{}))
		if imp.Status != storage.ImportFailed || !strings.Contains(imp.Error, tc.want) {
			t.Errorf("%s: status %s error %q, want FAILED with %q", tc.name, imp.Status, imp.Error, tc.want)
		}
	}
}

// TestFilters: province, municipality, postal prefix and bounding box.
func TestFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		filters storage.ImportFilters
		want    int64
	}{
		{storage.ImportFilters{Municipality: "ottawa"}, 2},
		{storage.ImportFilters{Province: "ON"}, 3},
		{storage.ImportFilters{Province: "59"}, 1},
		{storage.ImportFilters{PostalPrefix: "k1a"}, 2},
		{storage.ImportFilters{BBox: &[4]float64{-80, 43, -75, 46}}, 3}, // Ottawa ×2, Toronto
	} {
		imp := f.run(t, f.upload(t, storage.ImportNAR, layout(t, "layout-old"), tc.filters, storage.CSVMapping{}))
		if imp.Status != storage.ImportDone || imp.Inserted+imp.Updated != tc.want || imp.Filtered != 7-tc.want {
			t.Errorf("%+v: %s loaded %d filtered %d, want %d and %d", tc.filters, imp.Status,
				imp.Inserted+imp.Updated, imp.Filtered, tc.want, 7-tc.want)
		}
	}
}

// TestCancel: a cancelled import loads nothing more.
func TestCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{})
	f.plan(t, id)
	if _, err := f.store.CancelMapImport(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	file, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	if err := f.h.File(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	imp := f.get(t, id)
	if imp.Status != storage.ImportCancelled || f.count(t, "map_units") != 0 {
		t.Fatalf("status %s with %d units, want CANCELLED and none", imp.Status, f.count(t, "map_units"))
	}

	// Cancelled between batches of a running part.
	f.h.BatchSize = 2
	id = f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{})
	f.plan(t, id)
	f.h.afterBatch = func() {
		if _, err := f.store.CancelMapImport(context.Background(), id); err != nil && !errors.Is(err, storage.ErrConflict) {
			t.Error(err)
		}
	}
	file, _ = tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	if err := f.h.File(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	imp = f.get(t, id)
	if imp.Status != storage.ImportCancelled || imp.Inserted != 2 || imp.Parts[0].Status != storage.ImportCancelled {
		t.Fatalf("status %s inserted %d part %s, want CANCELLED after one batch of 2", imp.Status, imp.Inserted, imp.Parts[0].Status)
	}
}

// TestCSVImport: a generic CSV with a column mapping; rows without
// coordinates load without a point, units join their building, broken rows
// are reported.
func TestCSVImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	csvText := "\ufeffStreet,Apt,Town,Prov,Postal,Lat,Lon,Who,Tel,Mail,Ref\r\n" +
		"123 Main Street,101,Ottawa,ON,k1a0a6,45.4236,-75.7009,Ann Smith,613-555-0101,ann@example.test,R1\r\n" +
		"123 Main St.,102,Ottawa,ON,K1A 0A6,45.4236,-75.7009,Bob Roy,,,R2\r\n" +
		"\"45 Queen St W\",,Toronto,ON,M5H 2N2,,,,,,R3\r\n" +
		"9 Elm St,,Ottawa,ON,K1A 0A6,north,-75.7,,,,R4\r\n" +
		"10 Elm St,,Ottawa\r\n" +
		",,Ottawa,ON,,,,,,,R6\r\n"
	mapping := storage.CSVMapping{Address: "street", Unit: "Apt", City: "Town", Province: "Prov", PostalCode: "Postal",
		Latitude: "Lat", Longitude: "Lon", ResidentName: "Who", Phone: "Tel", Email: "Mail", SourceID: "Ref"}
	imp := f.run(t, f.upload(t, storage.ImportCSV, map[string][]byte{"list.csv": []byte(csvText)}, storage.ImportFilters{}, mapping))
	if imp.Status != storage.ImportDone || imp.RowsRead != 6 || imp.Inserted != 3 || imp.Skipped != 3 {
		t.Fatalf("status %s read %d inserted %d skipped %d (%v), want DONE 6 3 3", imp.Status, imp.RowsRead,
			imp.Inserted, imp.Skipped, imp.SkippedLines)
	}
	var lines []int
	for _, l := range imp.SkippedLines {
		lines = append(lines, l.Line)
	}
	if fmt.Sprint(lines) != "[5 6 7]" {
		t.Errorf("skipped lines %v, want [5 6 7]", imp.SkippedLines)
	}
	if n := f.count(t, "map_locations"); n != 2 {
		t.Errorf("%d locations, want 2 (the two Main St units share one)", n)
	}
	var noPoint int
	f.store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM map_locations WHERE geom IS NULL AND source = 'CSV'").Scan(&noPoint)
	if noPoint != 1 {
		t.Errorf("%d locations without a point, want 1 (Queen St, left for the geocoder)", noPoint)
	}
	var name, email string
	f.store.Pool.QueryRow(context.Background(), "SELECT resident_name, email FROM map_units WHERE source_id = 'R1'").Scan(&name, &email)
	if name != "Ann Smith" || email != "ann@example.test" {
		t.Errorf("R1 = %q %q", name, email)
	}

	// A mapping naming a column the file lacks fails the import.
	bad := f.run(t, f.upload(t, storage.ImportCSV, map[string][]byte{"list.csv": []byte(csvText)}, storage.ImportFilters{},
		storage.CSVMapping{Address: "Adresse"}))
	if bad.Status != storage.ImportFailed || !strings.Contains(bad.Error, `"Adresse"`) {
		t.Errorf("missing column: %s %q", bad.Status, bad.Error)
	}
}

// TestSweepPlansAgainAnImportWhoseTasksWereLost: an import is half loaded
// when its worker dies and Redis loses every task. The import would stay
// RUNNING for ever; once it has not changed for a while the sweep queues
// its planning task again (once, however often it runs), and planning and
// loading from there finish it with the counts of an uninterrupted import.
func TestSweepPlansAgainAnImportWhoseTasksWereLost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.h.BatchSize = 2
	id := f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{})
	ctx := context.Background()
	f.plan(t, id)
	file, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	crashCtx, crash := context.WithCancel(ctx)
	f.h.afterBatch = crash
	if err := f.h.File(crashCtx, file); err == nil {
		t.Fatal("the interrupted run returned nil")
	}
	f.h.afterBatch = nil
	rdb := redis.NewClient(f.redis)
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil { // every task is gone
		t.Fatal(err)
	}
	queued := func() int64 {
		t.Helper()
		n, err := rdb.LLen(ctx, "asynq:{"+tasks.QueueImport+"}:pending").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sweep, _ := tasks.NewMapImportSweep(tasks.MapImportSweep{OlderThanSeconds: 600, Limit: 10})
	if err := f.h.Sweep(ctx, sweep); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 0 {
		t.Fatalf("an import changed a moment ago was swept: %d tasks queued", n)
	}
	if _, err := f.store.Pool.Exec(ctx, `UPDATE map_imports SET updated_at = now() - interval '1 hour' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.h.Sweep(ctx, sweep); err != nil {
			t.Fatal(err)
		}
	}
	if n := queued(); n != 1 {
		t.Fatalf("after two sweeps %d tasks queued, want the import's planning task once", n)
	}
	imp := f.run(t, id) // what the fleet does with that task
	if imp.Status != storage.ImportDone || imp.RowsRead != 13 || imp.Inserted != 7 || imp.Updated != 0 || imp.Skipped != 6 {
		t.Fatalf("after the sweep: %s read %d inserted %d updated %d skipped %d, want DONE 13 7 0 6",
			imp.Status, imp.RowsRead, imp.Inserted, imp.Updated, imp.Skipped)
	}
}

// TestImportJoinsAHandMadeLocation: an organizer added "123A Main St NW" by
// hand, a few metres from where the register puts it, and another one of
// the same address in another town. The import joins the first (its units
// go there, it takes the register's ID, its history says so) and leaves
// the second alone; a re-import finds the joined one again and adds
// nothing.
func TestImportJoinsAHandMadeLocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.h.JoinRadiusMeters = 50
	ctx := context.Background()
	lat, lng, farLat := 45.42365, -75.7009, 45.5
	near, _, err := f.store.FindOrCreateLocation(ctx, storage.LocationInput{Address: "123A Main St NW", City: "Ottawa",
		Province: "ON", PostalCode: "K1A 0A6", Lat: &lat, Lng: &lng}, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	far, _, err := f.store.FindOrCreateLocation(ctx, storage.LocationInput{Address: "123A Main St NW", City: "Gatineau",
		Province: "QC", PostalCode: "J8X 1A1", Lat: &farLat, Lng: &lng}, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	imp := f.run(t, f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{}))
	if imp.Status != storage.ImportDone || imp.Inserted != 7 {
		t.Fatalf("import: %s inserted %d, want DONE 7", imp.Status, imp.Inserted)
	}
	if n := f.count(t, "map_locations"); n != 7 {
		t.Fatalf("%d locations, want 7: the 6 of the release, one of them the hand-made one, and the far one", n)
	}
	var source, sourceID string
	var units int
	if err := f.store.Pool.QueryRow(ctx, `SELECT source, COALESCE(source_id, ''), (SELECT count(*) FROM map_units u WHERE u.location_id = l.id)
		FROM map_locations l WHERE id = $1`, near.ID).Scan(&source, &sourceID, &units); err != nil {
		t.Fatal(err)
	}
	if source != "NAR" || sourceID != "5f1c2a9e-0b6e-4c61-9a0e-000000000001" || units != 2 {
		t.Fatalf("the hand-made location: source %s %q with %d units; want NAR, the register's LOC_GUID, 2 units", source, sourceID, units)
	}
	var history int
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM map_location_history WHERE location_id = $1 AND action = 'IMPORT'
		AND changes->'sourceId'->>'new' = '5f1c2a9e-0b6e-4c61-9a0e-000000000001'`, near.ID).Scan(&history); err != nil {
		t.Fatal(err)
	}
	if history != 1 {
		t.Fatalf("%d IMPORT history rows for the join, want 1", history)
	}
	if err := f.store.Pool.QueryRow(ctx, `SELECT source FROM map_locations WHERE id = $1`, far.ID).Scan(&source); err != nil || source != "MANUAL" {
		t.Fatalf("the far location: source %s, %v; want it left MANUAL", source, err)
	}
	again := f.run(t, f.upload(t, storage.ImportNAR, layout(t, "layout-old"), storage.ImportFilters{}, storage.CSVMapping{}))
	if again.Inserted != 0 || again.Updated != 7 || f.count(t, "map_locations") != 7 {
		t.Fatalf("re-import: inserted %d updated %d, %d locations; want 0, 7, 7", again.Inserted, again.Updated, f.count(t, "map_locations"))
	}
}
