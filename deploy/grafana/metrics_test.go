package grafana_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// This file checks every panel's query against the metrics the Go code
// registers, without running anything: a metric name no code registers, or
// a label (in a matcher or a by (...) list) the metric does not have, fails
// — even on an exempt panel, whose query the live test never runs. The
// registrations are read from the source: prometheus.New{Counter,Gauge,
// Histogram,Summary}[Vec] with their Opts' Name and label list, and
// prometheus.NewDesc (the queue collector).

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance"}

// external are metrics no Changemaker code registers, with who exports
// them and their labels besides job and instance.
var external = map[string]struct {
	from   string
	labels []string
}{
	"up":                          {"Prometheus itself, per scrape target", nil},
	"node_filesystem_avail_bytes": {"node_exporter (the media disk panel)", []string{"device", "fstype", "mountpoint"}},
	"node_filesystem_size_bytes":  {"node_exporter (the media disk panel)", []string{"device", "fstype", "mountpoint"}},
}

// registered is what the code registers: metric name (with a histogram's
// _bucket, _count and _sum series) → label names.
type registered map[string][]string

// libraryPrefixes are the metric families of client_golang's collectors,
// which the code registers with collectors.New*Collector: their series have
// no labels of their own.
var libraryPrefixes = map[string]string{"NewGoCollector": "go_", "NewProcessCollector": "process_"}

// scanRegistrations reads every non-test Go file of the module under root
// (bench programs and the generator's own module left out).
func scanRegistrations(t *testing.T, root string) (registered, []string) {
	t.Helper()
	reg := registered{}
	var prefixes []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "bench", "generator":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		scanFile(f, reg, &prefixes)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg, prefixes
}

func scanFile(f *ast.File, reg registered, prefixes *[]string) {
	// Label lists kept in a variable (q := []string{"queue"}), by name.
	lists := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					if ls, ok := stringList(as.Rhs[i], nil); ok {
						lists[id.Name] = ls
					}
				}
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		fn := sel.Sel.Name
		if pkg.Name == "collectors" {
			if p, ok := libraryPrefixes[fn]; ok {
				*prefixes = append(*prefixes, p)
			}
			return true
		}
		if pkg.Name != "prometheus" || len(call.Args) == 0 {
			return true
		}
		var name string
		var labels []string
		switch fn {
		case "NewDesc":
			if len(call.Args) < 3 {
				return true
			}
			name = stringLit(call.Args[0])
			labels, _ = stringList(call.Args[2], lists)
		case "NewCounter", "NewGauge", "NewHistogram", "NewSummary",
			"NewCounterVec", "NewGaugeVec", "NewHistogramVec", "NewSummaryVec":
			name = optsName(call.Args[0])
			if strings.HasSuffix(fn, "Vec") && len(call.Args) > 1 {
				labels, _ = stringList(call.Args[1], lists)
			}
		default:
			return true
		}
		if name == "" {
			return true
		}
		reg[name] = labels
		switch {
		case strings.HasPrefix(fn, "NewHistogram"):
			reg[name+"_bucket"] = append(slices.Clone(labels), "le")
			reg[name+"_count"], reg[name+"_sum"] = labels, labels
		case strings.HasPrefix(fn, "NewSummary"):
			reg[name+"_count"], reg[name+"_sum"] = labels, labels
		}
		return true
	})
}

func stringLit(e ast.Expr) string {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(bl.Value)
	if err != nil {
		return ""
	}
	return s
}

// stringList reads []string{"a", "b"}, nil, or a variable holding a list.
func stringList(e ast.Expr, lists map[string][]string) ([]string, bool) {
	switch e := e.(type) {
	case *ast.CompositeLit:
		at, ok := e.Type.(*ast.ArrayType)
		if !ok {
			return nil, false
		}
		if id, ok := at.Elt.(*ast.Ident); !ok || id.Name != "string" {
			return nil, false
		}
		var out []string
		for _, el := range e.Elts {
			out = append(out, stringLit(el))
		}
		return out, true
	case *ast.Ident:
		if e.Name == "nil" {
			return nil, true
		}
		l, ok := lists[e.Name]
		return l, ok
	}
	return nil, false
}

