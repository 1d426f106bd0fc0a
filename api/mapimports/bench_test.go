package mapimports_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"changemaker/config"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// benchRows is IMPORT_BENCH_ROWS (scripts/bench-import.sh sets it), 20,000
// by default.
func benchRows(b *testing.B) int {
	if s := os.Getenv("IMPORT_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("IMPORT_BENCH_ROWS=%q", s)
		}
		return n
	}
	return 20000
}

const benchAddressHeader = `LOC_GUID,ADDR_GUID,APT_NO_LABEL,CIVIC_NO,CIVIC_NO_SUFFIX,OFFICIAL_STREET_NAME,OFFICIAL_STREET_TYPE,OFFICIAL_STREET_DIR,PROV_CODE,CSD_ENG_NAME,CSD_FRE_NAME,CSD_TYPE_ENG_CODE,CSD_TYPE_FRE_CODE,MAIL_STREET_NAME,MAIL_STREET_TYPE,MAIL_STREET_DIR,MAIL_MUN_NAME,MAIL_PROV_ABVN,MAIL_POSTAL_CODE,BG_DLS_LSD,BG_DLS_QTR,BG_DLS_SCTN,BG_DLS_TWNSHP,BG_DLS_RNG,BG_DLS_MRD,BG_X,BG_Y,BF_UID,BF_SIDE,BU_N_CIVIC_ADD,BU_USE`

