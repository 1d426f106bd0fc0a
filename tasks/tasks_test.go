package tasks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPayloadGolden pins each payload's wire format. If this fails, an API and
// a worker of different builds would misunderstand each other: add fields
// instead of renaming them, then run `go test ./tasks -update`.
type goldenCase struct {
	name  string // testdata/<name>.golden.json
	build func() (*asynq.Task, error)
	typ   string
}

// goldenCases lists every payload. Each domain adds its own cases function.
func goldenCases() []goldenCase {
	var all []goldenCase
	for _, cases := range [][]goldenCase{
		foundationCases(),
		influenceCases(),
		mediaCases(),
		geocodeCases(),
		mapCanvassCases(),
		mapImportCases(),
		// influenceCases(), mediaCases(), … one line per domain
	} {
		all = append(all, cases...)
	}
	return all
}

func foundationCases() []goldenCase {
	return []goldenCase{
		{
			name: "purge_refresh_tokens",
			build: func() (*asynq.Task, error) {
				return tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
			},
			typ: "maintenance:purge-refresh-tokens",
		},
	}
}

func TestPayloadGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			if task.Type() != tc.typ {
				t.Errorf("type = %q, want %q", task.Type(), tc.typ)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, task.Payload(), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test ./tasks -update to create it): %v", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("payload changed:\n got %s\nwant %s", pretty.Bytes(), want)
			}
		})
	}
}

func TestDecodeMalformedSkipsRetry(t *testing.T) {
	t.Parallel()
	task := asynq.NewTask(tasks.TypePurgeRefreshTokens, []byte("{not json"))
	var p tasks.PurgeRefreshTokens
	err := tasks.Decode(task, &p)
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("err = %v, want one wrapping asynq.SkipRetry", err)
	}
}

func TestQueueWeightsNameEveryQueue(t *testing.T) {
	t.Parallel()
	w := tasks.QueueWeights()
	for _, q := range []string{"email", "represent", "geocode", "import", "media", "default"} {
		if w[q] <= 0 {
			t.Errorf("queue %q missing from QueueWeights", q)
		}
	}
}