// optsName is Namespace_Subsystem_Name of a prometheus.*Opts literal.
func optsName(e ast.Expr) string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return ""
	}
	parts := map[string]string{}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); ok {
			parts[k.Name] = stringLit(kv.Value)
		}
	}
	if parts["Name"] == "" {
		return ""
	}
	var out []string
	for _, k := range []string{"Namespace", "Subsystem", "Name"} {
		if parts[k] != "" {
			out = append(out, parts[k])
		}
	}
	return strings.Join(out, "_")
}

// promToken is one token of a PromQL expression.
type promToken struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'p' punctuation
	text string
}

func lexPromQL(expr string) ([]promToken, error) {
	var out []promToken
	r := []rune(expr)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(r) && r[j] != c {
				if r[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, promToken{'s', string(r[i+1 : j])})
			i = j + 1
		case c == '_' || c == ':' || c == '$' || unicode.IsLetter(c):
			j := i
			for j < len(r) && (r[j] == '_' || r[j] == ':' || r[j] == '$' || unicode.IsLetter(r[j]) || unicode.IsDigit(r[j])) {
				j++
			}
			out = append(out, promToken{'i', string(r[i:j])})
			i = j
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.' || unicode.IsLetter(r[j])) {
				j++
			}
			out = append(out, promToken{'n', string(r[i:j])})
			i = j
		default:
			j := i + 1
			if j < len(r) && strings.ContainsRune("=~!<>", c) && strings.ContainsRune("=~", r[j]) {
				j++
			}
			out = append(out, promToken{'p', string(r[i:j])})
			i = j
		}
	}
	return out, nil
}

var promKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true}

// checkQuery lists what is wrong with expr against reg: unknown metrics,
// and labels that a matcher or a by (...) list names but the metric lacks.
func checkQuery(expr string, reg registered, prefixes []string) []string {
	toks, err := lexPromQL(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	labelsOf := func(metric string) ([]string, bool) {
		if l, ok := reg[metric]; ok {
			return append(slices.Clone(l), targetLabels...), true
		}
		if x, ok := external[metric]; ok {
			return append(slices.Clone(x.labels), targetLabels...), true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(metric, p) {
				return slices.Clone(targetLabels), true
			}
		}
		return nil, false
	}
	// metricsIn returns the metric selectors of toks[from:to] and checks
	// their matchers.
	var metricsIn func(from, to int) []string
	metricsIn = func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			tk := toks[i]
			if tk.kind == 'p' && (tk.text == "[" || tk.text == "{") {
				// Ranges and stray matchers are skipped (a selector's own
				// matchers are read with it below).
				close := map[string]string{"[": "]", "{": "}"}[tk.text]
				for i < to && toks[i].text != close {
					i++
				}
				continue
			}
			if tk.kind == 'i' && (tk.text == "by" || tk.text == "without") {
				for i < to && toks[i].text != ")" {
					i++ // the label list
				}
				continue
			}
			if tk.kind != 'i' || promKeywords[tk.text] || strings.HasPrefix(tk.text, "$") {
				continue
			}
			if i+1 < to && (toks[i+1].text == "(" || toks[i+1].text == "by" || toks[i+1].text == "without") {
				continue // a function or an aggregation
			}
			out = append(out, tk.text)
			labels, known := labelsOf(tk.text)
			if !known {
				problems = append(problems, fmt.Sprintf("metric %s is registered by no code (nor listed in external)", tk.text))
			}
			if i+1 < to && toks[i+1].text == "{" {
				j := i + 2
				for ; j < to && toks[j].text != "}"; j++ {
					if toks[j].kind == 'i' && j+1 < to && slices.Contains([]string{"=", "!=", "=~", "!~"}, toks[j+1].text) {
						if known && !slices.Contains(labels, toks[j].text) {
							problems = append(problems, fmt.Sprintf("%s has no label %q (it has %v)", tk.text, toks[j].text, labels))
						}
					}
				}
				i = j
			}
		}
		return out
	}
	metricsIn(0, len(toks))
	// by (...) and without (...) lists: every label on every metric of the
	// aggregation's body, which follows the list in parentheses.
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != 'i' || (toks[i].text != "by" && toks[i].text != "without") {
			continue
		}
		if i+1 >= len(toks) || toks[i+1].text != "(" {
			problems = append(problems, fmt.Sprintf("%s without a label list", toks[i].text))
			continue
		}
		j := i + 2
		var grouping []string
		for ; j < len(toks) && toks[j].text != ")"; j++ {
			if toks[j].kind == 'i' {
				grouping = append(grouping, toks[j].text)
			}
		}
		if j+1 >= len(toks) || toks[j+1].text != "(" {
			problems = append(problems, fmt.Sprintf("write %s (...) before the aggregation's body, not after it", toks[i].text))
			continue
		}
		depth, k := 0, j+1
		for ; k < len(toks); k++ {
			switch toks[k].text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 {
				break
			}
		}
		saved := problems
		body := metricsIn(j+2, k)
		problems = saved // matchers and unknown names are reported once, above
		for _, m := range body {
			labels, known := labelsOf(m)
			if !known {
				continue
			}
			for _, l := range grouping {
				if !slices.Contains(labels, l) {
					problems = append(problems, fmt.Sprintf("%s (%s) groups by %q, which %s does not have (it has %v)",
						toks[i].text, strings.Join(grouping, ", "), l, m, labels))
				}
			}
		}
	}
	return problems
}