// writeRelease writes an Address and a Location file of n addresses in
// the 2026 layout: one building in four has four apartments, one in ten
// has no Location row (its point comes from BG_X/BG_Y).
func writeRelease(b *testing.B, dir string, n int) (addrPath, locPath string) {
	b.Helper()
	addrPath, locPath = filepath.Join(dir, "Address_35.csv"), filepath.Join(dir, "Location_35.csv")
	af, err := os.Create(addrPath)
	if err != nil {
		b.Fatal(err)
	}
	lf, err := os.Create(locPath)
	if err != nil {
		b.Fatal(err)
	}
	aw, lw := bufio.NewWriter(af), bufio.NewWriter(lf)
	fmt.Fprintln(aw, benchAddressHeader)
	fmt.Fprintln(lw, "LOC_GUID,BG_LATITUDE,BG_LONGITUDE,CSD_CODE,CSD_ENG_NAME,ER_CODE,FED_CODE,FED_ENG_NAME")
	streets := []string{"Main", "Queen", "King", "Bank", "Elgin", "Rideau", "Somerset", "Bronson", "Preston", "Carling"}
	types := []string{"St", "Ave", "Rd", "Dr", "Cres"}
	for i, bld := 0, 0; i < n; bld++ {
		loc := fmt.Sprintf("5f1c2a9e-0b6e-4c61-9a0e-%012d", bld)
		lat := 45.30 + float64(bld%1000)*0.0002
		lng := -75.80 + float64(bld/1000%1000)*0.0002
		// BG_X/BG_Y of a point near Ottawa; the Location row, when there is
		// one, wins.
		x, y := 7470897.6+float64(bld%1000)*15, 1190799.4+float64(bld/1000%1000)*15
		if bld%10 != 0 {
			fmt.Fprintf(lw, "%s,%.6f,%.6f,3506008,Ottawa,3510,35075,Ottawa Centre\n", loc, lat, lng)
		}
		units := 1
		if bld%4 == 0 {
			units = 4
		}
		street, typ := streets[bld%len(streets)], types[bld%len(types)]
		for u := 0; u < units && i < n; u++ {
			apt := ""
			if units > 1 {
				apt = strconv.Itoa(101 + u)
			}
			fmt.Fprintf(aw, "%s,a7d3e4b2-8c1f-4e2a-b5d6-%012d,%s,%d,,%s,%s,,35,Ottawa,Ottawa,CY,V,%s,%s,,Ottawa,ON,K1A 0A6,,,,,,,%.4f,%.4f,BF-%d,L,,1\n",
				loc, i, apt, 1+bld%2000, street, typ, street, typ, x, y, bld)
			i++
		}
	}
	for _, w := range []*bufio.Writer{aw, lw} {
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	af.Close()
	lf.Close()
	return addrPath, locPath
}

// psqlCopy loads the Address file into a bare table of text columns with
// psql's \copy: the reference.
func psqlCopy(b *testing.B, dbURL, file string) time.Duration {
	b.Helper()
	cols := strings.Split(benchAddressHeader, ",")
	for i, c := range cols {
		cols[i] = strings.ToLower(c) + " text"
	}
	script := "DROP TABLE IF EXISTS bench_nar_copy; CREATE TABLE bench_nar_copy (" + strings.Join(cols, ", ") + ");"
	if out, err := exec.Command("psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qc", script).CombinedOutput(); err != nil {
		b.Fatalf("psql: %v %s", err, out)
	}
	start := time.Now()
	out, err := exec.Command("psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qc",
		`\copy bench_nar_copy FROM '`+file+`' WITH (FORMAT csv, HEADER true)`).CombinedOutput()
	if err != nil {
		b.Fatalf("psql \\copy: %v %s", err, out)
	}
	return time.Since(start)
}

// psqlCopySchema is the floor of the schema: the rows an import made,
// already shaped (exported first), put back by psql \copy into
// map_locations and map_units with all their indexes, constraints and
// foreign keys — what any import of these rows must at least do.
func psqlCopySchema(b *testing.B, dbURL, dir string) time.Duration {
	b.Helper()
	loc, units := filepath.Join(dir, "locations.copy"), filepath.Join(dir, "units.copy")
	if out, err := exec.Command("psql", dbURL, "-v", "ON_ERROR_STOP=1", "-q",
		"-c", `\copy map_locations TO '`+loc+`'`, "-c", `\copy map_units TO '`+units+`'`,
		"-c", "TRUNCATE map_locations CASCADE", "-c", "CHECKPOINT").CombinedOutput(); err != nil {
		b.Fatalf("psql export: %v %s", err, out)
	}
	start := time.Now()
	out, err := exec.Command("psql", dbURL, "-v", "ON_ERROR_STOP=1", "-q",
		"-c", `\copy map_locations FROM '`+loc+`'`, "-c", `\copy map_units FROM '`+units+`'`).CombinedOutput()
	if err != nil {
		b.Fatalf("psql \\copy into the schema: %v %s", err, out)
	}
	return time.Since(start)
}

// uploadAndWait posts the files over HTTP (streamed from disk) and polls
// until the import is finished.
func uploadAndWait(b *testing.B, base, token string, files ...string) (time.Duration, importBody) {
	b.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range files {
			w, err := mw.CreateFormFile("file", filepath.Base(f))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			in, err := os.Open(f)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(w, in)
			in.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	start := time.Now()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/api/map/imports/nar", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var imp importBody
	json.NewDecoder(res.Body).Decode(&imp) //nolint:errcheck
	res.Body.Close()
	if res.StatusCode != 202 {
		b.Fatalf("upload = %d", res.StatusCode)
	}
	for {
		r, err := http.NewRequest("GET", fmt.Sprintf("%s/api/map/imports/%d", base, imp.ID), nil)
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		json.NewDecoder(res.Body).Decode(&imp) //nolint:errcheck
		res.Body.Close()
		if imp.Status != storage.ImportQueued && imp.Status != storage.ImportRunning {
			return time.Since(start), imp
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkNARImport: rows/s of a NAR import end to end (upload over HTTP
// to DONE, a real import worker, an empty database) beside psql \copy of
// the same Address file into a bare table, in the same run on the same
// database server. scripts/bench-import.sh runs it with 200,000 rows.
func BenchmarkNARImport(b *testing.B) {
	n := benchRows(b)
	root := b.TempDir()
	env := testenv.NewAPI(b, func(c *config.Config) {
		c.Imports.Root = root
		if s := os.Getenv("IMPORT_BENCH_LOADERS"); s != "" { // IMPORT_LOADERS of the worker
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 16 {
				b.Fatalf("IMPORT_BENCH_LOADERS=%q", s)
			}
			c.Imports.Loaders = n
		}
	})
	startWorker(b, env)
	base := testenv.Serve(b, env.Main)
	token := env.TokenFor(storage.RoleMapAdmin)
	addr, loc := writeRelease(b, b.TempDir(), n)
	dbURL := env.Store.Pool.Config().ConnString()
	b.ResetTimer()
	var copyTime, importTime, schemaTime time.Duration
	for i := 0; i < b.N; i++ {
		if _, err := env.Store.Pool.Exec(context.Background(), "TRUNCATE map_locations CASCADE"); err != nil {
			b.Fatal(err)
		}
		copyTime += psqlCopy(b, dbURL, addr)
		d, imp := uploadAndWait(b, base, token, addr, loc)
		if imp.Status != storage.ImportDone || imp.Inserted != int64(n) {
			b.Fatalf("import = %+v, want DONE with %d inserted", imp, n)
		}
		importTime += d
		schemaTime += psqlCopySchema(b, dbURL, b.TempDir())
	}
	rows := float64(n) * float64(b.N)
	b.ReportMetric(rows/importTime.Seconds(), "import-rows/s")
	b.ReportMetric(rows/copyTime.Seconds(), "copy-rows/s")
	b.ReportMetric(copyTime.Seconds()/importTime.Seconds(), "import/copy")
	b.ReportMetric(rows/schemaTime.Seconds(), "schema-copy-rows/s")
	b.ReportMetric(copyTime.Seconds()/schemaTime.Seconds(), "schema-copy/copy")
	b.ReportMetric(float64(env.Config.Imports.Loaders), "loaders")
}
