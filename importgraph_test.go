package changemaker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The import graph of docs/DESIGN.md: api/*, worker/* and scheduler lean on
// tasks and storage; nothing but cmd (and worker's own packages) imports
// worker; storage imports no queue and no HTTP package; tasks imports only
// asynq and the standard library. The test reads the graph go list sees for
// the non-test build, so a test file may still run a fleet in process.

const module = "changemaker"

// goPackage is the part of `go list -json` the rules read.
type goPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

// under reports whether path is pkg or one of its subpackages.
func under(path, pkg string) bool {
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

func underAny(path string, pkgs ...string) bool {
	return slices.ContainsFunc(pkgs, func(p string) bool { return under(path, p) })
}

// Project layers: which project packages each may import directly. The
// lower layers (storage, tasks, config, internal, migrations) may import none
// of api, worker, scheduler and cmd.
var (
	lowerLayers = []string{module + "/storage", module + "/tasks", module + "/config", module + "/internal",
		module + "/migrations"}
	upperLayers = []string{module + "/api", module + "/worker", module + "/scheduler", module + "/cmd",
		module + "/bench"}
	// Test helpers that build the apps or run the fleets in process.
	testHelpers = []string{module + "/internal/testenv", module + "/internal/influencetest"}
	// Packages that may import worker beside worker's own.
	workerImporters = []string{module + "/cmd", module + "/internal/influencetest"}
	queuePackages   = []string{"github.com/hibiken/asynq"}
	httpPackages    = []string{"net/http", "github.com/gofiber/fiber", "github.com/gofiber/fiber/v2",
		"github.com/valyala/fasthttp"}
)

// violations lists every broken rule in pkgs, one line each.
func violations(pkgs []goPackage) []string {
	var out []string
	bad := func(p goPackage, format string, args ...any) {
		out = append(out, p.ImportPath+": "+fmt.Sprintf(format, args...))
	}
	for _, p := range pkgs {
		if !under(p.ImportPath, module) {
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case under(imp, module+"/worker") && !under(p.ImportPath, module+"/worker") &&
				!underAny(p.ImportPath, workerImporters...):
				bad(p, "imports %s: only cmd imports worker", imp)
			case under(p.ImportPath, module+"/api") && underAny(imp, module+"/scheduler", module+"/cmd"):
				bad(p, "imports %s: api leans only on tasks, storage, config and internal", imp)
			case underAny(p.ImportPath, module+"/worker", module+"/scheduler") &&
				underAny(imp, module+"/api", module+"/cmd"):
				bad(p, "imports %s: workers and the scheduler never import the APIs", imp)
			case under(p.ImportPath, module+"/scheduler") && under(imp, module+"/worker"):
				bad(p, "imports %s: the scheduler enqueues through tasks", imp)
			case underAny(p.ImportPath, lowerLayers...) && !underAny(p.ImportPath, testHelpers...) &&
				underAny(imp, upperLayers...):
				bad(p, "imports %s: imports point one way, into tasks and storage", imp)
			case under(p.ImportPath, module+"/tasks") && !isStandard(imp) && !under(imp, "github.com/hibiken/asynq"):
				bad(p, "imports %s: tasks imports only asynq and the standard library", imp)
			}
		}
		if under(p.ImportPath, module+"/storage") {
			for _, dep := range p.Deps {
				if underAny(dep, queuePackages...) || underAny(dep, httpPackages...) {
					bad(p, "depends on %s: storage uses no queue and no HTTP package", dep)
				}
			}
		}
		if underAny(p.ImportPath, module+"/api", module+"/scheduler") {
			for _, dep := range p.Deps {
				if under(dep, module+"/worker") {
					bad(p, "depends on %s: the APIs and the scheduler never reach worker code", dep)
				}
			}
		}
	}
	return out
}

// isStandard says whether an import path belongs to the standard library:
// its first element has no dot, and it is not one of ours (whose module
// path has no dot either).
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && !under(path, module)
}

func loadGraph(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportGraph(t *testing.T) {
	t.Parallel()
	pkgs := loadGraph(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.ImportPath] = true
	}
	// A graph that lost the packages the rules name would pass vacuously.
	for _, want := range []string{"api", "api/httpx", "worker", "worker/email", "scheduler", "storage", "tasks",
		"cmd/changemaker"} {
		if !seen[module+"/"+want] {
			t.Fatalf("go list did not list %s/%s", module, want)
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

func TestImportGraphRules(t *testing.T) {
	t.Parallel()
	m := func(s string) string { return module + "/" + s }
	cases := []struct {
		name string
		pkg  goPackage
		bad  bool
	}{
		{"cmd imports worker", goPackage{ImportPath: m("cmd/changemaker"), Imports: []string{m("worker")}}, false},
		{"a fleet imports worker's shared package", goPackage{ImportPath: m("worker/email"), Imports: []string{m("worker/fleet")}}, false},
		{"api imports tasks and storage", goPackage{ImportPath: m("api/campaigns"), Imports: []string{m("tasks"), m("storage")}}, false},
		{"tasks imports asynq", goPackage{ImportPath: m("tasks"), Imports: []string{"context", "github.com/hibiken/asynq"}}, false},
		{"api imports a fleet", goPackage{ImportPath: m("api/campaigns"), Imports: []string{m("worker/email")}}, true},
		{"api reaches worker through a helper", goPackage{ImportPath: m("api"), Deps: []string{m("worker/media")}}, true},
		{"scheduler imports worker", goPackage{ImportPath: m("scheduler"), Imports: []string{m("worker")}}, true},
		{"internal imports worker", goPackage{ImportPath: m("internal/asynqlog"), Imports: []string{m("worker")}}, true},
		{"a fleet imports an API module", goPackage{ImportPath: m("worker/media"), Imports: []string{m("api/media")}}, true},
		{"storage imports the API", goPackage{ImportPath: m("storage"), Imports: []string{m("api/httpx")}}, true},
		{"storage depends on asynq", goPackage{ImportPath: m("storage"), Deps: []string{"github.com/hibiken/asynq/internal/rdb"}}, true},
		{"storage depends on net/http", goPackage{ImportPath: m("storage/blob"), Deps: []string{"net/http"}}, true},
		{"storage depends on fiber", goPackage{ImportPath: m("storage"), Deps: []string{"github.com/gofiber/fiber/v2"}}, true},
		{"tasks imports go-redis", goPackage{ImportPath: m("tasks"), Imports: []string{"github.com/redis/go-redis/v9"}}, true},
		{"tasks imports storage", goPackage{ImportPath: m("tasks"), Imports: []string{m("storage")}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := violations([]goPackage{tc.pkg})
			if tc.bad && len(got) == 0 {
				t.Errorf("no violation reported")
			}
			if !tc.bad && len(got) > 0 {
				t.Errorf("violations %q, want none", got)
			}
		})
	}
}
