// Package keda_test checks the KEDA ScaledObjects of deploy/keda without a
// cluster: each file parses as a ScaledObject, there is one per worker fleet
// of the Procfile, each scales on its fleet's queue, and every query is
// valid PromQL (promtool, as for the alert rules) on metrics the code
// exports.
package keda_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

type scaledObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		ScaleTargetRef struct {
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicaCount *int `yaml:"minReplicaCount"`
		MaxReplicaCount *int `yaml:"maxReplicaCount"`
		Triggers        []struct {
			Type       string            `yaml:"type"`
			Name       string            `yaml:"name"`
			MetricType string            `yaml:"metricType"`
			Metadata   map[string]string `yaml:"metadata"`
		} `yaml:"triggers"`
	} `yaml:"spec"`
}

// procfileFleets maps each worker_* process type of the Procfile to the
// queues it serves.
func procfileFleets(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../Procfile")
	if err != nil {
		t.Fatal(err)
	}
	fleets := map[string]string{}
	re := regexp.MustCompile(`^(worker_\w+):.*\bworker --queues (\S+)`)
	for _, line := range strings.Split(string(b), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			fleets[m[1]] = m[2]
		}
	}
	if len(fleets) == 0 {
		t.Fatal("no worker_* lines in the Procfile")
	}
	return fleets
}

func TestScaledObjectPerFleet(t *testing.T) {
	t.Parallel()
	fleets := procfileFleets(t)
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: keda\n    rules:\n")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var so scaledObject
		if err := yaml.Unmarshal(b, &so); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if so.APIVersion != "keda.sh/v1alpha1" || so.Kind != "ScaledObject" {
			t.Errorf("%s: %s %s, want keda.sh/v1alpha1 ScaledObject", f, so.APIVersion, so.Kind)
		}
		fleet := "worker_" + strings.TrimPrefix(strings.TrimSuffix(f, ".yaml"), "worker-")
		queues, ok := fleets[fleet]
		if !ok {
			t.Errorf("%s: the Procfile has no %s", f, fleet)
			continue
		}
		seen[fleet] = true
		if want := "changemaker-" + strings.ReplaceAll(fleet, "_", "-"); so.Metadata.Name != want || so.Spec.ScaleTargetRef.Name == "" {
			t.Errorf("%s: name %q (want %q), target %q", f, so.Metadata.Name, want, so.Spec.ScaleTargetRef.Name)
		}
		if so.Spec.MinReplicaCount == nil || so.Spec.MaxReplicaCount == nil || *so.Spec.MinReplicaCount < 1 ||
			*so.Spec.MaxReplicaCount < *so.Spec.MinReplicaCount {
			t.Errorf("%s: replicas %v..%v, want 1 <= min <= max", f, so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount)
		}
		metrics := map[string]bool{}
		for i, tr := range so.Spec.Triggers {
			where := fmt.Sprintf("%s: trigger %d (%s)", f, i, tr.Name)
			if tr.Type != "prometheus" || tr.MetricType != "Value" {
				t.Errorf("%s: type %q metricType %q, want prometheus Value", where, tr.Type, tr.MetricType)
			}
			if u, err := url.Parse(tr.Metadata["serverAddress"]); err != nil || u.Scheme == "" || u.Host == "" {
				t.Errorf("%s: serverAddress %q is not a URL", where, tr.Metadata["serverAddress"])
			}
			if v, err := strconv.ParseFloat(tr.Metadata["threshold"], 64); err != nil || v <= 0 {
				t.Errorf("%s: threshold %q, want a positive number", where, tr.Metadata["threshold"])
			}
			q := tr.Metadata["query"]
			for _, queue := range strings.Split(queues, ",") {
				if !strings.Contains(q, `queue="`+queue+`"`) {
					t.Errorf("%s: the query does not select queue %q, which %s serves: %s", where, queue, fleet, q)
				}
			}
			for _, m := range []string{"cm_task_wait_seconds_bucket", "asynq_queue_latency_seconds"} {
				if strings.Contains(q, m) {
					metrics[m] = true
				}
			}
			fmt.Fprintf(&rules, "      - record: keda:%s:%s\n        expr: %q\n", strings.ReplaceAll(fleet, "-", "_"), tr.Name, q)
		}
		if !metrics["cm_task_wait_seconds_bucket"] || !metrics["asynq_queue_latency_seconds"] {
			t.Errorf("%s: scales on %v; want the task wait p95 and the oldest pending task", f, metrics)
		}
	}
	for fleet := range fleets {
		if !seen[fleet] {
			t.Errorf("no ScaledObject for %s (want worker-%s.yaml)", fleet, strings.TrimPrefix(fleet, "worker_"))
		}
	}

	// The metrics exist in the code, under these names.
	for file, name := range map[string]string{"../../worker/wait.go": `"cm_task_wait_seconds"`,
		"../../internal/queuemetrics/queuemetrics.go": `"asynq_queue_latency_seconds"`} {
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), name) {
			t.Errorf("%s does not define %s (%v)", file, name, err)
		}
	}

	// Every query is PromQL: promtool checks it as a recording rule.
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed (Debian/Ubuntu: apt-get install prometheus; scripts/install-deps.sh --test does it)")
	}
	path := filepath.Join(t.TempDir(), "keda-queries.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the KEDA queries: %v\n%s\n%s", err, out, rules.String())
	}
}
