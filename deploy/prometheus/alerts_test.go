// Package prometheus_test checks prometheus.yml, prometheus.compose.yml and
// the alert rules with promtool (Debian's prometheus package;
// scripts/install-deps.sh --test installs it) and runs the rules' unit tests
// in alerts_test.yml.
package prometheus_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed (Debian/Ubuntu: apt-get install prometheus; scripts/install-deps.sh --test does it)")
	}
	return path
}

// run runs promtool in this directory, where the files name each other by
// relative path, and fails the test with promtool's report when it fails.
func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusConfigIsValid(t *testing.T) {
	t.Parallel()
	out := run(t, "check", "config", "prometheus.yml")
	// check config also checks the rule files it names; make sure it named ours.
	if !strings.Contains(out, "alerts.yml") {
		t.Fatalf("prometheus.yml does not load alerts.yml:\n%s", out)
	}
}

// prometheus.compose.yml is the same scrape for deploy/compose.yaml, by
// service name.
func TestComposePrometheusConfigIsValid(t *testing.T) {
	t.Parallel()
	out := run(t, "check", "config", "prometheus.compose.yml")
	if !strings.Contains(out, "alerts.yml") {
		t.Fatalf("prometheus.compose.yml does not load alerts.yml:\n%s", out)
	}
}

func TestAlertRulesAreValid(t *testing.T) {
	t.Parallel()
	run(t, "check", "rules", "alerts.yml")
}

func TestAlertRulesUnitTests(t *testing.T) {
	t.Parallel()
	run(t, "test", "rules", "alerts_test.yml")
}

// TestEveryAlertIsUnitTested keeps alerts_test.yml in step with alerts.yml:
// an alert without a case where it fires and one where it stays quiet
// (exp_alerts: []) is not tested.
func TestEveryAlertIsUnitTested(t *testing.T) {
	t.Parallel()
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := os.ReadFile("alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	var current string
	for _, line := range strings.Split(string(cases), "\n") {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "alertname:"); ok {
			current = strings.TrimSpace(name)
		}
		switch {
		case line == "exp_alerts: []":
			quiet[current] = true
		case line == "exp_alerts:":
			fires[current] = true
		}
	}
	n := 0
	for _, line := range strings.Split(string(rules), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert:")
		if !ok {
			continue
		}
		n++
		name = strings.TrimSpace(name)
		if !fires[name] {
			t.Errorf("alerts_test.yml has no case where %s fires", name)
		}
		if !quiet[name] {
			t.Errorf("alerts_test.yml has no case where %s stays quiet", name)
		}
	}
	if n == 0 {
		t.Fatal("found no alerts in alerts.yml")
	}
}