// TestEveryPanelQueriesRegisteredMetrics: no panel asks for a metric the
// code does not register, or for a label the metric does not carry.
func TestEveryPanelQueriesRegisteredMetrics(t *testing.T) {
	t.Parallel()
	reg, prefixes := scanRegistrations(t, filepath.Join("..", ".."))
	if len(reg) < 10 {
		t.Fatalf("found %d registered metrics in the source: the scan is broken", len(reg))
	}
	for _, p := range loadDashboard(t) {
		for _, tg := range p.Targets {
			for _, problem := range checkQuery(tg.Expr, reg, prefixes) {
				t.Errorf("panel %q query %s: %s\n    %s", p.Title, tg.RefID, problem, tg.Expr)
			}
		}
	}
}

// TestTheMetricCheckCatches: the check above finds what it is for.
func TestTheMetricCheckCatches(t *testing.T) {
	t.Parallel()
	reg, prefixes := scanRegistrations(t, filepath.Join("..", ".."))
	for _, want := range []struct {
		name   string
		labels []string
	}{
		{"http_request_total", []string{"method", "route", "status"}},
		{"cm_geocode_requests_total", []string{"provider", "op", "result"}},
		{"cm_map_import_duration_seconds_bucket", []string{"kind", "status", "le"}},
		{"asynq_queue_size", []string{"queue"}},
		{"asynq_queue_tasks", []string{"queue", "state"}},
	} {
		if got := reg[want.name]; !slices.Equal(got, want.labels) {
			t.Errorf("scan: %s has labels %v, want %v", want.name, got, want.labels)
		}
	}
	for expr, want := range map[string]string{
		`sum(rate(cm_no_such_metric_total[5m]))`:                                            "registered by no code",
		`sum by (provider) (rate(cm_map_shift_signups_total[5m]))`:                          `groups by "provider"`,
		`cm_map_canvass_visits_total{result="ok"}`:                                          `has no label "result"`,
		`sum(rate(cm_map_shift_signups_total[5m])) by (source)`:                             "before the aggregation's body",
		`histogram_quantile(0.9, sum by (le, op) (rate(cm_email_send_seconds_bucket[5m])))`: `groups by "op"`,
	} {
		got := strings.Join(checkQuery(expr, reg, prefixes), "; ")
		if !strings.Contains(got, want) {
			t.Errorf("check(%s) = %q, want a problem containing %q", expr, got, want)
		}
	}
	if got := checkQuery(`sum by (job, provider, result) (rate(cm_geocode_cache_total{op="geocode"}[5m]))`, reg, prefixes); len(got) != 0 {
		t.Errorf("a right query is refused: %v", got)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "go.mod")); err != nil {
		t.Fatalf("the scan root is not the module: %v", err)
	}
}
